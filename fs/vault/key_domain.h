// A key domain (FORMAT "KEY DOMAINS"): the keys that seal one part of the tree. The owner's
// record is one domain (the store's own keys, its folders at the store's root); a shared folder
// is another, with its own name key, directory-hash key and one content key per epoch, and its
// folders under a prefix of its own ("s/<domain id>/"), so that a grantee's store credentials can
// be scoped to it. A directory's entries belong to the domain of the directory unless the
// directory is the root of a shared domain (its entries then belong to that domain); a node's own
// object is sealed in the domain of the directory that names it.
// Immutable after construction (Names locks its own cache); shared by the nodes of the domain.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/types.h"
#include "fs/vault/layout.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

class KeyDomain {
 public:
  // The owner's main domain: the store's keys, folders at the store's root.
  static std::shared_ptr<const KeyDomain> Main(const crypto::StoreKeys& keys);
  // A shared folder's domain. `contents` holds the content key of every epoch this mount knows
  // (at least `current`); `prefix` ends with '/'.
  static Result<std::shared_ptr<const KeyDomain>> Shared(std::string prefix, SecureBytes names,
                                                         SecureBytes dir_hash,
                                                         std::map<uint32_t, SecureBytes> contents,
                                                         uint32_t current,
                                                         bool writable = true);

  // The key of an epoch, or nullptr when this mount does not hold it.
  const crypto::FolderKey* KeyFor(uint32_t epoch) const;
  // New objects (and rewritten contents) are sealed under this epoch's key.
  const crypto::FolderKey& current() const { return keys_.at(current_); }
  // "d/xx/yyyy..." (with the domain's prefix) for a directory of this domain.
  Result<std::string> FolderOf(const crypto::DirId& dir) const;
  Names& names() const { return *names_; }
  const std::string& prefix() const { return prefix_; }
  bool is_main() const { return prefix_.empty(); }
  // False for a share granted read-only: the mount refuses changes in it (EROFS).
  bool writable() const { return writable_; }

 private:
  KeyDomain() = default;
  std::string prefix_;
  SecureBytes dir_hash_;
  std::unique_ptr<Names> names_;
  std::map<uint32_t, crypto::FolderKey> keys_;
  uint32_t current_ = 0;
  bool writable_ = true;
};

// Makes the folders a shared domain needs before its root directory `root` can hold entries:
// the prefix, its folders root, and the root directory's folder. Folders that exist are fine.
Status MakeDomainFolders(remote::CipherTree& tree, const KeyDomain& domain,
                         const crypto::DirId& root);

// The roots of shared domains this mount can open, by directory id (the id's 16 bytes).
using SharedDomains = std::unordered_map<std::string, std::shared_ptr<const KeyDomain>>;
inline std::string DomainRootKey(const crypto::DirId& dir) {
  return std::string(reinterpret_cast<const char*>(dir.bytes.data()), dir.bytes.size());
}

}  // namespace phrfs::fs
