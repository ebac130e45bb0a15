// phrfs.yaml (man phrfs.yaml(5)): the mount and remote-store settings a user may keep in a file
// instead of on the command line. Parsing and validation only; plain values out (secrets and
// the environment are resolved by remote_settings.h). Any thread (no shared state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/log_level.h"
#include "base/status.h"
#include "config/remote_config.h"

namespace phrfs::config {

// Every field is optional: absent means "not set in the file", so that the command line can
// tell a file value from a default and let its own flags win.
struct MountConfig {
  std::optional<bool> read_only;
  // mount.access_log: record this mount's accesses in the store's access log (default true).
  std::optional<bool> access_log;
  std::optional<double> attr_timeout;   // seconds, 0..kMaxTimeoutSeconds
  std::optional<double> entry_timeout;  // seconds, 0..kMaxTimeoutSeconds
  std::optional<unsigned> max_threads;  // kMinThreads..kMaxThreads
  std::optional<LogLevel> log_level;
  std::optional<std::string> log_file;
  std::vector<std::string> fuse_options;  // each one as written, e.g. "allow_other"

  // The remote-store sections (remote_config.h); all absent for a file that has none.
  RemoteConfig remote;
  WebDavConfig webdav;
  S3Config s3;
  CacheConfig cache;
};

inline constexpr double kMaxTimeoutSeconds = 3600;
inline constexpr unsigned kMinThreads = 1;
inline constexpr unsigned kMaxThreads = 64;
// A config file larger than this is refused: it is a handful of lines.
inline constexpr size_t kMaxConfigFileSize = 1 << 20;

// Reads and validates `path`. NotFound when the file is missing, IoError when unreadable,
// InvalidArgument for anything wrong inside it; such messages begin "path:line: " (1-based) and
// name the offending key.
Result<MountConfig> LoadMountConfig(const std::string& path);

// As LoadMountConfig, for text already in memory; `file_name` only prefixes messages.
Result<MountConfig> ParseMountConfig(std::string_view text, const std::string& file_name);

}  // namespace phrfs::config
