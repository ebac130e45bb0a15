// `phrfs mount STORE MOUNTPOINT`: merges defaults, phrfs.yaml and the command line, checks the
// mount point and /dev/fuse, unlocks the store (with its passphrase, or the owner's identity for
// a record in a store of records) or gathers what is shared with an identity, then serves it
// (fs/cli/daemon.h).
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cstdio>
#include <algorithm>
#include <optional>
#include <utility>

#include "config/known_owners.h"
#include "config/mount_config.h"
#include "crypto/keys.h"
#include "fs/cli/commands.h"
#include "fs/cli/daemon.h"
#include "fs/shared_domains.h"
#include "config/shares_file.h"
#include "crypto/random.h"
#include "crypto/store_config.h"
#include "fs/audit/unlock_log.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/mountinfo.h"
#include "fs/cli/passphrase.h"
#include "fs/owner_records.h"
#include "fs/store_setup.h"
#include "remote/prefix_tree.h"

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

// The store id a grantee's cache folder is named by: the passphrase store's, or the store of
// records' marker's.
Result<crypto::StoreId> GranteeStoreId(remote::CipherTree& tree, const std::string& label) {
  auto text = ReadSmallObject(tree, crypto::kStoreConfigName, 64 * 1024);
  if (text.ok()) {
    PHRFS_ASSIGN_OR_RETURN(auto config, crypto::ParseStoreConfig(*text));
    return config.store_id;
  }
  if (text.status().code() != Code::kNotFound) return text.status();
  PHRFS_ASSIGN_OR_RETURN(bool records, IsStoreOfRecords(tree));
  if (!records) {
    return Status::NotFound("store " + label + " is not a phrfs store (no " +
                            crypto::kStoreConfigName + " and no " + crypto::kRecordsMarkerName + ")");
  }
  return StoreOfRecordsId(tree);
}

// A wrong passphrase for a passphrase store: the attempt goes to the store's log, sealed to the
// owner identity its keyrings name (fs/audit/unlock_log.h). The failed unlock used up the
// store's tree: it is opened again. Best effort and silent.
void RecordFailedUnlockOfStore(const MountArgs& args, const config::MountConfig& file, TreeAccess access) {
  auto again = OpenStoreArg(args.store, file, /*create=*/false, access);
  if (!again.ok()) return;
  auto owner = KeyringOwner(*again->tree);
  if (owner.ok()) (void)LogFailedUnlock(*again->tree, *owner, args.person);
}

// A wrong passphrase for the identity that owns a record of this store of records: the attempt
// goes to that record's log, sealed to the identity (its public half is in the file in clear).
void RecordFailedUnlockOfRecord(const MountArgs& args, const config::MountConfig& file, TreeAccess access) {
  auto identity_file = ReadIdentityFile(args.identity);
  if (!identity_file.ok()) return;
  const crypto::PublicIdentity& owner = identity_file->public_identity;
  auto record = OpenStoreArg(RecordStoreArg(args.store, owner), file, /*create=*/false, access);
  if (!record.ok() || !record->tree->Stat(crypto::kOwnerRecordName).ok()) return;
  (void)LogFailedUnlock(*record->tree, owner, args.person);
}

int OpenLogFileAndServe(PreparedMount& prepared, const MountArgs& args, const std::string& log_path) {
  if (!log_path.empty()) {
    prepared.log_file = std::fopen(log_path.c_str(), "ae");
    if (prepared.log_file == nullptr)
      return Fail(Step::kOther, Status::FromErrno(errno, "cannot open log file " + log_path));
  }
  return args.foreground ? ServeForeground(prepared) : ServeDaemon(prepared);
}

