// The status file through which a mount daemon tells `phrfs status` and `phrfs umount` how far
// its store is behind (pending uploads, bytes queued, last error, conflicts). One file per
// daemon, named by its pid, in a folder only its user can enter: /run/user/UID/phrfs when that
// exists and belongs to the user, else /tmp/phrfs-UID (made 0700; refused if anyone else owns
// it). Lines "key: value"; written whole (temporary + rename), so a reader never sees half.
// Any thread; no shared state.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace phrfs::fs {

using StatusLines = std::vector<std::pair<std::string, std::string>>;

// The folder for status files of the calling user; made when missing.
Result<std::string> StatusFolder();
// Where daemon `pid` writes its status.
Result<std::string> StatusFilePath(pid_t pid);

Status WriteStatusFile(const std::string& path, const StatusLines& lines);
// NotFound when the daemon has written none (a local store, or not yet).
Result<StatusLines> ReadStatusFile(const std::string& path);

// The key of the lines that name a mount's access log sessions (hex ids), one line each.
inline constexpr char kLogSessionKey[] = "log session";
// Access log sessions that live mount daemons of this user on this machine are still writing:
// from every status file whose daemon is alive.
std::vector<std::string> LiveLogSessions();

// The value of `key`, or `fallback`.
std::string StatusValue(const StatusLines& lines, const std::string& key,
                        const std::string& fallback = "");

}  // namespace phrfs::fs
