// `phrfs init STORE`: creates a store under a new passphrase and prints its recovery key once;
// `phrfs init STORE --owner NAME --identity FILE`: an owner's record unlocked by an identity.
#include <dirent.h>
#include <string.h>

#include <cstdio>

#include <openssl/crypto.h>

#include "config/shares_file.h"
#include "crypto/store_config.h"
#include "fs/cli/commands.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/passphrase.h"
#include "fs/owner_records.h"
#include "fs/store_setup.h"

namespace phrfs::fs {
namespace {

// `phrfs init STORE --owner NAME --identity FILE`: the store becomes (or already is) a store of
// records, and NAME's record is made in it, unlocked by the identity alone.
int InitRecord(const InitArgs& args, const config::MountConfig& file) {
  if (!config::IsValidShareName(args.owner)) {
    return Fail(Step::kCommandLine,
                Status::InvalidArgument("--owner: a name is 1 to 64 of a-z, 0-9, '_', '.', '-', "
                                        "starting with a letter or digit (as in shares.yaml)"));
  }
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(args.identity, args.passfile, &step);
  if (!identity.ok()) return Fail(step, identity.status());
  auto root = OpenStoreArg(args.store, file, /*create=*/true, TreeAccess::kDirect,
                           /*keep_secrets=*/true);
  if (!root.ok())
    return Fail(root.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore,
                root.status());
  Status st = PrepareStoreOfRecords(*root->tree, root->label);
  if (!st.ok()) return Fail(Step::kStore, st);
  // The record's folder, made through the whole store too: stores that keep folders as objects
  // (S3) then list it, and reach it from the root, as any other folder.
  st = root->tree->MakeFolder(crypto::OwnerRecordFolder(identity->public_identity()));
  if (!st.ok() && st.code() != Code::kAlreadyExists) return Fail(Step::kStore, st);
  root->tree.reset();
  auto record = OpenStoreArg(RecordStoreArg(args.store, identity->public_identity()), file,
                             /*create=*/true);
  if (!record.ok()) return Fail(Step::kStore, record.status());
  st = InitOwnerRecord(*record->tree, record->label, *identity, args.owner);
  if (!st.ok()) return Fail(Step::kStore, st);
  std::printf("Created %s's record (owner %s) in store %s.\n"
              "Its only key is the identity file %s: keep a copy of it somewhere safe.\n",
              args.owner.c_str(), crypto::Fingerprint(identity->public_identity()).c_str(),
              root->label.c_str(), args.identity.c_str());
  return kExitOk;
}

}  // namespace

int RunInit(const InitArgs& args) {
  auto url = config::ParseStoreUrl(args.store);
  if (!url.ok()) return Fail(Step::kCommandLine, url.status());
  auto file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(Step::kCommandLine, file.status());
  if (!args.owner.empty()) return InitRecord(args, *file);
  const std::string* store = url->kind == config::StoreKind::kLocal ? &url->path : &args.store;
  // Refuse an initialised or non-empty directory before asking for a passphrase twice;
  // InitStore checks again (atomically) when it writes (and is the check for remote stores).
  if (DIR* dir = url->kind == config::StoreKind::kLocal ? opendir(store->c_str()) : nullptr) {
    bool empty = true;
    bool initialised = false;
    while (struct dirent* entry = readdir(dir)) {
      if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) empty = false;
      if (strcmp(entry->d_name, crypto::kStoreConfigName) == 0) initialised = true;
    }
    closedir(dir);
    if (!empty) {
      return Fail(Step::kStore,
                  Status::AlreadyExists("store " + *store + (initialised ? " is already initialised"
                                                                         : " is not empty")));
    }
  }
  auto passphrase = ReadPassphrase(
      {args.passfile, "New passphrase for store " + *store + ": ", Confirm::kTwice});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto opened = OpenStoreArg(args.store, *file, /*create=*/true);
  if (!opened.ok()) return Fail(opened.status().code() == Code::kInvalidArgument ? Step::kCommandLine : Step::kStore, opened.status());
  auto recovery = InitStore(*opened->tree, opened->label, passphrase->view(), ScryptFor(args.scrypt_logn));
  if (!recovery.ok()) return Fail(Step::kStore, recovery.status());
  std::printf("Recovery key (write it down; it is shown only once):\n%s\n", recovery->c_str());
  std::fflush(stdout);
  OPENSSL_cleanse(recovery->data(), recovery->size());
  return kExitOk;
}

}  // namespace phrfs::fs
