// A grantee's mount: the made-up folders above the shared folders (FORMAT "KEY DOMAINS"). The
// root lists one folder per owner; below it, the components of each shared folder's path; the
// last component is the shared folder's root, whose entries come from the store under the
// share's keys. Made-up folders are read-only and owned by the mounting user.
#include <time.h>
#include <unistd.h>

#include "crypto/kdf.h"
#include "fs/log.h"
#include "fs/vault/clock.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {
namespace {

// A stable node id for a made-up folder: the first 16 bytes of SHA-256 of its place.
crypto::NodeId SyntheticId(const std::string& place) {
  const std::string tagged = "phrfs-grantee-view\n" + place;
  auto digest = crypto::Sha256({reinterpret_cast<const uint8_t*>(tagged.data()), tagged.size()});
  crypto::NodeId id;
  if (digest.ok()) std::copy(digest->begin(), digest->begin() + id.bytes.size(), id.bytes.begin());
  if (crypto::InodeNumberOf(id) <= kRootNode) id.bytes[0] ^= 0x80;  // never the root's
  return id;
}

std::shared_ptr<Node> MadeUpDir(const crypto::NodeId& id, uint32_t mode) {
  auto node = std::make_shared<Node>(crypto::InodeNumberOf(id), crypto::NodeKind::kDirectory, id);
  node->synthetic = true;
  const crypto::Timestamp now = Now();
  node->header.kind = crypto::NodeKind::kDirectory;
  node->header.node_id = id;
  node->header.meta.mode = S_IFDIR | mode;
  node->header.meta.uid = geteuid();
  node->header.meta.gid = getegid();
  node->header.meta.atime = node->header.meta.mtime = node->header.meta.ctime = now;
  // Never forgotten: the kernel's forgets cannot bring the count to zero.
  node->nlookup = uint64_t{1} << 62;
  return node;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at < path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return parts;
}

}  // namespace

Status Vault::InitGrantee() {
  auto root = MadeUpDir(crypto::NodeId{}, 0555);
  table_.Publish(root, crypto::DirId{}, "\x01root");
  synthetic_inos_.emplace(root->ino, root);
  synthetic_dirs_[root->ino];
  for (const auto& g : options_.granted) {
    std::vector<std::string> parts = Components(g.path);
    if (parts.empty() || g.owner.empty() || g.owner.find('/') != std::string::npos) {
      Log(LogLevel::kWarning, "a shared folder with an unusable owner or path; not shown");
      continue;
    }
    parts.insert(parts.begin(), g.owner);
    std::shared_ptr<Node> dir = root;
    std::string place;
    for (size_t i = 0; i < parts.size(); ++i) {
      place += "/" + parts[i];
      auto& entries = synthetic_dirs_[dir->ino];
      std::shared_ptr<Node> next;
      for (auto& [name, node] : entries) {
        if (name == parts[i]) next = node;
      }
      const bool last = i + 1 == parts.size();
      if (next && (last || !synthetic_dirs_.count(next->ino))) {
        Log(LogLevel::kWarning, "two shared folders at one place; one is not shown");
        break;
      }
      if (!next) {
        if (last) {
          next = MadeUpDir(crypto::NodeIdOf(g.root), g.writable ? 0700 : 0500);
          next->domain = g.domain;
          next->children = g.domain;
          PHRFS_ASSIGN_OR_RETURN(next->folder, g.domain->FolderOf(g.root));
        } else {
          next = MadeUpDir(SyntheticId(place), 0555);
          synthetic_dirs_[next->ino];
        }
        next->shown_path = place;
        entries.emplace_back(parts[i], next);
        synthetic_inos_.emplace(next->ino, next);
        table_.Publish(next, crypto::DirId{}, "\x01" + place);
        ++dir->header.meta.subdirs;
      }
      dir = next;
    }
  }
  return Status::Ok();
}

const std::vector<std::pair<std::string, std::shared_ptr<Node>>>* Vault::SyntheticEntries(
    uint64_t ino) const {
  auto it = synthetic_dirs_.find(ino);
  return it == synthetic_dirs_.end() ? nullptr : &it->second;
}

Result<Entry> Vault::LookupSynthetic(const Node& dir, std::string_view name) {
  const auto* entries = SyntheticEntries(dir.ino);
  if (entries == nullptr) return Status::NotFound("no such entry");
  for (const auto& [n, node] : *entries) {
    if (n == name) {
      node->nlookup.fetch_add(1);
      return Entry{node->ino, Attr(*node)};
    }
  }
  return Status::NotFound("no such entry");
}

}  // namespace phrfs::fs
