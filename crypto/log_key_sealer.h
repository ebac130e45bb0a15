// Delivery of an access-log session key to the store's owner (FORMAT "ACCESS LOG"): the
// SessionKeySealer interface and its passphrase-store implementation, which seals under a key
// derived from the master key. Identity stores (X25519) add their own sealer. Implementations
// are immutable after construction and callable from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
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
};

// First byte of a sealed session key: which kind of sealer made it.
inline constexpr uint8_t kSealedByPassphraseStore = 1;

// AES-256-GCM under HKDF(master key, salt = store id, info kLabelAudit); sealed bytes are
// kind(1) || nonce(12) || ct(32) || tag(16), AAD = kLogAdLabel || kind || session id.
class PassphraseStoreSealer final : public SessionKeySealer {
 public:
  static Result<PassphraseStoreSealer> Create(const SecureBytes& master_key, const StoreId& store_id);
  Result<std::vector<uint8_t>> Seal(const SecureBytes& session_key, const LogSessionId& session) override;
  Result<SecureBytes> Open(std::span<const uint8_t> sealed, const LogSessionId& session) override;

 private:
  explicit PassphraseStoreSealer(SecureBytes key) : key_(std::move(key)) {}
  SecureBytes key_;
};

}  // namespace phrfs::crypto
