#include "crypto/aead.h"

#include <climits>
#include <memory>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/format.h"

namespace phrfs::crypto::internal {
namespace {

// EVP takes int lengths; everything we encrypt is far below INT_MAX, but never truncate silently.
bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

const EVP_CIPHER* Fetch(const char* name) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  ERR_clear_error();  // a missing algorithm is reported by the caller, not left queued
  return cipher;
}

}  // namespace

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Status OpenSslFailure(Code code, std::string_view what) {
  std::string message(what);
  std::string errors = DrainOpenSslErrors();
  if (!errors.empty()) message += " (" + errors + ")";
  return Status::Error(code, std::move(message));
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = Fetch("AES-256-GCM");
  return cipher;
}

const EVP_CIPHER* AesSiv(size_t key_size) {
  static const EVP_CIPHER* const siv128 = Fetch("AES-128-SIV");
  static const EVP_CIPHER* const siv192 = Fetch("AES-192-SIV");
  static const EVP_CIPHER* const siv256 = Fetch("AES-256-SIV");
  switch (key_size) {
    case 32: return siv128;
    case 48: return siv192;
    case 64: return siv256;
    default: return nullptr;
  }
}

// ---- GcmContext ----

Result<GcmContext> GcmContext::Create(std::span<const uint8_t> key, bool encrypt) {
  if (key.size() != 32) return Status::InvalidArgument("AES-256-GCM key must be 32 bytes");
  const EVP_CIPHER* cipher = Aes256Gcm();
  if (cipher == nullptr) return OpenSslFailure(Code::kNotSupported, "AES-256-GCM unavailable");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, "EVP_CIPHER_CTX_new failed");
  int ok = encrypt ? EVP_EncryptInit_ex2(ctx, cipher, key.data(), nullptr, nullptr)
                   : EVP_DecryptInit_ex2(ctx, cipher, key.data(), nullptr, nullptr);
  if (ok != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return OpenSslFailure(Code::kIoError, "AES-256-GCM key setup failed");
  }
  return GcmContext(ctx, encrypt);
}

GcmContext::GcmContext(GcmContext&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), encrypt_(other.encrypt_) {}

GcmContext& GcmContext::operator=(GcmContext&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);  // also wipes the key schedule
    ctx_ = std::exchange(other.ctx_, nullptr);
    encrypt_ = other.encrypt_;
  }
  return *this;
}

GcmContext::~GcmContext() { EVP_CIPHER_CTX_free(ctx_); }

Status GcmContext::Seal(std::span<const uint8_t> nonce, std::span<const uint8_t> aad,
                        std::span<const uint8_t> plain, std::span<uint8_t> ct,
                        std::span<uint8_t> tag) {
  if (ctx_ == nullptr || !encrypt_) return Status::InvalidArgument("not a GCM sealing context");
  if (nonce.size() != kNonceSize) return Status::InvalidArgument("GCM nonce must be 12 bytes");
  if (tag.size() != kTagSize) return Status::InvalidArgument("GCM tag must be 16 bytes");
  if (ct.size() < plain.size()) return Status::InvalidArgument("GCM output buffer too small");
  if (!FitsInt(plain.size()) || !FitsInt(aad.size())) return Status::InvalidArgument("GCM input too large");
  int n = 0;
  if (EVP_EncryptInit_ex2(ctx_, nullptr, nullptr, nonce.data(), nullptr) != 1) {
    return OpenSslFailure(Code::kIoError, "GCM nonce setup failed");
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx_, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
    return OpenSslFailure(Code::kIoError, "GCM AAD update failed");
  }
  int written = 0;
  if (!plain.empty()) {
    if (EVP_EncryptUpdate(ctx_, ct.data(), &n, plain.data(), static_cast<int>(plain.size())) != 1) {
      OPENSSL_cleanse(ct.data(), ct.size());
      return OpenSslFailure(Code::kIoError, "GCM encryption failed");
    }
    written = n;
  }
  if (EVP_EncryptFinal_ex(ctx_, ct.data() + written, &n) != 1 ||
      static_cast<size_t>(written + n) != plain.size() ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag.data()) != 1) {
    OPENSSL_cleanse(ct.data(), ct.size());
    return OpenSslFailure(Code::kIoError, "GCM finalisation failed");
  }
  return Status::Ok();
}

