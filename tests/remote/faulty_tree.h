// FaultyTree: a CipherTree decorator for tests that makes chosen writes fail, the way a full or
// failing disk does, and counts the calls that change the tree. Test-only.
// Thread-safe: the counters and armed faults are guarded by one mutex; calls go through to the
// inner tree concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "remote/cipher_tree.h"

namespace phrfs::remote::testing {

class FaultyTree final : public CipherTree {
 public:
  explicit FaultyTree(std::shared_ptr<CipherTree> inner) : inner_(std::move(inner)) {}

  // The n-th write from now (n = 1: the next) among WriteAt, Put, Truncate and Reserve fails
  // with `code` and changes nothing. Replaces an earlier FailNthWrite that has not fired.
  void FailNthWrite(uint64_t n, Code code) {
    std::lock_guard lock(mu_);
    fail_at_ = writes_ + n;
    fail_code_ = code;
  }
  // The n-th WriteAt from now passes only the first half of its bytes (rounded down) to the
  // inner tree and then returns NoSpace: the mix a real disk can leave behind. When FailNthWrite
  // picks the same call, the failure wins and the short write is spent.
  void ShortNthWrite(uint64_t n) {
    std::lock_guard lock(mu_);
    short_at_ = write_ats_ + n;
  }
  // Disarms every fault that has not fired yet.
  void ClearFaults() {
    std::lock_guard lock(mu_);
    fail_at_ = 0;
    short_at_ = 0;
  }
  // Writes (WriteAt, Put, Truncate, Reserve) seen so far, failed ones included.
  uint64_t writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  // Every call that may change the tree: the writes plus Delete, MakeFolder, RemoveFolder,
  // Move, Exchange and Link.
  uint64_t mutating_calls() const {
    std::lock_guard lock(mu_);
    return mutating_;
  }

  bool SupportsLinks() const override { return inner_->SupportsLinks(); }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override {
    return inner_->List(folder);
  }
  Result<TreeStat> Stat(const std::string& path) override { return inner_->Stat(path); }
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override {
    return inner_->Read(path, offset, out);
  }
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override {
    if (auto fault = CountWrite(false)) return *fault;
    return inner_->Put(path, data, mode);
  }
  Status WriteAt(const std::string& path, uint64_t offset,
                 std::span<const uint8_t> data) override {
    bool short_write = false;
    if (auto fault = CountWrite(true, &short_write)) return *fault;
    if (!short_write) return inner_->WriteAt(path, offset, data);
    Status st = inner_->WriteAt(path, offset, data.first(data.size() / 2));
    if (!st.ok()) return st;
    return Status::Error(Code::kNoSpace, "injected short write of " + path);
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    if (auto fault = CountWrite(false)) return *fault;
    return inner_->Truncate(path, size);
  }
  Status Reserve(const std::string& path, uint64_t size) override {
    if (auto fault = CountWrite(false)) return *fault;
    return inner_->Reserve(path, size);
  }
  Status Sync(const std::string& path) override { return inner_->Sync(path); }
  Status Delete(const std::string& path) override {
    CountMutation();
    return inner_->Delete(path);
  }
  Status MakeFolder(const std::string& path) override {
    CountMutation();
    return inner_->MakeFolder(path);
  }
  Status RemoveFolder(const std::string& path) override {
    CountMutation();
    return inner_->RemoveFolder(path);
  }
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override {
    CountMutation();
    return inner_->Move(from, to, mode);
  }
  Status Exchange(const std::string& a, const std::string& b) override {
    CountMutation();
    return inner_->Exchange(a, b);
  }
  Status Link(const std::string& from, const std::string& to) override {
    CountMutation();
    return inner_->Link(from, to);
  }
  Result<TreeSpace> Space() override { return inner_->Space(); }
  Result<std::unique_ptr<TreeLease>> AcquireLease() override { return inner_->AcquireLease(); }

 private:
  // Counts one write; returns the injected failure if this is the armed one.
  std::optional<Status> CountWrite(bool is_write_at, bool* short_write = nullptr) {
    std::lock_guard lock(mu_);
    ++mutating_;
    ++writes_;
    if (is_write_at) ++write_ats_;
    if (fail_at_ != 0 && writes_ == fail_at_) {
      fail_at_ = 0;
      if (is_write_at && write_ats_ == short_at_) short_at_ = 0;
      return Status::Error(fail_code_, "injected failure of write #" + std::to_string(writes_));
    }
    if (is_write_at && short_at_ != 0 && write_ats_ == short_at_) {
      short_at_ = 0;
      *short_write = true;
    }
    return std::nullopt;
  }
  void CountMutation() {
    std::lock_guard lock(mu_);
    ++mutating_;
  }

  const std::shared_ptr<CipherTree> inner_;
  mutable std::mutex mu_;
  uint64_t writes_ = 0;
  uint64_t write_ats_ = 0;
  uint64_t mutating_ = 0;
  uint64_t fail_at_ = 0;  // 0 = not armed
  Code fail_code_ = Code::kIoError;
  uint64_t short_at_ = 0;  // 0 = not armed
};

}  // namespace phrfs::remote::testing
