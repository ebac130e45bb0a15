// The vault's setup, its node table upkeep, and reading and writing node headers.
#include "fs/vault/vault.h"

#include <time.h>

#include <cstring>

#include "crypto/random.h"
#include "fs/log.h"
#include "fs/vault/clock.h"

namespace phrfs::fs {
namespace {

struct timespec ToTimespec(const crypto::Timestamp& t) {
  return timespec{static_cast<time_t>(t.sec), static_cast<long>(t.nsec)};
}

}  // namespace

Vault::Vault(std::unique_ptr<remote::CipherTree> tree, crypto::StoreKeys keys,
             const VaultOptions& options)
    : tree_(std::move(tree)),
      main_(KeyDomain::Main(keys)),
      options_(options) {}

Vault::~Vault() {
  // Unmount: times that writes changed within their last second go to the store now.
  for (const auto& node : table_.All()) {
    std::unique_lock lock(node->mu);
    FlushTimes(*node);
  }
  if (options_.on_close) options_.on_close(*tree_);
}

Result<std::unique_ptr<Vault>> Vault::Open(std::unique_ptr<remote::CipherTree> tree,
                                           crypto::StoreKeys keys, const VaultOptions& options) {
  std::unique_ptr<Vault> vault(new Vault(std::move(tree), std::move(keys), options));
  PHRFS_RETURN_IF_ERROR(vault->Init());
  return vault;
}

Status Vault::Init() {
  PHRFS_ASSIGN_OR_RETURN(lease_, tree_->AcquireLease());
  if (options_.grantee) {
    // Nothing of the owner's record: no root object to load, and the owner's unlinked/ is left
    // alone (a grantee's objects unlinked while open go there too; the owner's next mount
    // removes them).
    PHRFS_RETURN_IF_ERROR(InitGrantee());
    Status st = tree_->MakeFolder(kUnlinkedFolder);
    if (!st.ok() && st.code() != Code::kAlreadyExists)
      Log(LogLevel::kInfo, "no %s folder for files removed while open: %s", kUnlinkedFolder,
          st.ToString().c_str());
    return Status::Ok();
  }

  // The root's object lives at a fixed key; load it as any directory's.
  auto stat = tree_->Stat(kRootObject);
  if (!stat.ok()) {
    if (stat.status().code() == Code::kNotFound) {
      return Status::Corrupt(std::string("the store has no ") + kRootObject +
                             " (is it a v2 store?)");
    }
    return stat.status();
  }
  Node pseudo_parent(0, crypto::NodeKind::kDirectory, crypto::NodeId{});
  pseudo_parent.children = main_;
  auto root = LoadNode(pseudo_parent, "", StoredKind::kDirectory);
  if (!root.ok())
    return Status::Error(root.status().code(), "root directory: " + root.status().message());
  if ((*root)->id != crypto::NodeId{}) return Status::Corrupt("root directory: wrong node id");
  (*root)->nlookup = 1;
  table_.Publish(*root, crypto::DirId{}, "\x01root");  // a location no entry can have

  // Objects unlinked while in use by an earlier mount are garbage now.
  if (!options_.read_only) {
    auto left = tree_->List(kUnlinkedFolder);
    if (left.ok()) {
      for (const auto& e : *left) {
        Status st = tree_->Delete(Join(kUnlinkedFolder, e.name));
        if (!st.ok())
          Log(LogLevel::kWarning, "could not remove %s/%s: %s", kUnlinkedFolder, e.name.c_str(),
              st.ToString().c_str());
      }
    } else if (left.status().code() == Code::kNotFound) {
      Status st = tree_->MakeFolder(kUnlinkedFolder);
      if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
    } else {
      return left.status();
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- nodes and headers

Result<std::shared_ptr<Node>> Vault::GetDir(uint64_t ino) const {
  auto node = Get(ino);
  if (!node) return Status::NotFound("node " + std::to_string(ino) + " unknown");
  if (node->kind != crypto::NodeKind::kDirectory)
    return Status::Error(Code::kNotADirectory, "not a directory");
  return node;
}

Result<std::string> Vault::PathOf(uint64_t ino) {
  std::shared_lock tree(tree_mu_);  // no rename or unlink while the names are read
  const uint64_t generation = dir_paths_.generation();
  std::vector<std::string> parts;  // from `ino` upwards
  std::string above;               // a cached path where the walk stopped ("" for the root)
  uint64_t first_dir = 0;          // the first directory of the walk: its path is cached
  size_t first_dir_at = 0;         // parts[first_dir_at] is its name
  for (size_t depth = 0;; ++depth) {
    if (ino == kRootNode) break;
    auto node = Get(ino);
    if (!node) return Status::NotFound("node unknown");
    if (node->synthetic) {
      if (node->shown_path.empty()) break;
      parts.push_back(node->shown_path.substr(1));
      break;
    }
    if (node->kind == crypto::NodeKind::kDirectory) {
      if (auto cached = dir_paths_.Find(ino, generation)) {
        above = std::move(*cached);
        break;
      }
      if (first_dir == 0) {
        first_dir = ino;
        first_dir_at = parts.size();
      }
    }
    if (depth > 4096) return Status::Corrupt("a loop in the tree");
    crypto::DirId parent_id;
    std::string stem;
    {
      std::shared_lock lock(node->mu);
      if (node->unlinked) return Status::NotFound("no longer in the tree");
      parent_id = node->parent;
      stem = node->stem;
    }
    const uint64_t parent_ino = crypto::InodeNumberOf(crypto::NodeIdOf(parent_id));
    auto parent = Get(parent_ino);
    if (!parent || !parent->children) return Status::NotFound("parent unknown");
    // Names the mount just looked up (or logged before) come from the cache: no decryption,
    // and no sidecar read for a long name.
    Names& names = parent->children->names();
    std::optional<std::string> name = names.Recall(parent_id, stem);
    if (!name) {
      std::string encoded = stem;
      if (stem.rfind(crypto::kLongNamePrefix, 0) == 0) {
        std::vector<uint8_t> side(crypto::kMaxPlainNameLength * 2 + 64);
        PHRFS_ASSIGN_OR_RETURN(size_t got,
                               tree_->Read(Join(parent->folder, stem + kSidecarSuffix), 0, side));
        encoded.assign(side.begin(), side.begin() + got);
      }
      PHRFS_ASSIGN_OR_RETURN(name, names.DecodeAndRemember(parent_id, stem, encoded));
    }
    parts.push_back(std::move(*name));
    ino = parent_ino;
  }
  std::string path = std::move(above);
  size_t first_dir_length = 0;
  for (size_t i = parts.size(); i-- > 0;) {
    path += '/';
    path += parts[i];
    if (first_dir != 0 && i == first_dir_at) first_dir_length = path.size();
  }
  if (first_dir != 0) dir_paths_.Store(first_dir, generation, path.substr(0, first_dir_length));
  return path.empty() ? std::string("/") : path;
}

Result<std::string> Vault::PathIn(uint64_t parent, std::string_view name) {
  auto dir = PathOf(parent);
  if (!dir.ok()) return dir.status();
  std::string path = *dir == "/" ? std::string("/") : *dir + "/";
  path.append(name);
  return path;
}

Result<crypto::DirId> Vault::DirIdOf(uint64_t ino) const {
  PHRFS_ASSIGN_OR_RETURN(auto node, GetDir(ino));
  return node->dir_id();
}

Result<std::shared_ptr<Node>> Vault::GetFile(uint64_t ino) const {
  auto node = Get(ino);
  if (!node) return Status::NotFound("node " + std::to_string(ino) + " unknown");
  if (node->kind == crypto::NodeKind::kDirectory)
    return Status::Error(Code::kIsADirectory, "not a file");
  if (node->kind != crypto::NodeKind::kFile) return Status::InvalidArgument("not a regular file");
  return node;
}

Result<std::shared_ptr<Node>> Vault::LoadNode(const Node& parent, const std::string& stem,
                                              StoredKind kind) {
  const bool is_root = parent.ino == 0;
  const std::string path =
      is_root ? std::string(kRootObject) : Join(parent.folder, stem + std::string(SuffixOf(kind)));
  PHRFS_ASSIGN_OR_RETURN(remote::TreeStat st, tree_->Stat(path));
  if (st.is_folder) return Status::Corrupt("store object " + path + " is a folder");
  uint8_t raw[crypto::kNodeHeaderSize];
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree_->Read(path, 0, raw));
  auto fields = crypto::ParseNodeHeaderFields({raw, got});
  if (!fields.ok()) {
    // An unknown version reads as damage: EIO, never "operation not supported".
    return Status::Corrupt("store object " + path + ": " + fields.status().message());
  }
  if (!KindMatches(kind, fields->kind)) {
    Log(LogLevel::kError, "store object %s: kind %d does not match its name; returning EIO",
        path.c_str(), static_cast<int>(fields->kind));
    return Status::Corrupt("store object " + path + ": kind does not match its name");
  }
  if (!is_root && fields->node_id == crypto::NodeId{}) {
    Log(LogLevel::kError, "store object %s claims the root's node id; returning EIO", path.c_str());
    return Status::Corrupt("store object " + path + ": the root's node id under another name");
  }
  const crypto::FolderKey* key = parent.children->KeyFor(fields->key_epoch);
  if (key == nullptr) {
    Log(LogLevel::kError, "store object %s: sealed under key epoch %u, which this mount does not "
        "hold; returning EIO", path.c_str(), fields->key_epoch);
    return Status::Corrupt("store object " + path + ": unknown key epoch " +
                           std::to_string(fields->key_epoch));
  }
  PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(*key, fields->node_id));
  auto meta = crypto::OpenNodeMeta({raw, got}, *fields, meta_key);
  if (!meta.ok()) {
    Log(LogLevel::kError, "store object %s: %s; returning EIO", path.c_str(),
        meta.status().message().c_str());
    return Status::Corrupt("store object " + path + ": " + meta.status().message());
  }
  const bool header_only =
      fields->kind != crypto::NodeKind::kFile && fields->kind != crypto::NodeKind::kSymlink;
  if (header_only && st.size != crypto::kNodeHeaderSize) {
    return Status::Corrupt("store object " + path + ": a header-only object of " +
                           std::to_string(st.size) + " bytes");
  }

  auto node =
      std::make_shared<Node>(crypto::InodeNumberOf(fields->node_id), fields->kind, fields->node_id);
  node->parent = parent.dir_id();
  node->parent_folder = parent.folder;
  node->stem = stem;
  node->path = path;
  node->header = crypto::NodeHeader{fields->kind, fields->node_id, fields->key_epoch,
                                    fields->content_id, *meta};
  node->links = st.links;
  node->cipher_size = st.size;
  node->checked_ms = MonotonicMs();
  node->domain = parent.children;
  if (node->kind == crypto::NodeKind::kDirectory) {
    node->children = ChildrenDomain(node->domain, node->dir_id());
    PHRFS_ASSIGN_OR_RETURN(node->folder, node->children->FolderOf(node->dir_id()));
  }
  return node;
}

std::shared_ptr<const KeyDomain> Vault::ChildrenDomain(const std::shared_ptr<const KeyDomain>& own,
                                                       const crypto::DirId& dir) const {
  auto it = options_.shared_domains.find(DomainRootKey(dir));
  return it == options_.shared_domains.end() ? own : it->second;
}

Result<const crypto::FolderKey*> Vault::KeyOf(const Node& node, const std::string& path) const {
  const crypto::FolderKey* key = node.domain->KeyFor(node.header.key_epoch);
  if (key == nullptr) {
    Log(LogLevel::kError, "store object %s: sealed under key epoch %u, which this mount does not "
        "hold; returning EIO", path.c_str(), node.header.key_epoch);
    return Status::Corrupt("store object " + path + ": unknown key epoch " +
                           std::to_string(node.header.key_epoch));
  }
  return key;
}

bool Vault::Stale(const Node& node) const {
  // A node with times of ours not yet stored is left alone: its header goes out first, and a
  // write-back tree turns a clash with another mount's version into a conflict copy.
  return options_.revalidate_ms > 0 && node.open_count == 0 && node.ino != kRootNode &&
         !node.synthetic && !node.unlinked && !node.times_dirty &&
         MonotonicMs() - node.checked_ms >= options_.revalidate_ms;
}

Status Vault::Revalidate(Node& node) {
  if (!Stale(node)) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(remote::TreeStat st, tree_->Stat(node.path));
  if (st.is_folder) return Status::Corrupt("store object " + node.path + " is a folder");
  uint8_t raw[crypto::kNodeHeaderSize];
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree_->Read(node.path, 0, raw));
  auto fields = crypto::ParseNodeHeaderFields({raw, got});
  if (!fields.ok()) return Status::Corrupt("store object " + node.path + ": " + fields.status().message());
  if (fields->node_id != node.id || fields->kind != node.kind) {
    // Another mount replaced the name with a different node: this node is gone from here.
    return Status::NotFound("replaced by another mount");
  }
  const crypto::FolderKey* key = node.domain->KeyFor(fields->key_epoch);
  if (key == nullptr) {
    return Status::Corrupt("store object " + node.path + ": unknown key epoch " +
                           std::to_string(fields->key_epoch));
  }
  PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(*key, node.id));
  auto meta = crypto::OpenNodeMeta({raw, got}, *fields, meta_key);
  if (!meta.ok()) {
    Log(LogLevel::kError, "store object %s: %s; returning EIO", node.path.c_str(),
        meta.status().message().c_str());
    return Status::Corrupt("store object " + node.path + ": " + meta.status().message());
  }
  if (fields->content_id != node.header.content_id || st.size != node.cipher_size ||
      fields->key_epoch != node.header.key_epoch) {
    node.content.reset();  // a new version: its key and blocks are loaded on the next read
  }
  if (fields->key_epoch != node.header.key_epoch) node.meta_key = std::move(meta_key);
  node.header = crypto::NodeHeader{fields->kind, fields->node_id, fields->key_epoch,
                                   fields->content_id, *meta};
  node.cipher_size = st.size;
  node.links = st.links;
  node.checked_ms = MonotonicMs();
  return Status::Ok();
}

