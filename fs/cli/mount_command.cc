// `phrfs mount STORE MOUNTPOINT`: merges defaults, phrfs.yaml and the command line, checks the
// mount point and /dev/fuse, unlocks the store, then serves it (fs/cli/daemon.h).
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cstdio>
#include <algorithm>
#include <optional>
#include <utility>

#include "config/mount_config.h"
#include "crypto/keys.h"
#include "fs/cli/commands.h"
#include "fs/cli/daemon.h"
#include "fs/shared_domains.h"
#include "config/shares_file.h"
#include "crypto/random.h"
#include "crypto/store_config.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/mountinfo.h"
#include "fs/cli/passphrase.h"
#include "fs/store_setup.h"

namespace phrfs::fs {
namespace {

constexpr char kFuseDevice[] = "/dev/fuse";

Status CheckMountpoint(const std::string& mountpoint) {
  struct stat st;
  if (stat(mountpoint.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("mount point " + mountpoint + " does not exist");
    if (err == ENOTCONN) {
      return Status::Error(Code::kBusy, "mount point " + mountpoint +
                                            " is a dead mount (run phrfs umount " + mountpoint + ")");
    }
    return Status::FromErrno(err, "mount point " + mountpoint);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Error(Code::kNotADirectory, "mount point " + mountpoint + " is not a directory");
  }
  DIR* dir = opendir(mountpoint.c_str());
  if (dir == nullptr) return Status::FromErrno(errno, "mount point " + mountpoint);
  bool empty = true;
  while (struct dirent* entry = readdir(dir)) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  closedir(dir);
  if (!empty) return Status::Error(Code::kNotEmpty, "mount point " + mountpoint + " is not empty");
  return Status::Ok();
}

Status CheckFuseDevice() {
  struct stat st;
  if (stat(kFuseDevice, &st) != 0 || !S_ISCHR(st.st_mode)) {
    return Status::NotFound(std::string(kFuseDevice) +
                            " is missing (is the fuse kernel module loaded?)");
  }
  return Status::Ok();
}

// Splits -o values at commas and takes out what phrfs itself understands.
void ApplyFuseOptions(const std::vector<std::string>& raw, MountOptions& options,
                      bool& debug_logging) {
  for (const std::string& group : raw) {
    size_t start = 0;
    while (start <= group.size()) {
      size_t comma = group.find(',', start);
      if (comma == std::string::npos) comma = group.size();
      std::string option = group.substr(start, comma - start);
      start = comma + 1;
      if (option.empty()) continue;
      if (option == "ro") {
        options.read_only = true;
      } else if (option == "rw") {
        options.read_only = false;
      } else if (option == "debug") {
        options.fuse_debug = true;
        debug_logging = true;
      } else {
        options.fuse_options.push_back(option);
      }
    }
  }
}

config::CalendarDate TodayUtc() {
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  return config::CalendarDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

Result<std::string> ReadStoreConfigText(remote::CipherTree& tree) {
  auto st = tree.Stat(crypto::kStoreConfigName);
  if (!st.ok()) {
    if (st.status().code() == Code::kNotFound)
      return Status::NotFound("not a phrfs store (no " + std::string(crypto::kStoreConfigName) + ")");
    return st.status();
  }
  if (st->size > (1u << 20)) return Status::Corrupt("store config too large");
  std::string text(st->size, '\0');
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree.Read(crypto::kStoreConfigName, 0,
                                               {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
  text.resize(got);
  return text;
}

}  // namespace

int RunMount(const MountArgs& args) {
  auto url = config::ParseStoreUrl(args.store);
  if (!url.ok()) return Fail(Step::kCommandLine, url.status());
  if (url->kind == config::StoreKind::kLocal && !args.cache_dir.empty()) {
    return Fail(Step::kCommandLine,
                Status::InvalidArgument("--cache-dir is for remote stores; a local store has no cache"));
  }

  PreparedMount prepared;
  // Defaults < phrfs.yaml < command line.
  auto loaded = LoadConfigFile(args.config);
  if (!loaded.ok()) return Fail(Step::kCommandLine, loaded.status());
  const config::MountConfig file = std::move(loaded).value();
  MountOptions& options = prepared.options;
  options.read_only = file.read_only.value_or(options.read_only);
  options.attr_timeout = file.attr_timeout.value_or(options.attr_timeout);
  options.entry_timeout = file.entry_timeout.value_or(options.entry_timeout);
  options.max_threads = file.max_threads.value_or(options.max_threads);
  if (file.log_level) prepared.log_level = *file.log_level;
  bool debug_logging = false;
  ApplyFuseOptions(file.fuse_options, options, debug_logging);
  ApplyFuseOptions(args.fuse_options, options, debug_logging);
  if (args.read_only) options.read_only = true;
  options.tree = args.tree;
  if (debug_logging) prepared.log_level = LogLevel::kDebug;
  if (!args.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(args.log_level);
    if (!level) {
      return Fail(Step::kCommandLine,
                  Status::InvalidArgument("--log-level must be error, warning, info or debug"));
    }
    prepared.log_level = *level;
  }
  std::string log_path = !args.log_file.empty() ? args.log_file : file.log_file.value_or("");

  Status st = CheckMountpoint(args.mountpoint);
  if (!st.ok()) return Fail(Step::kMountpoint, st);
  prepared.mountpoint = AbsolutePathOf(args.mountpoint);
  st = CheckFuseDevice();
  if (!st.ok()) return Fail(Step::kMount, st);

  auto opened = OpenStoreArg(args.store, file, /*create=*/false, options.tree);
  if (!opened.ok()) {
    return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                opened.status());
  }
  const std::string label = opened->label;
  if (!args.identity.empty()) {
    // A grantee: the identity opens the keyrings shared with it; the store's passphrase is not
    // needed (nor, with scoped credentials, the rest of the store).
    Step step = Step::kOther;
    auto identity = LoadIdentityFile(args.identity, args.passfile, &step);
    if (!identity.ok()) return Fail(step, identity.status());
    auto config_text = ReadStoreConfigText(*opened->tree);
    if (!config_text.ok()) return Fail(Step::kStore, config_text.status());
    auto config = crypto::ParseStoreConfig(*config_text);
    if (!config.ok()) return Fail(Step::kStore, config.status());
    auto granted = LoadGrantedDomains(*opened->tree, *identity);
    if (!granted.ok()) return Fail(Step::kStore, granted.status());
    // How the grantee appears in the owners' logs: the name the owners gave them in
    // shares.yaml is not known here; --person, else the identity's fingerprint.
    const std::string person =
        !args.person.empty() ? args.person : crypto::Fingerprint(identity->public_identity());
    config::CalendarDate today = TodayUtc();
    if (!args.today.empty()) {
      auto d = config::ParseCalendarDate(args.today);
      if (!d) return Fail(Step::kCommandLine, Status::InvalidArgument("--today: not a date YYYY-MM-DD"));
      today = *d;
    }
    for (auto& g : *granted) {
      if (!g.domain) continue;  // revoked: the newest keys were not wrapped to this person
      if (!g.view.until.empty()) {
        auto until = config::ParseCalendarDate(g.view.until);
        if (until && *until < today) continue;  // past its last day
      }
      const bool writable = g.view.access == crypto::GrantAccess::kWrite;
      auto domain = KeyDomainFor(g.view.id, g.view.dir_hash, g.view.epochs, g.view.current, writable);
      if (!domain.ok()) return Fail(Step::kOther, domain.status());
      prepared.granted.push_back(VaultOptions::GrantedFolder{g.view.owner_name, g.view.path,
                                                             g.view.root, *domain, writable});
      // One access log per owner, sealed to that owner's identity (the keyring's signer): the
      // paths under /<owner> are theirs to read, and no one else's.
      const std::string prefix = "/" + g.view.owner_name;
      const bool have = std::any_of(prepared.logs.begin(), prepared.logs.end(),
                                    [&](const auto& l) { return l.prefix == prefix; });
      if (file.access_log.value_or(true) && !have) {
        prepared.logs.push_back(PreparedMount::PlannedLog{
            prefix,
            std::make_shared<crypto::IdentitySealer>(crypto::IdentitySealer::ForSealing(g.view.owner)),
            crypto::Fingerprint(identity->public_identity()), person});
      }
    }
    if (prepared.granted.empty()) {
      return Fail(Step::kStore, Status::NotFound("nothing in store " + label +
                                                 " is shared with this identity (or every grant "
                                                 "was revoked or has ended)"));
    }
    prepared.grantee = true;
    if (opened->remote) {
      auto cache = config::ResolveCacheSettings(file.cache, config::ProcessEnvironment());
      if (!cache.ok()) return Fail(Step::kCommandLine, cache.status());
      prepared.remote = opened->remote;
      prepared.cache = std::move(cache).value();
      prepared.cache.dir = !args.cache_dir.empty()
                               ? AbsolutePathOf(args.cache_dir)
                               : DefaultCacheDir(prepared.cache.dir, label + "#" +
                                                 crypto::Fingerprint(identity->public_identity()),
                                                 config->store_id);
    }
    prepared.store.tree = std::move(opened->tree);
    prepared.store.label = label;
    prepared.store.config = std::move(config).value();
    // The vault's own keys are never used in a grantee's view: random ones.
    SecureBytes unused(32);
    Status st = crypto::RandomBytes({unused.data(), unused.size()});
    if (!st.ok()) return Fail(Step::kOther, st);
    auto keys = crypto::StoreKeys::Derive(unused, prepared.store.config.store_id);
    if (!keys.ok()) return Fail(Step::kOther, keys.status());
    prepared.keys = std::move(keys).value();
    if (!log_path.empty()) {
      prepared.log_file = std::fopen(log_path.c_str(), "ae");
      if (prepared.log_file == nullptr)
        return Fail(Step::kOther, Status::FromErrno(errno, "cannot open log file " + log_path));
    }
    return args.foreground ? ServeForeground(prepared) : ServeDaemon(prepared);
  }
  auto passphrase =
      ReadPassphrase({args.passfile, "Passphrase for store " + label + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto store = UnlockStore(std::move(opened->tree), label, passphrase->view());
  passphrase = Passphrase();  // wipe it as soon as it has done its job
  if (!store.ok()) return Fail(Step::kStore, store.status());
  if (store->config.version != crypto::kStoreVersion) {
    return Fail(Step::kStore, Status::NotSupported("store " + label + " is format v" +
                                                   std::to_string(store->config.version) +
                                                   "; run 'phrfs upgrade " + label +
                                                   "' to convert it to v2 first"));
  }
  if (opened->remote) {
    // The daemon puts its write-back cache on the remote store once it has forked.
    auto cache = config::ResolveCacheSettings(file.cache, config::ProcessEnvironment());
    if (!cache.ok()) return Fail(Step::kCommandLine, cache.status());
    prepared.remote = opened->remote;
    prepared.cache = std::move(cache).value();
    prepared.cache.dir = !args.cache_dir.empty()
                             ? AbsolutePathOf(args.cache_dir)
                             : DefaultCacheDir(prepared.cache.dir, label, store->config.store_id);
  }
  prepared.store = std::move(store).value();
  auto keys = crypto::StoreKeys::Derive(prepared.store.master_key, prepared.store.config.store_id);
  if (!keys.ok()) return Fail(Step::kOther, keys.status());
  prepared.keys = std::move(keys).value();
  // Shared folders: their keyrings open with a key of the owner's (FORMAT "DOMAIN KEYRING").
  auto owner_key =
      crypto::DeriveDomainOwnerKey(prepared.store.master_key, prepared.store.config.store_id);
  if (!owner_key.ok()) return Fail(Step::kOther, owner_key.status());
  auto domains = LoadOwnedDomains(*prepared.store.tree, *owner_key);
  if (!domains.ok()) return Fail(Step::kStore, domains.status());
  prepared.shared_domains = ByRoot(*domains);
  if (file.access_log.value_or(true)) {
    auto sealer = crypto::PassphraseStoreSealer::Create(prepared.store.master_key,
                                                        prepared.store.config.store_id);
    if (!sealer.ok()) return Fail(Step::kOther, sealer.status());
    prepared.logs.push_back(PreparedMount::PlannedLog{
        "", std::make_shared<crypto::PassphraseStoreSealer>(std::move(sealer).value()),
        kOwnerPassphraseWriter, "owner"});
  }
  prepared.store.master_key.Wipe();  // the derived keys are all the vault needs

  if (!log_path.empty()) {
    prepared.log_file = std::fopen(log_path.c_str(), "ae");
    if (prepared.log_file == nullptr) {
      return Fail(Step::kOther, Status::FromErrno(errno, "cannot open log file " + log_path));
    }
  }
  return args.foreground ? ServeForeground(prepared) : ServeDaemon(prepared);
}

}  // namespace phrfs::fs
