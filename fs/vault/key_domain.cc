#include "fs/vault/key_domain.h"

namespace phrfs::fs {

std::shared_ptr<const KeyDomain> KeyDomain::Main(const crypto::StoreKeys& keys) {
  std::shared_ptr<KeyDomain> d(new KeyDomain());
  d->dir_hash_ = keys.dir_hash.Clone();
  d->names_ = std::make_unique<Names>(keys.names.Clone());
  d->current_ = keys.content.epoch;
  d->keys_.emplace(keys.content.epoch, crypto::FolderKey{keys.content.key.Clone(), keys.content.epoch});
  return d;
}

Result<std::shared_ptr<const KeyDomain>> KeyDomain::Shared(std::string prefix, SecureBytes names,
                                                           SecureBytes dir_hash,
                                                           std::map<uint32_t, SecureBytes> contents,
                                                           uint32_t current, bool writable) {
  if (prefix.empty() || prefix.back() != '/')
    return Status::InvalidArgument("a shared domain's prefix must end with '/'");
  if (names.size() != 64 || dir_hash.size() != 32)
    return Status::InvalidArgument("a shared domain needs a 64-byte name key and a 32-byte dir-hash key");
  if (contents.find(current) == contents.end())
    return Status::InvalidArgument("a shared domain needs the key of its current epoch");
  std::shared_ptr<KeyDomain> d(new KeyDomain());
  d->prefix_ = std::move(prefix);
  d->dir_hash_ = std::move(dir_hash);
  d->names_ = std::make_unique<Names>(std::move(names));
  d->current_ = current;
  d->writable_ = writable;
  for (auto& [epoch, key] : contents) {
    if (key.size() != 32) return Status::InvalidArgument("a content key must have 32 bytes");
    d->keys_.emplace(epoch, crypto::FolderKey{std::move(key), epoch});
  }
  return std::shared_ptr<const KeyDomain>(std::move(d));
}

const crypto::FolderKey* KeyDomain::KeyFor(uint32_t epoch) const {
  auto it = keys_.find(epoch);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<std::string> KeyDomain::FolderOf(const crypto::DirId& dir) const {
  PHRFS_ASSIGN_OR_RETURN(std::string folder, fs::FolderOf(dir_hash_, dir));
  return prefix_ + folder;
}

Status MakeDomainFolders(remote::CipherTree& tree, const KeyDomain& domain,
                         const crypto::DirId& root) {
  PHRFS_ASSIGN_OR_RETURN(std::string folder, domain.FolderOf(root));
  // Every ancestor, outermost first: "s", "s/<id>", "s/<id>/d", "s/<id>/d/xx", then the folder.
  for (size_t slash = folder.find('/'); ; slash = folder.find('/', slash + 1)) {
    const std::string part = slash == std::string::npos ? folder : folder.substr(0, slash);
    Status st = tree.MakeFolder(part);
    if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
    if (slash == std::string::npos) return Status::Ok();
  }
}

}  // namespace phrfs::fs
