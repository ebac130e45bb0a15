// `phrfs upgrade STORE`: converts a format-v1 store to v2 in place (fs/upgrade.h), showing the
// progress on stderr: a bar on a terminal, otherwise a line at every tenth of the way.
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "fs/cli/commands.h"
#include "fs/cli/passphrase.h"
#include "fs/store_setup.h"
#include "fs/upgrade.h"

namespace phrfs::fs {
namespace {

constexpr int kBarWidth = 30;

// Draws UpgradeStore's progress on stderr. Redraws the bar only when a tenth of a percent has
// passed, so a store of a million objects does not write a million lines to the terminal.
class ProgressReport {
 public:
  explicit ProgressReport(std::string store)
      : store_(std::move(store)), terminal_(isatty(STDERR_FILENO) == 1) {}

  void Update(const UpgradeProgress& progress) {
    if (progress.total == 0) return;  // nothing to count yet
    uint64_t done = std::min(progress.done, progress.total);
    int per_mille = static_cast<int>(done * 1000 / progress.total);
    if (terminal_) {
      if (per_mille == last_drawn_) return;
      int filled = per_mille * kBarWidth / 1000;
      std::fprintf(stderr, "\rphrfs: upgrading [%s%s] %3d%% (%" PRIu64 "/%" PRIu64 ")",
                   std::string(filled, '#').c_str(), std::string(kBarWidth - filled, '-').c_str(),
                   per_mille / 10, done, progress.total);
      std::fflush(stderr);
      bar_open_ = true;
    } else {
      int tenth = per_mille / 100;
      if (tenth <= last_drawn_ || tenth == 0) return;
      std::fprintf(stderr, "phrfs: upgrading store %s: %d%% (%" PRIu64 " of %" PRIu64 ")\n",
                   store_.c_str(), tenth * 10, done, progress.total);
      per_mille = tenth;
    }
    last_drawn_ = per_mille;
  }

  // Ends the bar's line, so that what follows starts on a line of its own.
  void Finish() {
    if (bar_open_) std::fputc('\n', stderr);
    bar_open_ = false;
  }

 private:
  const std::string store_;
  const bool terminal_;
  bool bar_open_ = false;
  int last_drawn_ = -1;  // per mille on a terminal, tenths otherwise
};

}  // namespace

int RunUpgrade(const UpgradeArgs& args) {
  auto url = config::ParseStoreUrl(args.store);
  if (!url.ok()) return Fail(Step::kCommandLine, url.status());
  if (url->kind != config::StoreKind::kLocal) {
    // Format v1 had no remote stores: a v1 store on a server is a copy of a local one.
    return Fail(Step::kCommandLine,
                Status::NotSupported("phrfs upgrade converts local stores (format v1 had no remote "
                                     "stores): upgrade the local original, then copy it to the server"));
  }
  const std::string* store_path = &url->path;
  // A mistyped STORE is refused before the passphrase is asked for.
  if (auto tree = OpenLocalStoreTree(*store_path, TreeAccess::kDirect, /*create=*/false); !tree.ok()) {
    return Fail(Step::kStore, tree.status());
  }

  auto passphrase =
      ReadPassphrase({args.passfile, "Passphrase for store " + *store_path + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  ProgressReport report(*store_path);
  // For the tests of an interrupted upgrade: stop dead (as kill -9 would) after N objects.
  uint64_t stop_after = 0;
  if (const char* env = getenv("PHRFS_TEST_UPGRADE_STOP_AFTER")) stop_after = std::strtoull(env, nullptr, 10);
  Status st = UpgradeStore(*store_path, passphrase->view(), [&](const UpgradeProgress& progress) {
    report.Update(progress);
    if (stop_after > 0 && progress.done >= stop_after) _exit(137);
  });
  report.Finish();
  passphrase = Passphrase();  // wipe it as soon as it has done its job
  if (st.code() == Code::kAlreadyExists) {
    std::printf("phrfs: store %s is already format v2\n", store_path->c_str());
    return kExitOk;
  }
  if (!st.ok()) return Fail(Step::kStore, st);
  std::printf("phrfs: store %s upgraded to format v2\n", store_path->c_str());
  return kExitOk;
}

}  // namespace phrfs::fs
