// A small process-wide region for key material: mapped once, locked in memory (mlock, so keys
// never reach swap, whatever the user's privileges, within RLIMIT_MEMLOCK) and excluded from
// core dumps (MADV_DONTDUMP). SecureBytes allocates from it; when it is full, allocations fall
// back to the heap and are counted. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace phrfs {

struct SecureArenaStats {
  bool locked = false;    // mlock succeeded
  bool dontdump = false;  // MADV_DONTDUMP succeeded
  size_t capacity = 0;
  size_t in_use = 0;
  uint64_t heap_fallbacks = 0;  // allocations that did not fit
};

void* SecureAllocate(size_t n);
void SecureFree(void* p, size_t n);
SecureArenaStats GetSecureArenaStats();
// Locks the region (again): memory locks are not inherited across fork, so a daemon child calls
// this before serving. False when mlock failed (RLIMIT_MEMLOCK).
bool LockSecureArena();

template <class T>
struct SecureAllocator {
  using value_type = T;
  SecureAllocator() = default;
  template <class U>
  SecureAllocator(const SecureAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(SecureAllocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { SecureFree(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const SecureAllocator<U>&) const {
    return true;
  }
};

}  // namespace phrfs