Result<std::array<uint8_t, crypto::kNodeHeaderSize>> Vault::SealHeader(
    const KeyDomain& domain, const crypto::NodeHeader& header) {
  const crypto::FolderKey* key = domain.KeyFor(header.key_epoch);
  if (key == nullptr) return Status::Corrupt("no key for epoch " + std::to_string(header.key_epoch));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(*key, header.node_id));
  return crypto::SealNodeHeader(header, meta_key);
}

Status Vault::WriteHeader(Node& node) {
  if (node.synthetic) {  // a grantee's made-up folder: its header is only in memory
    node.times_dirty = false;
    return Status::Ok();
  }
  // A header-only object (directory, FIFO, socket) has nothing sealed under its epoch but the
  // header: it moves to the domain's current epoch whenever it is written.
  const bool header_only =
      node.kind != crypto::NodeKind::kFile && node.kind != crypto::NodeKind::kSymlink;
  if (header_only && node.domain && node.header.key_epoch != node.domain->current().epoch) {
    node.header.key_epoch = node.domain->current().epoch;
    node.meta_key = SecureBytes();
  }
  if (node.meta_key.empty()) {
    PHRFS_ASSIGN_OR_RETURN(const crypto::FolderKey* key, KeyOf(node, node.path));
    PHRFS_ASSIGN_OR_RETURN(node.meta_key, crypto::DeriveMetaKey(*key, node.header.node_id));
  }
  PHRFS_ASSIGN_OR_RETURN(auto bytes, crypto::SealNodeHeader(node.header, node.meta_key));
  PHRFS_RETURN_IF_ERROR(tree_->WriteAt(node.path, 0, bytes));
  node.times_dirty = false;
  node.times_written_ms = MonotonicMs();
  return Status::Ok();
}

