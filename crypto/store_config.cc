#include "crypto/store_config.h"

#include <cctype>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include <openssl/crypto.h>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kMaxConfigSize = 4096;
constexpr size_t kSaltSize = 32;
// nonce(12) || GCM(kek, master key (32)) || tag(16)
constexpr size_t kWrappedSize = kNonceSize + kMasterKeySize + kTagSize;
constexpr char kWrongKeyMessage[] = "wrong passphrase or damaged store config";
constexpr char kWrongRecoveryMessage[] = "wrong recovery key or damaged store config";

// ---- canonical lines (FORMAT "STORE CONFIG") ----

std::string VersionLine(const StoreConfig& c) { return "phrfs-store " + std::to_string(c.version) + "\n"; }
std::string StoreIdLine(const StoreConfig& c) { return "store_id " + HexEncode(c.store_id.bytes) + "\n"; }
std::string FlagsLine(const StoreConfig& c) {
  std::string line = "flags ";
  if (c.flags.empty()) {
    line += "none";
  } else {
    for (size_t i = 0; i < c.flags.size(); ++i) {
      if (i > 0) line += ",";
      line += c.flags[i];
    }
  }
  return line + "\n";
}
std::string KdfLine(const StoreConfig& c) {
  return "kdf scrypt n=" + std::to_string(c.kdf.n) + " r=" + std::to_string(c.kdf.r) +
         " p=" + std::to_string(c.kdf.p) + " salt=" + HexEncode(c.salt) + "\n";
}

