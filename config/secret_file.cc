#include "config/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/fd.h"

namespace phrfs::config {

Result<SecureBytes> ReadSecretFile(const std::string& path, const std::string& key) {
  const std::string where = key + ": " + path;
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return Status::FromErrno(errno, where + ": cannot open");
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, where + ": cannot stat");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(where + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument(where + ": permissions " + mode +
                                   " are too open: a secret file must not be accessible by "
                                   "group or others (run: chmod 600 " + path + ")");
  }
  if (st.st_size > static_cast<off_t>(kMaxSecretFileSize)) {
    return Status::InvalidArgument(where + ": too large for a secret (over 4096 bytes)");
  }

  // One byte more than the limit tells a file that grew since fstat.
  SecureBytes buffer(kMaxSecretFileSize + 1);
  size_t used = 0;
  while (used < buffer.size()) {
    ssize_t n = read(fd.get(), buffer.data() + used, buffer.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, where + ": cannot read");
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > kMaxSecretFileSize) {
    return Status::InvalidArgument(where + ": too large for a secret (over 4096 bytes)");
  }
  size_t length = used;
  if (length > 0 && buffer[length - 1] == '\n') {
    --length;
    if (length > 0 && buffer[length - 1] == '\r') --length;
  }
  if (length == 0) return Status::InvalidArgument(where + ": the file is empty");
  for (size_t i = 0; i < length; ++i) {
    if (buffer[i] == '\n' || buffer[i] == '\r') {
      return Status::InvalidArgument(where + ": holds more than one line (a secret file holds "
                                     "the secret alone, on one line)");
    }
  }
  return SecureBytes(buffer.data(), length);
}

}  // namespace phrfs::config
