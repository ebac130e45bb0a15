// Process-wide logging for the phrfs daemon and command line: timestamped lines
// "phrfs[pid]: level: message" to a file, stderr or syslog. Thread-safe: Log may be called from
// any thread at any time; LogInit/SetLogLevel are meant for startup (also safe, under a lock).
// Never pass a passphrase, key or plaintext file name to Log.
#pragma once

#include <cstdio>

#include "base/log_level.h"

namespace phrfs::fs {

struct LogTarget {
  enum class Kind { kStderr, kFile, kSyslog };
  Kind kind = Kind::kStderr;
  FILE* file = nullptr;  // kFile: an open stream; the logger takes ownership and closes it
  LogLevel level = LogLevel::kInfo;

  static LogTarget Stderr(LogLevel level = LogLevel::kInfo) { return {Kind::kStderr, nullptr, level}; }
  static LogTarget File(FILE* f, LogLevel level = LogLevel::kInfo) { return {Kind::kFile, f, level}; }
  static LogTarget Syslog(LogLevel level = LogLevel::kInfo) { return {Kind::kSyslog, nullptr, level}; }
};

// Replaces the current target (the default before any call is stderr at level info).
void LogInit(LogTarget target);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);

// printf-style; one line per call (a trailing newline is added).
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace phrfs::fs
