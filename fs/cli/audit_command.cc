// `phrfs audit STORE`: prints the store's access log (FORMAT "ACCESS LOG") for its owner, and
// says loudly when any part of it is missing or damaged (exit 12). The owner opens it with the
// store passphrase (sessions of passphrase mounts) and/or their identity (sessions of grantees'
// mounts); sessions that neither opens are counted, not treated as damage.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "crypto/domain_keyring.h"
#include "crypto/format.h"
#include "crypto/log_key_sealer.h"
#include "fs/audit/access_log_reader.h"
#include "fs/cli/commands.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/passphrase.h"
#include "fs/cli/status_file.h"
#include "fs/owner_records.h"
#include "fs/shared_domains.h"
#include "fs/store_setup.h"

namespace phrfs::fs {

int RunAudit(const AuditArgs& args) {
  AuditFilter filter;
  filter.person = args.person;
  filter.path = args.path;
  if (!args.since.empty()) {
    auto since = ParseAuditTime(args.since);
    if (!since.ok()) {
      return Fail(Step::kCommandLine,
                  Status::InvalidArgument("--since: " + since.status().message()));
    }
    filter.since_ns = *since;
  }
  auto file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(Step::kCommandLine, file.status());
  auto opened = OpenStoreArg(args.store, *file, /*create=*/false, TreeAccess::kDirect,
                             /*keep_secrets=*/true);
  if (!opened.ok()) {
    return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                opened.status());
  }
  std::string label = opened->label;
  std::unique_ptr<remote::CipherTree> tree = std::move(opened->tree);
  auto records = IsStoreOfRecords(*tree);
  if (!records.ok()) return Fail(Step::kStore, records.status());

  std::optional<crypto::Identity> identity;
  if (!args.identity.empty()) {
    Step step = Step::kOther;
    auto loaded = LoadIdentityFile(args.identity, args.identity_passfile, &step);
    if (!loaded.ok()) return Fail(step, loaded.status());
    identity.emplace(std::move(loaded).value());
  }
  std::optional<crypto::PassphraseStoreSealer> passphrase_sealer;
  std::optional<SecureBytes> owner_key;  // opens the keyrings: who the grantees are
  // The owner's keys of an unlocked store: its own log sessions, and the keyrings' grants.
  auto take_owner_keys = [&](const UnlockedStore& store) -> Status {
    PHRFS_ASSIGN_OR_RETURN(auto sealer, crypto::PassphraseStoreSealer::Create(
                                            store.master_key, store.config.store_id));
    passphrase_sealer.emplace(std::move(sealer));
    PHRFS_ASSIGN_OR_RETURN(owner_key, crypto::DeriveDomainOwnerKey(store.master_key, store.config.store_id));
    return Status::Ok();
  };
  if (*records) {
    // A store of records: the owner's identity unlocks their record and reads all its sessions.
    if (!identity) {
      return Fail(Step::kCommandLine,
                  Status::InvalidArgument("store " + label + " holds records owned by identities: "
                                          "give the owner's --identity FILE"));
    }
    tree.reset();
    auto store = OpenOwnerRecordArg(args.store, *file, *identity);
    if (!store.ok()) return Fail(Step::kStore, store.status());
    if (Status st = take_owner_keys(*store); !st.ok()) return Fail(Step::kOther, st);
    label = store->label;
    tree = std::move(store->tree);
  }
  ScrubSecretEnvironment();
  std::optional<crypto::IdentitySealer> identity_sealer;
  if (identity) identity_sealer.emplace(crypto::IdentitySealer::ForOpening(std::move(identity).value()));
  // Without --identity the store passphrase is always needed. With it, the passphrase is read
  // from --passfile, else asked on the terminal when stdin is one, else (and with
  // --identity-only) not used: only sessions sealed to the identity are read.
  const bool use_passphrase =
      !*records && (!identity_sealer ||
                    (!args.identity_only && (!args.passfile.empty() || isatty(STDIN_FILENO) == 1)));
  if (use_passphrase) {
    auto passphrase =
        ReadPassphrase({args.passfile, "Passphrase for store " + label + ": ", Confirm::kOnce});
    if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
    auto store = UnlockStore(std::move(tree), label, passphrase->view());
    if (!store.ok()) return Fail(Step::kStore, store.status());
    if (Status st = take_owner_keys(*store); !st.ok()) return Fail(Step::kOther, st);
    tree = std::move(store->tree);
  } else if (!*records) {
    // Not unlocked, but it must still be a store.
    auto config = tree->Stat(crypto::kStoreConfigName);
    if (!config.ok()) {
      return Fail(Step::kStore,
                  config.status().code() == Code::kNotFound
                      ? Status::NotFound("store " + label + " is not initialised (no " +
                                         crypto::kStoreConfigName + "; run phrfs init)")
                      : Status::Error(config.status().code(),
                                      "store " + label + ": " + config.status().message()));
    }
    if (!args.identity_only) {
      std::fprintf(stderr,
                   "phrfs: no --passfile and stdin is not a terminal: reading only the sessions "
                   "sealed to the identity\n");
    }
  }
  std::vector<crypto::SessionKeySealer*> sealers;
  if (passphrase_sealer) sealers.push_back(&*passphrase_sealer);
  if (identity_sealer) sealers.push_back(&*identity_sealer);
  auto log = ReadAccessLog(*tree, sealers);
  if (!log.ok()) return Fail(Step::kStore, log.status());
  // Grantees by the names the owner gave them: a signed session's key, looked up in the grant
  // tables of the owner's keyrings (without the owner's key, the names the writers gave).
  std::map<std::string, std::string> names;
  if (owner_key) {
    std::vector<std::string> keyring_problems;
    auto domains = LoadOwnedDomains(*tree, *owner_key, &keyring_problems);
    if (domains.ok()) {
      for (const auto& d : *domains) {
        for (const auto& g : d.secrets.grants) {
          if (auto pub = crypto::ParsePublicIdentity(g.public_key); pub.ok())
            names.emplace(crypto::Fingerprint(*pub), g.person);
        }
      }
    }
  }
  NameWriters(log->entries, names);
  // A session that a live mount of this user on this machine is still writing is not closed
  // yet: not damage. (A mount elsewhere cannot be told from a session cut short.)
  const std::vector<std::string> live = LiveLogSessions();
  size_t still_open = 0;
  std::erase_if(log->problems, [&](const crypto::LogProblem& p) {
    const bool running = p.kind == crypto::LogProblemKind::kNotClosed &&
                         std::find(live.begin(), live.end(), crypto::LogSessionHex(p.session)) != live.end();
    still_open += running ? 1 : 0;
    return running;
  });
  if (still_open > 0) {
    std::fprintf(stderr, "phrfs: %zu session%s still being written by a mount running here (not "
                 "closed yet; audit again after unmounting to check %s end)\n",
                 still_open, still_open == 1 ? " is" : "s are", still_open == 1 ? "its" : "their");
  }

