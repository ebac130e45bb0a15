#include "fs/vault.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "crypto/content_cipher.h"
#include "crypto/random.h"
#include "fs/log.h"
#include "fs/vault_impl.h"

namespace phrfs::fs {
namespace {

constexpr char kDirSuffix[] = ".d";
constexpr char kLinkSuffix[] = ".l";
constexpr char kSidecarSuffix[] = ".n";
constexpr char kTempPrefix[] = ".tmp.";
constexpr char kFoldersRoot[] = "d";
constexpr size_t kMaxEntryObject = 64 * 1024;  // .d and .l objects are tiny; refuse huge ones

std::string Suffix(Kind kind) {
  switch (kind) {
    case Kind::kFile: return "";
    case Kind::kDirectory: return kDirSuffix;
    case Kind::kSymlink: return kLinkSuffix;
  }
  return "";
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Splits a listed store name into stem and kind. False for names that are not entries
// (sidecars, temporaries).
bool ParseStored(std::string_view stored, std::string* stem, Kind* kind) {
  if (StartsWith(stored, kTempPrefix)) return false;
  const size_t from = StartsWith(stored, crypto::kLongNamePrefix) ? 2 : 0;
  const size_t dot = stored.find('.', from);
  const std::string_view suffix = dot == std::string_view::npos ? "" : stored.substr(dot);
  *stem = std::string(stored.substr(0, dot));
  if (suffix.empty()) *kind = Kind::kFile;
  else if (suffix == kDirSuffix) *kind = Kind::kDirectory;
  else if (suffix == kLinkSuffix) *kind = Kind::kSymlink;
  else return false;
  return !stem->empty();
}

}  // namespace

// ---------------------------------------------------------------- Vault (public face)

Vault::Vault(std::unique_ptr<VaultImpl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() = default;

Result<std::unique_ptr<Vault>> Vault::Create(remote::Fd store_root, crypto::StoreKeys keys,
                                             const VaultOptions& options) {
  auto impl = std::make_unique<VaultImpl>(std::move(store_root), std::move(keys), options);
  PHRFS_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Vault>(new Vault(std::move(impl)));
}

// ---------------------------------------------------------------- setup and node table

VaultImpl::VaultImpl(remote::Fd store_root, crypto::StoreKeys keys, const VaultOptions& options)
    : root_(std::move(store_root)), keys_(std::move(keys)), names_(keys_.names.Clone()),
      options_(options), daemon_is_root_(geteuid() == 0) {}

Status VaultImpl::Init() {
  // One mount per store: the lock lives as long as this descriptor, i.e. the daemon.
  if (flock(root_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Error(Code::kBusy, "the store is already mounted by another phrfs process");
    return Status::FromErrno(errno, "lock store");
  }
  PHRFS_ASSIGN_OR_RETURN(remote::Fd folder, OpenDirFolder(crypto::kRootDirId));
  PHRFS_ASSIGN_OR_RETURN(struct stat st, remote::StatFd(folder.get()));
  auto root = std::make_shared<Inode>(Kind::kDirectory, kRootNode, std::move(folder), st.st_dev, st.st_ino);
  root->dir_id = crypto::kRootDirId;
  root->nlookup = 1;
  std::lock_guard lock(table_mu_);
  by_src_[{st.st_dev, st.st_ino}] = kRootNode;
  nodes_[kRootNode] = std::move(root);
  return Status::Ok();
}

std::shared_ptr<Inode> VaultImpl::Get(uint64_t node) {
  std::lock_guard lock(table_mu_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Inode>> VaultImpl::GetDir(uint64_t node) {
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node " + std::to_string(node) + " unknown");
  if (inode->kind != Kind::kDirectory) return Status::Error(Code::kNotADirectory, "not a directory");
  return inode;
}

std::shared_ptr<Inode> VaultImpl::Publish(Kind kind, remote::Fd path_fd, remote::Fd entry_fd,
                                          const crypto::DirId& dir_id, const struct stat& src) {
  std::lock_guard lock(table_mu_);
  auto it = by_src_.find({src.st_dev, src.st_ino});
  if (it != by_src_.end()) {
    auto& inode = nodes_.at(it->second);
    inode->nlookup++;
    return inode;
  }
  const uint64_t id = next_node_++;
  auto inode = std::make_shared<Inode>(kind, id, std::move(path_fd), src.st_dev, src.st_ino);
  inode->entry_fd = std::move(entry_fd);
  inode->dir_id = dir_id;
  inode->nlookup = 1;
  by_src_[{src.st_dev, src.st_ino}] = id;
  nodes_[id] = inode;
  return inode;
}

void VaultImpl::Forget(uint64_t node, uint64_t nlookup) {
  if (node == kRootNode) return;
  std::shared_ptr<Inode> doomed;  // released outside the lock: closing descriptors is I/O
  {
    std::lock_guard lock(table_mu_);
    auto it = nodes_.find(node);
    if (it == nodes_.end()) return;
    auto& inode = it->second;
    if (inode->nlookup.fetch_sub(nlookup) > nlookup) return;
    auto src = by_src_.find({inode->src_dev, inode->src_ino});
    if (src != by_src_.end() && src->second == node) by_src_.erase(src);
    doomed = std::move(inode);
    nodes_.erase(it);
  }
}

// ---------------------------------------------------------------- names and layout

Result<VaultImpl::StoredName> VaultImpl::EncodeName(const Inode& dir, std::string_view name) {
  std::string key(reinterpret_cast<const char*>(dir.dir_id.bytes.data()), dir.dir_id.bytes.size());
  key.append(name);
  {
    std::lock_guard lock(name_mu_);
    auto it = name_cache_.find(key);
    if (it != name_cache_.end()) return it->second;
  }
  PHRFS_ASSIGN_OR_RETURN(std::string encoded, names_.Encrypt(dir.dir_id, name));
  std::string stem = crypto::IsLongName(encoded) ? crypto::LongNameStem(encoded) : encoded;
  StoredName stored{std::move(encoded), std::move(stem)};
  std::lock_guard lock(name_mu_);
  if (name_cache_.size() >= kNameCacheSize) name_cache_.clear();
  name_cache_.emplace(std::move(key), stored);
  return stored;
}

Result<std::optional<VaultImpl::Located>> VaultImpl::Locate(const Inode& dir, const StoredName& name) {
  for (Kind kind : {Kind::kFile, Kind::kDirectory, Kind::kSymlink}) {
    std::string stored = name.stem + Suffix(kind);
    auto st = remote::StatAt(dir.path_fd.get(), stored);
    if (st.ok()) return std::optional<Located>(Located{kind, std::move(stored), *st});
    if (st.status().code() != Code::kNotFound) return st.status();
  }
  return std::optional<Located>();
}

Status VaultImpl::WriteSidecar(const Inode& dir, const StoredName& name) {
  if (name.stem == name.encoded) return Status::Ok();
  const auto* p = reinterpret_cast<const uint8_t*>(name.encoded.data());
  return remote::WriteWholeAtomic(dir.path_fd.get(), name.stem + kSidecarSuffix,
                                  {p, name.encoded.size()}, 0600, /*must_not_exist=*/false);
}

void VaultImpl::RemoveSidecar(const Inode& dir, const StoredName& name) {
  if (name.stem == name.encoded) return;
  Status st = remote::UnlinkAt(dir.path_fd.get(), name.stem + kSidecarSuffix);
  if (!st.ok() && st.code() != Code::kNotFound) {
    Log(LogLevel::kWarning, "could not remove long-name sidecar %s: %s", name.stem.c_str(),
        st.ToString().c_str());
  }
}

Result<std::string> VaultImpl::DirFolderPath(const crypto::DirId& id) {
  PHRFS_ASSIGN_OR_RETURN(std::string rel, crypto::DirFolderPath(keys_.dir_hash, id));
  return std::string(kFoldersRoot) + "/" + rel;
}

Result<remote::Fd> VaultImpl::OpenDirFolder(const crypto::DirId& id) {
  PHRFS_ASSIGN_OR_RETURN(std::string path, DirFolderPath(id));
  auto fd = remote::OpenAt(root_.get(), path, O_PATH | O_DIRECTORY);
  if (!fd.ok() && fd.status().code() == Code::kNotFound) {
    return Status::Corrupt("directory folder " + path + " is missing from the store");
  }
  return fd;
}

Result<crypto::DirId> VaultImpl::ReadDirEntryObject(int entry_path_fd) {
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::ReopenFd(entry_path_fd, O_RDONLY));
  PHRFS_ASSIGN_OR_RETURN(struct stat st, remote::StatFd(fd.get()));
  if (st.st_size > static_cast<off_t>(kMaxEntryObject)) {
    return Status::Corrupt("directory entry inode " + std::to_string(st.st_ino) + " is too large");
  }
  std::vector<uint8_t> bytes(st.st_size);
  PHRFS_ASSIGN_OR_RETURN(size_t got, remote::ReadAt(fd.get(), bytes, 0));
  bytes.resize(got);
  auto plain = OpenObject(keys_.content, bytes);
  if (!plain.ok()) {
    return Status::Corrupt("directory entry inode " + std::to_string(st.st_ino) + ": " + plain.status().message());
  }
  if (plain->size() != crypto::kIdSize) {
    return Status::Corrupt("directory entry inode " + std::to_string(st.st_ino) + ": bad id length");
  }
  crypto::DirId id;
  std::memcpy(id.bytes.data(), plain->data(), crypto::kIdSize);
  return id;
}

Result<crypto::DirId> VaultImpl::ReadDirEntry(int dir_fd, const std::string& stored) {
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::OpenAt(dir_fd, stored, O_PATH | O_NOFOLLOW));
  return ReadDirEntryObject(fd.get());
}

Result<bool> VaultImpl::DirFolderEmpty(const crypto::DirId& id) {
  PHRFS_ASSIGN_OR_RETURN(remote::Fd folder, OpenDirFolder(id));
  PHRFS_ASSIGN_OR_RETURN(auto entries, remote::ListDir(folder.get()));
  for (const auto& e : entries) {
    if (!StartsWith(e.name, kTempPrefix)) return false;
  }
  return true;
}

Status VaultImpl::RemoveDirFolder(const crypto::DirId& id) {
  PHRFS_ASSIGN_OR_RETURN(std::string path, DirFolderPath(id));
  {
    PHRFS_ASSIGN_OR_RETURN(remote::Fd folder, remote::OpenAt(root_.get(), path, O_PATH | O_DIRECTORY));
    PHRFS_ASSIGN_OR_RETURN(auto entries, remote::ListDir(folder.get()));
    for (const auto& e : entries) (void)remote::UnlinkAt(folder.get(), e.name);  // stale temporaries
  }
  PHRFS_RETURN_IF_ERROR(remote::RmdirAt(root_.get(), path));
  // The two-character fan-out folder goes when it empties; another directory may still use it.
  (void)remote::RmdirAt(root_.get(), path.substr(0, path.rfind('/')));
  return Status::Ok();
}

Status VaultImpl::CheckWritable() const {
  return options_.read_only ? Status::Error(Code::kReadOnly, "mounted read-only") : Status::Ok();
}

void VaultImpl::GiveToCaller(int dir_fd, const std::string& stored, const Caller& caller) {
  if (!daemon_is_root_ || (caller.uid == 0 && caller.gid == 0)) return;
  if (fchownat(dir_fd, stored.c_str(), caller.uid, caller.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    Log(LogLevel::kDebug, "chown of new entry failed: %s", std::strerror(errno));
  }
}

// ---------------------------------------------------------------- attributes and lookup

Result<struct stat> VaultImpl::Attr(Inode& inode, const struct stat* backing) {
  struct stat st;
  if (backing != nullptr && inode.kind != Kind::kDirectory) {
    st = *backing;
  } else {
    PHRFS_ASSIGN_OR_RETURN(st, remote::StatFd(inode.path_fd.get()));
  }
  st.st_ino = inode.src_ino;
  switch (inode.kind) {
    case Kind::kDirectory:
      st.st_nlink = 2;
      break;
    case Kind::kSymlink: {
      auto size = st.st_size == 0 ? Result<uint64_t>(uint64_t{0}) : crypto::PlainSize(st.st_size);
      st.st_size = size.ok() ? *size : 0;
      st.st_mode = S_IFLNK | 0777;
      break;
    }
    case Kind::kFile: {
      std::shared_lock lock(inode.content_mu, std::try_to_lock);
      if (lock.owns_lock() && inode.content) {
        st.st_size = inode.content->size();
      } else {
        auto size = crypto::PlainSize(st.st_size);
        if (!size.ok()) {
          Log(LogLevel::kWarning, "inode %llu: ciphertext size %lld is not valid: %s",
              static_cast<unsigned long long>(inode.src_ino), static_cast<long long>(st.st_size),
              size.status().message().c_str());
        }
        // A damaged object still shows a non-zero size, so that a read reaches the daemon and
        // fails with EIO instead of the kernel answering "end of file" from the size alone.
        st.st_size = size.ok() ? static_cast<off_t>(*size) : std::max<off_t>(st.st_size, 1);
      }
      break;
    }
  }
  st.st_blocks = (st.st_size + 511) / 512;
  return st;
}

Result<struct stat> VaultImpl::GetAttr(uint64_t node) {
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node unknown");
  return Attr(*inode);
}

std::shared_ptr<Inode> VaultImpl::Republish(const struct stat& src) {
  std::lock_guard lock(table_mu_);
  auto it = by_src_.find({src.st_dev, src.st_ino});
  if (it == by_src_.end()) return nullptr;
  auto& inode = nodes_.at(it->second);
  inode->nlookup++;
  return inode;
}

Result<Entry> VaultImpl::LookupStored(Inode& parent, const Located& where, std::shared_ptr<Inode>* out) {
  // A node the kernel already knows is found by the backing object's identity, without opening
  // anything (readdirplus and repeated lookups are the common case).
  struct stat identity;
  if (where.found) {
    identity = *where.found;
  } else {
    PHRFS_ASSIGN_OR_RETURN(identity, remote::StatAt(parent.path_fd.get(), where.stored));
  }
  if (!S_ISREG(identity.st_mode)) return Status::Corrupt("entry " + where.stored + " is not a regular object");
  std::shared_ptr<Inode> inode = Republish(identity);
  if (!inode) {
    remote::Fd path_fd, entry_fd;
    crypto::DirId dir_id{};
    if (where.kind == Kind::kDirectory) {
      PHRFS_ASSIGN_OR_RETURN(entry_fd, remote::OpenAt(parent.path_fd.get(), where.stored, O_PATH | O_NOFOLLOW));
      PHRFS_ASSIGN_OR_RETURN(dir_id, ReadDirEntryObject(entry_fd.get()));
      PHRFS_ASSIGN_OR_RETURN(path_fd, OpenDirFolder(dir_id));
      PHRFS_ASSIGN_OR_RETURN(identity, remote::StatFd(entry_fd.get()));
    } else {
      PHRFS_ASSIGN_OR_RETURN(path_fd, remote::OpenAt(parent.path_fd.get(), where.stored, O_PATH | O_NOFOLLOW));
      // Re-read through the descriptor: the name may have been replaced since the first stat.
      PHRFS_ASSIGN_OR_RETURN(identity, remote::StatFd(path_fd.get()));
    }
    inode = Publish(where.kind, std::move(path_fd), std::move(entry_fd), dir_id, identity);
  }
  auto attr = Attr(*inode, &identity);
  if (!attr.ok()) {
    Forget(inode->node_id, 1);
    return attr.status();
  }
  if (out) *out = inode;
  return Entry{inode->node_id, *attr};
}

Result<Entry> VaultImpl::Lookup(uint64_t parent_node, std::string_view name) {
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
  if (!where) return Status::NotFound("no such entry");
  return LookupStored(*parent, *where);
}

Result<Entry> VaultImpl::LookupListed(uint64_t parent_node, const ListedEntry& entry) {
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  return LookupStored(*parent, Located{entry.kind, entry.stored});
}

Result<std::string> VaultImpl::ReadLink(uint64_t node) {
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node unknown");
  if (inode->kind != Kind::kSymlink) return Status::InvalidArgument("not a symlink");
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::ReopenFd(inode->path_fd.get(), O_RDONLY));
  std::vector<uint8_t> bytes(kMaxEntryObject);
  PHRFS_ASSIGN_OR_RETURN(size_t got, remote::ReadAt(fd.get(), bytes, 0));
  bytes.resize(got);
  auto plain = OpenObject(keys_.content, bytes);
  if (!plain.ok()) {
    return Status::Corrupt("symlink inode " + std::to_string(inode->src_ino) + ": " + plain.status().message());
  }
  return std::string(plain->begin(), plain->end());
}

Result<struct stat> VaultImpl::SetAttr(uint64_t node, const SetAttrRequest& req) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node unknown");
  const int fd = inode->path_fd.get();
  if (req.mode && inode->kind != Kind::kSymlink) PHRFS_RETURN_IF_ERROR(remote::ChmodFd(fd, *req.mode & 07777));
  if (req.uid || req.gid) {
    PHRFS_RETURN_IF_ERROR(remote::ChownFd(fd, req.uid.value_or(static_cast<uid_t>(-1)),
                                          req.gid.value_or(static_cast<gid_t>(-1))));
  }
  if (req.size) {
    if (inode->kind != Kind::kFile) return Status::Error(Code::kIsADirectory, "truncate of a non-file");
    std::unique_lock lock(inode->content_mu);
    PHRFS_RETURN_IF_ERROR(LoadContent(*inode));
    PHRFS_RETURN_IF_ERROR(inode->content->Truncate(inode->io_fd.get(), *req.size));
  }
  if (req.atime || req.mtime) {
    struct timespec times[2];
    times[0] = req.atime.value_or(timespec{0, UTIME_OMIT});
    times[1] = req.mtime.value_or(timespec{0, UTIME_OMIT});
    PHRFS_RETURN_IF_ERROR(remote::UtimensFd(fd, times));
  }
  return Attr(*inode);
}

// ---------------------------------------------------------------- creating entries

Result<Entry> VaultImpl::Create(uint64_t parent_node, std::string_view name, mode_t mode, int flags,
                                const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) {
    if ((flags & O_EXCL) || existing->kind != Kind::kFile) return Status::AlreadyExists("entry exists");
    return LookupStored(*parent, *existing);
  }
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*parent, stored));
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::OpenAt(parent->path_fd.get(), stored.stem,
                                                       O_RDWR | O_CREAT | O_EXCL, mode & 07777));
  auto content = ContentFile::Create(fd.get(), keys_.content);
  if (!content.ok()) {
    (void)remote::UnlinkAt(parent->path_fd.get(), stored.stem);
    RemoveSidecar(*parent, stored);
    return content.status();
  }
  GiveToCaller(parent->path_fd.get(), stored.stem, caller);
  std::shared_ptr<Inode> inode;
  PHRFS_ASSIGN_OR_RETURN(Entry entry, LookupStored(*parent, Located{Kind::kFile, stored.stem}, &inode));
  // The new object's descriptor and state serve the node from now on: no reopen, no reload.
  std::unique_lock lock(inode->content_mu);
  if (!inode->content) {
    inode->io_fd = std::move(fd);
    inode->content.emplace(std::move(content).value());
  }
  return entry;
}

