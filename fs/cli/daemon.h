// Serving an unlocked store for `phrfs mount`: in the foreground, or in a forked daemon that
// reports through a readiness pipe whether the kernel mount came up, so that the command returns
// only once the mount is ready or has failed. Main thread, once per process.
#pragma once

#include <cstdio>
#include <string>

#include "base/log_level.h"
#include "config/remote_settings.h"
#include "remote/object_store.h"
#include "crypto/keys.h"
#include "crypto/log_key_sealer.h"
#include "fs/mount.h"
#include "fs/vault/key_domain.h"
#include "fs/store_setup.h"

namespace phrfs::fs {

// What the serving process needs, gathered (and checked) before it forks.
struct PreparedMount {
  std::string mountpoint;  // absolute
  MountOptions options;
  UnlockedStore store;  // its tree writes through
  // Remote stores: the store and the settings of the write-back cache that the serving process
  // puts between it and the vault (after the fork: the cache runs threads).
  std::shared_ptr<remote::ObjectStore> remote;
  config::CacheSettings cache;
  crypto::StoreKeys keys;
  SharedDomains shared_domains;  // the shared folders whose keys this mount holds
  // A grantee's mount: the folders shared with the person (VaultOptions::granted).
  bool grantee = false;
  // The access logs to start: for the paths under `prefix` ("" = all), sealed for the owner by
  // `sealer`, written as `writer` ("owner-passphrase", or an identity's fingerprint) for
  // `person`. Empty: this mount keeps no log.
  struct PlannedLog {
    std::string prefix;
    std::shared_ptr<crypto::SessionKeySealer> sealer;
    std::string writer;
    std::string person;
    // Where in the store the log goes: "" for the store's own log/, else the folder of an
    // owner's record ("owners/<fingerprint>") in a store of records.
    std::string folder;
    // A grantee's identity: signs the session's header (fs/audit/access_logger.h).
    std::shared_ptr<const crypto::Identity> signer;
  };
  std::vector<PlannedLog> logs;
  std::vector<VaultOptions::GrantedFolder> granted;
  FILE* log_file = nullptr;  // owned until handed to LogInit
  LogLevel log_level = LogLevel::kInfo;
};

// Serves in this process, logging to the log file or stderr, until the file system is
// unmounted; returns the exit code.
int ServeForeground(PreparedMount& prepared);

// Forks a daemon (new session, stdio on /dev/null, logging to the log file or syslog) that
// serves; returns 0 once it reports the mount ready, else its exit code after printing its
// one-line reason. In the daemon itself, returns when serving has ended.
int ServeDaemon(PreparedMount& prepared);

}  // namespace phrfs::fs
