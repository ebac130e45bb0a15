// The plaintext paths of directories lately named by the access log (Vault::PathOf), so that a
// logged access walks no ancestor. An entry holds for one generation of the directories' paths:
// the vault starts a new generation whenever a directory may move or leave the tree (a rename
// that involves a directory, rmdir, a directory the kernel forgot), and entries of older ones
// are misses. Memory only; bounded (emptied when full). Thread-safe: its own leaf lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace phrfs::fs {

class DirPathCache {
 public:
  // Read before a walk of the tree; what the walk finds is stored under it.
  uint64_t generation() const { return generation_.load(); }
  // Called after the change (a reader that read the old generation then stores a path that is
  // already a miss).
  void NewGeneration() { generation_.fetch_add(1); }

  std::optional<std::string> Find(uint64_t ino, uint64_t generation) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(ino);
    if (it == entries_.end() || it->second.generation != generation) return std::nullopt;
    return it->second.path;
  }
  void Store(uint64_t ino, uint64_t generation, std::string path) {
    std::lock_guard lock(mu_);
    if (generation != generation_.load()) return;
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.insert_or_assign(ino, Entry{generation, std::move(path)});
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  struct Entry {
    uint64_t generation;
    std::string path;
  };
  std::atomic<uint64_t> generation_{0};
  mutable std::mutex mu_;  // guards entries_; leaf lock
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace phrfs::fs
