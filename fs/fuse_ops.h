// The FUSE low-level operations table. Each callback decodes its request, calls one Vault
// method and replies exactly once; errors become errno only through ToErrno. Called by libfuse
// worker threads concurrently.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phrfs::fs {

class Vault;
class AccessLogger;

// Where a mount's accesses are logged: one log for every path (prefix ""), or in a grantee's
// mount one per owner, chosen by the path's first component ("/alice"), which is taken off: the
// owner reads the path as it is in their record ("/labs/x").
struct AccessLogs {
  std::vector<std::pair<std::string, AccessLogger*>> by_prefix;
  bool empty() const { return by_prefix.empty(); }
  // The log for `path` (null: none) and the length of its prefix.
  std::pair<AccessLogger*, size_t> For(std::string_view path) const;
};

struct FuseContext {
  Vault* vault;
  double attr_timeout;
  double entry_timeout;
  bool read_only;
  bool zero_open = false;  // set at init: the kernel takes ENOSYS from OPEN as "no open needed"
  AccessLogs logs;  // the mount's access log(s)
  struct fuse_session* session = nullptr;  // for notifications to the kernel (set before the loop)
};

const struct fuse_lowlevel_ops& FuseOperations();

}  // namespace phrfs::fs
