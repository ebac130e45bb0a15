// Placeholder for the v1 -> v2 store conversion (fs/upgrade.h), so that `phrfs upgrade` builds
// and its command line can be tested; the real conversion replaces this file.
#include "fs/upgrade.h"

namespace phrfs::fs {

Status UpgradeStore(const std::string& /*store_dir*/, std::string_view /*passphrase*/,
                    const std::function<void(const UpgradeProgress&)>& /*progress*/) {
  return Status::NotSupported("upgrade is not built yet");
}

}  // namespace phrfs::fs