// The owner's mount of a whole record: a passphrase store, or a record unlocked by an identity
// (`writer` and `person` are then the identity's fingerprint and the owner's name).
int ServeOwner(PreparedMount& prepared, UnlockedStore store,
               std::shared_ptr<remote::ObjectStore> remote, const MountArgs& args,
               const config::MountConfig& file, const std::string& log_path,
               const std::string& writer, const std::string& person) {
  const std::string label = store.label;
  if (store.config.version != crypto::kStoreVersion) {
    return Fail(Step::kStore, Status::NotSupported("store " + label + " is format v" +
                                                   std::to_string(store.config.version) +
                                                   "; run 'phrfs upgrade " + label +
                                                   "' to convert it to v2 first"));
  }
  if (remote) {
    // The daemon puts its write-back cache on the remote store once it has forked.
    auto cache = config::ResolveCacheSettings(file.cache, config::ProcessEnvironment());
    if (!cache.ok()) return Fail(Step::kCommandLine, cache.status());
    prepared.remote = std::move(remote);
    prepared.cache = std::move(cache).value();
    prepared.cache.dir = !args.cache_dir.empty()
                             ? AbsolutePathOf(args.cache_dir)
                             : DefaultCacheDir(prepared.cache.dir, label, store.config.store_id);
  }
  prepared.store = std::move(store);
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
        "", std::make_shared<crypto::PassphraseStoreSealer>(std::move(sealer).value()), writer,
        person, "", nullptr});
  }
  prepared.store.master_key.Wipe();  // the derived keys are all the vault needs
  return OpenLogFileAndServe(prepared, args, log_path);
}

// Where a grantee looks for keyrings: the store itself when it is a passphrase store, and
// every owner's record when it is a store of records. A record's keyrings count only when its
// own owner signed them.
struct GrantSource {
  std::string folder;  // "" or "owners/<fingerprint>"
  std::optional<crypto::PublicIdentity> owner;
};

Result<std::vector<GrantSource>> GrantSources(remote::CipherTree& tree) {
  std::vector<GrantSource> sources;
  auto config = tree.Stat(crypto::kStoreConfigName);
  if (config.ok()) sources.push_back(GrantSource{"", std::nullopt});
  else if (config.status().code() != Code::kNotFound) return config.status();
  std::vector<std::string> problems;
  PHRFS_ASSIGN_OR_RETURN(auto records, ListOwnerRecords(tree, &problems));
  for (const auto& p : problems) std::fprintf(stderr, "phrfs: warning: owner record %s\n", p.c_str());
  for (auto& r : records) sources.push_back(GrantSource{r.folder, r.record.owner});
  return sources;
}

