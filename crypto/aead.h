// Internal AEAD and OpenSSL plumbing shared by the crypto layer: the fetched cipher objects,
// the one GCM seal/open sequence every caller goes through, AES-SIV with an AD vector, and the
// conversion of OpenSSL's error queue into Status. Not part of the module's interface; exposed
// so that the known-answer tests run the published vectors through the production code path.
// Thread-safe (the fetched ciphers are immutable; contexts are per call or per caller).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::crypto::internal {

// Drains the calling thread's OpenSSL error queue into one line ("" when it was empty).
std::string DrainOpenSslErrors();
// A Status of `code` whose message is `what` followed by the drained OpenSSL errors.
Status OpenSslFailure(Code code, std::string_view what);

// Fetched once (thread-safe static initialisation), never freed. Null only when the default
// provider lacks the algorithm; callers turn that into a Status.
const EVP_CIPHER* Aes256Gcm();
// AES-SIV by key size: 32 bytes -> AES-128-SIV, 48 -> AES-192-SIV, 64 -> AES-256-SIV.
const EVP_CIPHER* AesSiv(size_t key_size);

// A GCM encryption or decryption context whose key is set once; every Seal/Open re-initialises
// the IV only (re-keying costs about 250 ns per block, measured on this machine class).
class GcmContext {
 public:
  static Result<GcmContext> Create(std::span<const uint8_t> key, bool encrypt);
  GcmContext(GcmContext&& other) noexcept;
  GcmContext& operator=(GcmContext&& other) noexcept;
  ~GcmContext();

  // Writes the ciphertext (plain.size() bytes) to `ct` and the 16-byte tag to `tag`.
  Status Seal(std::span<const uint8_t> nonce, std::span<const uint8_t> aad,
              std::span<const uint8_t> plain, std::span<uint8_t> ct, std::span<uint8_t> tag);
  // Writes the plaintext (ct.size() bytes) to `out` only if the tag verifies; on any failure
  // `out` is zeroed and the result is Corrupt.
  Status Open(std::span<const uint8_t> nonce, std::span<const uint8_t> aad,
              std::span<const uint8_t> ct, std::span<const uint8_t> tag, std::span<uint8_t> out);

 private:
  GcmContext(EVP_CIPHER_CTX* ctx, bool encrypt) : ctx_(ctx), encrypt_(encrypt) {}
  EVP_CIPHER_CTX* ctx_ = nullptr;
  bool encrypt_ = true;
};

// One-shot AES-256-GCM through GcmContext: returns ct || tag.
Result<std::vector<uint8_t>> GcmSealRaw(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                        std::span<const uint8_t> aad, std::span<const uint8_t> plain);
// Input ct || tag; Corrupt when authentication fails.
Result<SecureBytes> GcmOpenRaw(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                               std::span<const uint8_t> aad, std::span<const uint8_t> ct_and_tag);

// AES-SIV (RFC 5297) with the AD vector `ad`, one element per EVP Update, in order. Returns
// tag || ct (the RFC's layout). The key size selects the AES variant (see AesSiv). The message
// and every AD element must be non-empty (InvalidArgument): EVP skips zero-length Updates.
Result<std::vector<uint8_t>> SivSealRaw(std::span<const uint8_t> key,
                                        std::span<const std::span<const uint8_t>> ad,
                                        std::span<const uint8_t> plain);
// Input tag || ct; Corrupt when authentication fails.
Result<std::vector<uint8_t>> SivOpenRaw(std::span<const uint8_t> key,
                                        std::span<const std::span<const uint8_t>> ad,
                                        std::span<const uint8_t> tag_and_ct);

}  // namespace phrfs::crypto::internal
