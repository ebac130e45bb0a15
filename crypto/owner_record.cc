#include "crypto/owner_record.h"

#include <cstring>
#include <iterator>

#include "base/encoding.h"
#include "crypto/format.h"
#include "crypto/random.h"
#include "crypto/recipient_wrap.h"
#include "crypto/store_config.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kMaxRecordSize = 4096;
constexpr size_t kOwnerWrappedMaxSize = kWrapStanzaOverhead + kMasterKeySize + kMaxOwnerNameSize;
constexpr char kSignatureContext[] = "phrfs-record-signature\n";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Lines 1 to 3: what every wrapping and the signature bind.
std::string BoundLines(const OwnerRecord& r) {
  return "phrfs-record " + std::to_string(r.version) + "\n" + "store_id " +
         HexEncode(r.store_id.bytes) + "\n" + "owner " + FormatPublicIdentity(r.owner) + "\n";
}
std::string WrappedLines(const OwnerRecord& r) {
  return "wrapped_owner " + Base64UrlEncode(r.wrapped_owner) + "\n";
}
std::string SignedText(const OwnerRecord& r) {
  return kSignatureContext + BoundLines(r) + WrappedLines(r);
}
std::string OwnerAad(const OwnerRecord& r) { return BoundLines(r) + "purpose owner\n"; }

Status LineError(size_t line, const std::string& what) {
  return Status::Corrupt("owner record line " + std::to_string(line) + ": " + what);
}

std::optional<std::string_view> After(std::string_view line, std::string_view prefix) {
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  return line.substr(prefix.size());
}

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxOwnerNameSize)
    return Status::InvalidArgument("an owner's name is 1 to " + std::to_string(kMaxOwnerNameSize) +
                                   " bytes");
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos ||
      name == "." || name == "..")
    return Status::InvalidArgument("an owner's name cannot hold '/' or NUL or be '.' or '..'");
  return Status::Ok();
}

}  // namespace

std::string OwnerRecordFolder(const PublicIdentity& owner) {
  return std::string(kOwnersFolder) + "/" + Fingerprint(owner);
}

namespace {

// Seals a record for `owner`; `wrap` wraps the payload (random or, for vectors, fixed ephemeral).
template <typename WrapFn>
Result<OwnerRecord> Seal(const Identity& owner, std::string_view name, const StoreId& store_id,
                         const SecureBytes& master_key, WrapFn wrap) {
  PHRFS_RETURN_IF_ERROR(CheckName(name));
  if (master_key.size() != kMasterKeySize) return Status::InvalidArgument("master key must be 32 bytes");
  OwnerRecord r;
  r.version = kStoreVersion;
  r.owner = owner.public_identity();
  r.store_id = store_id;
  SecureBytes payload(kMasterKeySize + name.size());
  std::memcpy(payload.data(), master_key.data(), kMasterKeySize);
  std::memcpy(payload.data() + kMasterKeySize, name.data(), name.size());
  const std::string owner_aad = OwnerAad(r);
  PHRFS_ASSIGN_OR_RETURN(r.wrapped_owner, wrap(payload.span(), r.owner, Bytes(owner_aad)));
  const std::string signed_text = SignedText(r);
  PHRFS_ASSIGN_OR_RETURN(r.signature, Sign(owner, Bytes(signed_text)));
  return r;
}

}  // namespace

Result<NewOwnerRecord> CreateOwnerRecord(const Identity& owner, std::string_view name) {
  NewOwnerRecord out;
  StoreId store_id;
  PHRFS_RETURN_IF_ERROR(RandomBytes(store_id.bytes));
  out.master_key = SecureBytes(kMasterKeySize);
  PHRFS_RETURN_IF_ERROR(RandomPrivateBytes({out.master_key.data(), kMasterKeySize}));
  PHRFS_ASSIGN_OR_RETURN(out.record, Seal(owner, name, store_id, out.master_key, WrapToRecipient));
  return out;
}

Result<OwnerRecord> internal::SealOwnerRecord(const Identity& owner, std::string_view name,
                                              const StoreId& store_id, const SecureBytes& master_key,
                                              std::span<const uint8_t> ephemeral_private) {
  return Seal(owner, name, store_id, master_key,
              [&](std::span<const uint8_t> secret, const PublicIdentity& to, std::span<const uint8_t> aad) {
                return internal::WrapToRecipientWithEphemeral(secret, to, aad, ephemeral_private);
              });
}

