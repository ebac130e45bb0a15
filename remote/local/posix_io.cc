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

Result<Fd> OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode) {
  for (;;) {
    int fd = ::openat(dir_fd, name.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return Fd(fd);
    if (errno == EINTR) continue;
    return Errno("openat", name);
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

Result<struct statvfs> StatFs(int fd) {
  struct statvfs st {};
  if (::fstatvfs(fd, &st) != 0) return Errno("statvfs", "");
  return st;
}

Result<StagedObject> StagedObject::Create(int dir_fd) {
  PHRFS_ASSIGN_OR_RETURN(std::string temp, NewTempName());
  PHRFS_ASSIGN_OR_RETURN(Fd fd, OpenAt(dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  return StagedObject(dir_fd, std::move(fd), std::move(temp));
}

StagedObject::StagedObject(StagedObject&& other) noexcept
    : dir_(other.dir_), fd_(std::move(other.fd_)), temp_(std::move(other.temp_)), pending_(other.pending_) {
  other.pending_ = false;
}

StagedObject& StagedObject::operator=(StagedObject&& other) noexcept {
  if (this != &other) {
    if (pending_) (void)UnlinkAt(dir_, temp_);
    dir_ = other.dir_;
    fd_ = std::move(other.fd_);
    temp_ = std::move(other.temp_);
    pending_ = other.pending_;
    other.pending_ = false;
  }
  return *this;
}

StagedObject::~StagedObject() {
  if (pending_) (void)UnlinkAt(dir_, temp_);
}

Status StagedObject::Commit(const std::string& name, bool replace) {
  if (!pending_) return Status::InvalidArgument("staged object already committed");
  Status st = RenameAt(dir_, temp_, dir_, name, replace ? 0 : RENAME_NOREPLACE);
  if (st.ok()) {
    pending_ = false;
    return st;
  }
  // No RENAME_NOREPLACE on this file system: link(2) refuses an existing target too (the
  // temporary is removed by the destructor).
  if (!replace && st.code() == Code::kInvalidArgument) st = LinkAt(dir_, temp_, dir_, name);
  return st;
}

}  // namespace phrfs::remote
