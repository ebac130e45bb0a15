// Helpers shared by the phrfs commands (fs/cli/*_command.cc): the one-line failure report, the
// STORE argument, scrypt costs and the process-wide protection of secrets. Main thread only.
#pragma once

#include <string>

#include "base/status.h"
#include "config/mount_config.h"
#include "crypto/identity.h"
#include "crypto/kdf.h"
#include "fs/store_open.h"
#include "fs/cli/exit_codes.h"

namespace phrfs::fs {

// --scrypt-logn of init and passwd: N = 2^LOGN.
inline constexpr int kDefaultScryptLogN = 17;
inline constexpr int kMinScryptLogN = 10;
inline constexpr int kMaxScryptLogN = 20;

// `text` with its line breaks turned into spaces, so that a reason stays on one line.
std::string OneLine(std::string text);

// Prints "phrfs: <message>" on stderr and returns the exit code for `status` at `step`.
int Fail(Step step, const Status& status);

crypto::ScryptParams ScryptFor(int logn);

// phrfs.yaml(5): `path` when given, else $PHRFS_CONFIG, else no file (all settings absent).
Result<config::MountConfig> LoadConfigFile(const std::string& path);

// STORE (a directory, file:///path, webdav[s]://... or s3://...) opened with the remote
// settings of `file` and the environment (fs/store_open.h). The environment's secrets are
// scrubbed afterwards unless `keep_secrets` (a command that opens a second store, then
// scrubs them with ScrubSecretEnvironment).
Result<OpenedStore> OpenStoreArg(const std::string& store, const config::MountConfig& file,
                                 bool create, TreeAccess access = TreeAccess::kDirect,
                                 bool keep_secrets = false);

// An owner's record in a store of records (fs/owner_records.h), opened as a store of its own
// and unlocked with the owner's identity. NotFound when `identity` owns no record in `store`.
Result<UnlockedStore> OpenOwnerRecordArg(const std::string& store, const config::MountConfig& file,
                                         const crypto::Identity& identity,
                                         TreeAccess access = TreeAccess::kDirect);

// Keeps secrets out of core files and other users' debuggers; applies to every command.
void ProtectSecrets();

// Once a store is open: wipes the secrets the environment carried (AWS_SECRET_ACCESS_KEY,
// PHRFS_WEBDAV_PASSWORD) in place, so that /proc/PID/environ of a long-lived mount daemon
// no longer shows them, and removes them from the environment.
void ScrubSecretEnvironment();

}  // namespace phrfs::fs
