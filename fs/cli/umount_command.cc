// `phrfs umount MOUNTPOINT`: unmounts with fusermount3, waits until the mount table no longer
// shows the mount, and then until its daemon has ended (it writes what it still holds).
#include <errno.h>
#include <signal.h>
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
#include "fs/cli/status_file.h"

namespace phrfs::fs {
namespace {

constexpr int kUmountWaitSeconds = 30;
constexpr char kFusermount[] = "fusermount3";

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

volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

double Seconds(const struct timespec& t) { return t.tv_sec + t.tv_nsec / 1e9; }

double Now() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return Seconds(now);
}

// "12 uploads (3.4 MiB)" from a status file's lines.
std::string PendingText(const StatusLines& lines) {
  const std::string uploads = StatusValue(lines, "pending uploads", "0");
  const double mib = std::strtod(StatusValue(lines, "bytes queued", "0").c_str(), nullptr) / (1 << 20);
  char text[96];
  std::snprintf(text, sizeof text, "%s upload%s (%.1f MiB)", uploads.c_str(),
                uploads == "1" ? "" : "s", mib);
  return text;
}

// After the kernel has let go, the daemon writes what it still holds (the last second of times,
// and for a remote store every pending upload) and ends. Waits for that, with a progress line
// while uploads are pending (from the daemon's status file). Gives up when the daemon shows no
// sign of life for kUmountWaitSeconds; Ctrl-C stops the wait (the daemon carries on) and says
// what remains.
int WaitForDaemon(pid_t daemon, const std::string& mountpoint) {
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::string status_path;
  if (auto path = StatusFilePath(daemon); path.ok()) status_path = *path;
  double last_sign = Now();
  double last_print = 0;
  std::string last_text;
  StatusLines last_lines;
  while (daemon > 0 && StillRunning(daemon)) {
    if (g_interrupted) {
      std::fprintf(stderr, "\nphrfs: interrupted; %s still pending: the daemon (pid %d) goes on, and "
                   "what it cannot upload resumes at the next mount with the same cache\n",
                   PendingText(last_lines).c_str(), static_cast<int>(daemon));
      return kExitFailure;
    }
    if (!status_path.empty()) {
      auto lines = ReadStatusFile(status_path);
      if (lines.ok()) {
        const std::string text = PendingText(*lines);
        // A daemon that is flushing is alive even when no upload finishes for a while: it
        // gives up by itself (StatusReporter::kFlushPatience).
        if (*lines != last_lines || StatusValue(*lines, "state") == "flushing") last_sign = Now();
        last_lines = std::move(lines).value();
        if (StatusValue(last_lines, "pending uploads", "0") != "0" &&
            (text != last_text || Now() - last_print > 5)) {
          std::fprintf(stderr, "phrfs: waiting for %s to reach the store\n", text.c_str());
          last_text = text;
          last_print = Now();
        }
      }
    }
    if (Now() - last_sign >= kUmountWaitSeconds) {
      return Fail(Step::kOther, Status::Error(Code::kBusy, mountpoint + " is unmounted, but its daemon (pid " +
                                                               std::to_string(daemon) + ") has not ended after " +
                                                               std::to_string(kUmountWaitSeconds) + " s"));
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  // The daemon's last word: uploads it had to leave for the next mount.
  if (!status_path.empty()) {
    auto lines = ReadStatusFile(status_path);
    if (lines.ok() && StatusValue(*lines, "pending uploads", "0") != "0") {
      std::fprintf(stderr, "phrfs: %s could not reach the store (%s); they are kept in the cache "
                   "and resume at the next mount\n", PendingText(*lines).c_str(),
                   StatusValue(*lines, "last error", "no error reported").c_str());
      unlink(status_path.c_str());
      return kExitFailure;
    }
    unlink(status_path.c_str());
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
