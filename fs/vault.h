// The encrypted tree (DESIGN "Layers"): maps plaintext names and byte ranges onto ciphertext
// objects in a local store, one folder per directory id. Owns the inode table and the per-inode
// content state. Thread-safe: called concurrently from FUSE worker threads (lock order is written
// beside each lock in vault.cc).
#pragma once

#include <memory>

#include "base/status.h"
#include "crypto/keys.h"
#include "remote/local/posix_io.h"

namespace phrfs::fs {

struct VaultOptions {
  bool read_only = false;
};

class VaultImpl;

class Vault {
 public:
  // `store_root` is an O_DIRECTORY descriptor of an initialised store.
  static Result<std::unique_ptr<Vault>> Create(remote::Fd store_root, crypto::StoreKeys keys,
                                               const VaultOptions& options);
  ~Vault();
  VaultImpl& impl() { return *impl_; }

 private:
  explicit Vault(std::unique_ptr<VaultImpl> impl);
  std::unique_ptr<VaultImpl> impl_;
};

}  // namespace phrfs::fs
