// X25519 and Ed25519 on raw keys through EVP_PKEY (crypto/curve25519.h).
#include "crypto/curve25519.h"

#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/aead.h"

namespace phrfs::crypto {
namespace {

using internal::OpenSslFailure;

template <auto Fn>
struct FreeWith {
  template <class T>
  void operator()(T* p) const { Fn(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, FreeWith<EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, FreeWith<EVP_MD_CTX_free>>;

constexpr char kX25519[] = "X25519";
constexpr char kEd25519[] = "ED25519";

// EVP wants a non-null pointer even for an empty message.
const uint8_t* NonNull(std::span<const uint8_t> s) {
  static const uint8_t kEmpty[1] = {0};
  return s.empty() ? kEmpty : s.data();
}

Result<SecureBytes> Generate(const char* algorithm) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
  if (ctx == nullptr) return OpenSslFailure(Code::kNotSupported, std::string(algorithm) + " unavailable");
  if (EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return OpenSslFailure(Code::kIoError, std::string(algorithm) + " keygen init failed");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return OpenSslFailure(Code::kIoError, std::string(algorithm) + " key generation failed");
  }
  Pkey key(raw);
  SecureBytes out(32);
  size_t len = out.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), out.data(), &len) != 1 || len != 32) {
    return OpenSslFailure(Code::kIoError, std::string(algorithm) + ": reading the private key failed");
  }
  return out;
}

Result<Pkey> PrivateKey(const char* algorithm, std::span<const uint8_t> raw) {
  if (raw.size() != 32) {
    return Status::InvalidArgument(std::string(algorithm) + " private key must be 32 bytes");
  }
  Pkey key(EVP_PKEY_new_raw_private_key_ex(nullptr, algorithm, nullptr, raw.data(), raw.size()));
  if (key == nullptr) return OpenSslFailure(Code::kInvalidArgument, std::string(algorithm) + " private key rejected");
  return key;
}

Result<Pkey> PublicKey(const char* algorithm, std::span<const uint8_t> raw) {
  Pkey key(EVP_PKEY_new_raw_public_key_ex(nullptr, algorithm, nullptr, raw.data(), raw.size()));
  if (key == nullptr) return OpenSslFailure(Code::kInvalidArgument, std::string(algorithm) + " public key rejected");
  return key;
}

template <size_t N>
Result<std::array<uint8_t, N>> RawPublic(const char* algorithm, const Pkey& key) {
  std::array<uint8_t, N> out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &len) != 1 || len != N) {
    return OpenSslFailure(Code::kIoError, std::string(algorithm) + ": reading the public key failed");
  }
  return out;
}

bool AllZero(std::span<const uint8_t> bytes) {
  uint8_t acc = 0;
  for (uint8_t b : bytes) acc |= b;
  return acc == 0;
}

}  // namespace

Result<SecureBytes> GenerateX25519PrivateKey() { return Generate(kX25519); }
Result<SecureBytes> GenerateEd25519PrivateKey() { return Generate(kEd25519); }

Result<X25519PublicKey> X25519PublicFromPrivate(std::span<const uint8_t> private_key) {
  PHRFS_ASSIGN_OR_RETURN(Pkey key, PrivateKey(kX25519, private_key));
  return RawPublic<kX25519KeySize>(kX25519, key);
}

Result<Ed25519PublicKey> Ed25519PublicFromPrivate(std::span<const uint8_t> private_key) {
  PHRFS_ASSIGN_OR_RETURN(Pkey key, PrivateKey(kEd25519, private_key));
  return RawPublic<kEd25519KeySize>(kEd25519, key);
}

Result<SecureBytes> X25519SharedSecret(std::span<const uint8_t> private_key, const X25519PublicKey& peer) {
  PHRFS_ASSIGN_OR_RETURN(Pkey own, PrivateKey(kX25519, private_key));
  PHRFS_ASSIGN_OR_RETURN(Pkey other, PublicKey(kX25519, peer));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, "X25519: EVP_PKEY_CTX_new_from_pkey failed");
  if (EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), other.get()) != 1) {
    return OpenSslFailure(Code::kInvalidArgument, "X25519: peer key rejected");
  }
  SecureBytes secret(32);
  size_t len = secret.size();
  // OpenSSL itself refuses an all-zero result; the check below does not rely on that.
  if (EVP_PKEY_derive(ctx.get(), secret.data(), &len) != 1) {
    internal::DrainOpenSslErrors();
    return Status::InvalidArgument("X25519: the peer key is of low order");
  }
  if (len != 32 || AllZero(secret.span())) return Status::InvalidArgument("X25519: the peer key is of low order");
  return secret;
}

Status CheckX25519PublicKey(const X25519PublicKey& key) {
  if ((key[31] & 0x80) != 0) return Status::InvalidArgument("X25519 public key is not canonical (top bit set)");
  // Any scalar works: OpenSSL clamps it, which makes it a multiple of 8.
  static constexpr std::array<uint8_t, 32> kProbe = {
      0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
      0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
  auto secret = X25519SharedSecret(kProbe, key);
  if (!secret.ok()) {
    if (secret.status().code() == Code::kInvalidArgument) {
      return Status::InvalidArgument("X25519 public key is of low order (all-zero or a small-subgroup point)");
    }
    return secret.status();
  }
  return Status::Ok();
}

Result<Ed25519Signature> Ed25519Sign(std::span<const uint8_t> private_key, std::span<const uint8_t> message) {
  PHRFS_ASSIGN_OR_RETURN(Pkey key, PrivateKey(kEd25519, private_key));
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, "Ed25519: EVP_MD_CTX_new failed");
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.get(), nullptr) != 1) {
    return OpenSslFailure(Code::kIoError, "Ed25519: sign init failed");
  }
  Ed25519Signature signature{};
  size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, NonNull(message), message.size()) != 1 ||
      len != signature.size()) {
    return OpenSslFailure(Code::kIoError, "Ed25519: signing failed");
  }
  return signature;
}

Status Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature) {
  if (signature.size() != kEd25519SignatureSize) {
    return Status::Corrupt("Ed25519 signature must be 64 bytes, got " + std::to_string(signature.size()));
  }
  auto key = PublicKey(kEd25519, public_key);
  if (!key.ok()) return Status::Corrupt("Ed25519 public key is not a valid point");
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslFailure(Code::kIoError, "Ed25519: EVP_MD_CTX_new failed");
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key->get(), nullptr) != 1) {
    return OpenSslFailure(Code::kIoError, "Ed25519: verify init failed");
  }
  int ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), NonNull(message), message.size());
  if (ok != 1) {
    internal::DrainOpenSslErrors();
    return Status::Corrupt("Ed25519 signature does not verify");
  }
  return Status::Ok();
}

}  // namespace phrfs::crypto
