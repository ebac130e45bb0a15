// `phrfs share apply`'s work on a store (docs in man/phrfs-shares.5): turning a SharePlan into
// keyrings and moved objects.
// - A new share of a folder: a key domain is made (fresh keys, epoch 1); an empty folder becomes
//   its root at once; a folder with contents is copied into a new folder of the domain, the two
//   are swapped (RENAME_EXCHANGE) and the old tree is deleted, so a crash leaves the old folder
//   whole (a leftover ".NAME.phrfs-share" folder is removed by the next apply).
// - A rotation (any revocation): a new epoch with a new name key and a new content key, wrapped
//   to those who keep access; the keyring is written first, then every entry name in the domain
//   is re-encrypted under the new name key (an interrupted apply finishes this when run again).
//   New and rewritten files take the new epoch; with `reencrypt`, every file is rewritten now,
//   directory headers are resealed, and the old epochs are dropped from the keyring.
// - Grants, access and end-date changes: the keyring's table and stanzas.
// The store must not be mounted (the vault's lease). Main thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "config/shares_file.h"
#include "crypto/identity.h"
#include "crypto/keys.h"
#include "fs/share/share_plan.h"
#include "fs/shared_domains.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// An unlocked store as the share commands use it.
struct ShareStore {
  std::shared_ptr<remote::CipherTree> tree;  // writes through
  SecureBytes master_key;
  crypto::StoreId store_id;
};

// The plan's view of the store's shares.
std::vector<DomainState> CurrentShares(const std::vector<OwnedDomain>& domains);

struct ApplyOptions {
  bool reencrypt = false;
  config::CalendarDate today;
  std::string owner_name;
  // Progress lines ("moving /labs into its share: 120 files"); may be empty.
  std::function<void(const std::string&)> progress;
};

struct ApplyReport {
  size_t keyrings_written = 0;
  size_t files_moved = 0;        // copied into a new share
  size_t names_reencrypted = 0;  // at rotations
  size_t files_reencrypted = 0;  // --reencrypt
};

// Carries out `plan` (made by PlanShares from `desired` and CurrentShares). `file` gives the
// file:line of a share whose folder does not exist or is not a folder (InvalidArgument).
Result<ApplyReport> ApplyShares(ShareStore& store, const crypto::Identity& owner,
                                const config::SharesFile& file,
                                const std::vector<config::ResolvedShare>& desired,
                                const SharePlan& plan, const ApplyOptions& options);

}  // namespace phrfs::fs