void Vault::FlushTimes(Node& node) {
  if (!node.times_dirty || options_.read_only) return;
  // Nobody can see a removed directory or a file without names: nothing to keep.
  if (node.removed || (node.kind != crypto::NodeKind::kDirectory && node.links == 0)) {
    node.times_dirty = false;
    return;
  }
  Status st = WriteHeader(node);
  if (!st.ok())
    Log(LogLevel::kWarning, "node %llu: times not stored: %s",
        static_cast<unsigned long long>(node.ino), st.ToString().c_str());
}

void Vault::TouchDir(Node& dir, int subdirs_delta) {
  std::unique_lock lock(dir.mu);
  const crypto::Timestamp now = Now();
  dir.header.meta.mtime = now;
  dir.header.meta.ctime = now;
  if (subdirs_delta < 0 && dir.header.meta.subdirs < static_cast<uint32_t>(-subdirs_delta)) {
    dir.header.meta.subdirs = 0;
  } else {
    dir.header.meta.subdirs += subdirs_delta;
  }
  // The change of names is done; its times reach the store within a second (MarkTimes).
  MarkTimes(dir);
}

void Vault::TouchCtime(Node& node, bool known) {
  std::unique_lock lock(node.mu);
  node.header.meta.ctime = Now();
  if (node.links == 0) return;  // no name shows it any more
  if (known) {
    MarkTimes(node);
    return;
  }
  // A node the kernel does not know leaves with this call: its header is written now.
  Status st = WriteHeader(node);
  if (!st.ok())
    Log(LogLevel::kWarning, "node %llu: ctime not stored: %s",
        static_cast<unsigned long long>(node.ino), st.ToString().c_str());
}