// The associated data of each wrapping: the canonical lines it binds, then its purpose.
std::string PassphraseAad(const StoreConfig& c) {
  return VersionLine(c) + StoreIdLine(c) + FlagsLine(c) + KdfLine(c) + "purpose passphrase\n";
}
// The recovery wrapping binds the version line as it was when the recovery key was made, and
// every store's was "phrfs-store 1": `phrfs upgrade` cannot re-wrap without the recovery key,
// so the line stays fixed (FORMAT "STORE CONFIG"). A changed version line is caught by the
// passphrase wrapping, which binds the current one.
std::string RecoveryAad(const StoreConfig& c) {
  StoreConfig v1 = c;
  v1.version = kStoreVersionV1;
  return VersionLine(v1) + StoreIdLine(c) + FlagsLine(c) + "purpose recovery\n";
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// v1 knows no feature flags: any flag names a feature this build lacks.
Status CheckSupported(const StoreConfig& c) {
  if (c.version != kStoreVersion && c.version != kStoreVersionV1) {
    return Status::NotSupported("unsupported store version " + std::to_string(c.version));
  }
  if (!c.flags.empty()) return Status::NotSupported("unsupported store feature flag '" + c.flags[0] + "'");
  return Status::Ok();
}

Result<std::vector<uint8_t>> Wrap(const SecureBytes& kek, const std::string& aad, const SecureBytes& master) {
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  PHRFS_ASSIGN_OR_RETURN(auto sealed, internal::GcmSealRaw(kek.span(), nonce, Bytes(aad), master.span()));
  std::vector<uint8_t> out(nonce.begin(), nonce.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

// Corrupt from the AEAD becomes WrongKey with `message`; anything else passes through.
Result<SecureBytes> Unwrap(const SecureBytes& kek, const std::string& aad,
                           const std::vector<uint8_t>& wrapped, const char* message) {
  if (wrapped.size() != kWrappedSize) return Status::WrongKey(message);
  std::span<const uint8_t> all(wrapped);
  auto opened = internal::GcmOpenRaw(kek.span(), all.first(kNonceSize), Bytes(aad), all.subspan(kNonceSize));
  if (!opened.ok()) {
    if (opened.status().code() == Code::kCorrupt) return Status::WrongKey(message);
    return opened.status();
  }
  if (opened->size() != kMasterKeySize) return Status::WrongKey(message);
  return std::move(opened).value();
}

Result<SecureBytes> PassphraseKek(const StoreConfig& c, std::string_view passphrase) {
  return Scrypt(passphrase, c.salt, c.kdf, 32);
}

Result<SecureBytes> RecoveryKek(const StoreConfig& c, const SecureBytes& recovery_key) {
  return HkdfSha256(recovery_key.span(), c.store_id.bytes, kLabelRecoveryKek, 32);
}

// ---- parsing helpers ----

Status LineError(size_t line, const std::string& what) {
  return Status::Corrupt("store config line " + std::to_string(line) + ": " + what);
}


bool IsFlagName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  return true;
}

// Strips `prefix` from `line`, or nullopt.
std::optional<std::string_view> After(std::string_view line, std::string_view prefix) {
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  return line.substr(prefix.size());
}

// "key=value" followed by `sep` (or end of line when sep is '\0'); advances `rest`.
std::optional<std::string_view> TakeField(std::string_view& rest, std::string_view key, char sep) {
  auto after = After(rest, key);
  if (!after) return std::nullopt;
  size_t end = sep == '\0' ? after->size() : after->find(sep);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view value = after->substr(0, end);
  rest = sep == '\0' ? std::string_view() : after->substr(end + 1);
  return value;
}

Result<std::vector<uint8_t>> ParseWrapped(size_t line_no, std::string_view line, std::string_view key) {
  auto value = After(line, key);
  if (!value) return LineError(line_no, "expected '" + std::string(key) + "<base64url>'");
  auto bytes = Base64UrlDecode(*value);
  if (!bytes) return LineError(line_no, "wrapped key is not canonical base64url");
  if (bytes->size() != kWrappedSize) {
    return LineError(line_no, "wrapped key must be " + std::to_string(kWrappedSize) + " bytes, got " +
                                  std::to_string(bytes->size()));
  }
  return std::move(*bytes);
}

}  // namespace

std::string SerializeStoreConfig(const StoreConfig& config) {
  return VersionLine(config) + StoreIdLine(config) + FlagsLine(config) + KdfLine(config) +
         "wrapped_passphrase " + Base64UrlEncode(config.wrapped_by_passphrase) + "\n" +
         "wrapped_recovery " + Base64UrlEncode(config.wrapped_by_recovery) + "\n";
}

Result<StoreConfig> ParseStoreConfig(std::string_view text) {
  if (text.size() > kMaxConfigSize) {
    return Status::Corrupt("store config: larger than " + std::to_string(kMaxConfigSize) + " bytes");
  }
  // Split into lines, each terminated by '\n'.
  size_t bad_line = 0;
  auto split = SplitTerminatedLines(text, &bad_line);
  if (!split) return LineError(bad_line, "missing newline at end of line");
  const std::vector<std::string_view>& lines = *split;
  auto missing = [&](size_t line_no, const char* what) {
    return LineError(line_no, std::string("missing '") + what + "' line");
  };

  StoreConfig config;

  // Line 1: version. Checked first, so that a later version's different layout is NotSupported.
  if (lines.size() < 1) return missing(1, "phrfs-store");
  {
    auto value = After(lines[0], "phrfs-store ");
    if (!value) return LineError(1, "expected 'phrfs-store <version>'");
    auto version = ParseCanonicalDecimal(*value);
    if (!version) return LineError(1, "version is not a canonical decimal number");
    if (*version != kStoreVersion && *version != kStoreVersionV1) {
      return Status::NotSupported("store config line 1: unsupported store version " + std::string(*value));
    }
    config.version = static_cast<uint32_t>(*version);
  }

  // Line 2: store id.
  if (lines.size() < 2) return missing(2, "store_id");
  {
    auto value = After(lines[1], "store_id ");
    if (!value) return LineError(2, "expected 'store_id <32 hex digits>'");
    auto bytes = HexDecode(*value);
    if (!bytes || bytes->size() != kIdSize) return LineError(2, "store id must be 32 lowercase hex digits");
    std::memcpy(config.store_id.bytes.data(), bytes->data(), kIdSize);
  }

  // Line 3: feature flags.
  if (lines.size() < 3) return missing(3, "flags");
  {
    auto value = After(lines[2], "flags ");
    if (!value) return LineError(3, "expected 'flags none' or 'flags <name>[,<name>...]'");
    if (*value != "none") {
      std::set<std::string_view> seen;
      std::string_view rest = *value;
      while (true) {
        size_t comma = rest.find(',');
        std::string_view flag = rest.substr(0, comma);
        if (!IsFlagName(flag) || flag == "none") return LineError(3, "malformed feature flag list");
        if (!seen.insert(flag).second) return LineError(3, "duplicate feature flag");
        config.flags.emplace_back(flag);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
      return Status::NotSupported("store config line 3: unsupported store feature flag '" +
                                  config.flags[0] + "'");
    }
  }

  // Line 4: key derivation.
  if (lines.size() < 4) return missing(4, "kdf");
  {
    auto value = After(lines[3], "kdf ");
    if (!value) return LineError(4, "expected 'kdf scrypt n=<N> r=<r> p=<p> salt=<64 hex digits>'");
    size_t space = value->find(' ');
    std::string_view name = value->substr(0, space);
    if (name != "scrypt") {
      if (IsFlagName(name)) {
        return Status::NotSupported("store config line 4: unsupported kdf '" + std::string(name) + "'");
      }
      return LineError(4, "malformed kdf name");
    }
    if (space == std::string_view::npos) return LineError(4, "missing scrypt parameters");
    std::string_view rest = value->substr(space + 1);
    auto n = TakeField(rest, "n=", ' ');
    auto r = n ? TakeField(rest, "r=", ' ') : std::nullopt;
    auto p = r ? TakeField(rest, "p=", ' ') : std::nullopt;
    auto salt = p ? TakeField(rest, "salt=", '\0') : std::nullopt;
    if (!salt) return LineError(4, "expected 'kdf scrypt n=<N> r=<r> p=<p> salt=<64 hex digits>'");
    auto nv = ParseCanonicalDecimal(*n);
    auto rv = ParseCanonicalDecimal(*r);
    auto pv = ParseCanonicalDecimal(*p);
    if (!nv || !rv || !pv) return LineError(4, "scrypt parameters must be canonical decimal numbers");
    auto salt_bytes = HexDecode(*salt);
    if (!salt_bytes || salt_bytes->size() != kSaltSize) {
      return LineError(4, "salt must be 64 lowercase hex digits");
    }
    if (*rv > std::numeric_limits<uint32_t>::max() || *pv > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument("store config line 4: scrypt r or p out of range");
    }
    config.kdf = ScryptParams{*nv, static_cast<uint32_t>(*rv), static_cast<uint32_t>(*pv)};
    std::memcpy(config.salt.data(), salt_bytes->data(), kSaltSize);
    // Before anything runs scrypt: a hostile config must not cost memory or time.
    Status valid = ValidateScryptParams(config.kdf);
    if (!valid.ok()) return Status::InvalidArgument("store config line 4: " + valid.message());
  }

  // Lines 5 and 6: the wrapped master key.
  if (lines.size() < 5) return missing(5, "wrapped_passphrase");
  PHRFS_ASSIGN_OR_RETURN(config.wrapped_by_passphrase, ParseWrapped(5, lines[4], "wrapped_passphrase "));
  if (lines.size() < 6) return missing(6, "wrapped_recovery");
  PHRFS_ASSIGN_OR_RETURN(config.wrapped_by_recovery, ParseWrapped(6, lines[5], "wrapped_recovery "));

  if (lines.size() > 6) return LineError(7, "unexpected line after 'wrapped_recovery'");

  // Every field above is parsed canonically, so this always holds; it guards the guarantee that
  // one config has exactly one text.
  if (SerializeStoreConfig(config) != text) return Status::Corrupt("store config: not in canonical form");
  return config;
}

Result<NewStore> CreateStore(std::string_view passphrase, const ScryptParams& params) {
  if (passphrase.empty()) return Status::InvalidArgument("empty passphrase");
  PHRFS_RETURN_IF_ERROR(ValidateScryptParams(params));
  NewStore store;
  StoreConfig& c = store.config;
  c.version = kStoreVersion;
  c.kdf = params;
  PHRFS_RETURN_IF_ERROR(RandomBytes(c.store_id.bytes));
  PHRFS_RETURN_IF_ERROR(RandomBytes(c.salt));
  store.master_key = SecureBytes(kMasterKeySize);
  store.recovery_key = SecureBytes(kRecoveryKeySize);
  PHRFS_RETURN_IF_ERROR(RandomPrivateBytes(std::span<uint8_t>(store.master_key.data(), kMasterKeySize)));
  PHRFS_RETURN_IF_ERROR(RandomPrivateBytes(std::span<uint8_t>(store.recovery_key.data(), kRecoveryKeySize)));

  PHRFS_ASSIGN_OR_RETURN(SecureBytes pass_kek, PassphraseKek(c, passphrase));
  PHRFS_ASSIGN_OR_RETURN(c.wrapped_by_passphrase, Wrap(pass_kek, PassphraseAad(c), store.master_key));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes rec_kek, RecoveryKek(c, store.recovery_key));
  PHRFS_ASSIGN_OR_RETURN(c.wrapped_by_recovery, Wrap(rec_kek, RecoveryAad(c), store.master_key));
  return store;
}

Result<SecureBytes> UnlockWithPassphrase(const StoreConfig& config, std::string_view passphrase) {
  PHRFS_RETURN_IF_ERROR(CheckSupported(config));
  PHRFS_RETURN_IF_ERROR(ValidateScryptParams(config.kdf));
  if (config.wrapped_by_passphrase.size() != kWrappedSize) return Status::WrongKey(kWrongKeyMessage);
  PHRFS_ASSIGN_OR_RETURN(SecureBytes kek, PassphraseKek(config, passphrase));
  return Unwrap(kek, PassphraseAad(config), config.wrapped_by_passphrase, kWrongKeyMessage);
}

Result<SecureBytes> UnlockWithRecoveryKey(const StoreConfig& config, const SecureBytes& recovery_key) {
  PHRFS_RETURN_IF_ERROR(CheckSupported(config));
  if (recovery_key.size() != kRecoveryKeySize) return Status::WrongKey(kWrongRecoveryMessage);
  PHRFS_ASSIGN_OR_RETURN(SecureBytes kek, RecoveryKek(config, recovery_key));
  return Unwrap(kek, RecoveryAad(config), config.wrapped_by_recovery, kWrongRecoveryMessage);
}

Status ChangePassphrase(StoreConfig& config, const SecureBytes& master_key,
                        std::string_view new_passphrase, const ScryptParams& params) {
  PHRFS_RETURN_IF_ERROR(CheckSupported(config));
  if (new_passphrase.empty()) return Status::InvalidArgument("empty passphrase");
  if (master_key.size() != kMasterKeySize) return Status::InvalidArgument("master key must be 32 bytes");
  PHRFS_RETURN_IF_ERROR(ValidateScryptParams(params));
  StoreConfig updated = config;
  updated.kdf = params;
  PHRFS_RETURN_IF_ERROR(RandomBytes(updated.salt));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes kek, PassphraseKek(updated, new_passphrase));
  PHRFS_ASSIGN_OR_RETURN(updated.wrapped_by_passphrase, Wrap(kek, PassphraseAad(updated), master_key));
  config = std::move(updated);
  return Status::Ok();
}

std::string FormatRecoveryKey(const SecureBytes& key) {
  std::string hex = HexEncode(key.span());
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 8) {
    if (i > 0) out += '-';
    out += hex.substr(i, 8);
  }
  return out;
}

Result<SecureBytes> ParseRecoveryKey(std::string_view text) {
  auto is_space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  const Status bad = Status::InvalidArgument(
      "a recovery key is 64 hex digits, optionally in 8 groups of 8 separated by '-'");
  constexpr size_t kDigits = kRecoveryKeySize * 2;
  std::string hex;
  if (text.size() == kDigits) {
    hex = std::string(text);
  } else if (text.size() == kDigits + kDigits / 8 - 1) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (i % 9 == 8) {
        if (text[i] != '-') return bad;
      } else {
        hex += text[i];
      }
    }
  } else {
    return bad;
  }
  for (char& ch : hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto bytes = HexDecode(hex);
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!bytes || bytes->size() != kRecoveryKeySize) return bad;
  SecureBytes key(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return key;
}

}  // namespace phrfs::crypto
