// Personal identities for sharing (FORMAT "IDENTITIES"): an X25519 key pair that secrets are
// wrapped to (crypto/recipient_wrap.h) and an Ed25519 key pair that signs, with the public half's
// one-line text form ("phrfs1...", pasteable like an age recipient) and its fingerprint.
// Values; an Identity is move-only and wipes its private keys. Any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/curve25519.h"

namespace phrfs::crypto {

struct PublicIdentity {
  X25519PublicKey x25519{};
  Ed25519PublicKey ed25519{};
  bool operator==(const PublicIdentity&) const = default;
};

class Identity {
 public:
  // Fresh key pairs from EVP_PKEY keygen.
  static Result<Identity> Generate();
  // From raw 32-byte private keys (an opened identity file, test vectors); derives the public
  // keys. InvalidArgument on a wrong size.
  static Result<Identity> FromPrivateKeys(std::span<const uint8_t> x25519_private,
                                          std::span<const uint8_t> ed25519_private);

  Identity(Identity&&) noexcept = default;
  Identity& operator=(Identity&&) noexcept = default;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

  const PublicIdentity& public_identity() const { return public_; }
  const SecureBytes& x25519_private() const { return x25519_private_; }
  const SecureBytes& ed25519_private() const { return ed25519_private_; }

 private:
  Identity(PublicIdentity pub, SecureBytes x25519_private, SecureBytes ed25519_private)
      : public_(pub), x25519_private_(std::move(x25519_private)), ed25519_private_(std::move(ed25519_private)) {}
  PublicIdentity public_;
  SecureBytes x25519_private_;
  SecureBytes ed25519_private_;
};

// FORMAT "IDENTITIES": "phrfs1" + lowercase unpadded base32 of
// version (0x01) || x25519 public || ed25519 public || SHA-256(those 65 bytes)[0..4).
inline constexpr char kPublicIdentityPrefix[] = "phrfs1";
inline constexpr uint8_t kPublicIdentityVersion = 1;
inline constexpr size_t kPublicIdentityChecksumSize = 4;
inline constexpr size_t kPublicIdentityTextSize = 6 + 111;  // prefix + base32 of 69 bytes

std::string FormatPublicIdentity(const PublicIdentity& identity);
// Surrounding blanks (space, tab, CR, LF) are ignored. InvalidArgument, with a message a user
// can act on, for a wrong prefix, a wrong length, a character outside [a-z2-7], a checksum
// mismatch (a typo), an unknown version, or an X25519 key that is all-zero or of low order.
Result<PublicIdentity> ParsePublicIdentity(std::string_view text);

// 32 lowercase hex digits: the first 16 bytes of SHA-256(x25519 public || ed25519 public).
std::string Fingerprint(const PublicIdentity& identity);

// Ed25519 over the whole message (one shot; sign a digest or a canonical encoding).
Result<Ed25519Signature> Sign(const Identity& identity, std::span<const uint8_t> message);
// Ok when valid; Corrupt when not.
Status Verify(const PublicIdentity& identity, std::span<const uint8_t> message,
              std::span<const uint8_t> signature);

}  // namespace phrfs::crypto
