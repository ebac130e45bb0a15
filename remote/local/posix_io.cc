#include "remote/local/posix_io.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <limits>

#include "remote/temp_names.h"

namespace phrfs::remote {
namespace {

// Status messages carry only the operation and store names (ciphertext), never plaintext.
Status Errno(const char* op, const std::string& name) {
  int err = errno;
  return Status::FromErrno(err, name.empty() ? std::string(op) : std::string(op) + " " + name);
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace

void Fd::Reset() {
  if (fd_ >= 0) {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    ::close(fd_);
    fd_ = -1;
  }
}

Result<Fd> OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode) {
  for (;;) {
    int fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return Fd(fd);
    if (errno == EINTR) continue;
    return Errno("openat", name);
  }
}

Result<Fd> ReopenFd(int path_fd, int flags) {
  for (;;) {
    int fd = ::open(ProcFdPath(path_fd).c_str(), flags | O_CLOEXEC);
    if (fd >= 0) return Fd(fd);
    if (errno == EINTR) continue;
    return Errno("reopen", "");
  }
}

Result<struct stat> StatAt(int dir_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Errno("stat", name);
  return st;
}

Result<struct stat> StatFd(int fd) {
  struct stat st {};
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return Errno("fstat", "");
  return st;
}

Status MkdirAt(int dir_fd, const std::string& name, mode_t mode) {
  if (::mkdirat(dir_fd, name.c_str(), mode) != 0) return Errno("mkdir", name);
  return Status::Ok();
}

Status UnlinkAt(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0) return Errno("unlink", name);
  return Status::Ok();
}

Status RmdirAt(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) return Errno("rmdir", name);
  return Status::Ok();
}

Status RenameAt(int old_dir, const std::string& old_name, int new_dir, const std::string& new_name,
                unsigned flags) {
  if (::renameat2(old_dir, old_name.c_str(), new_dir, new_name.c_str(), flags) != 0) {
    return Errno("rename", old_name + " -> " + new_name);
  }
  return Status::Ok();
}

Status LinkAt(int old_dir, const std::string& old_name, int new_dir, const std::string& new_name) {
  int rc;
  if (old_name.empty()) {
    // Linking a descriptor itself (e.g. an O_PATH fd): through /proc, which needs no
    // CAP_DAC_READ_SEARCH unlike AT_EMPTY_PATH.
    rc = ::linkat(AT_FDCWD, ProcFdPath(old_dir).c_str(), new_dir, new_name.c_str(),
                  AT_SYMLINK_FOLLOW);
  } else {
    rc = ::linkat(old_dir, old_name.c_str(), new_dir, new_name.c_str(), 0);
  }
  if (rc != 0) return Errno("link", old_name + " -> " + new_name);
  return Status::Ok();
}

Result<std::vector<DirEntry>> ListDir(int dir_fd) {
  // A private descriptor: the caller's fd (possibly O_PATH) keeps its position, and closedir
  // below closes only ours.
  PHRFS_ASSIGN_OR_RETURN(Fd own, OpenAt(dir_fd, ".", O_RDONLY | O_DIRECTORY));
  DIR* dir = ::fdopendir(own.get());
  if (dir == nullptr) return Errno("opendir", "");
  own.Release();  // now owned by `dir`
  std::vector<DirEntry> entries;
  for (;;) {
    errno = 0;
    struct dirent* de = ::readdir(dir);
    if (de == nullptr) {
      int err = errno;
      ::closedir(dir);
      if (err != 0) return Status::FromErrno(err, "readdir");
      return entries;
    }
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    entries.push_back(DirEntry{std::move(name), de->d_type, de->d_ino});
  }
}

Result<size_t> ReadAt(int fd, std::span<uint8_t> out, uint64_t offset) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("pread", "");
    }
    if (n == 0) break;  // end of file
    done += static_cast<size_t>(n);
  }
  return done;
}

