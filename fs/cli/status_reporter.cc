// The daemon's status file writer and the final flush at unmount (fs/cli/status_reporter.h).
#include "fs/cli/status_reporter.h"

#include <unistd.h>

#include "fs/cli/status_file.h"
#include "fs/log.h"

namespace phrfs::fs {

StatusReporter::StatusReporter(std::string store_label, remote::CipherTree& tree)
    : label_(std::move(store_label)), tree_(tree) {
  auto path = StatusFilePath(getpid());
  if (path.ok()) {
    path_ = *path;
  } else {
    Log(LogLevel::kWarning, "no status file: %s", path.status().message().c_str());
  }
}

StatusReporter::~StatusReporter() {
  StopThread();
  if (!path_.empty() && !left_pending_) unlink(path_.c_str());
}

void StatusReporter::StopThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusReporter::Start() {
  if (path_.empty()) return;
  WriteNow();
  thread_ = std::thread([this] { Run(); });
}

void StatusReporter::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (stop_) break;
    lock.unlock();
    WriteNow();
    lock.lock();
  }
}

void StatusReporter::SetLogSessions(std::vector<std::string> sessions) {
  log_sessions_ = std::move(sessions);
}

void StatusReporter::WriteNow() {
  std::string state;
  {
    std::lock_guard lock(mu_);
    state = state_;
  }
  StatusLines lines = {{"store", label_}, {"state", state}};
  for (const std::string& session : log_sessions_) lines.emplace_back(kLogSessionKey, session);
  if (std::optional<remote::TreeSyncState> sync = tree_.SyncState()) {
    lines.emplace_back("pending uploads", std::to_string(sync->pending_uploads));
    lines.emplace_back("bytes queued", std::to_string(sync->bytes_queued));
    lines.emplace_back("conflicts", std::to_string(sync->conflicts));
    lines.emplace_back("connection", sync->offline ? "offline" : "online");
    lines.emplace_back("last error", sync->last_error.empty() ? "none" : sync->last_error);
    left_pending_ = sync->pending_uploads > 0;
  } else {
    lines.emplace_back("pending uploads", "0");
    lines.emplace_back("cache", "none (the store is written directly)");
  }
  Status st = WriteStatusFile(path_, lines);
  if (!st.ok()) Log(LogLevel::kDebug, "status file: %s", st.message().c_str());
}

void StatusReporter::FlushAtClose(remote::CipherTree& tree) {
  if (!tree.SyncState()) {
    StopThread();
    return;
  }
  {
    std::lock_guard lock(mu_);
    state_ = "flushing";
  }
  wake_.notify_all();
  using Clock = std::chrono::steady_clock;
  uint64_t last_pending = UINT64_MAX;
  Clock::time_point last_progress = Clock::now();
  Status st = tree.FlushAll([&] {
    std::optional<remote::TreeSyncState> sync = tree.SyncState();
    const uint64_t pending = sync ? sync->pending_uploads : 0;
    if (pending < last_pending) {
      last_pending = pending;
      last_progress = Clock::now();
    }
    return Clock::now() - last_progress > kFlushPatience;
  });
  if (!st.ok()) {
    std::optional<remote::TreeSyncState> sync = tree.SyncState();
    Log(LogLevel::kWarning,
        "unmount: %llu change(s) could not reach the store (%s); the cache keeps them for the "
        "next mount",
        static_cast<unsigned long long>(sync ? sync->pending_uploads : 0), st.message().c_str());
  }
  {
    std::lock_guard lock(mu_);
    state_ = st.ok() ? "flushed" : "left pending";
  }
  // The last word, for `phrfs umount`; the tree goes away after this.
  StopThread();
  if (!path_.empty()) WriteNow();
}

}  // namespace phrfs::fs
