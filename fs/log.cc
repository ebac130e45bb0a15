#include "fs/log.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <mutex>

namespace phrfs::fs {
namespace {

struct Logger {
  std::mutex mu;  // guards everything below; held while a line is written
  LogTarget target;
  bool syslog_open = false;
};

Logger& TheLogger() {
  static Logger* logger = new Logger();  // never destroyed: worker threads may log at exit
  return *logger;
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return LOG_ERR;
    case LogLevel::kWarning: return LOG_WARNING;
    case LogLevel::kInfo: return LOG_INFO;
    case LogLevel::kDebug: return LOG_DEBUG;
  }
  return LOG_INFO;
}

}  // namespace

void LogInit(LogTarget target) {
  Logger& logger = TheLogger();
  std::lock_guard<std::mutex> lock(logger.mu);
  if (logger.target.kind == LogTarget::Kind::kFile && logger.target.file != nullptr &&
      logger.target.file != target.file) {
    fclose(logger.target.file);
  }
  if (target.kind == LogTarget::Kind::kSyslog && !logger.syslog_open) {
    openlog("phrfs", LOG_PID, LOG_DAEMON);
    logger.syslog_open = true;
  }
  if (target.kind == LogTarget::Kind::kFile && target.file != nullptr) {
    setvbuf(target.file, nullptr, _IOLBF, 0);
  }
  logger.target = target;
}

void SetLogLevel(LogLevel level) {
  Logger& logger = TheLogger();
  std::lock_guard<std::mutex> lock(logger.mu);
  logger.target.level = level;
}

LogLevel GetLogLevel() {
  Logger& logger = TheLogger();
  std::lock_guard<std::mutex> lock(logger.mu);
  return logger.target.level;
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(GetLogLevel()); }

void Log(LogLevel level, const char* fmt, ...) {
  char message[1024];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof(message), fmt, args);
  va_end(args);

  Logger& logger = TheLogger();
  std::lock_guard<std::mutex> lock(logger.mu);
  if (static_cast<int>(level) > static_cast<int>(logger.target.level)) return;
  if (logger.target.kind == LogTarget::Kind::kSyslog) {
    syslog(SyslogPriority(level), "%s: %s", LogLevelName(level), message);
    return;
  }
  FILE* out = logger.target.kind == LogTarget::Kind::kFile && logger.target.file != nullptr
                  ? logger.target.file
                  : stderr;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm_now;
  localtime_r(&now.tv_sec, &tm_now);
  char stamp[40];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm_now);
  fprintf(out, "%s.%03ld phrfs[%d]: %s: %s\n", stamp, now.tv_nsec / 1000000L,
          static_cast<int>(getpid()), LogLevelName(level), message);
  fflush(out);
}

}  // namespace phrfs::fs
