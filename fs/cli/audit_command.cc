// `phrfs audit STORE`: prints the store's access log (FORMAT "ACCESS LOG") for its owner, and
// says loudly when any part of it is missing or damaged (exit 12).
#include <cstdio>

#include "crypto/log_key_sealer.h"
#include "fs/audit/access_log_reader.h"
#include "fs/cli/commands.h"
#include "fs/cli/passphrase.h"
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
  auto opened = OpenStoreArg(args.store, *file, /*create=*/false);
  if (!opened.ok()) {
    return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                opened.status());
  }
  const std::string label = opened->label;
  auto passphrase =
      ReadPassphrase({args.passfile, "Passphrase for store " + label + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto store = UnlockStore(std::move(opened->tree), label, passphrase->view());
  if (!store.ok()) return Fail(Step::kStore, store.status());
  auto sealer = crypto::PassphraseStoreSealer::Create(store->master_key, store->config.store_id);
  if (!sealer.ok()) return Fail(Step::kOther, sealer.status());
  auto log = ReadAccessLog(*store->tree, *sealer);
  if (!log.ok()) return Fail(Step::kStore, log.status());

  std::vector<AuditEntry> entries = FilterAuditEntries(log->entries, filter);
  std::string out = args.json ? FormatAuditJson(entries) : FormatAuditTable(entries);
  if (!log->problems.empty()) {
    out += args.json ? FormatAuditProblemsJson(log->problems)
                     : "\n" + FormatAuditProblems(log->problems);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (log->problems.empty()) return kExitOk;
  std::fprintf(stderr,
               "phrfs: WARNING: the access log of %s is damaged or incomplete: %zu problem%s "
               "(listed above)\n",
               label.c_str(), log->problems.size(), log->problems.size() == 1 ? "" : "s");
  return kExitLogDamaged;
}

}  // namespace phrfs::fs
