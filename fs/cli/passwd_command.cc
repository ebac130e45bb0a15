// `phrfs passwd STORE`: re-wraps the master key under a new passphrase, unlocking with the
// current passphrase or the recovery key.
#include "fs/cli/commands.h"
#include "fs/cli/passphrase.h"
#include "fs/store_setup.h"

namespace phrfs::fs {

int RunPasswd(const PasswdArgs& args) {
  auto store_path = StorePath(args.store);
  if (!store_path.ok()) return Fail(Step::kCommandLine, store_path.status());
  Result<UnlockedStore> store = Status::NotFound("unreachable");
  if (!args.recovery_keyfile.empty()) {
    auto key_text = ReadFirstLine(args.recovery_keyfile);
    if (!key_text.ok()) return Fail(Step::kPassphrase, key_text.status());
    auto tree = OpenLocalStoreTree(*store_path, TreeAccess::kDirect, /*create=*/false);
    if (!tree.ok()) return Fail(Step::kStore, tree.status());
    store = UnlockStoreWithRecoveryKey(std::move(tree).value(), *store_path, key_text->view());
  } else {
    auto old_passphrase = ReadPassphrase(
        {args.passfile, "Current passphrase for store " + *store_path + ": ", Confirm::kOnce});
    if (!old_passphrase.ok()) return Fail(Step::kPassphrase, old_passphrase.status());
    auto tree = OpenLocalStoreTree(*store_path, TreeAccess::kDirect, /*create=*/false);
    if (!tree.ok()) return Fail(Step::kStore, tree.status());
    store = UnlockStore(std::move(tree).value(), *store_path, old_passphrase->view());
  }
  if (!store.ok()) return Fail(Step::kStore, store.status());
  auto new_passphrase = ReadPassphrase(
      {args.new_passfile, "New passphrase for store " + *store_path + ": ", Confirm::kTwice});
  if (!new_passphrase.ok()) return Fail(Step::kPassphrase, new_passphrase.status());
  int logn = args.scrypt_logn.value_or(kDefaultScryptLogN);
  Status st = ChangeStorePassphrase(*store, new_passphrase->view(), ScryptFor(logn));
  if (!st.ok()) return Fail(Step::kStore, st);
  return kExitOk;
}

}  // namespace phrfs::fs
