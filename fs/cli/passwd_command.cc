// `phrfs passwd STORE`: re-wraps the master key under a new passphrase, unlocking with the
// current passphrase or the recovery key.
#include "fs/cli/commands.h"
#include "fs/cli/passphrase.h"
#include "fs/store_setup.h"

namespace phrfs::fs {

int RunPasswd(const PasswdArgs& args) {
  auto file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(Step::kCommandLine, file.status());
  auto opened = OpenStoreArg(args.store, *file, /*create=*/false);
  if (!opened.ok()) return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore, opened.status());
  const std::string& label = opened->label;
  Result<UnlockedStore> store = Status::NotFound("unreachable");
  if (!args.recovery_keyfile.empty()) {
    auto key_text = ReadFirstLine(args.recovery_keyfile);
    if (!key_text.ok()) return Fail(Step::kPassphrase, key_text.status());
    store = UnlockStoreWithRecoveryKey(std::move(opened->tree), label, key_text->view());
  } else {
    auto old_passphrase = ReadPassphrase(
        {args.passfile, "Current passphrase for store " + label + ": ", Confirm::kOnce});
    if (!old_passphrase.ok()) return Fail(Step::kPassphrase, old_passphrase.status());
    store = UnlockStore(std::move(opened->tree), label, old_passphrase->view());
  }
  if (!store.ok()) return Fail(Step::kStore, store.status());
  auto new_passphrase = ReadPassphrase(
      {args.new_passfile, "New passphrase for store " + label + ": ", Confirm::kTwice});
  if (!new_passphrase.ok()) return Fail(Step::kPassphrase, new_passphrase.status());
  int logn = args.scrypt_logn.value_or(kDefaultScryptLogN);
  Status st = ChangeStorePassphrase(*store, new_passphrase->view(), ScryptFor(logn));
  if (!st.ok()) return Fail(Step::kStore, st);
  return kExitOk;
}

}  // namespace phrfs::fs
