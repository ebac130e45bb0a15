// Off the happy path, through the kernel: a store on a tiny tmpfs that fills up, and a daemon
// run by an unprivileged user. (100,000 files under RLIMIT_NOFILE 1,024: scale_test.cc.)
// Every mount (phrfs and tmpfs) is undone by RAII, also when a test fails.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

// A tmpfs of `size` at `path`, unmounted on destruction.
class Tmpfs {
 public:
  Tmpfs(const std::string& path, const std::string& size) : path_(path) {
    mkdir(path.c_str(), 0700);
    mounted_ = mount("phrfs-test", path.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0;
    error_ = mounted_ ? 0 : errno;
  }
  ~Tmpfs() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  int error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  int error_ = 0;
};

// Appends until the store is full; returns the bytes acknowledged and sets *err to the errno
// that stopped it.
std::string AppendUntilFull(const std::string& path, int* err) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    *err = errno;
    return "";
  }
  std::string acknowledged;
  *err = 0;
  for (uint32_t i = 0; i < 100000 && *err == 0; ++i) {
    std::string chunk = Pattern(4096 + i % 3000, i);
    ssize_t n = write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      *err = errno;
    } else {
      acknowledged += chunk.substr(0, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < chunk.size()) *err = ENOSPC;
    }
  }
  close(fd);
  return acknowledged;
}

TEST(ResourcesTest, AFullStoreReturnsEnospcAndDamagesNothing) {
  MountFixture fx;
  Tmpfs tmpfs(fx.root() + "/small", "3m");
  ASSERT_TRUE(tmpfs.mounted()) << strerror(tmpfs.error());
  const std::string store = fx.root() + "/small/store";
  RunResult init = RunPhrfs({"init", store, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  ASSERT_EQ(fx.Mount(store, {}).exit_code, 0);

  const std::string first = Pattern(300000, 1);
  WriteFile(fx.InMnt("first"), first);
  int err = 0;
  const std::string acknowledged = AppendUntilFull(fx.InMnt("second"), &err);
  EXPECT_EQ(err, ENOSPC) << "a full store must say ENOSPC, not " << strerror(err);
  EXPECT_GT(acknowledged.size(), 0u);
  // Everything acknowledged reads back, and nothing else.
  EXPECT_EQ(ReadAll(fx.InMnt("first")), first);
  int read_err = 0;
  EXPECT_EQ(ReadAll(fx.InMnt("second"), &read_err), acknowledged) << strerror(read_err);
  struct stat st;
  ASSERT_EQ(stat(fx.InMnt("second").c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), acknowledged.size());
  // A failed truncate (growing) changes nothing either.
  EXPECT_NE(truncate(fx.InMnt("second").c_str(), 50 << 20), 0);
  ASSERT_EQ(stat(fx.InMnt("second").c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), acknowledged.size());

  // Space comes back: the next write works.
  ASSERT_EQ(unlink(fx.InMnt("first").c_str()), 0);
  int fd = open(fx.InMnt("second").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "tail", 4), 4) << strerror(errno);
  close(fd);

  ASSERT_EQ(fx.Remount().exit_code, 0);
  EXPECT_EQ(ReadAll(fx.InMnt("second")), acknowledged + "tail");
}

// The daemon runs as an unprivileged user (nobody), as most users run it: files it creates keep
// the mode the program asked for, a 0444 file is readable after a remount and not writable.
// Debian makes /dev/fuse 0666; some containers make it 0600. The test opens it to everyone for
// its own duration, as a normal system has it, and puts the mode back.
class DevFuseOpenToUsers {
 public:
  DevFuseOpenToUsers() {
    struct stat st;
    if (stat("/dev/fuse", &st) == 0 && (st.st_mode & 0006) != 0006) {
      old_mode_ = st.st_mode & 07777;
      changed_ = chmod("/dev/fuse", old_mode_ | 0666) == 0;
    }
  }
  ~DevFuseOpenToUsers() {
    if (changed_) chmod("/dev/fuse", old_mode_);
  }

 private:
  mode_t old_mode_ = 0;
  bool changed_ = false;
};

TEST(ResourcesTest, AnUnprivilegedDaemonFollowsPosixPermissions) {
  DevFuseOpenToUsers dev_fuse;
  MountFixture fx;
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(chown(fx.root().c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(chmod(fx.root().c_str(), 0755), 0);
  ASSERT_EQ(chown(fx.mnt().c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(chown(fx.passfile().c_str(), kNobody, kNobody), 0);
  const std::vector<std::string> as_nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  std::vector<std::string> init = as_nobody;
  for (const char* a : {PHRFS_BINARY, "init"}) init.push_back(a);
  init.insert(init.end(), {fx.store(), "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  RunResult r = RunCommand(init);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  MountOptions options;
  options.wrapper = as_nobody;
  ASSERT_EQ(fx.Mount(fx.store(), options).exit_code, 0) << fx.ReadLog();

  // The test process is root, which may do anything: do the checks as nobody, in a child.
  auto as_user = [&](const std::vector<std::string>& shell) {
    std::vector<std::string> argv = as_nobody;
    argv.insert(argv.end(), {"sh", "-c"});
    std::string script;
    for (const auto& line : shell) script += line + "\n";
    argv.push_back(script);
    return RunCommand(argv);
  };
  const std::string m = fx.mnt();
  r = as_user({"set -e", "cd " + m, "echo ro > ro.txt", "chmod 0444 ro.txt", "echo rw > rw.txt", "stat -c %a ro.txt rw.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "444\n644\n");
  ASSERT_EQ(fx.Remount().exit_code, 0);
  r = as_user({"cd " + m, "cat ro.txt", "echo more >> ro.txt && echo WROTE", "cat rw.txt", "stat -c %U ro.txt"});
  EXPECT_EQ(r.out, "ro\nrw\nnobody\n") << r.Describe();
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  // The store itself holds no plaintext names.
  RunResult grep = RunCommand({"grep", "-r", "-l", "-e", "ro.txt", "-e", "rw.txt", fx.store()});
  EXPECT_NE(grep.exit_code, 0) << grep.out;
}

}  // namespace
}  // namespace phrfs::testing