// A grantee's mount: every folder shared with `identity` by any owner of the store.
int ServeGrantee(PreparedMount& prepared, OpenedStore opened,
                 std::shared_ptr<const crypto::Identity> signer, const std::string& store_key,
                 const MountArgs& args, const config::MountConfig& file,
                 const std::string& log_path) {
  const crypto::Identity& identity = *signer;
  const std::string label = opened.label;
  auto store_id = GranteeStoreId(*opened.tree, label);
  if (!store_id.ok()) return Fail(Step::kStore, store_id.status());
  auto sources = GrantSources(*opened.tree);
  if (!sources.ok()) return Fail(Step::kStore, sources.status());
  // How the grantee appears in the owners' logs: the name the owners gave them in
  // shares.yaml is not known here; --person, else the identity's fingerprint.
  const std::string fingerprint = crypto::Fingerprint(identity.public_identity());
  const std::string person = !args.person.empty() ? args.person : fingerprint;
  config::CalendarDate today = TodayUtc();
  if (!args.today.empty()) {
    auto d = config::ParseCalendarDate(args.today);
    if (!d) return Fail(Step::kCommandLine, Status::InvalidArgument("--today: not a date YYYY-MM-DD"));
    today = *d;
  }
  // Owners' keys seen before: an owner name of this store signed by another key is not shown.
  auto known_path = !args.known_owners.empty()
                        ? Result<std::string>(args.known_owners)
                        : config::DefaultKnownOwnersPath(config::ProcessEnvironment());
  if (!known_path.ok()) return Fail(Step::kCommandLine, known_path.status());
  auto known = config::KnownOwners::Load(*known_path);
  if (!known.ok()) return Fail(Step::kCommandLine, known.status());
  for (const GrantSource& source : *sources) {
    remote::PrefixTree record(*opened.tree, source.folder);
    remote::CipherTree& tree = source.folder.empty() ? *opened.tree : record;
    auto granted = LoadGrantedDomains(tree, identity);
    if (!granted.ok()) return Fail(Step::kStore, granted.status());
    const std::string base = source.folder.empty() ? "" : source.folder + "/";
    for (auto& g : *granted) {
      if (!g.domain) continue;  // revoked: the newest keys were not wrapped to this person
      if (source.owner && !(g.view.owner == *source.owner)) {
        std::fprintf(stderr, "phrfs: warning: a keyring in %s is signed by someone other than the "
                     "record's owner; not shown\n", source.folder.c_str());
        continue;
      }
      if (!g.view.until.empty()) {
        auto until = config::ParseCalendarDate(g.view.until);
        if (until && *until < today) continue;  // past its last day
      }
      const std::string owner_fp = crypto::Fingerprint(g.view.owner);
      std::string known_fp;
      switch (known->Check(store_key, g.view.owner_name, owner_fp, &known_fp)) {
        case config::KnownOwners::Seen::kChanged:
          std::fprintf(stderr,
                       "phrfs: warning: %s's shared folder %s is signed by key %s, not by the key "
                       "%s seen before (%s): not shown. If %s really changed keys, remove that "
                       "line.\n",
                       g.view.owner_name.c_str(), g.view.path.c_str(), owner_fp.c_str(),
                       known_fp.c_str(), known->path().c_str(), g.view.owner_name.c_str());
          continue;
        case config::KnownOwners::Seen::kNew:
          std::fprintf(stderr, "phrfs: first folder from owner %s: remembering their key %s in %s\n",
                       g.view.owner_name.c_str(), owner_fp.c_str(), known->path().c_str());
          known->Add(store_key, g.view.owner_name, owner_fp);
          break;
        case config::KnownOwners::Seen::kSame:
          break;
      }
      const bool writable = g.view.access == crypto::GrantAccess::kWrite;
      auto domain = KeyDomainFor(g.view.id, g.view.dir_hash, g.view.epochs, g.view.current,
                                 writable, base);
      if (!domain.ok()) return Fail(Step::kOther, domain.status());
      prepared.granted.push_back(VaultOptions::GrantedFolder{g.view.owner_name, g.view.path,
                                                             g.view.root, *domain, writable});
      // One access log per owner, sealed to that owner's identity (the keyring's signer) and
      // kept with that owner's record: the paths under /<owner> are theirs to read, and no one
      // else's.
      const std::string prefix = "/" + g.view.owner_name;
      const bool have = std::any_of(prepared.logs.begin(), prepared.logs.end(),
                                    [&](const auto& l) { return l.prefix == prefix; });
      if (file.access_log.value_or(true) && !have) {
        prepared.logs.push_back(PreparedMount::PlannedLog{
            prefix,
            std::make_shared<crypto::IdentitySealer>(crypto::IdentitySealer::ForSealing(g.view.owner)),
            fingerprint, person, source.folder, signer});
      }
    }
  }
  if (Status saved = known->Save(); !saved.ok())
    std::fprintf(stderr, "phrfs: warning: owners' keys not remembered: %s\n", saved.ToString().c_str());
  if (prepared.granted.empty()) {
    return Fail(Step::kStore, Status::NotFound("nothing in store " + label +
                                               " is shared with this identity (or every grant "
                                               "was revoked or has ended)"));
  }
  prepared.grantee = true;
  if (opened.remote) {
    auto cache = config::ResolveCacheSettings(file.cache, config::ProcessEnvironment());
    if (!cache.ok()) return Fail(Step::kCommandLine, cache.status());
    prepared.remote = opened.remote;
    prepared.cache = std::move(cache).value();
    prepared.cache.dir = !args.cache_dir.empty()
                             ? AbsolutePathOf(args.cache_dir)
                             : DefaultCacheDir(prepared.cache.dir, label + "#" + fingerprint,
                                               *store_id);
  }
  prepared.store.tree = std::move(opened.tree);
  prepared.store.label = label;
  prepared.store.config.store_id = *store_id;
  // The vault's own keys are never used in a grantee's view: random ones.
  SecureBytes unused(32);
  Status st = crypto::RandomBytes({unused.data(), unused.size()});
  if (!st.ok()) return Fail(Step::kOther, st);
  auto keys = crypto::StoreKeys::Derive(unused, prepared.store.config.store_id);
  if (!keys.ok()) return Fail(Step::kOther, keys.status());
  prepared.keys = std::move(keys).value();
  return OpenLogFileAndServe(prepared, args, log_path);
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

  // A second store may be opened (the owner's record; the store again to record a failed
  // unlock): the credentials of the environment stay until then.
  auto opened = OpenStoreArg(args.store, file, /*create=*/false, options.tree,
                             /*keep_secrets=*/true);
  if (!opened.ok()) {
    return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                opened.status());
  }
  const std::string label = opened->label;
  if (!args.identity.empty()) {
    Step step = Step::kOther;
    auto identity = LoadIdentityFile(args.identity, args.passfile, &step);
    auto records = IsStoreOfRecords(*opened->tree);
    if (!identity.ok()) {
      if (identity.status().code() == Code::kWrongKey && records.ok() && *records)
        RecordFailedUnlockOfRecord(args, file, options.tree);
      ScrubSecretEnvironment();
      return Fail(step, identity.status());
    }
    // An owner's own record, when the identity owns one in this store of records.
    if (!records.ok()) return Fail(Step::kStore, records.status());
    if (*records && !args.shared) {
      auto record = OpenStoreArg(RecordStoreArg(args.store, identity->public_identity()), file,
                                 /*create=*/false, options.tree);
      if (!record.ok() && record.status().code() != Code::kNotFound)
        return Fail(Step::kStore, record.status());
      auto owned = record.ok() ? record->tree->Stat(crypto::kOwnerRecordName)
                               : Result<remote::TreeStat>(record.status());
      if (owned.ok()) {
        auto store = UnlockOwnerRecord(std::move(record->tree), record->label, *identity);
        if (!store.ok()) return Fail(Step::kStore, store.status());
        const std::string name = store->owner_name;
        return ServeOwner(prepared, std::move(store).value(), record->remote, args, file, log_path,
                          crypto::Fingerprint(identity->public_identity()), name);
      }
      if (owned.status().code() != Code::kNotFound) return Fail(Step::kStore, owned.status());
    }
    ScrubSecretEnvironment();
    // A grantee: the identity opens the keyrings shared with it; no owner's key is needed
    // (nor, with scoped credentials, the rest of the store).
    // Owners' keys are remembered by store: a local store by its absolute path.
    std::string store_key = label;
    if (url->kind == config::StoreKind::kLocal) {
      if (char* real = realpath(url->path.c_str(), nullptr)) {
        store_key = real;
        free(real);
      }
    }
    return ServeGrantee(prepared, std::move(opened).value(),
                        std::make_shared<const crypto::Identity>(std::move(identity).value()),
                        store_key, args, file, log_path);
  }
  // Before asking for a passphrase that nothing here would take.
  auto records = IsStoreOfRecords(*opened->tree);
  if (records.ok() && *records) {
    return Fail(Step::kCommandLine,
                Status::InvalidArgument("store " + label + " holds records owned by identities, "
                                        "which no passphrase opens: give --identity FILE"));
  }
  auto passphrase =
      ReadPassphrase({args.passfile, "Passphrase for store " + label + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto store = UnlockStore(std::move(opened->tree), label, passphrase->view());
  passphrase = Passphrase();  // wipe it as soon as it has done its job
  if (!store.ok() && store.status().code() == Code::kWrongKey)
    RecordFailedUnlockOfStore(args, file, options.tree);
  ScrubSecretEnvironment();
  if (!store.ok()) return Fail(Step::kStore, store.status());
  return ServeOwner(prepared, std::move(store).value(), opened->remote, args, file, log_path,
                    kOwnerPassphraseWriter, "owner");
}

}  // namespace phrfs::fs
