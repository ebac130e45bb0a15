// The shared folders of a store, as a mount or `phrfs share` finds them: every keyring under
// "s/" (FORMAT "DOMAIN KEYRING"), opened with the owner's key or a grantee's identity, turned
// into the vault's key domains. And writing a keyring back.
// Main thread (before a mount serves); the domains returned are immutable and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/domain_keyring.h"
#include "crypto/identity.h"
#include "fs/vault/key_domain.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// The vault's key domain for a keyring's keys: the current epoch's name key, every epoch's
// content key held, the domain's prefix (after `base`: "owners/<fingerprint>/" when the vault's
// tree is a whole store of records). InvalidArgument when the current epoch is not held.
Result<std::shared_ptr<const KeyDomain>> KeyDomainFor(const crypto::DomainId& id,
                                                       const SecureBytes& dir_hash,
                                                       const std::map<uint32_t, crypto::EpochKeys>& epochs,
                                                       uint32_t current,
                                                       bool writable = true,
                                                       const std::string& base = "");

// The ids of every domain with a keyring in the store ("s/<hex>/keyring").
Result<std::vector<crypto::DomainId>> ListDomains(remote::CipherTree& tree);
Result<std::string> ReadKeyring(remote::CipherTree& tree, const crypto::DomainId& id);
Status WriteKeyring(remote::CipherTree& tree, const crypto::DomainId& id, const std::string& text);

struct OwnedDomain {
  crypto::DomainSecrets secrets;
  std::shared_ptr<const KeyDomain> domain;
};
// Every keyring, opened as the owner. A keyring that does not open (damaged, or another owner's
// in a shared store) is logged and left out: its folder then shows empty, and `phrfs share`
// refuses to run until it is mended.
Result<std::vector<OwnedDomain>> LoadOwnedDomains(remote::CipherTree& tree,
                                                  const SecureBytes& owner_key,
                                                  std::vector<std::string>* problems = nullptr);
SharedDomains ByRoot(const std::vector<OwnedDomain>& domains);

struct GrantedDomain {
  crypto::GranteeView view;
  std::shared_ptr<const KeyDomain> domain;  // null when the current epoch is not held (revoked)
};
// Every keyring with a stanza for `identity`.
Result<std::vector<GrantedDomain>> LoadGrantedDomains(remote::CipherTree& tree,
                                                      const crypto::Identity& identity);

}  // namespace phrfs::fs
