// Identities and their public text form (crypto/identity.h).
#include "crypto/identity.h"

#include <cstring>
#include <vector>

#include "base/encoding.h"
#include "crypto/kdf.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kKeysSize = kX25519KeySize + kEd25519KeySize;  // 64
constexpr size_t kPayloadSize = 1 + kKeysSize;                    // 65
constexpr size_t kBinarySize = kPayloadSize + kPublicIdentityChecksumSize;  // 69
constexpr size_t kPrefixSize = sizeof(kPublicIdentityPrefix) - 1;
static_assert(kPublicIdentityTextSize == kPrefixSize + (kBinarySize * 8 + 4) / 5);

std::array<uint8_t, kKeysSize> Keys(const PublicIdentity& identity) {
  std::array<uint8_t, kKeysSize> out{};
  std::memcpy(out.data(), identity.x25519.data(), kX25519KeySize);
  std::memcpy(out.data() + kX25519KeySize, identity.ed25519.data(), kEd25519KeySize);
  return out;
}

std::array<uint8_t, kPayloadSize> Payload(const PublicIdentity& identity) {
  std::array<uint8_t, kPayloadSize> out{};
  out[0] = kPublicIdentityVersion;
  auto keys = Keys(identity);
  std::memcpy(out.data() + 1, keys.data(), keys.size());
  return out;
}

// SHA-256 through EVP cannot fail short of a broken library; the checksum is then all zeros
// and every parse fails, which is loud enough.
std::array<uint8_t, 32> Sha256OrZero(std::span<const uint8_t> data) {
  auto digest = Sha256(data);
  return digest.ok() ? *digest : std::array<uint8_t, 32>{};
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsBase32Lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }

}  // namespace

Result<Identity> Identity::Generate() {
  PHRFS_ASSIGN_OR_RETURN(SecureBytes x_private, GenerateX25519PrivateKey());
  PHRFS_ASSIGN_OR_RETURN(SecureBytes ed_private, GenerateEd25519PrivateKey());
  return FromPrivateKeys(x_private.span(), ed_private.span());
}

Result<Identity> Identity::FromPrivateKeys(std::span<const uint8_t> x25519_private,
                                           std::span<const uint8_t> ed25519_private) {
  if (x25519_private.size() != kX25519KeySize || ed25519_private.size() != kEd25519KeySize) {
    return Status::InvalidArgument("identity private keys must be 32 bytes each");
  }
  PublicIdentity pub;
  PHRFS_ASSIGN_OR_RETURN(pub.x25519, X25519PublicFromPrivate(x25519_private));
  PHRFS_ASSIGN_OR_RETURN(pub.ed25519, Ed25519PublicFromPrivate(ed25519_private));
  return Identity(pub, SecureBytes(x25519_private), SecureBytes(ed25519_private));
}

std::string FormatPublicIdentity(const PublicIdentity& identity) {
  auto payload = Payload(identity);
  auto digest = Sha256OrZero(payload);
  std::array<uint8_t, kBinarySize> binary{};
  std::memcpy(binary.data(), payload.data(), payload.size());
  std::memcpy(binary.data() + payload.size(), digest.data(), kPublicIdentityChecksumSize);
  return kPublicIdentityPrefix + Base32LowerEncode(binary);
}

Result<PublicIdentity> ParsePublicIdentity(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  if (text.substr(0, kPrefixSize) != kPublicIdentityPrefix) {
    return Status::InvalidArgument("not a phrfs public identity: it must start with 'phrfs1'");
  }
  if (text.size() != kPublicIdentityTextSize) {
    return Status::InvalidArgument("a phrfs public identity is " + std::to_string(kPublicIdentityTextSize) +
                                   " characters long, this one is " + std::to_string(text.size()) +
                                   " (cut off or pasted twice?)");
  }
  std::string_view body = text.substr(kPrefixSize);
  for (size_t i = 0; i < body.size(); ++i) {
    if (!IsBase32Lower(body[i])) {
      return Status::InvalidArgument("public identity: character " + std::to_string(kPrefixSize + i + 1) +
                                     " is not one of a-z or 2-7");
    }
  }
  // 111 characters carry 69 bytes and 3 spare bits, which must be zero: a last character that
  // sets them is a typo like any other.
  auto binary = Base32LowerDecode(body);
  if (!binary || binary->size() != kBinarySize) {
    return Status::InvalidArgument("public identity: checksum mismatch in the last character (typo?)");
  }
  std::span<const uint8_t> all(*binary);
  auto digest = Sha256OrZero(all.first(kPayloadSize));
  if (std::memcmp(digest.data(), all.data() + kPayloadSize, kPublicIdentityChecksumSize) != 0) {
    return Status::InvalidArgument("public identity: checksum mismatch (typo?)");
  }
  if (all[0] != kPublicIdentityVersion) {
    return Status::InvalidArgument("public identity: unknown version " + std::to_string(all[0]) +
                                   " (made by a newer phrfs?)");
  }
  PublicIdentity identity;
  std::memcpy(identity.x25519.data(), all.data() + 1, kX25519KeySize);
  std::memcpy(identity.ed25519.data(), all.data() + 1 + kX25519KeySize, kEd25519KeySize);
  Status usable = CheckX25519PublicKey(identity.x25519);
  if (!usable.ok()) return Status::InvalidArgument("public identity: " + usable.message());
  return identity;
}

std::string Fingerprint(const PublicIdentity& identity) {
  auto keys = Keys(identity);
  auto digest = Sha256OrZero(keys);
  return HexEncode(std::span<const uint8_t>(digest).first(16));
}

Result<Ed25519Signature> Sign(const Identity& identity, std::span<const uint8_t> message) {
  return Ed25519Sign(identity.ed25519_private().span(), message);
}

Status Verify(const PublicIdentity& identity, std::span<const uint8_t> message,
              std::span<const uint8_t> signature) {
  return Ed25519Verify(identity.ed25519, message, signature);
}

}  // namespace phrfs::crypto