Result<Entry> VaultImpl::MakeDir(uint64_t parent_node, std::string_view name, mode_t mode, const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");

  PHRFS_ASSIGN_OR_RETURN(crypto::DirId child, crypto::NewDirId());
  PHRFS_ASSIGN_OR_RETURN(std::string folder, DirFolderPath(child));
  Status fan_out = remote::MkdirAt(root_.get(), folder.substr(0, folder.rfind('/')), 0700);
  if (!fan_out.ok() && fan_out.code() != Code::kAlreadyExists) return fan_out;
  PHRFS_RETURN_IF_ERROR(remote::MkdirAt(root_.get(), folder, mode & 07777));
  // Folder first, entry second: a crash in between leaves an unreferenced empty folder, never an
  // entry that points nowhere.
  PHRFS_ASSIGN_OR_RETURN(auto object, SealObject(keys_.content, child.bytes));
  const std::string entry_name = stored.stem + kDirSuffix;
  Status st = WriteSidecar(*parent, stored);
  if (st.ok()) st = remote::WriteWholeAtomic(parent->path_fd.get(), entry_name, object, 0600, true);
  if (!st.ok()) {
    (void)remote::RmdirAt(root_.get(), folder);
    return st;
  }
  GiveToCaller(root_.get(), folder, caller);
  return LookupStored(*parent, Located{Kind::kDirectory, entry_name});
}

