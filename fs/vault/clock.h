// The two clocks the vault reads: the wall clock for the times it stores (crypto::Timestamp),
// and a coarse monotonic clock for rate limits. Any thread.
#pragma once

#include <time.h>

#include <cstdint>

#include "crypto/node_format.h"

namespace phrfs::fs {

inline crypto::Timestamp Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return crypto::Timestamp{ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
}

inline int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace phrfs::fs
