// `phrfs share plan|apply|list STORE [shares.yaml]` (man/phrfs-shares.5): reads shares.yaml,
// compares it with the keyrings in the store (fs/share/share_plan.h) and, for apply, carries the
// plan out (fs/share_apply.h). The store's passphrase unlocks the owner's keys (in a store of
// records, the owner's identity does); the owner's identity signs the keyrings.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "config/shares_file.h"
#include "crypto/domain_keyring.h"
#include "crypto/identity.h"
#include "crypto/log_key_sealer.h"
#include "fs/audit/access_logger.h"
#include "fs/cli/commands.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/passphrase.h"
#include "fs/owner_records.h"
#include "fs/share/share_plan.h"
#include "fs/share_apply.h"
#include "fs/shared_domains.h"
#include "fs/store_setup.h"

namespace phrfs::fs {
namespace {

config::CalendarDate TodayUtc() {
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  return config::CalendarDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

const char* AccessWord(crypto::GrantAccess a) {
  return a == crypto::GrantAccess::kWrite ? "read-write" : "read-only";
}

int List(const std::vector<OwnedDomain>& domains) {
  if (domains.empty()) {
    std::printf("No shared folders.\n");
    return kExitOk;
  }
  for (const auto& d : domains) {
    const auto& s = d.secrets;
    std::printf("%s  (key epoch %u%s)\n", s.path.c_str(), s.current,
                s.unshared ? ", no longer shared: private to the owner" : "");
    if (s.grants.empty() && !s.unshared) std::printf("  no one but the owner\n");
    for (const auto& g : s.grants) {
      std::printf("  %-20s %-10s %s\n", g.person.c_str(), AccessWord(g.access),
                  g.until.empty() ? "" : ("until " + g.until).c_str());
    }
  }
  return kExitOk;
}

}  // namespace

int RunShare(const ShareArgs& args) {
  auto file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(Step::kCommandLine, file.status());

  config::CalendarDate today = TodayUtc();
  if (!args.today.empty()) {
    auto d = config::ParseCalendarDate(args.today);
    if (!d) return Fail(Step::kCommandLine, Status::InvalidArgument("--today: not a date YYYY-MM-DD: " + args.today));
    today = *d;
  }
  // The shares file first: its mistakes need no passphrase to be found.
  std::optional<config::SharesFile> shares;
  if (args.action != "list") {
    config::SharesParseOptions parse;
    parse.check_public_key = [](std::string_view key) -> Status {
      auto parsed = crypto::ParsePublicIdentity(key);
      return parsed.ok() ? Status::Ok() : parsed.status();
    };
    auto loaded = config::LoadSharesFile(args.shares_file, parse);
    if (!loaded.ok()) return Fail(Step::kCommandLine, loaded.status());
    shares = std::move(loaded).value();
  }

  auto opened = OpenStoreArg(args.store, *file, /*create=*/false, TreeAccess::kDirect,
                             /*keep_secrets=*/true);
  if (!opened.ok())
    return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                opened.status());
  const std::string label = opened->label;
  auto records = IsStoreOfRecords(*opened->tree);
  if (!records.ok()) return Fail(Step::kStore, records.status());
  // The owner's identity: it signs keyrings, and in a store of records it is also the key that
  // unlocks the owner's record. Loaded once, when it is needed.
  std::optional<crypto::Identity> owner;
  auto load_owner = [&]() -> int {
    if (owner) return kExitOk;
    if (args.identity.empty())
      return Fail(Step::kCommandLine, Status::InvalidArgument("give the owner's --identity FILE"));
    Step step = Step::kOther;
    auto loaded = LoadIdentityFile(args.identity, args.identity_passfile, &step);
    if (!loaded.ok()) return Fail(step, loaded.status());
    owner.emplace(std::move(loaded).value());
    return kExitOk;
  };
  Result<UnlockedStore> store = Status::NotFound("not unlocked");
  if (*records) {
    opened->tree.reset();
    if (int rc = load_owner(); rc != kExitOk) return rc;
    store = OpenOwnerRecordArg(args.store, *file, *owner);
    if (!store.ok()) return Fail(Step::kStore, store.status());
    if (shares && shares->owner != store->owner_name) {
      return Fail(Step::kCommandLine,
                  Status::InvalidArgument(args.shares_file + ":" + std::to_string(shares->owner_line) +
                                          ": owner is " + shares->owner + ", but this identity's "
                                          "record belongs to " + store->owner_name));
    }
  } else {
    ScrubSecretEnvironment();
    auto passphrase =
        ReadPassphrase({args.passfile, "Passphrase for store " + label + ": ", Confirm::kOnce});
    if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
    store = UnlockStore(std::move(opened->tree), label, passphrase->view());
    passphrase = Passphrase();
    if (!store.ok()) return Fail(Step::kStore, store.status());
  }
  if (store->config.version != crypto::kStoreVersion)
    return Fail(Step::kStore, Status::NotSupported("store " + label + " is format v" +
                                                   std::to_string(store->config.version) +
                                                   "; run 'phrfs upgrade' first"));
  ShareStore share_store{std::shared_ptr<remote::CipherTree>(std::move(store->tree)),
                         std::move(store->master_key), store->config.store_id};
  auto owner_key = crypto::DeriveDomainOwnerKey(share_store.master_key, share_store.store_id);
  if (!owner_key.ok()) return Fail(Step::kOther, owner_key.status());
  std::vector<std::string> problems;
  auto domains = LoadOwnedDomains(*share_store.tree, *owner_key, &problems);
  if (!domains.ok()) return Fail(Step::kStore, domains.status());
  for (const auto& p : problems) std::fprintf(stderr, "phrfs: warning: %s\n", p.c_str());
  if (args.action == "list") return List(*domains);