Status GcmContext::Open(std::span<const uint8_t> nonce, std::span<const uint8_t> aad,
                        std::span<const uint8_t> ct, std::span<const uint8_t> tag,
                        std::span<uint8_t> out) {
  auto fail = [&](Status status) {
    OPENSSL_cleanse(out.data(), out.size());
    return status;
  };
  if (ctx_ == nullptr || encrypt_) return fail(Status::InvalidArgument("not a GCM opening context"));
  if (nonce.size() != kNonceSize) return fail(Status::InvalidArgument("GCM nonce must be 12 bytes"));
  if (tag.size() != kTagSize) return fail(Status::Corrupt("GCM tag must be 16 bytes"));
  if (out.size() < ct.size()) return fail(Status::InvalidArgument("GCM output buffer too small"));
  if (!FitsInt(ct.size()) || !FitsInt(aad.size())) return fail(Status::InvalidArgument("GCM input too large"));
  int n = 0;
  if (EVP_DecryptInit_ex2(ctx_, nullptr, nullptr, nonce.data(), nullptr) != 1) {
    return fail(OpenSslFailure(Code::kIoError, "GCM nonce setup failed"));
  }
  if (!aad.empty() && EVP_DecryptUpdate(ctx_, nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
    return fail(OpenSslFailure(Code::kIoError, "GCM AAD update failed"));
  }
  int written = 0;
  if (!ct.empty()) {
    if (EVP_DecryptUpdate(ctx_, out.data(), &n, ct.data(), static_cast<int>(ct.size())) != 1) {
      return fail(OpenSslFailure(Code::kCorrupt, "GCM decryption failed"));
    }
    written = n;
  }
  // The tag is set before Final; GCM has produced unauthenticated plaintext in `out` by now,
  // which is released only if Final returns 1.
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<uint8_t*>(tag.data())) != 1) {
    return fail(OpenSslFailure(Code::kIoError, "GCM tag setup failed"));
  }
  if (EVP_DecryptFinal_ex(ctx_, out.data() + written, &n) != 1) {
    DrainOpenSslErrors();
    return fail(Status::Corrupt("authentication failed"));
  }
  if (static_cast<size_t>(written + n) != ct.size()) {
    return fail(Status::IoError("GCM produced an unexpected length"));
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> GcmSealRaw(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                                        std::span<const uint8_t> aad, std::span<const uint8_t> plain) {
  PHRFS_ASSIGN_OR_RETURN(GcmContext ctx, GcmContext::Create(key, /*encrypt=*/true));
  std::vector<uint8_t> out(plain.size() + kTagSize);
  std::span<uint8_t> all(out);
  PHRFS_RETURN_IF_ERROR(ctx.Seal(nonce, aad, plain, all.first(plain.size()), all.last(kTagSize)));
  return out;
}

Result<SecureBytes> GcmOpenRaw(std::span<const uint8_t> key, std::span<const uint8_t> nonce,
                               std::span<const uint8_t> aad, std::span<const uint8_t> ct_and_tag) {
  if (ct_and_tag.size() < kTagSize) return Status::Corrupt("GCM input shorter than the tag");
  PHRFS_ASSIGN_OR_RETURN(GcmContext ctx, GcmContext::Create(key, /*encrypt=*/false));
  size_t ct_len = ct_and_tag.size() - kTagSize;
  SecureBytes out(ct_len);
  PHRFS_RETURN_IF_ERROR(ctx.Open(nonce, aad, ct_and_tag.first(ct_len), ct_and_tag.last(kTagSize),
                                 std::span<uint8_t>(out.data(), out.size())));
  return out;
}

// ---- AES-SIV ----

namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

Result<CtxPtr> SivInit(std::span<const uint8_t> key, bool encrypt) {
  const EVP_CIPHER* cipher = AesSiv(key.size());
  if (cipher == nullptr) {
    if (key.size() != 32 && key.size() != 48 && key.size() != 64) {
      return Status::InvalidArgument("AES-SIV key must be 32, 48 or 64 bytes");
    }
    return OpenSslFailure(Code::kNotSupported, "AES-SIV unavailable");
  }
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return OpenSslFailure(Code::kIoError, "EVP_CIPHER_CTX_new failed");
  int ok = encrypt ? EVP_EncryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr)
                   : EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr);
  if (ok != 1) return OpenSslFailure(Code::kIoError, "AES-SIV key setup failed");
  return ctx;
}