Result<Entry> VaultImpl::MakeSymlink(uint64_t parent_node, std::string_view name, std::string_view target,
                                     const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  if (target.empty() || target.size() >= 4096) return Status::Error(Code::kNameTooLong, "bad symlink target length");
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");
  const auto* p = reinterpret_cast<const uint8_t*>(target.data());
  PHRFS_ASSIGN_OR_RETURN(auto object, SealObject(keys_.content, {p, target.size()}));
  const std::string entry_name = stored.stem + kLinkSuffix;
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*parent, stored));
  PHRFS_RETURN_IF_ERROR(remote::WriteWholeAtomic(parent->path_fd.get(), entry_name, object, 0600, true));
  GiveToCaller(parent->path_fd.get(), entry_name, caller);
  return LookupStored(*parent, Located{Kind::kSymlink, entry_name});
}

Result<Entry> VaultImpl::Link(uint64_t node, uint64_t new_parent_node, std::string_view new_name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node unknown");
  if (inode->kind == Kind::kDirectory) return Status::Error(Code::kNotPermitted, "hard link to a directory");
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(new_parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, new_name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");
  const std::string entry_name = stored.stem + Suffix(inode->kind);
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*parent, stored));
  const std::string proc = "/proc/self/fd/" + std::to_string(inode->path_fd.get());
  if (linkat(AT_FDCWD, proc.c_str(), parent->path_fd.get(), entry_name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    Status st = Status::FromErrno(errno, "link");
    RemoveSidecar(*parent, stored);
    return st;
  }
  return LookupStored(*parent, Located{inode->kind, entry_name});
}

