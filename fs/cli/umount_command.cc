// `phrfs umount MOUNTPOINT`: unmounts with fusermount3 and waits until the mount table no longer
// shows the mount.
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "fs/cli/commands.h"
#include "fs/cli/mountinfo.h"

namespace phrfs::fs {
namespace {

constexpr int kUmountWaitSeconds = 30;
constexpr char kFusermount[] = "fusermount3";

}  // namespace

int RunUmount(const UmountArgs& args) {
  std::string mountpoint = AbsolutePathOf(args.mountpoint);
  auto mounted = IsMounted(mountpoint);
  if (!mounted.ok()) return Fail(Step::kOther, mounted.status());
  if (!*mounted) return Fail(Step::kOther, Status::NotFound(mountpoint + " is not mounted"));

  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Fail(Step::kOther, Status::FromErrno(errno, "fork"));
  if (pid == 0) {
    const char* argv[] = {kFusermount, "-u", mountpoint.c_str(), nullptr};
    execvp(kFusermount, const_cast<char* const*>(argv));
    std::fprintf(stderr, "phrfs: cannot run %s: %s\n", kFusermount, strerror(errno));
    _exit(127);
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return Fail(Step::kOther, Status::FromErrno(errno, "waitpid"));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return Fail(Step::kOther, Status::IoError(std::string(kFusermount) + " -u " + mountpoint +
                                              " failed"));
  }
  // fusermount3 returns once the kernel has let go; wait until the mount table agrees.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    auto still = IsMounted(mountpoint);
    if (!still.ok()) return Fail(Step::kOther, still.status());
    if (!*still) return kExitOk;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= kUmountWaitSeconds) {
      return Fail(Step::kOther, Status::Error(Code::kBusy, mountpoint + " is still mounted after " +
                                                               std::to_string(kUmountWaitSeconds) +
                                                               " s"));
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

}  // namespace phrfs::fs
