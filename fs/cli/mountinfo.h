// Reading the mount table (/proc/self/mountinfo) and naming mount points the way it does, for
// `phrfs mount` and `phrfs umount`. Any thread (no shared state).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/status.h"

namespace phrfs::fs {

// An absolute form of `path` that does not touch the final component, so that it also works
// for a mount point whose daemon has died (stat there gives ENOTCONN).
std::string AbsolutePathOf(const std::string& path);

// Undoes the octal escapes (\040 for space, ...) of /proc/self/mountinfo.
std::string UnescapeMountField(const std::string& field);

// Whether `absolute_mountpoint` is a mount point in /proc/self/mountinfo.
Result<bool> IsMounted(const std::string& absolute_mountpoint);

// The mount's source field ("fsname"), unescaped; nullopt when nothing is mounted there.
// A phrfs daemon names itself "phrfs:PID" there (fs/mount.cc), so that `phrfs umount` can wait
// for it to finish writing after the kernel has let go.
Result<std::optional<std::string>> MountSource(const std::string& absolute_mountpoint);

// The serving daemon's pid from a "phrfs:PID" mount source, or 0.
pid_t DaemonPidOf(const std::string& source);

}  // namespace phrfs::fs
