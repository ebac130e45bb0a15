// The phrfs commands, one file each (fs/cli/init_command.cc, ...): the arguments cli.cc parses
// for them and the functions that run them. Each Run* returns the process exit code
// (fs/cli/exit_codes.h) after printing any failure as one line on stderr. Main thread only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fs/cli/command_util.h"
#include "fs/mount.h"

namespace phrfs::fs {

struct InitArgs {
  std::string store;
  std::string passfile;  // with --identity: the identity's passphrase
  std::string config;
  int scrypt_logn = kDefaultScryptLogN;
  // An owner's record unlocked by an identity, in a store of records (fs/owner_records.h).
  std::string owner;
  std::string identity;
};

struct MountArgs {
  std::string store;
  std::string mountpoint;
  std::string passfile;
  std::string config;
  bool foreground = false;
  bool read_only = false;
  std::string log_file;
  std::string log_level;
  TreeAccess tree = TreeAccess::kDirect;
  std::string cache_dir;  // remote stores: the ciphertext cache (default: per store, phrfs.yaml(5))
  // A grantee's mount: the person's identity file (--passfile then holds its passphrase), and
  // the date taken as today for grants' last days (tests; default today, UTC).
  std::string identity;
  std::string today;
  std::string person;  // the name the access log shows for this mount's user (grantee mounts)
  // With an identity that owns a record in the store: show what others share with it instead.
  bool shared = false;
  // Owners' keys seen by grantee mounts (config/known_owners.h); "" = the default file.
  std::string known_owners;
  std::vector<std::string> fuse_options;  // as given to -o, still comma-separated
};

struct UmountArgs {
  std::string mountpoint;
};

struct StatusArgs {
  std::string mountpoint;
};

struct PasswdArgs {
  std::string store;
  std::string passfile;
  std::string config;
  std::string new_passfile;
  std::string recovery_keyfile;
  std::optional<int> scrypt_logn;
};

struct UpgradeArgs {
  std::string store;
  std::string passfile;
};

// ---- phrfs identity (personal identities for sharing; fs/cli/identity_command.cc) ----
struct IdentityNewArgs {
  std::string file;
  std::string passfile;
  int scrypt_logn = kDefaultScryptLogN;
};

struct IdentityShowArgs {
  std::string file;
};

// ---- phrfs share (fs/cli/share_command.cc) ----
struct ShareArgs {
  std::string action;  // "plan", "apply" or "list"
  std::string store;
  std::string shares_file;
  std::string identity;           // the owner's identity file (signs keyrings)
  std::string identity_passfile;  // its passphrase
  std::string passfile;           // the store's passphrase
  std::string config;
  bool reencrypt = false;
  std::string today;  // YYYY-MM-DD; default: today (UTC). For tests and dry runs of expiry.
};
int RunShare(const ShareArgs& args);
// ---- end phrfs share ----

int RunIdentityNew(const IdentityNewArgs& args);
int RunIdentityShow(const IdentityShowArgs& args);
// ---- end phrfs identity ----
struct AuditArgs {
  std::string store;
  std::string passfile;
  std::string identity;           // the owner's identity file: opens identity-sealed sessions
  std::string identity_passfile;  // its passphrase; "" = ask on the terminal
  bool identity_only = false;     // never read the store passphrase
  std::string config;
  std::string person;  // "" = everyone
  std::string since;   // UTC date or date-time; "" = from the start
  std::string path;    // "" = every path
  bool json = false;
};

int RunInit(const InitArgs& args);
int RunMount(const MountArgs& args);
int RunUmount(const UmountArgs& args);
int RunPasswd(const PasswdArgs& args);
int RunStatus(const StatusArgs& args);
int RunUpgrade(const UpgradeArgs& args);
int RunAudit(const AuditArgs& args);

}  // namespace phrfs::fs