void Vault::MarkTimes(Node& node) {
  node.times_dirty = true;
  if (MonotonicMs() - node.times_written_ms >= kTimesWriteIntervalMs) FlushTimes(node);
}

struct stat Vault::Attr(const Node& node) const {
  struct stat st {};
  const crypto::NodeMeta& m = node.header.meta;
  st.st_ino = node.ino;
  st.st_mode = m.mode;
  st.st_uid = m.uid;
  st.st_gid = m.gid;
  st.st_atim = ToTimespec(m.atime);
  st.st_mtim = ToTimespec(m.mtime);
  st.st_ctim = ToTimespec(m.ctime);
  st.st_blksize = crypto::kBlockSize;
  switch (node.kind) {
    case crypto::NodeKind::kDirectory: st.st_nlink = 2 + m.subdirs; break;
    case crypto::NodeKind::kFile:
    case crypto::NodeKind::kSymlink: {
      st.st_nlink = node.links;
      if (node.content) {
        st.st_size = static_cast<off_t>(node.content->size());
      } else {
        auto size = crypto::PlainSize(node.cipher_size, crypto::kNodeHeaderSize);
        // A damaged object still shows a non-zero size, so that a read reaches the daemon and
        // fails with EIO instead of the kernel answering "end of file" from the size alone.
        st.st_size = size.ok() ? static_cast<off_t>(*size) : 1;
      }
      break;
    }
    default: st.st_nlink = node.links; break;
  }
  st.st_blocks = (st.st_size + 511) / 512;
  return st;
}

