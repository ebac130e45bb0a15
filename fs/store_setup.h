// Creating, unlocking and re-keying a store on the local disk: reads and writes STORE/phrfs.conf
// and creates the root directory's folder. Used by the command line only; any single thread.
#pragma once

#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/kdf.h"
#include "crypto/store_config.h"
#include "remote/local_tree.h"

namespace phrfs::fs {

struct UnlockedStore {
  remote::Fd root;  // O_DIRECTORY descriptor of the store's root
  crypto::StoreConfig config;
  SecureBytes master_key;
};

// The store's root directory, opened. NotFound when it is missing or not a directory, so that a
// command can refuse a mistyped STORE before it asks for a passphrase.
Result<remote::Fd> OpenStoreDir(const std::string& store_dir);

// Creates the store at `store_dir` (made if missing; AlreadyExists when it holds a phrfs.conf or
// anything else). Returns the recovery key, formatted for printing once.
Result<std::string> InitStore(const std::string& store_dir, std::string_view passphrase,
                              const crypto::ScryptParams& params);

// NotFound when the store or its config is missing; Corrupt / NotSupported when the config is
// damaged or from an unknown version; WrongKey for a wrong passphrase.
Result<UnlockedStore> UnlockStore(const std::string& store_dir, std::string_view passphrase);
Result<UnlockedStore> UnlockStoreWithRecoveryKey(const std::string& store_dir,
                                                 std::string_view recovery_key_text);

// Re-wraps the master key under `new_passphrase` and replaces phrfs.conf atomically.
Status ChangeStorePassphrase(UnlockedStore& store, std::string_view new_passphrase,
                             const crypto::ScryptParams& params);

}  // namespace phrfs::fs
