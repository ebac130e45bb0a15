// CachedTree as a write-back CipherTree: SyncState and FlushAll (remote/cipher_tree.h) in terms
// of GetStatus and Flush.
#include "remote/cache/cached_tree.h"

namespace phrfs::remote {

std::optional<TreeSyncState> CachedTree::SyncState() {
  CacheStatus status = GetStatus();
  TreeSyncState state;
  state.pending_uploads = status.pending_ops + status.pending_uploads;
  state.bytes_queued = status.bytes_queued;
  state.conflicts = status.conflicts;
  state.offline = !status.store_reachable;
  state.last_error = status.last_error;
  return state;
}

Status CachedTree::FlushAll(const std::function<bool()>& give_up) {
  for (;;) {
    Status st = Flush(std::chrono::seconds(1));
    if (st.ok() || st.code() != Code::kUnavailable) return st;
    if (give_up()) return st;
  }
}

}  // namespace phrfs::remote