Result<Entry> Vault::EntryFor(const std::shared_ptr<Node>& node) {
  std::shared_lock lock(node->mu);
  return Entry{node->ino, Attr(*node)};
}

Status Vault::CheckWritable() const {
  return options_.read_only ? Status::Error(Code::kReadOnly, "mounted read-only") : Status::Ok();
}

Status Vault::CheckWritable(const Node& node) const {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  if (SyntheticEntries(node.ino) != nullptr)
    return Status::Error(Code::kReadOnly, "a made-up folder of a grantee's mount");
  const KeyDomain* domain =
      node.kind == crypto::NodeKind::kDirectory ? node.children.get() : node.domain.get();
  if (domain != nullptr && !domain->writable())
    return Status::Error(Code::kReadOnly, "a folder shared read-only");
  return Status::Ok();
}

crypto::NodeMeta Vault::NewMeta(const Node& parent, uint32_t mode, const Caller& caller) const {
  crypto::NodeMeta m;
  m.mode = mode;
  m.uid = caller.uid;
  m.gid = caller.gid;
  // BSD group semantics under a set-group-ID directory, as Linux file systems do: the new node
  // takes the directory's group, and a new directory keeps the set-group-ID bit.
  if (parent.header.meta.mode & S_ISGID) {
    m.gid = parent.header.meta.gid;
    if (S_ISDIR(mode)) m.mode |= S_ISGID;
  }
  m.atime = m.mtime = m.ctime = Now();
  return m;
}