  std::vector<AuditEntry> entries = FilterAuditEntries(log->entries, filter);
  std::string out = args.json ? FormatAuditJson(entries) : FormatAuditTable(entries);
  const std::string skipped = args.json ? FormatAuditSkippedJson(*log) : FormatAuditSkipped(*log);
  if (!skipped.empty()) out += args.json ? skipped : "\n" + skipped;
  if (!log->problems.empty()) {
    out += args.json ? FormatAuditProblemsJson(log->problems)
                     : "\n" + FormatAuditProblems(log->problems);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  // Unread sessions are not damage, but the owner must not miss that the table is partial.
  size_t need_identity = 0;
  for (const auto& entry : log->need_identity_sessions) need_identity += entry.second;
  if (need_identity > 0) {
    std::fprintf(stderr, "phrfs: %zu session%s of %s %s sealed to an identity: give --identity to read %s\n",
                 need_identity, need_identity == 1 ? "" : "s", label.c_str(),
                 need_identity == 1 ? "is" : "are", need_identity == 1 ? "it" : "them");
  }
  if (log->need_passphrase_sessions > 0) {
    const size_t n = log->need_passphrase_sessions;
    std::fprintf(stderr,
                 "phrfs: %zu session%s of %s %s sealed with the store passphrase: give --passfile "
                 "to read %s\n",
                 n, n == 1 ? "" : "s", label.c_str(), n == 1 ? "is" : "are", n == 1 ? "it" : "them");
  }
  if (log->problems.empty()) return kExitOk;
  std::fprintf(stderr,
               "phrfs: WARNING: the access log of %s is damaged or incomplete: %zu problem%s "
               "(listed above)\n",
               label.c_str(), log->problems.size(), log->problems.size() == 1 ? "" : "s");
  return kExitLogDamaged;
}

}  // namespace phrfs::fs
