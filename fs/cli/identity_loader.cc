// Reading, writing and opening identity files for the command line (fs/cli/identity_loader.h).
#include "fs/cli/identity_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "base/encoding.h"
#include "base/fd.h"
#include "crypto/random.h"
#include "fs/cli/passphrase.h"

namespace phrfs::fs {
namespace {

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, const std::string& data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "write " + what);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Moves `from` to `to` unless `to` exists (EEXIST then).
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // The file system cannot rename without replacing: a hard link cannot replace either.
  if (link(from.c_str(), to.c_str()) != 0) return -1;
  unlink(from.c_str());
  return 0;
}

}  // namespace

Result<crypto::IdentityFile> ReadIdentityFile(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("identity file " + path + " does not exist");
    return Status::FromErrno(err, "cannot open identity file " + path);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) return Status::Corrupt(path + " is not a regular file");
  std::string text;
  std::array<char, 1024> buffer;
  for (;;) {
    ssize_t n = read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read " + path);
    if (n == 0) break;
    text.append(buffer.data(), static_cast<size_t>(n));
    if (text.size() > kMaxIdentityFileSize) return Status::Corrupt(path + " is too large to be an identity file");
  }
  auto file = crypto::ParseIdentityFile(text);
  if (!file.ok()) return Status::Error(file.status().code(), path + ": " + file.status().message());
  return file;
}

Status WriteNewIdentityFile(const std::string& path, const crypto::IdentityFile& file) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    return Status::AlreadyExists("identity file " + path + " already exists; phrfs never overwrites one");
  }
  std::array<uint8_t, 8> random{};
  PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(random));
  const std::string folder = FolderOf(path);
  const std::string temp = path + ".tmp-" + HexEncode(random);
  Fd fd(open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return Status::FromErrno(errno, "create identity file " + path);
  // The umask may only take bits away; make the mode exactly 0600 whatever it is.
  Status written = fchmod(fd.get(), 0600) == 0 ? Status::Ok() : Status::FromErrno(errno, "chmod " + temp);
  if (written.ok()) written = WriteAll(fd.get(), crypto::SerializeIdentityFile(file), temp);
  if (written.ok() && fsync(fd.get()) != 0) written = Status::FromErrno(errno, "fsync " + temp);
  if (written.ok() && close(fd.Release()) != 0) written = Status::FromErrno(errno, "close " + temp);
  if (written.ok() && RenameNoReplace(temp, path) != 0) {
    int err = errno;
    written = err == EEXIST
                  ? Status::AlreadyExists("identity file " + path + " already exists; phrfs never overwrites one")
                  : Status::FromErrno(err, "move " + temp + " to " + path);
  }
  if (!written.ok()) {
    unlink(temp.c_str());
    return written;
  }
  Fd dir(open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || fsync(dir.get()) != 0) return Status::FromErrno(errno, "fsync folder " + folder);
  return Status::Ok();
}

Result<crypto::Identity> LoadIdentityFile(const std::string& path, const std::string& passfile,
                                          Step* failed_step) {
  auto fail = [&](Step step, Status status) -> Result<crypto::Identity> {
    if (failed_step != nullptr) *failed_step = step;
    return status;
  };
  // The file first: no point asking for a passphrase for a file that is missing or damaged.
  auto file = ReadIdentityFile(path);
  if (!file.ok()) return fail(Step::kStore, file.status());
  auto passphrase = ReadPassphrase({passfile, "Passphrase for identity " + path + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return fail(Step::kPassphrase, passphrase.status());
  auto identity = crypto::OpenIdentity(*file, passphrase->view());
  if (!identity.ok()) {
    const Status& st = identity.status();
    std::string message = st.code() == Code::kWrongKey ? "wrong passphrase for identity " + path +
                                                             " (or the file was changed)"
                                                       : path + ": " + st.message();
    return fail(Step::kStore, Status::Error(st.code(), message));
  }
  return identity;
}

}  // namespace phrfs::fs