// ---------------------------------------------------------------- names

bool Vault::KnownAbsent(const crypto::DirId& dir, const std::string& stem) const {
  std::string key(reinterpret_cast<const char*>(dir.bytes.data()), dir.bytes.size());
  key += stem;
  std::lock_guard lock(absent_mu_);
  auto it = absent_.find(key);
  if (it == absent_.end() || it->second.generation != names_generation_.load()) return false;
  return options_.revalidate_ms == 0 || MonotonicMs() - it->second.when_ms < options_.revalidate_ms;
}

void Vault::RememberAbsent(const crypto::DirId& dir, const std::string& stem) {
  std::string key(reinterpret_cast<const char*>(dir.bytes.data()), dir.bytes.size());
  key += stem;
  std::lock_guard lock(absent_mu_);
  if (absent_.size() >= 256) absent_.clear();
  absent_[key] = Absent{names_generation_.load(), MonotonicMs()};
}

Result<std::optional<Vault::Located>> Vault::Locate(const Node& dir, const StoredName& name) {
  if (auto known = table_.FindAt(dir.dir_id(), name.stem, /*count_lookup=*/false)) {
    const StoredKind kind = StoredKindOf(known->kind);
    return std::optional<Located>(
        Located{kind, name.stem, Join(dir.folder, name.stem + std::string(SuffixOf(kind))), known});
  }
  if (KnownAbsent(dir.dir_id(), name.stem)) return std::optional<Located>();
  for (StoredKind kind :
       {StoredKind::kFile, StoredKind::kDirectory, StoredKind::kSymlink, StoredKind::kSpecial}) {
    std::string path = Join(dir.folder, name.stem + std::string(SuffixOf(kind)));
    auto st = tree_->Stat(path);
    if (st.ok()) return std::optional<Located>(Located{kind, name.stem, std::move(path), nullptr});
    if (st.status().code() != Code::kNotFound) return st.status();
  }
  RememberAbsent(dir.dir_id(), name.stem);
  return std::optional<Located>();
}

Status Vault::WriteSidecar(const Node& dir, const StoredName& name) {
  if (!name.is_long()) return Status::Ok();
  const auto* p = reinterpret_cast<const uint8_t*>(name.encoded.data());
  return tree_->Put(Join(dir.folder, name.stem + kSidecarSuffix), {p, name.encoded.size()},
                    remote::PutMode::kReplace);
}

