#include "remote/local/direct_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <utility>

#include "remote/object_store.h"
#include "remote/temp_names.h"

namespace phrfs::remote {
namespace {

constexpr char kNotLayout[] = ": not what the layout allows";

// Objects are never opened in a way that could block (a FIFO) or adopt a terminal.
constexpr int kObjectOpenFlags = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

Status Relabel(const Status& st, const std::string& what) {
  return Status::Error(st.code(), what + ": " + st.message());
}

[[maybe_unused]] Code CodeOf(const Status& st) { return st.code(); }
template <class T>
Code CodeOf(const Result<T>& r) {
  return r.status().code();
}

// Calls `f` again, once, after closing every cached descriptor, if it ran out of descriptors.
template <class F>
auto RetryIfExhausted(DirectTree& tree, F&& f) -> decltype(f()) {
  auto result = f();
  if (CodeOf(result) != Code::kNoResources) return result;
  tree.DropCachedDescriptors();
  return f();
}

Result<std::vector<std::string>> SplitTreeKey(const std::string& key, bool allow_root) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, ObjectStore::SplitKey(key, allow_root));
  PHRFS_RETURN_IF_ERROR(RejectTempNames(parts, key));
  return parts;
}

// The error for an entry that is not a regular file: IsADirectory for a folder; anything else
// (symlink, FIFO, socket, device) was planted, since the tree never makes one.
Status NotAnObject(const struct stat& st, const std::string& key) {
  if (S_ISDIR(st.st_mode)) return Status::FromErrno(EISDIR, key);
  return Status::Corrupt(key + kNotLayout);
}

// After an open failed: a leaf that exists but is not a regular file explains the failure
// better than errno does (ELOOP for a symlink, ENXIO for a socket, EACCES on a nodev mount...).
Status ExplainOpenFailure(const Status& failure, int dir, const std::string& leaf,
                          const std::string& key) {
  if (failure.code() == Code::kNotFound || failure.code() == Code::kNoResources) {
    return Relabel(failure, key);
  }
  auto st = StatAt(dir, leaf);
  if (st.ok() && !S_ISREG(st->st_mode)) return NotAnObject(*st, key);
  return Relabel(failure, key);
}

class DirectLease final : public TreeLease {
 public:
  explicit DirectLease(Fd fd) : fd_(std::move(fd)) {}  // closing it releases the flock

 private:
  Fd fd_;
};

}  // namespace

DirectTree::DirectTree(Fd root, const DirectTreeOptions& options)
    : root_(std::make_shared<const Fd>(std::move(root))),
      folders_(options.folder_descriptors),
      objects_(options.object_descriptors) {}

Result<std::unique_ptr<DirectTree>> DirectTree::Open(const std::string& root_dir,
                                                     const DirectTreeOptions& options) {
  PHRFS_ASSIGN_OR_RETURN(Fd root, OpenAt(AT_FDCWD, root_dir, O_PATH | O_DIRECTORY));
  return std::unique_ptr<DirectTree>(new DirectTree(std::move(root), options));
}

void DirectTree::DropCachedDescriptors() {
  folders_.Clear();
  objects_.Clear();
}

size_t DirectTree::CachedDescriptors() const { return folders_.size() + objects_.size(); }

Result<Fd> DirectTree::OpenDescriptor(int dir, const std::string& name, int flags, mode_t mode) {
  return RetryIfExhausted(*this, [&] { return OpenAt(dir, name, flags, mode); });
}

