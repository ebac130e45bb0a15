// Key derivation: HKDF-SHA256 (RFC 5869) for sub-keys, scrypt (RFC 7914) for passphrases.
// Both through EVP_KDF. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::crypto {

Result<SecureBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t out_len);

struct ScryptParams {
  uint64_t n = uint64_t{1} << 17;
  uint32_t r = 8;
  uint32_t p = 1;
  bool operator==(const ScryptParams&) const = default;
};
// Caps applied to every config we read (FORMAT "STORE CONFIG"), so that a hostile config cannot
// exhaust memory or time: N a power of two in [2^10, 2^20], r in [1, 32], p in [1, 16], and
// 128*r*N at most 1 GiB.
Status ValidateScryptParams(const ScryptParams& params);

Result<SecureBytes> Scrypt(std::string_view passphrase, std::span<const uint8_t> salt,
                           const ScryptParams& params, size_t out_len);

// HMAC-SHA256 (EVP_MAC).
Result<std::array<uint8_t, 32>> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);
// SHA-256 (EVP_Digest).
Result<std::array<uint8_t, 32>> Sha256(std::span<const uint8_t> data);

}  // namespace phrfs::crypto
