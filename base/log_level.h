// Log levels, shared by the logger (fs/log.h) and the settings file (config/mount_config.h), and
// their names as written in phrfs.yaml and on the command line. Any thread: pure functions.
#pragma once

#include <optional>
#include <string_view>

namespace phrfs {

// Ordered by verbosity: a logger set to a level writes that level's lines and all above it.
enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// "error" | "warning" | "info" | "debug".
const char* LogLevelName(LogLevel level);

// The level whose name is exactly `text`; nullopt for anything else (no case folding).
std::optional<LogLevel> ParseLogLevel(std::string_view text);

}  // namespace phrfs
