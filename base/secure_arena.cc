#include "base/secure_arena.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <openssl/crypto.h>

namespace phrfs {
namespace {

// Keys are 32 or 64 bytes and a mount holds a few dozen: 64 KiB is far more than needed and
// far below the smallest RLIMIT_MEMLOCK in use (64 KiB on old systems, 8 MiB on Debian 12).
constexpr size_t kArenaSize = 64 * 1024;
constexpr size_t kGrain = 32;

size_t RoundUp(size_t n) {
  return (n + kGrain - 1) / kGrain * kGrain;
}

class Arena {
 public:
  Arena() {
    void* p = mmap(nullptr, kArenaSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<uint8_t*>(p);
    stats_.capacity = kArenaSize;
    stats_.dontdump = madvise(base_, kArenaSize, MADV_DONTDUMP) == 0;
    stats_.locked = mlock(base_, kArenaSize) == 0;
    free_[0] = kArenaSize;
  }

  void* Allocate(size_t n) {
    const size_t need = RoundUp(n == 0 ? 1 : n);
    {
      std::lock_guard lock(mu_);
      for (auto it = free_.begin(); base_ != nullptr && it != free_.end(); ++it) {
        if (it->second < need) continue;
        const size_t offset = it->first;
        const size_t left = it->second - need;
        free_.erase(it);
        if (left > 0) free_[offset + need] = left;
        stats_.in_use += need;
        return base_ + offset;
      }
      ++stats_.heap_fallbacks;
    }
    void* p = std::malloc(need);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  void Free(void* p, size_t n) {
    if (p == nullptr) return;
    const size_t size = RoundUp(n == 0 ? 1 : n);
    auto* bytes = static_cast<uint8_t*>(p);
    OPENSSL_cleanse(bytes, size);
    if (base_ == nullptr || bytes < base_ || bytes >= base_ + kArenaSize) {
      std::free(p);
      return;
    }
    std::lock_guard lock(mu_);
    size_t offset = static_cast<size_t>(bytes - base_);
    size_t length = size;
    stats_.in_use -= size;
    // Coalesce with the neighbours.
    auto next = free_.lower_bound(offset);
    if (next != free_.end() && next->first == offset + length) {
      length += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        prev->second += length;
        return;
      }
    }
    free_[offset] = length;
  }

  bool Lock() {
    std::lock_guard lock(mu_);
    if (base_ == nullptr) return false;
    stats_.locked = mlock(base_, kArenaSize) == 0;
    return stats_.locked;
  }

  SecureArenaStats Stats() {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  uint8_t* base_ = nullptr;
  std::mutex mu_;
  std::map<size_t, size_t> free_;  // offset -> length, guarded by mu_
  SecureArenaStats stats_;
};

Arena& TheArena() {
  static Arena* arena = new Arena();  // never destroyed: keys may be freed during exit
  return *arena;
}

}  // namespace

void* SecureAllocate(size_t n) {
  return TheArena().Allocate(n);
}
void SecureFree(void* p, size_t n) {
  TheArena().Free(p, n);
}
SecureArenaStats GetSecureArenaStats() {
  return TheArena().Stats();
}
bool LockSecureArena() {
  return TheArena().Lock();
}

}  // namespace phrfs
