// LruCache: a small least-recently-used map from store keys to shared values (DirectTree's open
// descriptors). Values are shared_ptr, so evicting one never closes what a caller still uses.
// Thread-safe: one mutex per cache, held only for map operations, never across a syscall.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace phrfs::remote {

template <class V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  struct Lookup {
    std::shared_ptr<V> value;  // null on a miss
    uint64_t generation = 0;   // pass to Insert after opening what was missed
  };

  Lookup Find(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return {nullptr, generation_};
    order_.splice(order_.begin(), order_, it->second);
    return {it->second->second, generation_};
  }

  // Caches `value` unless an Erase*/Clear ran since `generation` was read: the value may then
  // be stale (opened before a rename replaced what the key names), so it is only not kept.
  void Insert(const std::string& key, std::shared_ptr<V> value, uint64_t generation) {
    std::lock_guard lock(mu_);
    if (generation != generation_ || capacity_ == 0 || index_.count(key) != 0) return;
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    while (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void Erase(const std::string& key) {
    std::lock_guard lock(mu_);
    ++generation_;
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  // `key` and every key below it ("key/..."); "" erases everything.
  void EraseTree(const std::string& key) {
    std::lock_guard lock(mu_);
    ++generation_;
    for (auto it = order_.begin(); it != order_.end();) {
      const std::string& k = it->first;
      bool below = key.empty() || k == key ||
                   (k.size() > key.size() && k.compare(0, key.size(), key) == 0 &&
                    k[key.size()] == '/');
      if (below) {
        index_.erase(k);
        it = order_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Clear() { EraseTree(""); }

  size_t size() const {
    std::lock_guard lock(mu_);
    return order_.size();
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<V>>;

  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
  uint64_t generation_ = 0;  // bumped by every removal
};

}  // namespace phrfs::remote
