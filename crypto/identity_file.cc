// The identity file's text form, sealing and opening (crypto/identity_file.h).
#include "crypto/identity_file.h"

#include <cstring>
#include <limits>
#include <optional>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kMaxFileSize = 2048;
constexpr size_t kPrivateKeysSize = kX25519KeySize + kEd25519KeySize;
static_assert(kIdentitySealedSize == kNonceSize + kPrivateKeysSize + kTagSize);
constexpr char kWrongKeyMessage[] = "wrong passphrase or damaged identity file";

std::string VersionLine(const IdentityFile& f) { return "phrfs-identity " + std::to_string(f.version) + "\n"; }
std::string KdfLine(const IdentityFile& f) {
  return "kdf scrypt n=" + std::to_string(f.kdf.n) + " r=" + std::to_string(f.kdf.r) +
         " p=" + std::to_string(f.kdf.p) + "\n";
}
std::string SaltLine(const IdentityFile& f) { return "salt " + Base64UrlEncode(f.salt) + "\n"; }
std::string PublicLine(const IdentityFile& f) { return "public " + FormatPublicIdentity(f.public_identity) + "\n"; }

// The associated data of the sealed keys: every line before them, exactly as written.
std::string SealedAad(const IdentityFile& f) { return VersionLine(f) + KdfLine(f) + SaltLine(f) + PublicLine(f); }

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

Status LineError(size_t line, const std::string& what) {
  return Status::Corrupt("identity file line " + std::to_string(line) + ": " + what);
}


std::optional<std::string_view> After(std::string_view line, std::string_view prefix) {
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  return line.substr(prefix.size());
}

Result<ScryptParams> ParseKdf(std::string_view line) {
  const Status expected = LineError(2, "expected 'kdf scrypt n=<N> r=<r> p=<p>'");
  auto rest = After(line, "kdf scrypt n=");
  if (!rest) return expected;
  size_t r_at = rest->find(" r=");
  if (r_at == std::string_view::npos) return expected;
  std::string_view n = rest->substr(0, r_at);
  std::string_view after_n = rest->substr(r_at + 3);
  size_t p_at = after_n.find(" p=");
  if (p_at == std::string_view::npos) return expected;
  std::string_view r = after_n.substr(0, p_at);
  std::string_view p = after_n.substr(p_at + 3);
  auto nv = ParseCanonicalDecimal(n);
  auto rv = ParseCanonicalDecimal(r);
  auto pv = ParseCanonicalDecimal(p);
  if (!nv || !rv || !pv) return LineError(2, "scrypt parameters must be canonical decimal numbers");
  if (*rv > std::numeric_limits<uint32_t>::max() || *pv > std::numeric_limits<uint32_t>::max()) {
    return LineError(2, "scrypt r or p out of range");
  }
  ScryptParams params{*nv, static_cast<uint32_t>(*rv), static_cast<uint32_t>(*pv)};
  // Before anything runs scrypt: a hostile file must not cost memory or time.
  Status valid = ValidateScryptParams(params);
  if (!valid.ok()) return LineError(2, valid.message());
  return params;
}

}  // namespace

std::string SerializeIdentityFile(const IdentityFile& file) {
  return SealedAad(file) + "sealed " + Base64UrlEncode(file.sealed) + "\n";
}

