#include "base/file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace phrfs {
namespace {

Status Fail(int err, const std::string& temp, const std::string& what) {
  unlink(temp.c_str());
  return Status::FromErrno(err, what);
}

}  // namespace

Status ReplaceFile(const std::string& path, std::string_view text, mode_t mode,
                   Durability durability) {
  const std::string temp = path + ".new";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return Status::FromErrno(errno, "write " + temp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      return Fail(err, temp, "write " + temp);
    }
    done += static_cast<size_t>(n);
  }
  if (durability == Durability::kSynced && fsync(fd) != 0) {
    int err = errno;
    close(fd);
    return Fail(err, temp, "fsync " + temp);
  }
  if (close(fd) != 0) return Fail(errno, temp, "write " + temp);
  if (rename(temp.c_str(), path.c_str()) != 0) return Fail(errno, temp, "replace " + path);
  if (durability == Durability::kSynced) {
    const size_t slash = path.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    int dir = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return Status::FromErrno(errno, "fsync folder " + folder);
    const bool synced = fsync(dir) == 0;
    const int err = errno;
    close(dir);
    if (!synced) return Status::FromErrno(err, "fsync folder " + folder);
  }
  return Status::Ok();
}

}  // namespace phrfs
