#include "remote/local_store.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "remote/temp_names.h"

namespace phrfs::remote {
namespace {

bool IsReserved(const std::string& name) { return IsTempName(name); }

std::string ETagOf(const struct stat& st) {
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%" PRIx64 "-%" PRIx64 "-%" PRIx64,
                static_cast<uint64_t>(mtime_ns), static_cast<uint64_t>(st.st_size),
                static_cast<uint64_t>(st.st_ino));
  return buf;
}

ObjectInfo InfoOf(const struct stat& st) {
  bool dir = S_ISDIR(st.st_mode);
  return ObjectInfo{dir, dir ? 0 : static_cast<uint64_t>(st.st_size), dir ? "" : ETagOf(st),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

// Makes a directory's entries durable. `dir` may be an O_PATH descriptor.
Status SyncDir(int dir) {
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenAt(dir, ".", O_RDONLY | O_DIRECTORY));
  return Sync(fd.get(), false);
}

// Re-labels a status with the operation and key the caller asked for.
Status Relabel(const Status& st, const std::string& what) {
  return Status::Error(st.code(), what + ": " + st.message());
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Fd root, OpenAt(AT_FDCWD, path, O_PATH | O_DIRECTORY));
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(root)));
}

Result<Fd> LocalStore::OpenCollection(const std::string& key) const {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitKey(key, /*allow_root=*/true));
  PHRFS_ASSIGN_OR_RETURN(Fd dir, OpenAt(root_.get(), ".", O_PATH | O_DIRECTORY));
  for (const std::string& part : parts) {
    if (IsReserved(part)) return Status::InvalidArgument("reserved name in " + key);
    // O_NOFOLLOW | O_DIRECTORY: a symlink is ENOTDIR, so no key can lead out of the root.
    PHRFS_ASSIGN_OR_RETURN(dir, OpenAt(dir.get(), part, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  }
  return dir;
}

Result<LocalStore::Located> LocalStore::Locate(const std::string& key, LeafRule rule) const {
  size_t slash = key.rfind('/');
  std::string parent = slash == std::string::npos ? std::string() : key.substr(0, slash);
  std::string leaf = slash == std::string::npos ? key : key.substr(slash + 1);
  if (rule == LeafRule::kNoTempName && IsReserved(leaf)) {
    return Status::InvalidArgument("reserved name " + key);
  }
  auto dir = OpenCollection(parent);
  if (!dir.ok()) return Relabel(dir.status(), "parent of " + key);
  return Located{std::move(dir).value(), std::move(leaf)};
}

Result<std::vector<ListEntry>> LocalStore::DoList(const std::string& collection) {
  auto dir = OpenCollection(collection);
  if (!dir.ok()) return Relabel(dir.status(), "list " + collection);
  PHRFS_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, ListDir(dir->get()));
  std::vector<ListEntry> out;
  out.reserve(entries.size());
  for (const DirEntry& e : entries) {
    if (IsReserved(e.name)) continue;  // an in-flight or crashed write
    auto st = StatAt(dir->get(), e.name);
    if (!st.ok()) {
      if (st.status().code() == Code::kNotFound) continue;  // deleted since readdir
      return st.status();
    }
    // Only objects and collections are store content; anything else was not put here by us.
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) continue;
    ObjectInfo info = InfoOf(*st);
    out.push_back(ListEntry{e.name, info.is_collection, info.size, std::move(info.etag)});
  }
  return out;
}

Result<ObjectInfo> LocalStore::DoStat(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  PHRFS_ASSIGN_OR_RETURN(struct stat st, StatAt(loc.parent.get(), loc.leaf));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return Status::NotSupported("stat " + path + ": neither object nor collection");
  }
  return InfoOf(st);
}

Result<std::vector<uint8_t>> LocalStore::DoRead(const std::string& path, uint64_t offset,
                                                size_t max_length) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  // O_NONBLOCK so that a stray FIFO cannot hang us; it changes nothing for regular files.
  PHRFS_ASSIGN_OR_RETURN(Fd fd,
                         OpenAt(loc.parent.get(), loc.leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
  PHRFS_ASSIGN_OR_RETURN(struct stat st, StatFd(fd.get()));
  if (S_ISDIR(st.st_mode)) return Status::FromErrno(EISDIR, "read " + path);
  if (!S_ISREG(st.st_mode)) return Status::NotSupported("read " + path + ": not an object");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset >= size) return std::vector<uint8_t>();
  std::vector<uint8_t> buf(std::min<uint64_t>(max_length, size - offset));
  PHRFS_ASSIGN_OR_RETURN(size_t got, ReadAt(fd.get(), buf, offset));
  buf.resize(got);
  return buf;
}

