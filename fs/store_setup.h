// Creating, unlocking and re-keying a store through its CipherTree: reads and writes phrfs.conf
// (FORMAT "STORE CONFIG") and, at init, lays out an empty v2 tree (the root's node object and
// folder). Also opens a local store directory as a tree. Used by the command line and by
// `phrfs upgrade`; any single thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/store_config.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// How a local store directory is reached: with positioned I/O (the default, no cache), or only
// through whole-object operations, the way remote stores are reached (for testing that path).
enum class TreeAccess { kDirect, kObjects };

// Opens `dir` as a tree. NotFound / NotADirectory when it is missing or not a directory; with
// `create`, a missing directory is made (0700).
Result<std::unique_ptr<remote::CipherTree>> OpenLocalStoreTree(const std::string& dir,
                                                               TreeAccess access, bool create);

struct UnlockedStore {
  std::unique_ptr<remote::CipherTree> tree;
  std::string label;  // the store as the user named it, for messages
  crypto::StoreConfig config;
  SecureBytes master_key;
  // An identity-owned record's owner name (fs/owner_records.h); empty for a passphrase store.
  std::string owner_name;
};

// The whole of a small object (a config, a keyring): Corrupt when it is a folder or larger
// than `max_size`; the tree's errors otherwise (NotFound when it is missing).
Result<std::string> ReadSmallObject(remote::CipherTree& tree, const std::string& path,
                                    size_t max_size);

// Lays out an empty v2 tree under `keys` (the root's node object and folder) and writes
// `config_text` as `config_name` last. AlreadyExists when the tree holds that config or anything
// else. Used by InitStore and by identity-owned records (fs/owner_records.h).
Status LayOutEmptyTree(remote::CipherTree& tree, const std::string& label,
                       const crypto::StoreKeys& keys, const std::string& config_name,
                       const std::string& config_text);

// Initialises an empty tree as a v2 store. AlreadyExists when it holds a phrfs.conf or anything
// else. Returns the recovery key, formatted for printing once.
Result<std::string> InitStore(remote::CipherTree& tree, const std::string& label,
                              std::string_view passphrase, const crypto::ScryptParams& params);

// NotFound when the config is missing; Corrupt / NotSupported when it is damaged or from an
// unknown version; WrongKey for a wrong passphrase. A v1 config unlocks too (for upgrade): the
// caller checks config.version.
Result<UnlockedStore> UnlockStore(std::unique_ptr<remote::CipherTree> tree,
                                  const std::string& label, std::string_view passphrase);
Result<UnlockedStore> UnlockStoreWithRecoveryKey(std::unique_ptr<remote::CipherTree> tree,
                                                 const std::string& label,
                                                 std::string_view recovery_key_text);

// Re-wraps the master key under `new_passphrase` and replaces phrfs.conf atomically.
Status ChangeStorePassphrase(UnlockedStore& store, std::string_view new_passphrase,
                             const crypto::ScryptParams& params);
// Replaces phrfs.conf atomically and makes it durable.
Status WriteStoreConfig(remote::CipherTree& tree, const crypto::StoreConfig& config);

// The root directory's node object (FORMAT "LAYOUT"), owned by the calling user, mode 0700.
Result<std::vector<uint8_t>> NewRootObject(const crypto::StoreKeys& keys);

}  // namespace phrfs::fs
