// Upgrading a store in place from format v1 to v2 (man phrfs-format(5), FORMAT "UPGRADE"), for
// `phrfs upgrade`. One call at a time per store; `progress` is called on the calling thread.
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

// Converts the v1 store at `store_dir` to format v2 in place (FORMAT "UPGRADE"). Resumable:
// running it again after an interruption finishes the job. AlreadyExists when the store is v2.
Status UpgradeStore(const std::string& store_dir, std::string_view passphrase,
                    const std::function<void(const UpgradeProgress&)>& progress);

}  // namespace phrfs::fs
