// StatusReporter: the mount daemon's side of the status file (fs/cli/status_file.h). A thread
// writes, once a second, the store's name, the daemon's state (serving, flushing) and how far a
// write-back tree's store is behind; `phrfs status` and `phrfs umount` read it. Also the final
// flush at unmount: waits for pending uploads while they make progress. Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>
#include <thread>

#include "remote/cipher_tree.h"

namespace phrfs::fs {

class StatusReporter {
 public:
  // How long the final flush waits without any upload finishing before it leaves the rest to
  // the next mount (the cache's journal keeps it). Longer than a WebDAV key lock left by a
  // crashed writer takes to go stale (60 s), so that uploads queued behind one still land.
  static constexpr std::chrono::seconds kFlushPatience{150};

  StatusReporter(std::string store_label, remote::CipherTree& tree);
  // Stops the thread; removes the file unless uploads were left pending. Never touches the tree
  // (it is gone by then): FlushAtClose wrote the last word.
  ~StatusReporter();
  StatusReporter(const StatusReporter&) = delete;
  StatusReporter& operator=(const StatusReporter&) = delete;

  // The mount's access log sessions (hex ids): written as "log session" lines, so that
  // `phrfs audit` on this machine knows they are still being written (not truncated).
  void SetLogSessions(std::vector<std::string> sessions);
  // Starts writing (once the mount is ready).
  void Start();
  // At unmount, from Vault's on_close: flushes the tree, reporting "flushing" meanwhile, then
  // stops the thread and writes the final status. `tree` must still be alive.
  void FlushAtClose(remote::CipherTree& tree);

 private:
  void Run();
  void StopThread();
  void WriteNow();

  const std::string label_;
  remote::CipherTree& tree_;
  std::vector<std::string> log_sessions_;  // set before Start
  std::string path_;  // empty when no status folder could be had
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::string state_ = "serving";
  std::thread thread_;
  std::atomic<bool> left_pending_{false};
};

}  // namespace phrfs::fs