Result<std::shared_ptr<const Fd>> DirectTree::OpenFolder(const std::string& key,
                                                         const std::vector<std::string>& parts) {
  if (parts.empty()) return root_;
  auto hit = folders_.Find(key);  // its generation predates every open below
  if (hit.value) return hit.value;

  // Start from the nearest cached ancestor, or the root.
  std::shared_ptr<const Fd> base = root_;
  size_t start = 0;
  std::vector<size_t> prefix_len(parts.size() + 1, 0);
  for (size_t i = 0; i < parts.size(); ++i) {
    prefix_len[i + 1] = prefix_len[i] + (i ? 1 : 0) + parts[i].size();
  }
  for (size_t n = parts.size() - 1; n > 0; --n) {
    auto ancestor = folders_.Find(key.substr(0, prefix_len[n]));
    if (ancestor.value) {
      base = std::move(ancestor.value);
      start = n;
      break;
    }
  }

  Fd step;
  int at = base->get();
  for (size_t i = start; i < parts.size(); ++i) {
    // O_NOFOLLOW | O_DIRECTORY: a symlink fails (ENOTDIR/ELOOP) instead of being followed.
    auto next = OpenDescriptor(at, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (!next.ok()) {
      const std::string walked = key.substr(0, prefix_len[i + 1]);
      Code code = next.status().code();
      if (code != Code::kNotFound && code != Code::kNoResources) {
        auto st = StatAt(at, parts[i]);
        if (st.ok() && !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
          return Status::Corrupt(walked + kNotLayout);
        }
      }
      return Relabel(next.status(), "folder " + walked);
    }
    step = std::move(next).value();
    at = step.get();
  }
  auto fd = std::make_shared<const Fd>(std::move(step));
  folders_.Insert(key, fd, hit.generation);
  return fd;
}

Result<DirectTree::Located> DirectTree::Locate(const std::string& key) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitTreeKey(key, false));
  std::string leaf = std::move(parts.back());
  parts.pop_back();
  const std::string folder = parts.empty() ? std::string() : key.substr(0, key.rfind('/'));
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const Fd> dir, OpenFolder(folder, parts));
  return Located{std::move(dir), std::move(leaf)};
}

Result<std::shared_ptr<const DirectTree::ObjectFd>> DirectTree::OpenObject(
    const std::string& key) {
  auto hit = objects_.Find(key);
  if (hit.value) return hit.value;
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(key));
  const int dir = loc.folder->get();

  auto object = std::make_shared<ObjectFd>();
  auto fd = OpenDescriptor(dir, loc.leaf, O_RDWR | kObjectOpenFlags);
  Code code = CodeOf(fd);
  if (code == Code::kPermissionDenied || code == Code::kReadOnly) {
    object->write_refusal = code;
    object->refusal_message = fd.status().message();
    fd = OpenDescriptor(dir, loc.leaf, O_RDONLY | kObjectOpenFlags);
  }
  if (!fd.ok()) return ExplainOpenFailure(fd.status(), dir, loc.leaf, key);
  PHRFS_ASSIGN_OR_RETURN(struct stat st, StatFd(fd->get()));
  if (!S_ISREG(st.st_mode)) return NotAnObject(st, key);
  object->fd = std::move(fd).value();

  std::shared_ptr<const ObjectFd> shared = std::move(object);
  objects_.Insert(key, shared, hit.generation);
  return shared;
}

Result<std::shared_ptr<const DirectTree::ObjectFd>> DirectTree::OpenWritableObject(
    const std::string& key) {
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const ObjectFd> object, OpenObject(key));
  if (object->write_refusal != Code::kOk) {
    return Status::Error(object->write_refusal, "write " + key + ": " + object->refusal_message);
  }
  return object;
}

Status DirectTree::RequireObject(const Located& loc, const std::string& key) {
  auto st = StatAt(loc.folder->get(), loc.leaf);
  if (!st.ok()) return Relabel(st.status(), key);
  if (!S_ISREG(st->st_mode)) return NotAnObject(*st, key);
  return Status::Ok();
}

Result<std::vector<TreeEntry>> DirectTree::List(const std::string& folder) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitTreeKey(folder, true));
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const Fd> dir, OpenFolder(folder, parts));
  PHRFS_ASSIGN_OR_RETURN(std::vector<DirEntry> listed,
                         RetryIfExhausted(*this, [&] { return ListDir(dir->get()); }));
  std::vector<TreeEntry> out;
  out.reserve(listed.size());
  for (DirEntry& e : listed) {
    if (IsTempName(e.name)) continue;  // a Put in flight, or a crash's leftover
    bool is_folder = e.type == DT_DIR;
    if (e.type == DT_UNKNOWN) {  // some file systems do not fill d_type
      auto st = StatAt(dir->get(), e.name);
      if (!st.ok()) {
        if (st.status().code() == Code::kNotFound) continue;  // deleted since readdir
        return st.status();
      }
      is_folder = S_ISDIR(st->st_mode);
    }
    out.push_back(TreeEntry{std::move(e.name), is_folder});
  }
  return out;
}

