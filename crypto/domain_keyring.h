// A shared folder's keyring (FORMAT "DOMAIN KEYRING"): the one object that delivers a key
// domain's keys, "s/<domain id>/keyring". It holds, per key epoch, the domain's keys sealed for
// the owner (AES-256-GCM under a key derived from the store's master key), the same keys wrapped
// to every grantee of that epoch (crypto/recipient_wrap.h, one stanza per grantee and epoch,
// with no recipient id in clear: a grantee tries each), the grant table sealed for the owner
// (who may do what, until when), and an Ed25519 signature by the owner's identity over the rest.
// A grantee's stanza also carries what the grantee needs to show the folder: the owner's name,
// the folder's path in the owner's record, the access granted and its last day.
// Keys per epoch: a name key (AES-SIV, 64 bytes) and a content key (32 bytes); the directory-hash
// key (32 bytes) is the domain's for its whole life.
// Pure functions over values; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/types.h"

namespace phrfs::crypto {

inline constexpr char kKeyringName[] = "keyring";  // "s/<domain id hex>/keyring"
inline constexpr char kSharedRoot[] = "s";

struct DomainId {
  std::array<uint8_t, kIdSize> bytes{};
  bool operator==(const DomainId&) const = default;
};
Result<DomainId> NewDomainId();
std::string DomainPrefix(const DomainId& id);  // "s/<32 hex>/"

struct EpochKeys {
  SecureBytes names;    // 64 bytes
  SecureBytes content;  // 32 bytes
  static Result<EpochKeys> Generate();
  EpochKeys Clone() const { return EpochKeys{names.Clone(), content.Clone()}; }
};

enum class GrantAccess : uint8_t { kRead = 1, kWrite = 2 };

struct GrantRecord {
  std::string person;
  std::string public_key;  // "phrfs1..."
  GrantAccess access = GrantAccess::kRead;
  std::string until;       // "YYYY-MM-DD" (last day, inclusive) or ""
  uint32_t since_epoch = 0;  // the first epoch wrapped to this person
  bool operator==(const GrantRecord&) const = default;
};

// Everything about a domain, in clear: what the owner holds after opening the keyring.
struct DomainSecrets {
  DomainId id;
  DirId root;             // the shared folder's directory id in the owner's record
  std::string path;       // the folder's path when shared ("/labs"), as shares.yaml names it
  std::string owner_name;
  bool unshared = false;  // the share was removed from shares.yaml: no grants, keys kept
  SecureBytes dir_hash;   // 32 bytes
  std::map<uint32_t, EpochKeys> epochs;
  uint32_t current = 0;
  std::vector<GrantRecord> grants;  // those in force
};

// The owner's sealing key for keyrings: HKDF-SHA256(master key, salt = store id,
// info = kLabelDomainOwner).
Result<SecureBytes> DeriveDomainOwnerKey(const SecureBytes& master_key, const StoreId& store_id);

// The keyring's text: every epoch's keys sealed under `owner_key`, the grant table, and for
// every grant a stanza per epoch from its since_epoch to the current one; signed by `owner`.
// InvalidArgument when a grant's key does not parse or the current epoch has no keys.
Result<std::string> SealKeyring(const DomainSecrets& domain, const SecureBytes& owner_key,
                                const Identity& owner);

// The owner's view. Corrupt when the text is malformed or the signature does not verify;
// WrongKey when `owner_key` is not the one the keyring was sealed under.
Result<DomainSecrets> OpenKeyringAsOwner(std::string_view text, const SecureBytes& owner_key);

// What a grantee unwraps: the epochs wrapped to it, the current epoch (which it may not hold:
// revoked), and how to show the folder.
struct GranteeView {
  DomainId id;
  DirId root;
  PublicIdentity owner;
  std::string owner_name;
  std::string path;
  GrantAccess access = GrantAccess::kRead;
  std::string until;
  SecureBytes dir_hash;
  std::map<uint32_t, EpochKeys> epochs;
  uint32_t current = 0;
  bool holds_current() const { return epochs.count(current) != 0; }
};
// NotFound when no stanza is for `identity` (never granted); Corrupt when malformed or the
// signature does not verify.
Result<GranteeView> OpenKeyringAsGrantee(std::string_view text, const Identity& identity);

// The signer and current epoch, without opening anything.
struct KeyringHeader {
  DomainId id;
  DirId root;
  PublicIdentity owner;
  uint32_t current = 0;
  size_t stanzas = 0;
};
Result<KeyringHeader> ParseKeyringHeader(std::string_view text);

}  // namespace phrfs::crypto