void Vault::RemoveSidecar(const Node& dir, const StoredName& name) {
  if (!name.is_long()) return;
  Status st = tree_->Delete(Join(dir.folder, name.stem + kSidecarSuffix));
  if (!st.ok() && st.code() != Code::kNotFound) {
    Log(LogLevel::kWarning, "could not remove long-name sidecar %s: %s", name.stem.c_str(),
        st.ToString().c_str());
  }
}

Result<Entry> Vault::PublishNew(Node& parent, std::shared_ptr<Node> node, const std::string& stem) {
  if (node->kind == crypto::NodeKind::kDirectory) {
    // Directories have no hard links: one known under another name is a copied directory
    // object, which would show one directory in two places (and loops). Refuse it.
    if (auto known = table_.Get(node->ino)) {
      std::shared_lock lock(known->mu);
      if (!(known->parent == parent.dir_id() && known->stem == stem) && !known->removed) {
        Log(LogLevel::kError,
            "store object %s: directory node %llu already appears under another name; "
            "returning EIO",
            node->path.c_str(), static_cast<unsigned long long>(node->ino));
        return Status::Corrupt("a directory object appears under two names");
      }
    }
  }
  auto published = table_.Publish(std::move(node), parent.dir_id(), stem);
  return EntryFor(published);
}

Status Vault::Discard(const Located& where) {
  const std::shared_ptr<Node>& node = where.known;
  if (node && node->kind != crypto::NodeKind::kDirectory && node->nlookup > 0) {
    std::unique_lock lock(node->mu);
    if (node->path == where.path) {
      // The kernel may still hold the file open (or reach the node through another hard link):
      // keep the object, out of sight, until FORGET, so that the node's path stays valid.
      PHRFS_ASSIGN_OR_RETURN(std::string hidden, NewUnlinkedPath(node->id));
      PHRFS_RETURN_IF_ERROR(tree_->Move(where.path, hidden, remote::MoveMode::kNoReplace));
      node->path = hidden;
      node->unlinked = true;
      node->hidden.push_back(hidden);
      if (node->links > 0) node->links--;
      return Status::Ok();
    }
  }
  PHRFS_RETURN_IF_ERROR(tree_->Delete(where.path));
  if (node) {
    std::unique_lock lock(node->mu);
    if (node->links > 0) node->links--;
  }
  return Status::Ok();
}

void Vault::Forget(uint64_t ino, uint64_t nlookup) {
  if (ino == kRootNode || IsSynthetic(ino)) return;
  std::shared_ptr<Node> gone;
  {
    std::shared_lock tree(tree_mu_);
    gone = table_.Unref(ino, nlookup);
  }
  // After the node left the table: a path cached meanwhile is already of an old generation.
  if (gone && gone->kind == crypto::NodeKind::kDirectory) dir_paths_.NewGeneration();
  if (gone && gone->links > 0) {
    std::unique_lock lock(gone->mu);
    FlushTimes(*gone);
  }
  if (gone && !gone->hidden.empty() && !options_.read_only) {
    std::unique_lock tree(tree_mu_);
    for (const std::string& hidden : gone->hidden) {
      Status st = tree_->Delete(hidden);
      if (!st.ok() && st.code() != Code::kNotFound) {
        Log(LogLevel::kWarning, "could not remove unlinked object %s: %s", hidden.c_str(),
            st.ToString().c_str());
      }
    }
  }
}

Result<struct statvfs> Vault::StatFs() {
  PHRFS_ASSIGN_OR_RETURN(remote::TreeSpace space, tree_->Space());
  struct statvfs st {};
  st.f_bsize = space.block_size;
  st.f_frsize = space.block_size;
  st.f_blocks = space.blocks;
  st.f_bfree = space.blocks_free;
  st.f_bavail = space.blocks_available;
  st.f_files = space.files;
  st.f_ffree = space.files_free;
  st.f_favail = space.files_free;
  st.f_namemax = crypto::kMaxPlainNameLength;
  return st;
}

}  // namespace phrfs::fs