Result<TreeStat> DirectTree::Stat(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  auto st = StatAt(loc.folder->get(), loc.leaf);
  if (!st.ok()) return Relabel(st.status(), "stat " + path);
  if (S_ISDIR(st->st_mode)) return TreeStat{true, 0, 1};
  if (!S_ISREG(st->st_mode)) return Status::Corrupt(path + kNotLayout);
  return TreeStat{false, static_cast<uint64_t>(st->st_size), static_cast<uint32_t>(st->st_nlink)};
}

Result<size_t> DirectTree::Read(const std::string& path, uint64_t offset,
                                std::span<uint8_t> out) {
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const ObjectFd> object, OpenObject(path));
  auto got = ReadAt(object->fd.get(), out, offset);
  if (!got.ok()) return Relabel(got.status(), "read " + path);
  return got;
}

void DirectTree::Prefetch(const std::vector<std::string>& paths, size_t bytes) {
  for (const std::string& path : paths) {
    auto loc = Locate(path);
    if (!loc.ok()) continue;
    auto fd = OpenDescriptor(loc->folder->get(), loc->leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (!fd.ok()) continue;
    (void)posix_fadvise(fd->get(), 0, static_cast<off_t>(bytes), POSIX_FADV_WILLNEED);
  }
}

Status DirectTree::Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  auto staged = StagedObject::Create(loc.folder->get());
  if (!staged.ok() && (staged.status().code() == Code::kNoResources)) {
    DropCachedDescriptors();  // out of descriptors: make room once, as OpenDescriptor does
    staged = StagedObject::Create(loc.folder->get());
  }
  if (!staged.ok()) return Relabel(staged.status(), "put " + path);
  Status st = remote::WriteAt(staged->fd(), data, 0);
  if (st.ok()) st = staged->Commit(loc.leaf, mode == PutMode::kReplace);
  objects_.Erase(path);  // a cached descriptor would still name the replaced inode
  if (!st.ok()) return Relabel(st, "put " + path);
  return Status::Ok();
}

Status DirectTree::WriteAt(const std::string& path, uint64_t offset,
                           std::span<const uint8_t> data) {
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const ObjectFd> object, OpenWritableObject(path));
  Status st = remote::WriteAt(object->fd.get(), data, offset);
  if (!st.ok()) return Relabel(st, "write " + path);
  return Status::Ok();
}

Status DirectTree::Truncate(const std::string& path, uint64_t size) {
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const ObjectFd> object, OpenWritableObject(path));
  Status st = remote::Truncate(object->fd.get(), size);
  if (!st.ok()) return Relabel(st, "truncate " + path);
  return Status::Ok();
}

Status DirectTree::Reserve(const std::string& path, uint64_t size) {
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const ObjectFd> object, OpenWritableObject(path));
  if (size == 0) return Status::Ok();
  for (;;) {
    if (::fallocate(object->fd.get(), FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) == 0) {
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno == EOPNOTSUPP) return Status::Ok();  // nothing to reserve with; writes will tell
    return Status::FromErrno(errno, "reserve " + path);
  }
}

Status DirectTree::SyncFolder(const std::string& key) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitTreeKey(key, true));
  PHRFS_ASSIGN_OR_RETURN(std::shared_ptr<const Fd> folder, OpenFolder(key, parts));
  // fsync needs a real descriptor; the cached one is O_PATH.
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenDescriptor(folder->get(), ".", O_RDONLY | O_DIRECTORY));
  return remote::Sync(fd.get(), /*data_only=*/false);
}

Status DirectTree::Sync(const std::string& path) {
  if (path.empty()) return SyncFolder(path);
  auto object = OpenObject(path);
  if (object.status().code() == Code::kIsADirectory) return SyncFolder(path);
  if (!object.ok()) return object.status();
  Status st = remote::Sync((*object)->fd.get(), /*data_only=*/false);
  if (!st.ok()) return Relabel(st, "sync " + path);
  return Status::Ok();
}

Status DirectTree::Delete(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  Status st = UnlinkAt(loc.folder->get(), loc.leaf);  // a folder is EISDIR
  objects_.Erase(path);
  if (!st.ok()) return Relabel(st, "delete " + path);
  return Status::Ok();
}

Status DirectTree::MakeFolder(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  Status st = MkdirAt(loc.folder->get(), loc.leaf, 0700);
  if (!st.ok()) return Relabel(st, "make folder " + path);
  return Status::Ok();
}

