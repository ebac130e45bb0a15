// Mount points as /proc/self/mountinfo names them: absolute paths, unescaped fields, and
// whether a path is mounted (fs/cli/mountinfo.h).
#include "fs/cli/mountinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <string_view>

#include <cstdio>

namespace phrfs::fs {

std::string AbsolutePathOf(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : trimmed.substr(0, slash));
  std::string base = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  char resolved[PATH_MAX];
  if (realpath(parent.c_str(), resolved) == nullptr) return trimmed;
  std::string dir = resolved;
  if (base.empty() || base == ".") return dir;
  return dir == "/" ? "/" + base : dir + "/" + base;
}

std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

Result<std::optional<std::string>> MountSource(const std::string& absolute_mountpoint) {
  FILE* f = std::fopen("/proc/self/mountinfo", "re");
  if (f == nullptr) return Status::FromErrno(errno, "open /proc/self/mountinfo");
  char* line = nullptr;
  size_t capacity = 0;
  std::optional<std::string> source;
  while (!source && getline(&line, &capacity, f) >= 0) {
    // Fields: id parent major:minor root mount-point options [optional...] - fstype source ...
    std::string text = line;
    size_t start = 0;
    for (int field = 0; field < 4 && start != std::string::npos; ++field) {
      start = text.find(' ', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) continue;
    size_t end = text.find(' ', start);
    if (UnescapeMountField(text.substr(start, end - start)) != absolute_mountpoint) continue;
    std::string found;
    const size_t dash = text.find(" - ", end);
    if (dash != std::string::npos) {
      const size_t type_end = text.find(' ', dash + 3);
      if (type_end != std::string::npos) {
        const size_t source_end = text.find(' ', type_end + 1);
        found = UnescapeMountField(text.substr(type_end + 1, source_end == std::string::npos
                                                                 ? std::string::npos
                                                                 : source_end - type_end - 1));
      }
    }
    source = found;
  }
  free(line);
  std::fclose(f);
  return source;
}

Result<bool> IsMounted(const std::string& absolute_mountpoint) {
  PHRFS_ASSIGN_OR_RETURN(auto source, MountSource(absolute_mountpoint));
  return source.has_value();
}

pid_t DaemonPidOf(const std::string& source) {
  static constexpr std::string_view kPrefix = "phrfs:";
  if (source.rfind(kPrefix, 0) != 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(source.c_str() + kPrefix.size(), &end, 10);
  return (end != nullptr && *end == '\0' && pid > 0) ? static_cast<pid_t>(pid) : 0;
}

}  // namespace phrfs::fs