std::string SerializeOwnerRecord(const OwnerRecord& record) {
  return BoundLines(record) + WrappedLines(record) + "signature " +
         Base64UrlEncode(record.signature) + "\n";
}

Result<OwnerRecord> ParseOwnerRecord(std::string_view text) {
  if (text.size() > kMaxRecordSize)
    return Status::Corrupt("owner record: larger than " + std::to_string(kMaxRecordSize) + " bytes");
  size_t bad_line = 0;
  auto split = SplitTerminatedLines(text, &bad_line);
  if (!split) return LineError(bad_line, "missing newline at end of line");
  const std::vector<std::string_view>& lines = *split;
  static constexpr const char* kKeys[] = {"phrfs-record ", "store_id ", "owner ",
                                          "wrapped_owner ", "signature "};
  constexpr size_t kLines = std::size(kKeys);
  std::string_view value[kLines];
  for (size_t i = 0; i < kLines; ++i) {
    if (i >= lines.size()) return LineError(i + 1, std::string("missing '") + kKeys[i] + "' line");
    auto v = After(lines[i], kKeys[i]);
    if (!v) return LineError(i + 1, std::string("expected '") + kKeys[i] + "...'");
    value[i] = *v;
  }
  if (lines.size() > kLines) return LineError(kLines + 1, "unexpected line after 'signature'");

  OwnerRecord r;
  if (value[0] != std::to_string(kStoreVersion)) {
    if (!value[0].empty() && value[0].find_first_not_of("0123456789") == std::string_view::npos)
      return Status::NotSupported("owner record: unsupported version " + std::string(value[0]));
    return LineError(1, "version is not a number");
  }
  r.version = kStoreVersion;
  auto id = HexDecode(value[1]);
  if (!id || id->size() != kIdSize) return LineError(2, "store id must be 32 lowercase hex digits");
  std::memcpy(r.store_id.bytes.data(), id->data(), kIdSize);
  auto owner = ParsePublicIdentity(value[2]);
  if (!owner.ok()) return LineError(3, owner.status().message());
  r.owner = *owner;
  auto wrapped = Base64UrlDecode(value[3]);
  if (!wrapped || wrapped->size() <= kWrapStanzaOverhead + kMasterKeySize ||
      wrapped->size() > kOwnerWrappedMaxSize)
    return LineError(4, "wrapped owner key is not canonical base64url of the right size");
  r.wrapped_owner = std::move(*wrapped);
  auto signature = Base64UrlDecode(value[4]);
  if (!signature || signature->size() != r.signature.size())
    return LineError(5, "signature is not canonical base64url of 64 bytes");
  std::memcpy(r.signature.data(), signature->data(), r.signature.size());
  if (SerializeOwnerRecord(r) != text) return Status::Corrupt("owner record: not in canonical form");
  return r;
}

Status VerifyOwnerRecord(const OwnerRecord& record) {
  const std::string signed_text = SignedText(record);
  Status st = Verify(record.owner, Bytes(signed_text), record.signature);
  if (!st.ok()) return Status::Corrupt("owner record: the owner's signature does not verify");
  return Status::Ok();
}

Result<UnlockedOwnerRecord> UnlockOwnerRecord(const OwnerRecord& record, const Identity& identity) {
  if (!(identity.public_identity() == record.owner))
    return Status::WrongKey("this record belongs to another identity (" + Fingerprint(record.owner) + ")");
  PHRFS_RETURN_IF_ERROR(VerifyOwnerRecord(record));
  const std::string aad = OwnerAad(record);
  auto payload = UnwrapWithIdentity(record.wrapped_owner, identity, Bytes(aad));
  if (!payload.ok()) {
    if (payload.status().code() == Code::kWrongKey)
      return Status::Corrupt("owner record: the wrapped key does not open with its owner's identity");
    return payload.status();
  }
  if (payload->size() <= kMasterKeySize) return Status::Corrupt("owner record: wrapped key too short");
  UnlockedOwnerRecord out;
  out.master_key = SecureBytes(kMasterKeySize);
  std::memcpy(out.master_key.data(), payload->data(), kMasterKeySize);
  out.name.assign(reinterpret_cast<const char*>(payload->data()) + kMasterKeySize,
                  payload->size() - kMasterKeySize);
  if (!CheckName(out.name).ok()) return Status::Corrupt("owner record: the owner's name is malformed");
  return out;
}


}  // namespace phrfs::crypto
