// FaultyStore: an ObjectStore decorator for tests that fails chosen calls the way a flaky network
// does (Unavailable before the call, or after it took effect: a lost reply), can go offline, and
// counts the reads, stats and bytes it reads, and can slow reads down or hold calls at a gate
// (to order them against the caller's other work). Test-only.
// Thread-safe: the counters and faults are guarded by one mutex; calls reach the inner store
// concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <thread>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "remote/object_store.h"

namespace phrfs::remote::testing {

// Calls that reach a closed gate wait there until it opens. Open it before the caller's threads
// are joined (a tree's destructor waits for its store calls).
class Gate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  // Called by the store: waits while the gate is closed.
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    --waiting_;
  }
  // Until `n` calls wait at the gate; false after `limit`.
  bool AwaitWaiting(int n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int waiting_ = 0;
};

class FaultyStore final : public ObjectStore {
 public:
  explicit FaultyStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  // Renames wait here before they reach the inner store.
  Gate& rename_gate() { return rename_gate_; }
  // ReadIfMatch answers wait here once they are complete (bytes read and checked): a reply that
  // arrives late, after whatever the caller did meanwhile.
  Gate& read_reply_gate() { return read_reply_gate_; }
  // The next Rename takes effect and then reports Unavailable (a lost reply).
  void LoseNextRenameReply() {
    std::lock_guard lock(mu_);
    lose_next_rename_reply_ = true;
  }
  // The next Write takes effect and then reports Unavailable (a lost reply).
  void LoseNextWriteReply() {
    std::lock_guard lock(mu_);
    lose_next_write_reply_ = true;
  }
  // While set, every Read is Unavailable and the rest works (a server stalled for GETs only).
  void SetReadsUnavailable(bool unavailable) {
    std::lock_guard lock(mu_);
    reads_unavailable_ = unavailable;
  }

