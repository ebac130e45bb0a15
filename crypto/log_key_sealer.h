// Delivery of an access-log session key to the store's owner (FORMAT "ACCESS LOG"): the
// SessionKeySealer interface, its passphrase-store implementation (seals under a key derived
// from the master key) and its identity implementation (seals to the owner's X25519 key, for
// the mounts of grantees, who do not know the store passphrase). Implementations are immutable
// after construction and callable from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/types.h"

namespace phrfs::crypto {

class SessionKeySealer {
 public:
  virtual ~SessionKeySealer() = default;
  // The session key as bytes only the owner can open, bound to `session`.
  virtual Result<std::vector<uint8_t>> Seal(const SecureBytes& session_key,
                                            const LogSessionId& session) = 0;
  // WrongKey when the bytes were not sealed for this sealer's key or for `session` (or were
  // damaged: the two cannot be told apart).
  virtual Result<SecureBytes> Open(std::span<const uint8_t> sealed, const LogSessionId& session) = 0;
  // Whether `sealed` is addressed to this sealer's key (its kind byte and, for identities, the
  // owner fingerprint match) and this sealer holds what opens it: the one sealer worth trying.
  // Reads only the unauthenticated address; Open still decides.
  virtual bool CanOpen(std::span<const uint8_t> sealed) const = 0;
  // The kind byte this sealer writes (kSealedByPassphraseStore, kSealedToIdentity).
  virtual uint8_t kind() const = 0;
};

// First byte of a sealed session key: which kind of sealer made it.
inline constexpr uint8_t kSealedByPassphraseStore = 1;
inline constexpr uint8_t kSealedToIdentity = 2;
inline constexpr size_t kSealedOwnerSize = 16;  // raw fingerprint (crypto/identity.h Fingerprint)

// Who a sealed session key is for, read without any key (so not authenticated: a changed
// address only makes the key unreadable or sends the reader to another owner).
struct SealedKeyAddress {
  uint8_t kind = 0;
  std::string owner;  // kSealedToIdentity: the owner's fingerprint (32 hex digits); else ""
};
// nullopt when the bytes are empty or their size is not that of their (known) kind.
std::optional<SealedKeyAddress> AddressOfSealedKey(std::span<const uint8_t> sealed);

// AES-256-GCM under HKDF(master key, salt = store id, info kLabelAudit); sealed bytes are
// kind(1) || nonce(12) || ct(32) || tag(16), AAD = kLogAdLabel || kind || session id.
class PassphraseStoreSealer final : public SessionKeySealer {
 public:
  static Result<PassphraseStoreSealer> Create(const SecureBytes& master_key, const StoreId& store_id);
  Result<std::vector<uint8_t>> Seal(const SecureBytes& session_key, const LogSessionId& session) override;
  Result<SecureBytes> Open(std::span<const uint8_t> sealed, const LogSessionId& session) override;
  bool CanOpen(std::span<const uint8_t> sealed) const override;
  uint8_t kind() const override { return kSealedByPassphraseStore; }

 private:
  explicit PassphraseStoreSealer(SecureBytes key) : key_(std::move(key)) {}
  SecureBytes key_;
};

// Seals to the owner's identity with WrapToRecipient (FORMAT "RECIPIENT WRAP"); sealed bytes
// are kind(1) = 2 || owner fingerprint(16, raw) || stanza(80), stanza AAD = kLogAdLabel ||
// kind || session id. Made from the owner's PublicIdentity it only seals (a grantee's mount);
// made from the owner's Identity it opens too (`phrfs audit --identity`).
class IdentitySealer final : public SessionKeySealer {
 public:
  static IdentitySealer ForSealing(const PublicIdentity& owner);
  static IdentitySealer ForOpening(Identity owner);

  IdentitySealer(IdentitySealer&&) noexcept = default;
  IdentitySealer& operator=(IdentitySealer&&) noexcept = default;

  // InvalidArgument for a session key that is not 32 bytes or an owner key of low order.
  Result<std::vector<uint8_t>> Seal(const SecureBytes& session_key, const LogSessionId& session) override;
  // WrongKey when not sealed to this identity, for `session`, or when damaged;
  // NotSupported from a sealer made ForSealing.
  Result<SecureBytes> Open(std::span<const uint8_t> sealed, const LogSessionId& session) override;
  // Kind 2 and this owner's fingerprint, and made ForOpening.
  bool CanOpen(std::span<const uint8_t> sealed) const override;
  uint8_t kind() const override { return kSealedToIdentity; }
  // Whether it holds the private key (made ForOpening).
  bool can_open_any() const { return identity_.has_value(); }

  const PublicIdentity& owner() const { return owner_; }
  // 32 hex digits, as crypto::Fingerprint.
  const std::string& owner_fingerprint() const { return fingerprint_; }

 private:
  IdentitySealer(PublicIdentity owner, std::optional<Identity> identity);
  // Kind 2 and this owner's fingerprint.
  bool AddressedHere(std::span<const uint8_t> sealed) const;
  PublicIdentity owner_;
  std::string fingerprint_;
  std::array<uint8_t, kSealedOwnerSize> fingerprint_raw_{};
  std::optional<Identity> identity_;  // when made ForOpening
};

}  // namespace phrfs::crypto
