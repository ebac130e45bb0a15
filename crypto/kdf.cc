#include "crypto/kdf.h"

#include <string>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto/aead.h"

namespace phrfs::crypto {
namespace {

using internal::OpenSslFailure;

// Fetched once, never freed (thread-safe static initialisation; fetches take global locks).
EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  return kdf;
}
EVP_KDF* ScryptAlgorithm() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  return kdf;
}
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}
EVP_MD* Sha256Algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

constexpr uint64_t kScryptMemoryCap = uint64_t{1} << 30;  // 128*r*N, FORMAT "STORE CONFIG"
// The provider also counts 128*r*p for B and 256*r for the V margin: leave room for those.
constexpr uint64_t kScryptMaxMem = kScryptMemoryCap + (uint64_t{16} << 20);

// OSSL_PARAM wants non-const pointers even for inputs.
void* Mutable(const void* p) { return const_cast<void*>(p); }

Result<SecureBytes> Derive(EVP_KDF* algorithm, const char* name, OSSL_PARAM* params, size_t out_len) {
  if (algorithm == nullptr) return OpenSslFailure(Code::kNotSupported, std::string(name) + " unavailable");
  if (out_len == 0) return Status::InvalidArgument(std::string(name) + ": zero output length");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(algorithm);
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, std::string(name) + ": EVP_KDF_CTX_new failed");
  SecureBytes out(out_len);
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return OpenSslFailure(Code::kIoError, std::string(name) + " derivation failed");
  return out;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

Result<SecureBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t out_len) {
  if (ikm.empty()) return Status::InvalidArgument("HKDF: empty input key");
  if (out_len > 255 * 32) return Status::InvalidArgument("HKDF: output longer than 255 blocks");
  OSSL_PARAM params[5];
  size_t i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, Mutable(ikm.data()), ikm.size());
  // An absent salt is HashLen zero bytes (RFC 5869 2.2); an absent info is empty.
  if (!salt.empty()) {
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, Mutable(salt.data()), salt.size());
  }
  if (!info.empty()) {
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, Mutable(info.data()), info.size());
  }
  params[i] = OSSL_PARAM_construct_end();
  return Derive(HkdfAlgorithm(), "HKDF", params, out_len);
}

Status ValidateScryptParams(const ScryptParams& params) {
  if (!IsPowerOfTwo(params.n) || params.n < (uint64_t{1} << 10) || params.n > (uint64_t{1} << 20)) {
    return Status::InvalidArgument("scrypt N must be a power of two between 2^10 and 2^20, got " +
                                   std::to_string(params.n));
  }
  if (params.r < 1 || params.r > 32) {
    return Status::InvalidArgument("scrypt r must be between 1 and 32, got " + std::to_string(params.r));
  }
  if (params.p < 1 || params.p > 16) {
    return Status::InvalidArgument("scrypt p must be between 1 and 16, got " + std::to_string(params.p));
  }
  // n <= 2^20 and r <= 32, so this cannot overflow.
  if (128 * uint64_t{params.r} * params.n > kScryptMemoryCap) {
    return Status::InvalidArgument("scrypt memory 128*r*N exceeds 1 GiB");
  }
  return Status::Ok();
}

Result<SecureBytes> Scrypt(std::string_view passphrase, std::span<const uint8_t> salt,
                           const ScryptParams& params, size_t out_len) {
  // Not the config caps (the RFC 7914 vectors use N=16), only what is computable here.
  if (!IsPowerOfTwo(params.n) || params.n < 2 || params.r < 1 || params.p < 1 ||
      params.n > (uint64_t{1} << 20) || params.r > 32 || params.p > 16 ||
      128 * uint64_t{params.r} * params.n > kScryptMemoryCap) {
    return Status::InvalidArgument("scrypt parameters out of range");
  }
  uint64_t n = params.n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  uint64_t maxmem = kScryptMaxMem;
  // A NULL password pointer is refused by the provider even for length 0.
  static const char kEmpty[1] = {0};
  OSSL_PARAM ps[7];
  ps[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                            Mutable(passphrase.empty() ? kEmpty : passphrase.data()),
                                            passphrase.size());
  ps[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, Mutable(salt.data()), salt.size());
  ps[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
  ps[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
  ps[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
  ps[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
  ps[6] = OSSL_PARAM_construct_end();
  return Derive(ScryptAlgorithm(), "scrypt", ps, out_len);
}

Result<std::array<uint8_t, 32>> HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  EVP_MAC* mac = HmacAlgorithm();
  if (mac == nullptr) return OpenSslFailure(Code::kNotSupported, "HMAC unavailable");
  if (key.empty()) return Status::InvalidArgument("HMAC: empty key");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, "EVP_MAC_CTX_new failed");
  OSSL_PARAM params[2] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  std::array<uint8_t, 32> out{};
  size_t out_len = 0;
  bool ok = EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 &&
            EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
            EVP_MAC_final(ctx, out.data(), &out_len, out.size()) == 1 && out_len == out.size();
  EVP_MAC_CTX_free(ctx);
  if (!ok) return OpenSslFailure(Code::kIoError, "HMAC-SHA256 failed");
  return out;
}

Result<std::array<uint8_t, 32>> Sha256(std::span<const uint8_t> data) {
  EVP_MD* md = Sha256Algorithm();
  if (md == nullptr) return OpenSslFailure(Code::kNotSupported, "SHA-256 unavailable");
  std::array<uint8_t, 32> out{};
  unsigned int out_len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &out_len, md, nullptr) != 1 || out_len != out.size()) {
    return OpenSslFailure(Code::kIoError, "SHA-256 failed");
  }
  return out;
}

}  // namespace phrfs::crypto