  // The n-th Write from now (1 = the next) fails with `code` and changes nothing.
  void FailNthWrite(uint64_t n, Code code) {
    std::lock_guard lock(mu_);
    fail_write_at_ = writes_ + n;
    fail_code_ = code;
  }
  // While offline every call is Unavailable and changes nothing.
  void SetOffline(bool offline) {
    std::lock_guard lock(mu_);
    offline_ = offline;
  }
  // Every call fails with probability `before` (nothing happens); every call that changes the
  // store takes effect and then reports Unavailable with probability `after` (a lost reply).
  void SetRandomFaults(uint32_t seed, double before, double after) {
    std::lock_guard lock(mu_);
    rng_.seed(seed);
    p_before_ = before;
    p_after_ = after;
  }
  void ClearFaults() {
    std::lock_guard lock(mu_);
    offline_ = false;
    p_before_ = p_after_ = 0;
    fail_write_at_ = 0;
  }
  uint64_t bytes_read() const {
    std::lock_guard lock(mu_);
    return bytes_read_;
  }
  uint64_t writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  // Ranged reads and Stats that reached the store (ReadIfMatch counts as its Read and Stat).
  uint64_t reads() const {
    std::lock_guard lock(mu_);
    return reads_;
  }
  uint64_t stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }
  uint64_t renames() const {
    std::lock_guard lock(mu_);
    return renames_;
  }
  // Every Read takes at least this long (so that concurrent callers overlap).
  void SetReadDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    read_delay_ = delay;
  }
  void ResetCounters() {
    std::lock_guard lock(mu_);
    bytes_read_ = 0;
    reads_ = 0;
    stats_ = 0;
  }

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& collection) override {
    if (auto f = Before()) return *f;
    return inner_->List(collection);
  }
  Result<ObjectInfo> DoStat(const std::string& path) override {
    if (auto f = Before()) return *f;
    {
      std::lock_guard lock(mu_);
      ++stats_;
    }
    return inner_->Stat(path);
  }
  Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                      size_t max_length) override {
    if (auto f = Before()) return *f;
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      if (reads_unavailable_) return Status::Error(Code::kUnavailable, "injected: reads stall");
      ++reads_;
      delay = read_delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    auto r = inner_->Read(path, offset, max_length);
    if (r.ok()) {
      std::lock_guard lock(mu_);
      bytes_read_ += r->size();
    }
    return r;
  }
  Result<std::vector<uint8_t>> DoReadIfMatch(const std::string& path, uint64_t offset,
                                             size_t max_length, const std::string& etag) override {
    auto r = ObjectStore::DoReadIfMatch(path, offset, max_length, etag);  // Read, then Stat
    read_reply_gate_.Pass();
    return r;
  }
  Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                              const Precondition& precondition) override {
    {
      std::lock_guard lock(mu_);
      ++writes_;
      if (fail_write_at_ != 0 && writes_ == fail_write_at_) {
        fail_write_at_ = 0;
        return Status::Error(fail_code_, "injected failure of write #" + std::to_string(writes_));
      }
    }
    if (auto f = Before()) return *f;
    auto r = inner_->Write(path, data, precondition);
    {
      std::lock_guard lock(mu_);
      if (r.ok() && lose_next_write_reply_) {
        lose_next_write_reply_ = false;
        return Lost("write " + path);
      }
    }
    if (r.ok() && LostReply()) return Lost("write " + path);
    return r;
  }
  Status DoDelete(const std::string& path, const Precondition& precondition) override {
    if (auto f = Before()) return *f;
    return After(inner_->Delete(path, precondition), "delete " + path);
  }
  Status DoMakeCollection(const std::string& path) override {
    if (auto f = Before()) return *f;
    return After(inner_->MakeCollection(path), "mkcol " + path);
  }
  Status DoRemoveCollection(const std::string& path) override {
    if (auto f = Before()) return *f;
    return After(inner_->RemoveCollection(path), "rmcol " + path);
  }
  Status DoRename(const std::string& from, const std::string& to, RenameOptions options) override {
    if (auto f = Before()) return *f;
    {
      std::lock_guard lock(mu_);
      ++renames_;
    }
    rename_gate_.Pass();
    Status st = inner_->Rename(from, to, options);
    {
      std::lock_guard lock(mu_);
      if (st.ok() && lose_next_rename_reply_) {
        lose_next_rename_reply_ = false;
        return Lost("rename " + from);
      }
    }
    return After(std::move(st), "rename " + from);
  }

 private:
  std::optional<Status> Before() {
    std::lock_guard lock(mu_);
    if (offline_) return Status::Error(Code::kUnavailable, "injected: offline");
    if (p_before_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p_before_) {
      return Status::Error(Code::kUnavailable, "injected: transient failure");
    }
    return std::nullopt;
  }
  bool LostReply() {
    std::lock_guard lock(mu_);
    return p_after_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p_after_;
  }
  static Status Lost(const std::string& what) {
    return Status::Error(Code::kUnavailable, "injected: lost reply of " + what);
  }
  Status After(Status st, const std::string& what) {
    if (st.ok() && LostReply()) return Lost(what);
    return st;
  }

  const std::shared_ptr<ObjectStore> inner_;
  mutable std::mutex mu_;
  std::mt19937 rng_;
  double p_before_ = 0;
  double p_after_ = 0;
  bool offline_ = false;
  uint64_t writes_ = 0;
  uint64_t fail_write_at_ = 0;
  Code fail_code_ = Code::kIoError;
  uint64_t bytes_read_ = 0;
  uint64_t reads_ = 0;
  uint64_t stats_ = 0;
  uint64_t renames_ = 0;
  std::chrono::milliseconds read_delay_{0};
  bool lose_next_rename_reply_ = false;
  bool lose_next_write_reply_ = false;
  bool reads_unavailable_ = false;
  Gate rename_gate_;
  Gate read_reply_gate_;
};

}  // namespace phrfs::remote::testing