Status DirectTree::RemoveFolder(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  Status st = RmdirAt(loc.folder->get(), loc.leaf);
  // Some file systems report a non-empty directory as EEXIST.
  if (st.code() == Code::kAlreadyExists) st = Status::Error(Code::kNotEmpty, st.message());
  if (!st.ok()) return Relabel(st, "remove folder " + path);
  folders_.EraseTree(path);
  objects_.EraseTree(path);
  return Status::Ok();
}

Status DirectTree::Move(const std::string& from, const std::string& to, MoveMode mode) {
  PHRFS_ASSIGN_OR_RETURN(Located src, Locate(from));
  PHRFS_ASSIGN_OR_RETURN(Located dst, Locate(to));
  PHRFS_RETURN_IF_ERROR(RequireObject(src, from));
  const int src_dir = src.folder->get();
  const int dst_dir = dst.folder->get();
  Status st;
  if (mode == MoveMode::kReplace) {
    st = RenameAt(src_dir, src.leaf, dst_dir, dst.leaf, 0);
  } else {
    st = RenameAt(src_dir, src.leaf, dst_dir, dst.leaf, RENAME_NOREPLACE);
    if (st.code() == Code::kInvalidArgument) {  // no RENAME_NOREPLACE here: link + unlink
      st = LinkAt(src_dir, src.leaf, dst_dir, dst.leaf);
      if (st.ok()) st = UnlinkAt(src_dir, src.leaf);
    }
  }
  objects_.Erase(from);
  objects_.Erase(to);
  if (!st.ok()) return Relabel(st, "move " + from + " -> " + to);
  return Status::Ok();
}

Status DirectTree::Exchange(const std::string& a, const std::string& b) {
  PHRFS_ASSIGN_OR_RETURN(Located la, Locate(a));
  PHRFS_ASSIGN_OR_RETURN(Located lb, Locate(b));
  PHRFS_RETURN_IF_ERROR(RequireObject(la, a));
  PHRFS_RETURN_IF_ERROR(RequireObject(lb, b));
  Status st = RenameAt(la.folder->get(), la.leaf, lb.folder->get(), lb.leaf, RENAME_EXCHANGE);
  objects_.Erase(a);
  objects_.Erase(b);
  if (st.code() == Code::kInvalidArgument) {
    return Status::NotSupported("exchange " + a + " <-> " + b +
                                ": the file system cannot swap two names atomically");
  }
  if (!st.ok()) return Relabel(st, "exchange " + a + " <-> " + b);
  return Status::Ok();
}

Status DirectTree::Link(const std::string& from, const std::string& to) {
  PHRFS_ASSIGN_OR_RETURN(Located src, Locate(from));
  PHRFS_ASSIGN_OR_RETURN(Located dst, Locate(to));
  PHRFS_RETURN_IF_ERROR(RequireObject(src, from));
  Status st = LinkAt(src.folder->get(), src.leaf, dst.folder->get(), dst.leaf);
  if (!st.ok()) return Relabel(st, "link " + from + " -> " + to);
  return Status::Ok();
}

Result<TreeSpace> DirectTree::Space() {
  PHRFS_ASSIGN_OR_RETURN(struct statvfs vfs, StatFs(root_->get()));
  TreeSpace space;
  space.block_size = vfs.f_frsize != 0 ? vfs.f_frsize : vfs.f_bsize;  // f_blocks' unit
  space.blocks = vfs.f_blocks;
  space.blocks_free = vfs.f_bfree;
  space.blocks_available = vfs.f_bavail;
  space.files = vfs.f_files;
  space.files_free = vfs.f_ffree;
  return space;
}

namespace {

Result<std::unique_ptr<TreeLease>> LockDescriptor(Fd fd) {
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status::Error(Code::kBusy, "the store is already mounted by another phrfs process");
    }
    return Status::FromErrno(errno, "lock the store");
  }
  return std::unique_ptr<TreeLease>(new DirectLease(std::move(fd)));
}

}  // namespace

Result<std::unique_ptr<TreeLease>> DirectTree::AcquireLease() {
  // An open file description of its own: flock conflicts between descriptions, so a second
  // lease, even from this process, is refused while the first lives.
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenDescriptor(root_->get(), ".", O_RDONLY | O_DIRECTORY));
  return LockDescriptor(std::move(fd));
}

Result<std::unique_ptr<TreeLease>> LockLocalDirectory(const std::string& dir) {
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return LockDescriptor(std::move(fd));
}

}  // namespace phrfs::remote
