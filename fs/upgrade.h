// `phrfs upgrade`: converts a format-v1 store (a local directory) to v2 in place (FORMAT
// "UPGRADE"). Each object is rewritten on its own, atomically (temporary + fsync + rename), and
// the store config goes last; an interrupted upgrade leaves a store that the next run finishes.
// Any single thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace phrfs::fs {

struct UpgradeProgress {
  uint64_t done = 0;
  uint64_t total = 0;
};

// Converts the v1 store at `store_dir` to format v2 in place. Resumable: running it again after
// an interruption finishes the job. AlreadyExists when the store is v2 already; WrongKey for a
// wrong passphrase.
Status UpgradeStore(const std::string& store_dir, std::string_view passphrase,
                    const std::function<void(const UpgradeProgress&)>& progress);

}  // namespace phrfs::fs
