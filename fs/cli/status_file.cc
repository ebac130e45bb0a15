// Status files of mount daemons (fs/cli/status_file.h).
#include "fs/cli/status_file.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/file_replace.h"

namespace phrfs::fs {
namespace {

// A folder that exists, is a real directory (not a symlink) owned by us and closed to others.
bool IsPrivateFolder(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & 077) == 0;
}

}  // namespace

Result<std::string> StatusFolder() {
  const std::string uid = std::to_string(geteuid());
  const std::string run_user = "/run/user/" + uid;
  struct stat st;
  std::string folder;
  if (lstat(run_user.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
    folder = run_user + "/phrfs";
  } else {
    folder = "/tmp/phrfs-" + uid;
  }
  if (mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "status folder " + folder);
  }
  if (!IsPrivateFolder(folder)) {
    return Status::Error(Code::kPermissionDenied,
                         "status folder " + folder + " is not a private folder of this user");
  }
  return folder;
}

Result<std::string> StatusFilePath(pid_t pid) {
  auto folder = StatusFolder();
  if (!folder.ok()) return folder.status();
  return *folder + "/" + std::to_string(pid) + ".status";
}

Status WriteStatusFile(const std::string& path, const StatusLines& lines) {
  std::string text;
  for (const auto& [key, value] : lines) text += key + ": " + value + "\n";
  Status st = ReplaceFile(path, text);  // rewritten every second: not worth an fsync
  if (!st.ok()) return Status::Error(st.code(), "status file: " + st.message());
  return st;
}

Result<StatusLines> ReadStatusFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("no status file " + path);
    return Status::FromErrno(errno, "status file " + path);
  }
  StatusLines lines;
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    lines.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return lines;
}

std::string StatusValue(const StatusLines& lines, const std::string& key,
                        const std::string& fallback) {
  for (const auto& [k, v] : lines) {
    if (k == key) return v;
  }
  return fallback;
}

std::vector<std::string> LiveLogSessions() {
  std::vector<std::string> sessions;
  auto folder = StatusFolder();
  if (!folder.ok()) return sessions;
  DIR* dir = opendir(folder->c_str());
  if (dir == nullptr) return sessions;
  while (struct dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    const size_t dot = name.find(".status");
    if (dot == std::string::npos || dot == 0 || dot + 7 != name.size()) continue;
    const std::string digits = name.substr(0, dot);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (kill(pid, 0) != 0 && errno != EPERM) continue;  // the daemon is gone: its file is stale
    auto lines = ReadStatusFile(*folder + "/" + name);
    if (!lines.ok()) continue;
    for (const auto& [key, value] : *lines)
      if (key == kLogSessionKey) sessions.push_back(value);
  }
  closedir(dir);
  return sessions;
}

}  // namespace phrfs::fs
