// Serving a vault through FUSE 3 (low-level API): session setup, the kernel mount, the
// multi-threaded loop and teardown. Called once per process from the command line's mount path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "fs/audit/access_logger.h"
#include "fs/store_setup.h"  // TreeAccess
#include "fs/vault/vault.h"

namespace phrfs::fs {

struct MountOptions {
  bool read_only = false;
  TreeAccess tree = TreeAccess::kDirect;
  bool fuse_debug = false;                // libfuse's own request tracing (-o debug)
  std::vector<std::string> fuse_options;  // from -o, already split at commas
  double attr_timeout = 1.0;              // seconds the kernel may cache attributes
  double entry_timeout = 1.0;             // seconds the kernel may cache name lookups
  unsigned max_threads = 8;
};

// Mounts `vault` at `mountpoint` and serves requests until the file system is unmounted or the
// process gets SIGTERM/SIGINT/SIGHUP. `ready` is called exactly once, from this thread: with Ok
// once the kernel mount is in place, or with the error when mounting failed (ServeMount then
// returns that error too). The Kernel mount is always undone before this returns.
// A mount's access log for the paths under `prefix` ("" = all).
struct MountLog {
  std::string prefix;
  std::unique_ptr<AccessLogger> logger;
  // The tree the logger writes through when it is not the vault's own (a folder of it); the
  // logger is destroyed first (see ~MountLog).
  std::unique_ptr<remote::CipherTree> tree;
  ~MountLog() { logger.reset(); }
  MountLog(std::string p, std::unique_ptr<AccessLogger> l, std::unique_ptr<remote::CipherTree> t = nullptr)
      : prefix(std::move(p)), logger(std::move(l)), tree(std::move(t)) {}
  MountLog(MountLog&&) = default;
  MountLog& operator=(MountLog&&) = default;
};
// `logs` (may be empty): the mount's access logs; closed (their last batches written) once
// serving has ended, before the vault lets go of the store.
Status ServeMount(std::unique_ptr<Vault> vault, const std::string& mountpoint,
                  const MountOptions& options, const std::function<void(const Status&)>& ready,
                  std::vector<MountLog> logs = {});

}  // namespace phrfs::fs
