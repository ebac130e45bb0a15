// Temporary names: the one reserved prefix under which trees and stores stage a write (or park
// an object during a swap) next to its final name, so that rename makes it appear atomically.
// Thread-safe: pure functions, plus getrandom(2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace phrfs::remote {

// Every temporary name starts with this. Encrypted store names never start with '.', so the
// prefix cannot collide with content; listings hide such names (a crash may leave them behind).
inline constexpr char kTempPrefix[] = ".tmp.";

// kTempPrefix + 16 random hex digits. Fails only when the kernel's random source does.
Result<std::string> NewTempName();

bool IsTempName(std::string_view name);

// InvalidArgument when any component of an already split key is a temporary name: callers may
// not reach (or create) what a tree or store stages out of sight. `key` is for the message.
Status RejectTempNames(const std::vector<std::string>& parts, const std::string& key);

}  // namespace phrfs::remote