// ---------------------------------------------------------------- removing and renaming

Status VaultImpl::Unlink(uint64_t parent_node, std::string_view name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
  if (!where) return Status::NotFound("no such entry");
  if (where->kind == Kind::kDirectory) return Status::Error(Code::kIsADirectory, "unlink of a directory");
  PHRFS_RETURN_IF_ERROR(remote::UnlinkAt(parent->path_fd.get(), where->stored));
  RemoveSidecar(*parent, stored);
  return Status::Ok();
}

Status VaultImpl::RemoveDir(uint64_t parent_node, std::string_view name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, EncodeName(*parent, name));
  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
  if (!where) return Status::NotFound("no such entry");
  if (where->kind != Kind::kDirectory) return Status::Error(Code::kNotADirectory, "rmdir of a non-directory");
  PHRFS_ASSIGN_OR_RETURN(crypto::DirId child, ReadDirEntry(parent->path_fd.get(), where->stored));
  PHRFS_ASSIGN_OR_RETURN(bool empty, DirFolderEmpty(child));
  if (!empty) return Status::Error(Code::kNotEmpty, "directory not empty");
  // Entry first, folder second: a crash in between leaves an orphan empty folder only.
  PHRFS_RETURN_IF_ERROR(remote::UnlinkAt(parent->path_fd.get(), where->stored));
  RemoveSidecar(*parent, stored);
  Status st = RemoveDirFolder(child);
  if (!st.ok()) Log(LogLevel::kWarning, "removed directory left its store folder: %s", st.ToString().c_str());
  return Status::Ok();
}

