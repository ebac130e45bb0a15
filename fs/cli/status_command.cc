// `phrfs status MOUNTPOINT`: what the mount's daemon reports in its status file
// (fs/cli/status_file.h): the store, pending uploads, bytes queued, the last error, conflicts.
#include <cstdio>

#include "fs/cli/commands.h"
#include "fs/cli/mountinfo.h"
#include "fs/cli/status_file.h"

namespace phrfs::fs {

int RunStatus(const StatusArgs& args) {
  const std::string mountpoint = AbsolutePathOf(args.mountpoint);
  auto source = MountSource(mountpoint);
  if (!source.ok()) return Fail(Step::kOther, source.status());
  if (!source->has_value()) {
    return Fail(Step::kOther, Status::NotFound(mountpoint + " is not mounted"));
  }
  const pid_t daemon = DaemonPidOf(**source);
  if (daemon <= 0) {
    return Fail(Step::kOther, Status::InvalidArgument(mountpoint + " is not a phrfs mount"));
  }
  auto path = StatusFilePath(daemon);
  if (!path.ok()) return Fail(Step::kOther, path.status());
  auto lines = ReadStatusFile(*path);
  std::printf("mount point: %s\ndaemon pid: %d\n", mountpoint.c_str(), static_cast<int>(daemon));
  if (!lines.ok()) {
    if (lines.status().code() != Code::kNotFound) return Fail(Step::kOther, lines.status());
    // A daemon writes its status once the mount is ready; an older daemon writes none.
    std::printf("status: not reported by the daemon\n");
    return kExitOk;
  }
  for (const auto& [key, value] : *lines) std::printf("%s: %s\n", key.c_str(), value.c_str());
  return kExitOk;
}

}  // namespace phrfs::fs
