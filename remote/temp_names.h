// Temporary object names (".tmp." + 16 random hex digits): the one definition every store and
// tree uses, so that listings everywhere can tell a half-written object from an entry.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace phrfs::remote {

inline constexpr char kTempPrefix[] = ".tmp.";

Result<std::string> NewTempName();
inline bool IsTempName(std::string_view name) {
  return name.substr(0, sizeof(kTempPrefix) - 1) == kTempPrefix;
}

}  // namespace phrfs::remote