Status VaultImpl::Rename(uint64_t parent_node, std::string_view name, uint64_t new_parent_node,
                         std::string_view new_name, unsigned flags) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return Status::InvalidArgument("rename flags");
  PHRFS_ASSIGN_OR_RETURN(auto from_dir, GetDir(parent_node));
  PHRFS_ASSIGN_OR_RETURN(auto to_dir, GetDir(new_parent_node));
  PHRFS_ASSIGN_OR_RETURN(StoredName from, EncodeName(*from_dir, name));
  PHRFS_ASSIGN_OR_RETURN(StoredName to, EncodeName(*to_dir, new_name));
  const int from_fd = from_dir->path_fd.get();
  const int to_fd = to_dir->path_fd.get();

  std::lock_guard tree(tree_mu_);
  PHRFS_ASSIGN_OR_RETURN(auto src, Locate(*from_dir, from));
  if (!src) return Status::NotFound("no such entry");
  PHRFS_ASSIGN_OR_RETURN(auto dst, Locate(*to_dir, to));
  if (from_dir == to_dir && from.stem == to.stem) return Status::Ok();  // same name: nothing to do
  if (dst && dst->kind == src->kind && src->kind != Kind::kDirectory) {
    // rename(2) between two links of one file does nothing and reports success.
    PHRFS_ASSIGN_OR_RETURN(struct stat a, remote::StatAt(from_fd, src->stored));
    PHRFS_ASSIGN_OR_RETURN(struct stat b, remote::StatAt(to_fd, dst->stored));
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev && !(flags & RENAME_NOREPLACE)) return Status::Ok();
  }

  const std::string src_new = to.stem + Suffix(src->kind);
  if (flags & RENAME_EXCHANGE) {
    if (!dst) return Status::NotFound("exchange target missing");
    PHRFS_RETURN_IF_ERROR(WriteSidecar(*from_dir, from));
    PHRFS_RETURN_IF_ERROR(WriteSidecar(*to_dir, to));
    if (src->kind == dst->kind) {
      return remote::RenameAt(from_fd, src->stored, to_fd, dst->stored, RENAME_EXCHANGE);
    }
    // Different kinds live under different store names: two moves, each refusing to replace.
    const std::string dst_new = from.stem + Suffix(dst->kind);
    PHRFS_RETURN_IF_ERROR(remote::RenameAt(from_fd, src->stored, to_fd, src_new, RENAME_NOREPLACE));
    Status st = remote::RenameAt(to_fd, dst->stored, from_fd, dst_new, RENAME_NOREPLACE);
    if (!st.ok()) (void)remote::RenameAt(to_fd, src_new, from_fd, src->stored, RENAME_NOREPLACE);
    return st;
  }

  std::optional<crypto::DirId> replaced_dir;
  if (dst) {
    if (flags & RENAME_NOREPLACE) return Status::AlreadyExists("target exists");
    if (src->kind == Kind::kDirectory && dst->kind != Kind::kDirectory) {
      return Status::Error(Code::kNotADirectory, "rename of a directory over a non-directory");
    }
    if (src->kind != Kind::kDirectory && dst->kind == Kind::kDirectory) {
      return Status::Error(Code::kIsADirectory, "rename of a non-directory over a directory");
    }
    if (dst->kind == Kind::kDirectory) {
      PHRFS_ASSIGN_OR_RETURN(crypto::DirId id, ReadDirEntry(to_fd, dst->stored));
      PHRFS_ASSIGN_OR_RETURN(bool empty, DirFolderEmpty(id));
      if (!empty) return Status::Error(Code::kNotEmpty, "target directory not empty");
      replaced_dir = id;
    }
  }
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*to_dir, to));
  PHRFS_RETURN_IF_ERROR(remote::RenameAt(from_fd, src->stored, to_fd, src_new, 0));
  if (dst && dst->stored != src_new) {
    // A non-directory of another kind held the target name: it is replaced, so it goes.
    PHRFS_RETURN_IF_ERROR(remote::UnlinkAt(to_fd, dst->stored));
  }
  RemoveSidecar(*from_dir, from);
  if (replaced_dir) {
    Status st = RemoveDirFolder(*replaced_dir);
    if (!st.ok()) Log(LogLevel::kWarning, "replaced directory left its store folder: %s", st.ToString().c_str());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- file contents

Result<std::shared_ptr<Inode>> VaultImpl::FileNode(uint64_t node) {
  auto inode = Get(node);
  if (!inode) return Status::NotFound("node unknown");
  if (inode->kind == Kind::kDirectory) return Status::Error(Code::kIsADirectory, "not a file");
  if (inode->kind != Kind::kFile) return Status::InvalidArgument("not a regular file");
  return inode;
}

Status VaultImpl::LoadContent(Inode& inode) {
  if (inode.content) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(remote::Fd io, remote::ReopenFd(inode.path_fd.get(), options_.read_only ? O_RDONLY : O_RDWR));
  auto content = ContentFile::Load(io.get(), keys_.content);
  if (!content.ok()) {
    Status st = Status::Error(content.status().code(), "inode " + std::to_string(inode.src_ino) + ": " +
                                                           content.status().message());
    if (st.code() == Code::kCorrupt) Log(LogLevel::kError, "%s; returning EIO", st.message().c_str());
    return st;
  }
  inode.io_fd = std::move(io);
  inode.content.emplace(std::move(content).value());
  return Status::Ok();
}

Status VaultImpl::EnsureContent(Inode& inode) {
  {
    std::shared_lock lock(inode.content_mu);
    if (inode.content) return Status::Ok();
  }
  std::unique_lock lock(inode.content_mu);
  return LoadContent(inode);
}

Status VaultImpl::Open(uint64_t node, int flags) {
  PHRFS_ASSIGN_OR_RETURN(auto inode, FileNode(node));
  if ((flags & O_ACCMODE) != O_RDONLY) PHRFS_RETURN_IF_ERROR(CheckWritable());
  return EnsureContent(*inode);
}

Result<size_t> VaultImpl::Read(uint64_t node, uint64_t offset, std::span<uint8_t> out) {
  PHRFS_ASSIGN_OR_RETURN(auto inode, FileNode(node));
  PHRFS_RETURN_IF_ERROR(EnsureContent(*inode));
  std::shared_lock lock(inode->content_mu);
  auto n = inode->content->Read(inode->io_fd.get(), offset, out);
  if (!n.ok() && n.status().code() == Code::kCorrupt) {
    Log(LogLevel::kError, "inode %llu: %s; returning EIO",
        static_cast<unsigned long long>(inode->src_ino), n.status().message().c_str());
  }
  return n;
}

Result<size_t> VaultImpl::Write(uint64_t node, uint64_t offset, std::span<const uint8_t> data, bool append) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto inode, FileNode(node));
  std::unique_lock lock(inode->content_mu);
  PHRFS_RETURN_IF_ERROR(LoadContent(*inode));
  if (append) offset = inode->content->size();
  Status st = inode->content->Write(inode->io_fd.get(), offset, data);
  if (!st.ok()) {
    if (st.code() == Code::kCorrupt) {
      Log(LogLevel::kError, "inode %llu: %s; write refused with EIO",
          static_cast<unsigned long long>(inode->src_ino), st.message().c_str());
    }
    return st;
  }
  return data.size();
}