Result<IdentityFile> ParseIdentityFile(std::string_view text) {
  if (text.size() > kMaxFileSize) {
    return Status::Corrupt("identity file: larger than " + std::to_string(kMaxFileSize) + " bytes");
  }
  size_t bad_line = 0;
  auto split = SplitTerminatedLines(text, &bad_line);
  if (!split) return LineError(bad_line, "missing newline at end of line");
  const std::vector<std::string_view>& lines = *split;
  auto missing = [&](size_t line_no, const char* what) {
    return LineError(line_no, std::string("missing '") + what + "' line");
  };

  IdentityFile file;
  if (lines.size() < 1) return missing(1, "phrfs-identity");
  {
    auto value = After(lines[0], "phrfs-identity ");
    if (!value) return LineError(1, "expected 'phrfs-identity <version>' (is this an identity file?)");
    auto version = ParseCanonicalDecimal(*value);
    if (!version) return LineError(1, "version is not a canonical decimal number");
    if (*version != kIdentityFileVersion) {
      return Status::NotSupported("identity file line 1: unsupported version " + std::string(*value));
    }
    file.version = kIdentityFileVersion;
  }

  if (lines.size() < 2) return missing(2, "kdf");
  PHRFS_ASSIGN_OR_RETURN(file.kdf, ParseKdf(lines[1]));

  if (lines.size() < 3) return missing(3, "salt");
  {
    auto value = After(lines[2], "salt ");
    if (!value) return LineError(3, "expected 'salt <base64url>'");
    auto salt = Base64UrlDecode(*value);
    if (!salt || salt->size() != kIdentitySaltSize) {
      return LineError(3, "salt must be 32 bytes of canonical base64url");
    }
    std::memcpy(file.salt.data(), salt->data(), kIdentitySaltSize);
  }

  if (lines.size() < 4) return missing(4, "public");
  {
    auto value = After(lines[3], "public ");
    if (!value) return LineError(4, "expected 'public phrfs1...'");
    // ParsePublicIdentity forgives blanks around a pasted key; the file is canonical.
    if (value->empty() || value->front() == ' ' || value->back() == ' ' || value->back() == '\r') {
      return LineError(4, "blanks around the public identity");
    }
    auto pub = ParsePublicIdentity(*value);
    if (!pub.ok()) return LineError(4, pub.status().message());
    file.public_identity = *pub;
  }

  if (lines.size() < 5) return missing(5, "sealed");
  {
    auto value = After(lines[4], "sealed ");
    if (!value) return LineError(5, "expected 'sealed <base64url>'");
    auto sealed = Base64UrlDecode(*value);
    if (!sealed || sealed->size() != kIdentitySealedSize) {
      return LineError(5, "sealed keys must be " + std::to_string(kIdentitySealedSize) +
                              " bytes of canonical base64url");
    }
    file.sealed = std::move(*sealed);
  }

  if (lines.size() > 5) return LineError(6, "unexpected line after 'sealed'");
  if (SerializeIdentityFile(file) != text) return Status::Corrupt("identity file: not in canonical form");
  return file;
}

Result<IdentityFile> SealIdentity(const Identity& identity, std::string_view passphrase,
                                  const ScryptParams& params) {
  if (passphrase.empty()) return Status::InvalidArgument("empty passphrase");
  PHRFS_RETURN_IF_ERROR(ValidateScryptParams(params));
  IdentityFile file;
  file.kdf = params;
  file.public_identity = identity.public_identity();
  PHRFS_RETURN_IF_ERROR(RandomBytes(file.salt));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes kek, Scrypt(passphrase, file.salt, params, 32));

  SecureBytes keys(kPrivateKeysSize);
  std::memcpy(keys.data(), identity.x25519_private().data(), kX25519KeySize);
  std::memcpy(keys.data() + kX25519KeySize, identity.ed25519_private().data(), kEd25519KeySize);
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  std::string aad = SealedAad(file);
  PHRFS_ASSIGN_OR_RETURN(auto sealed, internal::GcmSealRaw(kek.span(), nonce, Bytes(aad), keys.span()));
  file.sealed.assign(nonce.begin(), nonce.end());
  file.sealed.insert(file.sealed.end(), sealed.begin(), sealed.end());
  return file;
}

Result<Identity> OpenIdentity(const IdentityFile& file, std::string_view passphrase) {
  if (file.version != kIdentityFileVersion) {
    return Status::NotSupported("unsupported identity file version " + std::to_string(file.version));
  }
  PHRFS_RETURN_IF_ERROR(ValidateScryptParams(file.kdf));
  if (file.sealed.size() != kIdentitySealedSize) return Status::WrongKey(kWrongKeyMessage);
  PHRFS_ASSIGN_OR_RETURN(SecureBytes kek, Scrypt(passphrase, file.salt, file.kdf, 32));
  std::span<const uint8_t> sealed(file.sealed);
  std::string aad = SealedAad(file);
  auto keys = internal::GcmOpenRaw(kek.span(), sealed.first(kNonceSize), Bytes(aad), sealed.subspan(kNonceSize));
  if (!keys.ok()) {
    if (keys.status().code() == Code::kCorrupt) return Status::WrongKey(kWrongKeyMessage);
    return keys.status();
  }
  if (keys->size() != kPrivateKeysSize) return Status::WrongKey(kWrongKeyMessage);
  std::span<const uint8_t> all = keys->span();
  PHRFS_ASSIGN_OR_RETURN(Identity identity,
                         Identity::FromPrivateKeys(all.first(kX25519KeySize), all.subspan(kX25519KeySize)));
  // The tag already binds the public line; this catches a file sealed from mismatched keys.
  if (!(identity.public_identity() == file.public_identity)) {
    return Status::Corrupt("identity file: the sealed private keys do not match its public line");
  }
  return identity;
}

}  // namespace phrfs::crypto