Result<std::string> LocalStore::DoWrite(const std::string& path, std::span<const uint8_t> data,
                                        const Precondition& precondition) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  const int dir = loc.parent.get();
  PHRFS_ASSIGN_OR_RETURN(StagedObject staged, StagedObject::Create(dir));

  // The slow part (writing and syncing the bytes) happens outside the lock.
  Status st = WriteAt(staged.fd(), data, 0);
  if (st.ok()) st = staged.Sync();
  Result<struct stat> written = StatFd(staged.fd());
  if (st.ok() && !written.ok()) st = written.status();

  if (st.ok()) {
    std::lock_guard lock(mu_);
    switch (precondition.kind) {
      case Precondition::Kind::kNone:
        st = staged.Commit(loc.leaf, /*replace=*/true);
        break;
      case Precondition::Kind::kMustNotExist:
        st = staged.Commit(loc.leaf, /*replace=*/false);
        if (st.code() == Code::kAlreadyExists) {
          auto existing = StatAt(dir, loc.leaf);
          st = existing.ok() && S_ISDIR(existing->st_mode)
                   ? Status::FromErrno(EISDIR, "write " + path)
                   : Status::PreconditionFailed("write " + path + ": exists");
        }
        break;
      case Precondition::Kind::kETagMatches: {
        auto current = StatAt(dir, loc.leaf);
        if (!current.ok()) {
          st = current.status().code() == Code::kNotFound
                   ? Status::PreconditionFailed("write " + path + ": gone")
                   : current.status();
        } else if (S_ISDIR(current->st_mode)) {
          st = Status::FromErrno(EISDIR, "write " + path);
        } else if (ETagOf(*current) != precondition.etag) {
          st = Status::PreconditionFailed("write " + path + ": etag mismatch");
        } else {
          st = staged.Commit(loc.leaf, /*replace=*/true);
        }
        break;
      }
    }
  }
  if (!st.ok()) return st.code() == Code::kPreconditionFailed ? st : Relabel(st, "write " + path);
  PHRFS_RETURN_IF_ERROR(SyncDir(dir));
  return ETagOf(*written);
}

Status LocalStore::DoDelete(const std::string& path, const Precondition& precondition) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  const int dir = loc.parent.get();
  {
    std::lock_guard lock(mu_);
    if (precondition.kind == Precondition::Kind::kETagMatches) {
      PHRFS_ASSIGN_OR_RETURN(struct stat current, StatAt(dir, loc.leaf));
      if (S_ISDIR(current.st_mode)) return Status::FromErrno(EISDIR, "delete " + path);
      if (ETagOf(current) != precondition.etag) {
        return Status::PreconditionFailed("delete " + path + ": etag mismatch");
      }
    }
    PHRFS_RETURN_IF_ERROR(UnlinkAt(dir, loc.leaf));  // a directory is EISDIR on Linux
  }
  return SyncDir(dir);
}

Status LocalStore::DoMakeCollection(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  PHRFS_RETURN_IF_ERROR(MkdirAt(loc.parent.get(), loc.leaf, 0700));
  return SyncDir(loc.parent.get());
}

Status LocalStore::DoRemoveCollection(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Located loc, Locate(path));
  Status st = RmdirAt(loc.parent.get(), loc.leaf);
  // Some file systems report a non-empty directory as EEXIST.
  if (st.code() == Code::kAlreadyExists) return Status::Error(Code::kNotEmpty, st.message());
  PHRFS_RETURN_IF_ERROR(st);
  return SyncDir(loc.parent.get());
}

Status LocalStore::DoRename(const std::string& from, const std::string& to,
                            RenameOptions options) {
  PHRFS_ASSIGN_OR_RETURN(Located src, Locate(from, LeafRule::kTempNameAllowed));
  PHRFS_ASSIGN_OR_RETURN(Located dst, Locate(to, LeafRule::kTempNameAllowed));
  {
    std::lock_guard lock(mu_);
    Status st = RenameAt(src.parent.get(), src.leaf, dst.parent.get(), dst.leaf,
                         options.replace ? 0 : RENAME_NOREPLACE);
    // Replacing a non-empty directory may be reported as EEXIST.
    if (options.replace && st.code() == Code::kAlreadyExists) {
      return Status::Error(Code::kNotEmpty, st.message());
    }
    PHRFS_RETURN_IF_ERROR(st);
  }
  PHRFS_RETURN_IF_ERROR(SyncDir(dst.parent.get()));
  return SyncDir(src.parent.get());
}

}  // namespace phrfs::remote