  const auto desired = config::ResolveShares(*shares);
  auto plan = PlanShares(desired, CurrentShares(*domains), today);
  if (!plan.ok()) return Fail(Step::kCommandLine, plan.status());
  std::fputs(FormatPlan(*plan).c_str(), stdout);
  std::fflush(stdout);
  // An empty plan still runs apply: it finishes what an interrupted apply left.
  if (args.action == "plan") return kExitOk;

  if (int rc = load_owner(); rc != kExitOk) return rc;
  ApplyOptions options;
  options.today = today;
  options.reencrypt = args.reencrypt;
  options.owner_name = shares->owner;
  const bool tty = isatty(STDERR_FILENO);
  options.progress = [tty](const std::string& line) {
    std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line.c_str());
  };
  auto report = ApplyShares(share_store, *owner, *shares, desired, *plan, options);
  if (tty) std::fputc('\n', stderr);
  if (!report.ok()) {
    return Fail(report.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                report.status());
  }
  // Grants and revocations go to the access log, as the owner's.
  {
    AccessLoggerOptions log_options{kOwnerPassphraseWriter, "owner"};
    if (*records) log_options = {crypto::Fingerprint(owner->public_identity()), shares->owner};
    auto sealer = crypto::PassphraseStoreSealer::Create(share_store.master_key, share_store.store_id);
    Result<std::unique_ptr<AccessLogger>> log =
        sealer.ok() ? AccessLogger::Start(*share_store.tree, *sealer, log_options)
                    : Result<std::unique_ptr<AccessLogger>>(sealer.status());
    if (log.ok()) {
      for (const Change& c : plan->changes) {
        if (c.kind == ChangeKind::kGrant) (*log)->Record(crypto::LogOp::kGrant, c.path, c.person, 0);
        if (c.kind == ChangeKind::kRevoke) (*log)->Record(crypto::LogOp::kRevoke, c.path, c.person, 0);
      }
      Status st = (*log)->Close();
      if (!st.ok()) std::fprintf(stderr, "phrfs: warning: access log not written: %s\n", st.ToString().c_str());
    } else {
      std::fprintf(stderr, "phrfs: warning: access log not written: %s\n", log.status().ToString().c_str());
    }
  }
  std::printf("Applied: %zu keyring(s) written, %zu file(s) moved into shares, %zu name(s) "
              "re-encrypted, %zu file(s) re-encrypted.\n",
              report->keyrings_written, report->files_moved, report->names_reencrypted,
              report->files_reencrypted);
  return kExitOk;
}

}  // namespace phrfs::fs
