#include "fs/shared_domains.h"

#include "base/encoding.h"
#include "fs/log.h"
#include "fs/store_setup.h"

namespace phrfs::fs {
namespace {

std::string KeyringPath(const crypto::DomainId& id) {
  return crypto::DomainPrefix(id) + crypto::kKeyringName;
}

}  // namespace

Result<std::shared_ptr<const KeyDomain>> KeyDomainFor(
    const crypto::DomainId& id, const SecureBytes& dir_hash,
    const std::map<uint32_t, crypto::EpochKeys>& epochs, uint32_t current, bool writable,
    const std::string& base) {
  auto it = epochs.find(current);
  if (it == epochs.end()) return Status::InvalidArgument("the current key epoch is not held");
  std::map<uint32_t, SecureBytes> contents;
  for (const auto& [epoch, keys] : epochs) contents.emplace(epoch, keys.content.Clone());
  return KeyDomain::Shared(base + crypto::DomainPrefix(id), it->second.names.Clone(), dir_hash.Clone(),
                           std::move(contents), current, writable);
}

Result<std::vector<crypto::DomainId>> ListDomains(remote::CipherTree& tree) {
  std::vector<crypto::DomainId> ids;
  auto list = tree.List(crypto::kSharedRoot);
  if (!list.ok()) {
    if (list.status().code() == Code::kNotFound) return ids;  // nothing shared yet
    return list.status();
  }
  for (const auto& e : *list) {
    auto bytes = HexDecode(e.name);
    if (!e.is_folder || !bytes || bytes->size() != crypto::kIdSize) continue;
    crypto::DomainId id;
    std::copy(bytes->begin(), bytes->end(), id.bytes.begin());
    ids.push_back(id);
  }
  return ids;
}

Result<std::string> ReadKeyring(remote::CipherTree& tree, const crypto::DomainId& id) {
  const std::string path = KeyringPath(id);
  auto text = ReadSmallObject(tree, path, 16u << 20);
  if (text.status().code() == Code::kCorrupt) return Status::Corrupt(path + ": not a keyring");
  return text;
}

Status WriteKeyring(remote::CipherTree& tree, const crypto::DomainId& id, const std::string& text) {
  for (const std::string& folder : {std::string(crypto::kSharedRoot),
                                    crypto::DomainPrefix(id).substr(0, crypto::DomainPrefix(id).size() - 1)}) {
    Status st = tree.MakeFolder(folder);
    if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  }
  const std::string path = KeyringPath(id);
  PHRFS_RETURN_IF_ERROR(tree.Put(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()},
                                 remote::PutMode::kReplace));
  return tree.Sync(path);
}

Result<std::vector<OwnedDomain>> LoadOwnedDomains(remote::CipherTree& tree,
                                                  const SecureBytes& owner_key,
                                                  std::vector<std::string>* problems) {
  std::vector<OwnedDomain> out;
  PHRFS_ASSIGN_OR_RETURN(auto ids, ListDomains(tree));
  for (const auto& id : ids) {
    const std::string path = KeyringPath(id);
    auto text = ReadKeyring(tree, id);
    Result<crypto::DomainSecrets> secrets =
        text.ok() ? crypto::OpenKeyringAsOwner(*text, owner_key) : Result<crypto::DomainSecrets>(text.status());
    if (secrets.ok() && !(secrets->id == id)) secrets = Status::Corrupt("keyring names another domain");
    if (!secrets.ok()) {
      if (text.status().code() == Code::kNotFound) continue;  // a domain being made
      Log(LogLevel::kError, "shared folder keyring %s: %s; its folder shows empty", path.c_str(),
          secrets.status().ToString().c_str());
      if (problems) problems->push_back(path + ": " + secrets.status().ToString());
      continue;
    }
    auto domain = KeyDomainFor(id, secrets->dir_hash, secrets->epochs, secrets->current);
    if (!domain.ok()) return domain.status();
    out.push_back(OwnedDomain{std::move(secrets).value(), std::move(domain).value()});
  }
  return out;
}

SharedDomains ByRoot(const std::vector<OwnedDomain>& domains) {
  SharedDomains by_root;
  for (const auto& d : domains) by_root.emplace(DomainRootKey(d.secrets.root), d.domain);
  return by_root;
}

Result<std::vector<GrantedDomain>> LoadGrantedDomains(remote::CipherTree& tree,
                                                      const crypto::Identity& identity) {
  std::vector<GrantedDomain> out;
  PHRFS_ASSIGN_OR_RETURN(auto ids, ListDomains(tree));
  for (const auto& id : ids) {
    auto text = ReadKeyring(tree, id);
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound || text.status().code() == Code::kPermissionDenied)
        continue;  // a domain being made, or one this person's credentials do not reach
      return text.status();
    }
    auto view = crypto::OpenKeyringAsGrantee(*text, identity);
    if (!view.ok()) {
      if (view.status().code() == Code::kNotFound) continue;  // not shared with this person
      Log(LogLevel::kError, "shared folder keyring %s: %s", KeyringPath(id).c_str(),
          view.status().ToString().c_str());
      continue;
    }
    if (!(view->id == id)) continue;
    std::shared_ptr<const KeyDomain> domain;
    if (view->holds_current()) {
      PHRFS_ASSIGN_OR_RETURN(domain, KeyDomainFor(id, view->dir_hash, view->epochs, view->current));
    }
    out.push_back(GrantedDomain{std::move(view).value(), std::move(domain)});
  }
  return out;
}

}  // namespace phrfs::fs
