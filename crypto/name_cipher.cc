#include "crypto/name_cipher.h"

#include <cstdlib>
#include <string>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/kdf.h"

namespace phrfs::crypto {
namespace {

// base64url length (no padding) of n bytes.
constexpr size_t EncodedLength(size_t n) { return (n * 4 + 2) / 3; }
// The longest encoding a valid name can have: tag + kMaxPlainNameLength bytes.
constexpr size_t kMaxEncodedLength = EncodedLength(kTagSize + kMaxPlainNameLength);

Status CheckPlainName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("empty file name");
  if (name.size() > kMaxPlainNameLength) {
    return Status::Error(Code::kNameTooLong, "file name longer than " +
                                                 std::to_string(kMaxPlainNameLength) + " bytes");
  }
  if (name == "." || name == "..") return Status::InvalidArgument("'.' and '..' are not names");
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("file name holds '/' or NUL");
  }
  return Status::Ok();
}

}  // namespace

NameCipher::NameCipher(SecureBytes key) : key_(std::move(key)) {}

Result<std::string> NameCipher::Encrypt(const DirId& parent, std::string_view name) const {
  if (key_.size() != 64) return Status::InvalidArgument("name key must be 64 bytes");
  PHRFS_RETURN_IF_ERROR(CheckPlainName(name));
  const std::span<const uint8_t> ad[2] = {
      std::span<const uint8_t>(parent.bytes),
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kNameAdLabel), sizeof(kNameAdLabel) - 1)};
  PHRFS_ASSIGN_OR_RETURN(
      auto sealed,
      internal::SivSealRaw(key_.span(), ad,
                           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(name.data()), name.size())));
  return Base64UrlEncode(sealed);
}

Result<std::string> NameCipher::Decrypt(const DirId& parent, std::string_view encoded) const {
  if (key_.size() != 64) return Status::InvalidArgument("name key must be 64 bytes");
  if (encoded.size() > kMaxEncodedLength) return Status::Corrupt("encrypted name too long");
  auto bytes = Base64UrlDecode(encoded);
  if (!bytes) return Status::Corrupt("encrypted name is not canonical base64url");
  if (bytes->size() <= kTagSize) return Status::Corrupt("encrypted name too short");
  const std::span<const uint8_t> ad[2] = {
      std::span<const uint8_t>(parent.bytes),
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kNameAdLabel), sizeof(kNameAdLabel) - 1)};
  auto opened = internal::SivOpenRaw(key_.span(), ad, *bytes);
  if (!opened.ok()) {
    if (opened.status().code() == Code::kCorrupt) return Status::Corrupt("encrypted name: authentication failed");
    return opened.status();
  }
  std::string name(opened->begin(), opened->end());
  // Authentic but invalid can only come from a writer holding the key; still never hand it up.
  if (!CheckPlainName(name).ok()) return Status::Corrupt("encrypted name decrypts to an invalid name");
  return name;
}

bool IsLongName(std::string_view encoded) { return encoded.size() > kMaxStoredNameLength; }

std::string LongNameStem(std::string_view encoded) {
  auto digest = Sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()));
  // SHA-256 over memory cannot fail short of a broken libcrypto; there is no name to return then.
  if (!digest.ok()) std::abort();
  return std::string(kLongNamePrefix) + Base64UrlEncode(*digest);
}

}  // namespace phrfs::crypto
