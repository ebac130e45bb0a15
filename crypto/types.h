// Small value types of the crypto layer, so that ids and keys of different roles never mix.
// Plain values; any thread.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "crypto/format.h"

namespace phrfs::crypto {

struct FileId {
  std::array<uint8_t, kIdSize> bytes{};
  bool operator==(const FileId&) const = default;
};
struct DirId {
  std::array<uint8_t, kIdSize> bytes{};
  bool operator==(const DirId&) const = default;
};
struct StoreId {
  std::array<uint8_t, kIdSize> bytes{};
  bool operator==(const StoreId&) const = default;
};

// An access-log session (FORMAT "ACCESS LOG"): random, one per mount.
struct LogSessionId {
  std::array<uint8_t, kLogSessionIdSize> bytes{};
  auto operator<=>(const LogSessionId&) const = default;
  bool operator==(const LogSessionId&) const = default;
};

// The root directory's id: all zero bytes (FORMAT "LAYOUT").
inline constexpr DirId kRootDirId{};

}  // namespace phrfs::crypto
