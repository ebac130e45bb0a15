// X25519 (RFC 7748) and Ed25519 (RFC 8032) on raw 32-byte keys, through EVP_PKEY only: key
// generation, public-from-private, Diffie-Hellman, one-shot sign and verify. The building blocks
// of crypto/identity.h and crypto/recipient_wrap.h; exposed so that the RFC vectors run through
// the production code. Private keys only ever live in SecureBytes on our side. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::crypto {

inline constexpr size_t kX25519KeySize = 32;
inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

using X25519PublicKey = std::array<uint8_t, kX25519KeySize>;
using Ed25519PublicKey = std::array<uint8_t, kEd25519KeySize>;
using Ed25519Signature = std::array<uint8_t, kEd25519SignatureSize>;

// Fresh private keys (EVP_PKEY keygen), as their raw 32 bytes.
Result<SecureBytes> GenerateX25519PrivateKey();
Result<SecureBytes> GenerateEd25519PrivateKey();

// InvalidArgument when the private key is not 32 bytes.
Result<X25519PublicKey> X25519PublicFromPrivate(std::span<const uint8_t> private_key);
Result<Ed25519PublicKey> Ed25519PublicFromPrivate(std::span<const uint8_t> private_key);

// The shared secret X25519(private_key, peer). InvalidArgument when the peer key is of low order
// (the result would be all zeros; RFC 7748 section 6.1 says to check), so no caller can use a
// secret an attacker chose.
Result<SecureBytes> X25519SharedSecret(std::span<const uint8_t> private_key, const X25519PublicKey& peer);

// Ok when `key` is a usable X25519 public key: canonical (top bit clear) and not of low order.
// Checked by multiplying with a fixed clamped scalar: clamped scalars are multiples of the
// cofactor 8, so exactly the points of small order give zero.
Status CheckX25519PublicKey(const X25519PublicKey& key);

// Pure Ed25519 (no pre-hash, no context): EVP_DigestSign with mdname NULL, one shot.
Result<Ed25519Signature> Ed25519Sign(std::span<const uint8_t> private_key, std::span<const uint8_t> message);
// Ok when the signature is valid; Corrupt when it is not (or the public key is not a point).
Status Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature);

}  // namespace phrfs::crypto
