// `phrfs init STORE`: creates a store under a new passphrase and prints its recovery key once.
#include <dirent.h>
#include <string.h>

#include <cstdio>

#include <openssl/crypto.h>

#include "crypto/store_config.h"
#include "fs/cli/commands.h"
#include "fs/cli/passphrase.h"
#include "fs/store_setup.h"

namespace phrfs::fs {

int RunInit(const InitArgs& args) {
  auto url = config::ParseStoreUrl(args.store);
  if (!url.ok()) return Fail(Step::kCommandLine, url.status());
  auto file = LoadConfigFile(args.config);
  if (!file.ok()) return Fail(Step::kCommandLine, file.status());
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
