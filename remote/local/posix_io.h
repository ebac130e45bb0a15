// Positioned, descriptor-based access to a ciphertext tree on a local POSIX file system: the
// local store's fast path, so that a local mount needs no cache (DESIGN "Storage contract").
// Every call converts errno to Status here, at the bottom edge. Names passed in are already
// encrypted store names, never plaintext. Thread-safe: plain syscalls on caller-owned fds.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/fd.h"
#include "base/status.h"

namespace phrfs::remote {

struct DirEntry {
  std::string name;  // store name as listed (never "." or "..")
  unsigned char type = 0;  // DT_REG, DT_DIR, ... as readdir reports
  ino_t ino = 0;
};

// open/openat, errno -> Status.
Result<Fd> OpenAt(int dir_fd, const std::string& name, int flags, mode_t mode = 0);
Result<struct stat> StatAt(int dir_fd, const std::string& name);  // never follows symlinks
Result<struct stat> StatFd(int fd);                                 // works on O_PATH fds
Status MkdirAt(int dir_fd, const std::string& name, mode_t mode);
Status UnlinkAt(int dir_fd, const std::string& name);
Status RmdirAt(int dir_fd, const std::string& name);
// renameat2; flags are RENAME_NOREPLACE / RENAME_EXCHANGE or 0.
Status RenameAt(int old_dir, const std::string& old_name, int new_dir, const std::string& new_name,
                unsigned flags);
Status LinkAt(int old_dir, const std::string& old_name, int new_dir, const std::string& new_name);
// All entries of a directory, in readdir order, without "." and "..".
Result<std::vector<DirEntry>> ListDir(int dir_fd);

// Reads up to out.size() bytes at `offset`, retrying short reads; returns the count (short only
// at end of file).
Result<size_t> ReadAt(int fd, std::span<uint8_t> out, uint64_t offset);
Status WriteAt(int fd, std::span<const uint8_t> data, uint64_t offset);
Status Truncate(int fd, uint64_t size);
Status Sync(int fd, bool data_only);

Result<struct statvfs> StatFs(int fd);

// A new object written under a temporary name (remote/temp_names.h) in a folder and then moved
// into place atomically, so readers see the old bytes or the new, never a part: the one home of
// write-temporary-(fsync)-rename for the local store, the direct tree and `phrfs upgrade`.
// The temporary is removed unless committed. One thread at a time.
class StagedObject {
 public:
  // Creates the temporary (mode 0600, never following a symlink) in the folder `dir_fd`, which
  // must outlive this object.
  static Result<StagedObject> Create(int dir_fd);
  StagedObject(StagedObject&& other) noexcept;
  StagedObject& operator=(StagedObject&& other) noexcept;
  ~StagedObject();

  int fd() const { return fd_.get(); }
  Status Sync() { return remote::Sync(fd_.get(), false); }
  // Moves the temporary to `name`: replacing what is there, or (replace = false) only where
  // nothing is (AlreadyExists otherwise; link(2) + unlink(2) where renameat2 has no
  // RENAME_NOREPLACE).
  Status Commit(const std::string& name, bool replace);

 private:
  StagedObject(int dir_fd, Fd fd, std::string temp) : dir_(dir_fd), fd_(std::move(fd)), temp_(std::move(temp)) {}
  int dir_;
  Fd fd_;
  std::string temp_;
  bool pending_ = true;  // the temporary still exists
};

}  // namespace phrfs::remote
