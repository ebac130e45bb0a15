// Wrapping a small secret (a folder data key) to one recipient's X25519 public key, age-style
// (FORMAT "RECIPIENT WRAP"): stanza = epk(32) || AES-256-GCM(wk, secret) || tag(16), where
// ss = X25519(ephemeral, R), wk = HKDF-SHA256(ss, salt = epk || R, info "phrfs/v2/x25519-wrap"),
// the nonce is 12 zero bytes (wk is used once) and the caller's AAD binds the stanza to its
// context (grant header: folder, key version, user). X25519 does not authenticate the sender:
// sign what lists the stanzas (crypto/identity.h Sign). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/identity.h"

namespace phrfs::crypto {

inline constexpr size_t kMaxWrappedSecretSize = 4096;
inline constexpr size_t kWrapStanzaOverhead = kX25519KeySize + 16;  // epk + tag

// InvalidArgument for an empty secret, one over kMaxWrappedSecretSize, or a recipient whose
// X25519 key is of low order.
Result<std::vector<uint8_t>> WrapToRecipient(std::span<const uint8_t> secret,
                                             const PublicIdentity& recipient,
                                             std::span<const uint8_t> aad);

// WrongKey when the stanza is not for this identity, was changed in any byte, or `aad` differs;
// Corrupt when its length is impossible.
Result<SecureBytes> UnwrapWithIdentity(std::span<const uint8_t> stanza, const Identity& identity,
                                       std::span<const uint8_t> aad);

namespace internal {
// WrapToRecipient with a given ephemeral private key: for test vectors only (reusing an
// ephemeral key across recipients or secrets breaks the single-use argument for the zero nonce).
Result<std::vector<uint8_t>> WrapToRecipientWithEphemeral(std::span<const uint8_t> secret,
                                                          const PublicIdentity& recipient,
                                                          std::span<const uint8_t> aad,
                                                          std::span<const uint8_t> ephemeral_private);
}  // namespace internal

}  // namespace phrfs::crypto