Status WriteAt(int fd, std::span<const uint8_t> data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("pwrite", "");
    }
    if (n == 0) return Status::IoError("pwrite: no progress");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Truncate(int fd, uint64_t size) {
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0) return Status::Ok();
    if (errno == EINTR) continue;
    return Errno("ftruncate", "");
  }
}

Status Sync(int fd, bool data_only) {
  int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
  if (rc != 0) return Errno(data_only ? "fdatasync" : "fsync", "");
  return Status::Ok();
}

Result<std::vector<uint8_t>> ReadWhole(int dir_fd, const std::string& name, size_t max_size) {
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenAt(dir_fd, name, O_RDONLY | O_NOFOLLOW));
  PHRFS_ASSIGN_OR_RETURN(struct stat st, StatFd(fd.get()));
  if (!S_ISREG(st.st_mode)) return Status::FromErrno(EISDIR, "read " + name);
  // Read until end of file (not just st_size, which may be stale) but never more than one byte
  // past the limit, so an oversized object is reported rather than silently truncated.
  std::vector<uint8_t> buf;
  size_t chunk = std::max<size_t>(static_cast<size_t>(st.st_size) + 1, 4096);
  for (;;) {
    size_t room = max_size - buf.size() + 1;
    if (max_size == std::numeric_limits<size_t>::max()) room = chunk;
    size_t want = std::min(chunk, room);
    size_t old_size = buf.size();
    buf.resize(old_size + want);
    PHRFS_ASSIGN_OR_RETURN(size_t got,
                           ReadAt(fd.get(), std::span(buf).subspan(old_size), old_size));
    buf.resize(old_size + got);
    if (buf.size() > max_size) return Status::Corrupt("read " + name + ": larger than expected");
    if (got < want) return buf;
  }
}

Status WriteWholeAtomic(int dir_fd, const std::string& name, std::span<const uint8_t> data,
                        mode_t mode, bool must_not_exist) {
  PHRFS_ASSIGN_OR_RETURN(std::string tmp, NewTempName());
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenAt(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
  Status st = WriteAt(fd.get(), data, 0);
  if (st.ok()) st = Sync(fd.get(), false);
  bool tmp_gone = false;
  if (st.ok()) {
    st = RenameAt(dir_fd, tmp, dir_fd, name, must_not_exist ? RENAME_NOREPLACE : 0);
    tmp_gone = st.ok();
    if (!st.ok() && must_not_exist && st.code() == Code::kInvalidArgument) {
      // The file system lacks RENAME_NOREPLACE: link(2) also refuses an existing target.
      st = LinkAt(dir_fd, tmp, dir_fd, name);
    }
  }
  // After a failure, or after the link fallback, the temporary name must go.
  if (!tmp_gone) (void)UnlinkAt(dir_fd, tmp);
  if (!st.ok()) return st;
  // Make the new directory entry itself durable.
  PHRFS_ASSIGN_OR_RETURN(Fd dir, OpenAt(dir_fd, ".", O_RDONLY | O_DIRECTORY));
  return Sync(dir.get(), false);
}

Status ChmodFd(int fd, mode_t mode) {
  if (::fchmodat(AT_FDCWD, ProcFdPath(fd).c_str(), mode, 0) != 0) return Errno("chmod", "");
  return Status::Ok();
}

Status ChownFd(int fd, uid_t uid, gid_t gid) {
  if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) return Errno("chown", "");
  return Status::Ok();
}

Status UtimensFd(int fd, const struct timespec times[2]) {
  if (::utimensat(AT_FDCWD, ProcFdPath(fd).c_str(), times, 0) != 0) return Errno("utimens", "");
  return Status::Ok();
}

Result<struct statvfs> StatFs(int fd) {
  struct statvfs st {};
  if (::fstatvfs(fd, &st) != 0) return Errno("statvfs", "");
  return st;
}

}  // namespace phrfs::remote