Status VaultImpl::Fsync(uint64_t node, bool data_only) {
  PHRFS_ASSIGN_OR_RETURN(auto inode, FileNode(node));
  std::shared_lock lock(inode->content_mu);
  if (inode->content) return remote::Sync(inode->io_fd.get(), data_only);
  // Never written through this mount: sync what the store holds all the same.
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::ReopenFd(inode->path_fd.get(), O_RDONLY));
  return remote::Sync(fd.get(), data_only);
}

// ---------------------------------------------------------------- directories

Result<std::unique_ptr<DirHandle>> VaultImpl::OpenDir(uint64_t node) {
  auto handle = std::make_unique<DirHandle>();
  handle->node = node;
  PHRFS_RETURN_IF_ERROR(ListDir(*handle));
  return handle;
}

Status VaultImpl::ListDir(DirHandle& handle) {
  PHRFS_ASSIGN_OR_RETURN(auto dir, GetDir(handle.node));
  PHRFS_ASSIGN_OR_RETURN(auto listed, remote::ListDir(dir->path_fd.get()));
  handle.entries.clear();
  handle.entries.reserve(listed.size());
  for (auto& e : listed) {
    std::string stem;
    Kind kind;
    if (!ParseStored(e.name, &stem, &kind)) continue;
    std::string encoded = stem;
    if (StartsWith(stem, crypto::kLongNamePrefix)) {
      auto side = remote::ReadWhole(dir->path_fd.get(), stem + kSidecarSuffix, 4096);
      if (!side.ok()) {
        Log(LogLevel::kWarning, "directory inode %llu: long name %s has no readable sidecar; skipped",
            static_cast<unsigned long long>(dir->src_ino), stem.c_str());
        continue;
      }
      encoded.assign(side->begin(), side->end());
      if (crypto::LongNameStem(encoded) != stem) {
        Log(LogLevel::kWarning, "directory inode %llu: long-name sidecar %s does not match; skipped",
            static_cast<unsigned long long>(dir->src_ino), stem.c_str());
        continue;
      }
    }
    auto name = names_.Decrypt(dir->dir_id, encoded);
    if (!name.ok()) {
      Log(LogLevel::kWarning, "directory inode %llu: store entry %s has a name that does not decrypt; skipped",
          static_cast<unsigned long long>(dir->src_ino), e.name.c_str());
      continue;
    }
    handle.entries.push_back(ListedEntry{std::move(name).value(), e.name, kind, e.ino});
  }
  return Status::Ok();
}

Status VaultImpl::FsyncDir(uint64_t node) {
  PHRFS_ASSIGN_OR_RETURN(auto dir, GetDir(node));
  PHRFS_ASSIGN_OR_RETURN(remote::Fd fd, remote::ReopenFd(dir->path_fd.get(), O_RDONLY | O_DIRECTORY));
  return remote::Sync(fd.get(), false);
}

Result<struct statvfs> VaultImpl::StatFs() {
  PHRFS_ASSIGN_OR_RETURN(struct statvfs st, remote::StatFs(root_.get()));
  st.f_namemax = crypto::kMaxPlainNameLength;
  return st;
}

}  // namespace phrfs::fs
