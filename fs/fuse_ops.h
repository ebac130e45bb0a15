// The FUSE low-level operations table. Each callback decodes its request, calls one Vault
// method and replies exactly once; errors become errno only through ToErrno. Called by libfuse
// worker threads concurrently.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

namespace phrfs::fs {

class Vault;
class AccessLogger;

struct FuseContext {
  Vault* vault;
  double attr_timeout;
  double entry_timeout;
  bool read_only;
  bool zero_open = false;  // set at init: the kernel takes ENOSYS from OPEN as "no open needed"
  AccessLogger* log = nullptr;  // the mount's access log; null when it keeps none
};

const struct fuse_lowlevel_ops& FuseOperations();

}  // namespace phrfs::fs
