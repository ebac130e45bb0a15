#include "crypto/log_key_sealer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/recipient_wrap.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kSealedSize = 1 + kNonceSize + kLogSessionKeySize + kTagSize;
constexpr size_t kIdentitySealedSize =
    1 + kSealedOwnerSize + kLogSessionKeySize + kWrapStanzaOverhead;

std::vector<uint8_t> SealAad(uint8_t kind, const LogSessionId& session) {
  std::vector<uint8_t> aad(kLogAdLabel, kLogAdLabel + std::strlen(kLogAdLabel));
  aad.push_back(kind);
  aad.insert(aad.end(), session.bytes.begin(), session.bytes.end());
  return aad;
}

}  // namespace

std::optional<SealedKeyAddress> AddressOfSealedKey(std::span<const uint8_t> sealed) {
  if (sealed.empty()) return std::nullopt;
  SealedKeyAddress address;
  address.kind = sealed[0];
  if (address.kind == kSealedByPassphraseStore && sealed.size() != kSealedSize) return std::nullopt;
  if (address.kind == kSealedToIdentity) {
    if (sealed.size() != kIdentitySealedSize) return std::nullopt;
    address.owner = HexEncode(sealed.subspan(1, kSealedOwnerSize));
  }
  return address;
}

Result<PassphraseStoreSealer> PassphraseStoreSealer::Create(const SecureBytes& master_key,
                                                            const StoreId& store_id) {
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key,
                         HkdfSha256(master_key.span(), store_id.bytes, kLabelAudit, 32));
  return PassphraseStoreSealer(std::move(key));
}

Result<std::vector<uint8_t>> PassphraseStoreSealer::Seal(const SecureBytes& session_key,
                                                         const LogSessionId& session) {
  if (session_key.size() != kLogSessionKeySize) {
    return Status::InvalidArgument("session key must be 32 bytes");
  }
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  PHRFS_ASSIGN_OR_RETURN(auto sealed,
                         internal::GcmSealRaw(key_.span(), nonce,
                                              SealAad(kSealedByPassphraseStore, session),
                                              session_key.span()));
  std::vector<uint8_t> out;
  out.reserve(kSealedSize);
  out.push_back(kSealedByPassphraseStore);
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecureBytes> PassphraseStoreSealer::Open(std::span<const uint8_t> sealed,
                                                const LogSessionId& session) {
  if (sealed.size() != kSealedSize || sealed[0] != kSealedByPassphraseStore) {
    return Status::WrongKey("session key not sealed for this store's passphrase");
  }
  auto key = internal::GcmOpenRaw(key_.span(), sealed.subspan(1, kNonceSize),
                                  SealAad(kSealedByPassphraseStore, session),
                                  sealed.subspan(1 + kNonceSize));
  if (!key.ok()) return Status::WrongKey("session key not sealed with this store's key");
  return std::move(key).value();
}

bool PassphraseStoreSealer::CanOpen(std::span<const uint8_t> sealed) const {
  return !sealed.empty() && sealed[0] == kSealedByPassphraseStore;
}

IdentitySealer::IdentitySealer(PublicIdentity owner, std::optional<Identity> identity)
    : owner_(owner), fingerprint_(Fingerprint(owner)), identity_(std::move(identity)) {
  auto raw = HexDecode(fingerprint_);
  if (raw && raw->size() == kSealedOwnerSize) {
    std::copy(raw->begin(), raw->end(), fingerprint_raw_.begin());
  }
}

IdentitySealer IdentitySealer::ForSealing(const PublicIdentity& owner) {
  return IdentitySealer(owner, std::nullopt);
}

IdentitySealer IdentitySealer::ForOpening(Identity owner) {
  PublicIdentity pub = owner.public_identity();
  return IdentitySealer(pub, std::move(owner));
}

Result<std::vector<uint8_t>> IdentitySealer::Seal(const SecureBytes& session_key,
                                                  const LogSessionId& session) {
  if (session_key.size() != kLogSessionKeySize) {
    return Status::InvalidArgument("session key must be 32 bytes");
  }
  PHRFS_ASSIGN_OR_RETURN(auto stanza, WrapToRecipient(session_key.span(), owner_,
                                                      SealAad(kSealedToIdentity, session)));
  std::vector<uint8_t> out;
  out.reserve(kIdentitySealedSize);
  out.push_back(kSealedToIdentity);
  out.insert(out.end(), fingerprint_raw_.begin(), fingerprint_raw_.end());
  out.insert(out.end(), stanza.begin(), stanza.end());
  return out;
}

bool IdentitySealer::AddressedHere(std::span<const uint8_t> sealed) const {
  return sealed.size() >= 1 + kSealedOwnerSize && sealed[0] == kSealedToIdentity &&
         std::equal(fingerprint_raw_.begin(), fingerprint_raw_.end(), sealed.begin() + 1);
}

Result<SecureBytes> IdentitySealer::Open(std::span<const uint8_t> sealed,
                                         const LogSessionId& session) {
  if (!identity_) {
    return Status::NotSupported("this identity sealer only seals (no private key)");
  }
  if (sealed.size() != kIdentitySealedSize || !AddressedHere(sealed)) {
    return Status::WrongKey("session key not sealed to this identity");
  }
  auto key = UnwrapWithIdentity(sealed.subspan(1 + kSealedOwnerSize), *identity_,
                                SealAad(kSealedToIdentity, session));
  if (!key.ok() || key->size() != kLogSessionKeySize) {
    return Status::WrongKey("session key not sealed to this identity");
  }
  return std::move(key).value();
}

bool IdentitySealer::CanOpen(std::span<const uint8_t> sealed) const {
  return identity_.has_value() && AddressedHere(sealed);
}

}  // namespace phrfs::crypto