// Empty AD elements and empty messages are refused: EVP treats a zero-length Update as a no-op,
// which would silently drop the element from S2V. phrfs never needs either.
Status CheckSivInputs(std::span<const std::span<const uint8_t>> ad, size_t data_len) {
  if (data_len == 0) return Status::InvalidArgument("SIV message must not be empty");
  if (!FitsInt(data_len)) return Status::InvalidArgument("SIV message too large");
  for (const auto& element : ad) {
    if (element.empty()) return Status::InvalidArgument("SIV AD elements must not be empty");
    if (!FitsInt(element.size())) return Status::InvalidArgument("SIV AD element too large");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint8_t>> SivSealRaw(std::span<const uint8_t> key,
                                        std::span<const std::span<const uint8_t>> ad,
                                        std::span<const uint8_t> plain) {
  PHRFS_RETURN_IF_ERROR(CheckSivInputs(ad, plain.size()));
  PHRFS_ASSIGN_OR_RETURN(CtxPtr ctx, SivInit(key, /*encrypt=*/true));
  int n = 0;
  for (const auto& element : ad) {
    if (EVP_EncryptUpdate(ctx.get(), nullptr, &n, element.data(), static_cast<int>(element.size())) != 1) {
      return OpenSslFailure(Code::kIoError, "SIV AD update failed");
    }
  }
  std::vector<uint8_t> out(kTagSize + plain.size());
  // Exactly one data Update (a second one fails): it computes S2V over the AD and the plaintext.
  if (EVP_EncryptUpdate(ctx.get(), out.data() + kTagSize, &n, plain.data(),
                        static_cast<int>(plain.size())) != 1 ||
      static_cast<size_t>(n) != plain.size()) {
    return OpenSslFailure(Code::kIoError, "SIV encryption failed");
  }
  int fin = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + kTagSize + n, &fin) != 1 || fin != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), out.data()) != 1) {
    return OpenSslFailure(Code::kIoError, "SIV finalisation failed");
  }
  return out;
}

Result<std::vector<uint8_t>> SivOpenRaw(std::span<const uint8_t> key,
                                        std::span<const std::span<const uint8_t>> ad,
                                        std::span<const uint8_t> tag_and_ct) {
  if (tag_and_ct.size() <= kTagSize) return Status::Corrupt("SIV input has no ciphertext after the tag");
  PHRFS_RETURN_IF_ERROR(CheckSivInputs(ad, tag_and_ct.size()));
  PHRFS_ASSIGN_OR_RETURN(CtxPtr ctx, SivInit(key, /*encrypt=*/false));
  // SIV needs the tag before any data: it is the CTR IV.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<uint8_t*>(tag_and_ct.data())) != 1) {
    return OpenSslFailure(Code::kIoError, "SIV tag setup failed");
  }
  int n = 0;
  for (const auto& element : ad) {
    if (EVP_DecryptUpdate(ctx.get(), nullptr, &n, element.data(), static_cast<int>(element.size())) != 1) {
      return OpenSslFailure(Code::kIoError, "SIV AD update failed");
    }
  }
  auto ct = tag_and_ct.subspan(kTagSize);
  std::vector<uint8_t> out(ct.size());
  // The single data Update verifies the tag; it returns 0 (and OpenSSL wipes the output) on a
  // mismatch. Final must succeed as well.
  int ok = EVP_DecryptUpdate(ctx.get(), out.data(), &n, ct.data(), static_cast<int>(ct.size()));
  int fin = 0;
  uint8_t scratch[16];
  if (ok != 1 || static_cast<size_t>(n) != ct.size() || EVP_DecryptFinal_ex(ctx.get(), scratch, &fin) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    DrainOpenSslErrors();
    return Status::Corrupt("authentication failed");
  }
  return out;
}

}  // namespace phrfs::crypto::internal
