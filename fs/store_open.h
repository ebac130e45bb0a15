// Opening what a STORE argument names (phrfs(1)): a local directory, a WebDAV collection or an
// S3 prefix, with the remote settings of phrfs.yaml(5) and the environment. Gives the tree the
// commands work through (write-through: init, passwd, upgrade, unlocking a mount) and, for a
// remote store, the ObjectStore that a mount puts its write-back cache on (fs/cli/daemon.cc).
// Main thread; the returned objects are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "config/mount_config.h"
#include "config/remote_settings.h"
#include "config/store_url.h"
#include "fs/store_setup.h"
#include "remote/cipher_tree.h"
#include "remote/object_store.h"

namespace phrfs::fs {

struct OpenedStore {
  config::StoreUrl url;
  std::string label;  // the store as the user named it (no credentials: URLs never hold any)
  std::unique_ptr<remote::CipherTree> tree;     // write-through
  std::shared_ptr<remote::ObjectStore> remote;  // remote stores only; null for a directory
};

struct StoreOpenOptions {
  TreeAccess access = TreeAccess::kDirect;  // local directories only
  // init: a missing local directory or WebDAV collection is made (one level).
  bool create = false;
  const config::MountConfig* file = nullptr;  // phrfs.yaml's remote sections; may be null
  config::EnvLookup env;                      // empty = the process environment
};

// InvalidArgument for a malformed STORE or remote setting (the message says which);
// NotFound for a missing directory, collection or bucket; PermissionDenied when the server
// refuses the credentials; Unavailable when it does not answer.
Result<OpenedStore> OpenStore(const std::string& store, const StoreOpenOptions& options);

// The cache folder of a remote store when --cache-dir and cache.dir name none of their own:
// a folder per store under `cache_root` (from config::ResolveCacheSettings), named by a hash of
// the store's URL and id, so that two copies of one store never share a cache.
std::string DefaultCacheDir(const std::string& cache_root, const std::string& store_label,
                            const crypto::StoreId& store_id);

}  // namespace phrfs::fs
