// `phrfs umount MOUNTPOINT`: unmounts with fusermount3, waits until the mount table no longer
// shows the mount, and then until its daemon has ended (it writes what it still holds).
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <string>
#include <cstring>
#include <cstdlib>

#include "fs/cli/commands.h"
#include "fs/cli/mountinfo.h"

namespace phrfs::fs {
namespace {

constexpr int kUmountWaitSeconds = 30;
constexpr char kFusermount[] = "fusermount3";

// The serving daemon's pid from a "phrfs:PID" mount source, or 0.
pid_t DaemonPidOf(const std::string& source) {
  static constexpr std::string_view kPrefix = "phrfs:";
  if (source.rfind(kPrefix, 0) != 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(source.c_str() + kPrefix.size(), &end, 10);
  return (end != nullptr && *end == '\0' && pid > 0) ? static_cast<pid_t>(pid) : 0;
}

// Whether `pid` is still a running phrfs (a zombie, waiting for a parent that may never reap it,
// has ended; a pid reused by another program is not ours).
bool StillRunning(pid_t pid) {
  FILE* comm = std::fopen(("/proc/" + std::to_string(pid) + "/comm").c_str(), "re");
  if (comm == nullptr) return false;
  char name[32] = {};
  const bool phrfs = std::fgets(name, sizeof name, comm) != nullptr && std::strncmp(name, "phrfs", 5) == 0;
  std::fclose(comm);
  if (!phrfs) return false;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "re");
  if (f == nullptr) return false;
  char buf[512];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close_paren = std::strrchr(buf, ')');
  return close_paren == nullptr || close_paren[1] == '\0' || close_paren[2] != 'Z';
}

// After the kernel has let go, the daemon writes what it still holds (the last second of times)
// and ends; wait for that, so that the store is quiet when umount returns.
int WaitForDaemon(pid_t daemon, const std::string& mountpoint) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (daemon > 0 && StillRunning(daemon)) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= kUmountWaitSeconds) {
      return Fail(Step::kOther, Status::Error(Code::kBusy, mountpoint + " is unmounted, but its daemon (pid " +
                                                               std::to_string(daemon) + ") has not ended after " +
                                                               std::to_string(kUmountWaitSeconds) + " s"));
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  return kExitOk;
}

}  // namespace

int RunUmount(const UmountArgs& args) {
  std::string mountpoint = AbsolutePathOf(args.mountpoint);
  auto source = MountSource(mountpoint);
  if (!source.ok()) return Fail(Step::kOther, source.status());
  if (!source->has_value()) return Fail(Step::kOther, Status::NotFound(mountpoint + " is not mounted"));
  const pid_t daemon = DaemonPidOf(**source);

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
    if (!*still) return WaitForDaemon(daemon, mountpoint);
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
