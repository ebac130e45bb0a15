// File names (FORMAT "NAMES"): AES-256-SIV with AD vector [parent dir id, kNameAdLabel],
// stored as base64url(tag || ciphertext) without padding. Names whose encoding is longer than
// kMaxStoredNameLength are stored as ".L" + base64url(SHA-256(encoded)) with the full encoded
// name in a sidecar. Thread-safe (an EVP context per call).
#pragma once

#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/types.h"

namespace phrfs::crypto {

class NameCipher {
 public:
  explicit NameCipher(SecureBytes key);  // 64 bytes

  // InvalidArgument for an empty name, "." / "..", or one holding '/' or NUL;
  // NameTooLong past kMaxPlainNameLength.
  Result<std::string> Encrypt(const DirId& parent, std::string_view name) const;
  // Corrupt when the encoding is not canonical base64url or authentication fails.
  Result<std::string> Decrypt(const DirId& parent, std::string_view encoded) const;

 private:
  SecureBytes key_;
};

// True when an encoded name must be stored under its hash.
bool IsLongName(std::string_view encoded);
// ".L" + base64url(SHA-256(encoded)), 45 characters.
std::string LongNameStem(std::string_view encoded);
inline constexpr char kLongNamePrefix[] = ".L";

}  // namespace phrfs::crypto
