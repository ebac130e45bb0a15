// RunCli: the phrfs command line's options and help texts (CLI11), and the dispatch to one
// command (fs/cli/commands.h). What a command does lives in its own file.
#include "fs/cli/cli.h"

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "base/version.h"
#include "fs/cli/command_util.h"
#include "fs/cli/commands.h"

namespace phrfs::fs {

int RunCli(int argc, char** argv) {
  ProtectSecrets();
  CLI::App app{"phrfs: an encrypted file system for personal health records", "phrfs"};
  app.set_version_flag("--version", std::string("phrfs ") + PHRFS_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer("Run 'phrfs COMMAND --help' for a command's options; see phrfs(1).");

  auto logn_check = CLI::Range(kMinScryptLogN, kMaxScryptLogN);

  InitArgs init;
  CLI::App* init_cmd = app.add_subcommand("init", "Create a new, empty store");
  init_cmd->add_option("STORE", init.store,
                       "Store: a directory (created if missing; must be empty), webdav[s]://HOST[:PORT]/PATH or s3://BUCKET/PREFIX")
      ->required();
  init_cmd->add_option("--config", init.config, "Remote store settings (phrfs.yaml(5))")
      ->type_name("FILE");
  init_cmd->add_option("--passfile", init.passfile,
                       "Read the passphrase from the first line of FILE")
      ->type_name("FILE");
  init_cmd->add_option("--scrypt-logn", init.scrypt_logn,
                       "scrypt cost: N = 2^LOGN (10..20, default 17)")
      ->type_name("LOGN")
      ->check(logn_check);
  CLI::Option* init_owner =
      init_cmd->add_option("--owner", init.owner,
                           "Create NAME's record, unlocked by --identity, in a store that holds "
                           "the records of many owners")
          ->type_name("NAME");
  init_cmd->add_option("--identity", init.identity,
                       "With --owner: the owner's identity file (--passfile then holds its "
                       "passphrase)")
      ->type_name("FILE")
      ->needs(init_owner);
  init_owner->needs("--identity");

  MountArgs mount;
  CLI::App* mount_cmd = app.add_subcommand("mount", "Mount a store's plaintext view");
  mount_cmd->add_option("STORE", mount.store,
                        "Store: a directory, webdav[s]://HOST[:PORT]/PATH or s3://BUCKET/PREFIX")
      ->required();
  mount_cmd->add_option("MOUNTPOINT", mount.mountpoint, "Empty directory to mount on")->required();
  mount_cmd->add_option("--passfile", mount.passfile,
                        "Read the passphrase from the first line of FILE")
      ->type_name("FILE");
  mount_cmd->add_option("--config", mount.config, "Mount settings (phrfs.yaml(5))")
      ->type_name("FILE");
  mount_cmd->add_flag("-f,--foreground", mount.foreground,
                      "Stay in the foreground; log to stderr");
  mount_cmd->add_flag("--read-only", mount.read_only, "Mount read-only");
  mount_cmd->add_option("--identity", mount.identity,
                        "Mount as this person: their own record when they own one in the store, "
                        "else the folders shared with them (--passfile then holds the "
                        "identity's passphrase)");
  mount_cmd->add_flag("--shared", mount.shared,
                      "With --identity: show the folders others share with this identity, not "
                      "the record it owns in the store");
  mount_cmd->add_option("--known-owners", mount.known_owners,
                        "With --identity: the file of owners' keys seen before (default "
                        "$XDG_CONFIG_HOME/phrfs/known-owners)")
      ->type_name("FILE");
  mount_cmd->add_option("--person", mount.person,
                        "With --identity: the name the owners' access logs show for you "
                        "(default: the identity's fingerprint)");
  mount_cmd->add_option("--today", mount.today, "Take this date (YYYY-MM-DD) as today for grants' "
                        "last days")->group("");
  mount_cmd->add_option("--cache-dir", mount.cache_dir,
                        "Remote stores: the folder of the local ciphertext cache")
      ->type_name("DIR");
  mount_cmd->add_option("--log-file", mount.log_file, "Append log lines to FILE")
      ->type_name("FILE");
  mount_cmd->add_option("--log-level", mount.log_level, "error, warning, info (default) or debug")
      ->type_name("LEVEL");
  std::string mount_tree = "direct";
  mount_cmd->add_option("--tree", mount_tree,
                        "How to reach the store: direct (default) or objects (for testing)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"direct", "objects"}));
  mount_cmd->add_option("-o", mount.fuse_options, "Comma-separated FUSE mount options")
      ->type_name("OPTIONS")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);

  UmountArgs umount;
  CLI::App* umount_cmd = app.add_subcommand("umount", "Unmount and wait until it is done");
  umount_cmd->add_option("MOUNTPOINT", umount.mountpoint, "Where the store is mounted")
      ->required();

  StatusArgs status;
  CLI::App* status_cmd =
      app.add_subcommand("status", "Show a mount's store, pending uploads and conflicts");
  status_cmd->add_option("MOUNTPOINT", status.mountpoint, "Where the store is mounted")
      ->required();

  PasswdArgs passwd;
  int passwd_logn = kDefaultScryptLogN;
  CLI::App* passwd_cmd = app.add_subcommand("passwd", "Change a store's passphrase");
  passwd_cmd->add_option("STORE", passwd.store, "Store: a directory or a remote store URL")
      ->required();
  passwd_cmd->add_option("--config", passwd.config, "Remote store settings (phrfs.yaml(5))")
      ->type_name("FILE");
  CLI::Option* old_opt =
      passwd_cmd->add_option("--passfile", passwd.passfile, "Current passphrase from FILE")
          ->type_name("FILE");
  passwd_cmd->add_option("--new-passfile", passwd.new_passfile, "New passphrase from FILE")
      ->type_name("FILE");
  passwd_cmd->add_option("--recovery-keyfile", passwd.recovery_keyfile,
                         "Unlock with the recovery key in FILE instead of the passphrase")
      ->type_name("FILE")
      ->excludes(old_opt);
  CLI::Option* passwd_logn_opt =
      passwd_cmd->add_option("--scrypt-logn", passwd_logn,
                             "scrypt cost of the new passphrase (10..20, default 17)")
          ->type_name("LOGN")
          ->check(logn_check);

  UpgradeArgs upgrade;
  CLI::App* upgrade_cmd =
      app.add_subcommand("upgrade", "Convert a format-v1 store to format v2 in place");
  upgrade_cmd->add_option("STORE", upgrade.store, "Store directory")->required();
  upgrade_cmd->add_option("--passfile", upgrade.passfile,
                          "Read the passphrase from the first line of FILE")
      ->type_name("FILE");

  // ---- phrfs identity (fs/cli/identity_command.cc) ----
  CLI::App* identity_cmd =
      app.add_subcommand("identity", "Create or show a personal identity (for sharing)");
  identity_cmd->require_subcommand(1);
  IdentityNewArgs identity_new;
  CLI::App* identity_new_cmd = identity_cmd->add_subcommand(
      "new", "Create an identity file sealed under a new passphrase; print its public line");
  identity_new_cmd->add_option("FILE", identity_new.file, "Identity file to create (must not exist)")
      ->required();
  identity_new_cmd->add_option("--passfile", identity_new.passfile,
                               "Read the passphrase from the first line of FILE")
      ->type_name("FILE");
  identity_new_cmd->add_option("--scrypt-logn", identity_new.scrypt_logn,
                               "scrypt cost: N = 2^LOGN (10..20, default 17)")
      ->type_name("LOGN")
      ->check(logn_check);
  IdentityShowArgs identity_show;
  CLI::App* identity_show_cmd =
      identity_cmd->add_subcommand("show", "Print an identity file's public line");
  identity_show_cmd->add_option("FILE", identity_show.file, "Identity file")->required();
  // ---- end phrfs identity ----

  // ---- phrfs share (fs/cli/share_command.cc) ----
  CLI::App* share_cmd =
      app.add_subcommand("share", "Plan, apply or list who may read or write which folder");
  share_cmd->require_subcommand(1);
  ShareArgs share;
  std::vector<CLI::App*> share_cmds;
  for (const char* action : {"plan", "apply", "list"}) {
    const std::string a = action;
    CLI::App* c = share_cmd->add_subcommand(
        a, a == "plan"    ? "Print what applying shares.yaml would change"
           : a == "apply" ? "Apply shares.yaml: grants, revocations with key rotation, moves"
                          : "List the grants in force");
    c->add_option("STORE", share.store, "Store directory or URL")->required();
    if (a != "list")
      c->add_option("SHARES_FILE", share.shares_file, "shares.yaml (phrfs-shares(5))")->required();
    c->add_option("--identity", share.identity,
                  "The owner's identity file (signs the keys; in a store of records it also "
                  "unlocks the owner's record)")
        ->required(a == "apply");
    c->add_option("--identity-passfile", share.identity_passfile,
                  "Read the identity's passphrase from this file");
    if (a != "list")
      c->add_option("--today", share.today, "Take this date (YYYY-MM-DD) as today for expiry");
    if (a == "apply")
      c->add_flag("--reencrypt", share.reencrypt,
                  "Also rewrite existing files under the newest key (locks revoked people out of "
                  "old files too)");
    c->add_option("--passfile", share.passfile, "Read the store's passphrase from this file");
    c->add_option("-c,--config", share.config, "phrfs.yaml (phrfs.yaml(5))");
    share_cmds.push_back(c);
  }
  // ---- end phrfs share ----
  AuditArgs audit;
  CLI::App* audit_cmd =
      app.add_subcommand("audit", "Show the store's access log (owner only) and check it");
  audit_cmd->add_option("STORE", audit.store, "Store: a directory or a remote store URL")
      ->required();
  CLI::Option* audit_passfile_opt =
      audit_cmd->add_option("--passfile", audit.passfile,
                            "Read the store passphrase from the first line of FILE")
          ->type_name("FILE");
  CLI::Option* audit_identity_opt =
      audit_cmd->add_option("--identity", audit.identity,
                            "The owner's identity file: also read the sessions sealed to it "
                            "(grantees' mounts)")
          ->type_name("FILE");
  audit_cmd->add_option("--identity-passfile", audit.identity_passfile,
                        "Read the identity's passphrase from the first line of FILE")
      ->type_name("FILE")
      ->needs(audit_identity_opt);
  audit_cmd->add_flag("--identity-only", audit.identity_only,
                      "Do not ask for the store passphrase: read only the sessions sealed to "
                      "--identity")
      ->needs(audit_identity_opt)
      ->excludes(audit_passfile_opt);
  audit_cmd->add_option("--config", audit.config, "Remote store settings (phrfs.yaml(5))")
      ->type_name("FILE");
  audit_cmd->add_option("--person", audit.person, "Only the accesses of PERSON")
      ->type_name("PERSON");
  audit_cmd->add_option("--since", audit.since,
                        "Only accesses at or after T (UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS])")
      ->type_name("T");
  audit_cmd->add_option("--path", audit.path, "Only PATH and what is below it")
      ->type_name("PATH");
  audit_cmd->add_flag("--json", audit.json, "One JSON object per line instead of a table");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help or --version
      app.exit(e);
      return kExitOk;
    }
    std::fprintf(stderr, "phrfs: %s\nRun 'phrfs --help' for usage.\n", OneLine(e.what()).c_str());
    return kExitUsage;
  }
  if (passwd_logn_opt->count() > 0) passwd.scrypt_logn = passwd_logn;
  mount.tree = mount_tree == "objects" ? TreeAccess::kObjects : TreeAccess::kDirect;

  if (init_cmd->parsed()) return RunInit(init);
  if (mount_cmd->parsed()) return RunMount(mount);
  if (umount_cmd->parsed()) return RunUmount(umount);
  if (status_cmd->parsed()) return RunStatus(status);
  if (passwd_cmd->parsed()) return RunPasswd(passwd);
  if (upgrade_cmd->parsed()) return RunUpgrade(upgrade);
  for (CLI::App* c : share_cmds) {
    if (c->parsed()) {
      share.action = c->get_name();
      return RunShare(share);
    }
  }
  if (identity_new_cmd->parsed()) return RunIdentityNew(identity_new);
  if (identity_show_cmd->parsed()) return RunIdentityShow(identity_show);
  if (audit_cmd->parsed()) return RunAudit(audit);
  std::fprintf(stderr, "%s", app.help().c_str());
  return kExitUsage;
}

}  // namespace phrfs::fs
