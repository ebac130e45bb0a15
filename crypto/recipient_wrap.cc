// X25519 recipient wrap (crypto/recipient_wrap.h).
#include "crypto/recipient_wrap.h"

#include <algorithm>
#include <array>
#include <string>

#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/kdf.h"

namespace phrfs::crypto {
namespace {

constexpr char kNotOursMessage[] = "the key stanza is not for this identity, or was changed";
// wk is derived from a fresh ephemeral key for every stanza, so one fixed nonce never repeats
// under one key.
constexpr std::array<uint8_t, kNonceSize> kZeroNonce{};

// salt = epk || R binds the wrapping key to both public values as written, so a stanza whose
// epk was changed in a way X25519 ignores (its top bit) still fails.
Result<SecureBytes> WrappingKey(const SecureBytes& shared, const X25519PublicKey& epk, const X25519PublicKey& recipient) {
  std::array<uint8_t, 2 * kX25519KeySize> salt{};
  std::copy(epk.begin(), epk.end(), salt.begin());
  std::copy(recipient.begin(), recipient.end(), salt.begin() + kX25519KeySize);
  return HkdfSha256(shared.span(), salt, kLabelX25519Wrap, 32);
}

Status CheckSecretSize(std::span<const uint8_t> secret) {
  if (secret.empty()) return Status::InvalidArgument("recipient wrap: empty secret");
  if (secret.size() > kMaxWrappedSecretSize) {
    return Status::InvalidArgument("recipient wrap: secret larger than " + std::to_string(kMaxWrappedSecretSize) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

Result<std::vector<uint8_t>> WrapToRecipientWithEphemeral(std::span<const uint8_t> secret,
                                                          const PublicIdentity& recipient,
                                                          std::span<const uint8_t> aad,
                                                          std::span<const uint8_t> ephemeral_private) {
  PHRFS_RETURN_IF_ERROR(CheckSecretSize(secret));
  Status usable = CheckX25519PublicKey(recipient.x25519);
  if (!usable.ok()) return Status::InvalidArgument("recipient wrap: " + usable.message());
  PHRFS_ASSIGN_OR_RETURN(X25519PublicKey epk, X25519PublicFromPrivate(ephemeral_private));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes shared, X25519SharedSecret(ephemeral_private, recipient.x25519));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes wk, WrappingKey(shared, epk, recipient.x25519));
  PHRFS_ASSIGN_OR_RETURN(auto sealed, GcmSealRaw(wk.span(), kZeroNonce, aad, secret));
  std::vector<uint8_t> stanza(epk.begin(), epk.end());
  stanza.insert(stanza.end(), sealed.begin(), sealed.end());
  return stanza;
}

}  // namespace internal

Result<std::vector<uint8_t>> WrapToRecipient(std::span<const uint8_t> secret, const PublicIdentity& recipient,
                                             std::span<const uint8_t> aad) {
  PHRFS_ASSIGN_OR_RETURN(SecureBytes ephemeral, GenerateX25519PrivateKey());
  return internal::WrapToRecipientWithEphemeral(secret, recipient, aad, ephemeral.span());
}

Result<SecureBytes> UnwrapWithIdentity(std::span<const uint8_t> stanza, const Identity& identity,
                                       std::span<const uint8_t> aad) {
  if (stanza.size() <= kWrapStanzaOverhead || stanza.size() > kWrapStanzaOverhead + kMaxWrappedSecretSize) {
    return Status::Corrupt("key stanza has an impossible length (" + std::to_string(stanza.size()) + " bytes)");
  }
  X25519PublicKey epk{};
  std::copy(stanza.begin(), stanza.begin() + kX25519KeySize, epk.begin());
  const X25519PublicKey& own = identity.public_identity().x25519;
  // A low-order epk (all-zero secret) is a tampered stanza, not a different kind of error.
  auto shared = X25519SharedSecret(identity.x25519_private().span(), epk);
  if (!shared.ok()) {
    if (shared.status().code() == Code::kInvalidArgument) return Status::WrongKey(kNotOursMessage);
    return shared.status();
  }
  PHRFS_ASSIGN_OR_RETURN(SecureBytes wk, WrappingKey(*shared, epk, own));
  auto opened = internal::GcmOpenRaw(wk.span(), kZeroNonce, aad, stanza.subspan(kX25519KeySize));
  if (!opened.ok()) {
    if (opened.status().code() == Code::kCorrupt) return Status::WrongKey(kNotOursMessage);
    return opened.status();
  }
  return std::move(opened).value();
}

}  // namespace phrfs::crypto
