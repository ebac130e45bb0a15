// `phrfs identity new FILE` and `phrfs identity show FILE`: create a personal identity (for
// sharing) sealed under a passphrase, and print an identity file's public line.
#include <sys/stat.h>

#include <cstdio>

#include "crypto/identity.h"
#include "crypto/identity_file.h"
#include "fs/cli/commands.h"
#include "fs/cli/identity_loader.h"
#include "fs/cli/passphrase.h"

namespace phrfs::fs {

int RunIdentityNew(const IdentityNewArgs& args) {
  // Refuse an existing file before asking for a passphrase twice; WriteNewIdentityFile checks
  // again, atomically, when it moves the new file into place.
  struct stat st;
  if (lstat(args.file.c_str(), &st) == 0) {
    return Fail(Step::kStore, Status::AlreadyExists("identity file " + args.file +
                                                    " already exists; phrfs never overwrites one"));
  }
  auto passphrase =
      ReadPassphrase({args.passfile, "New passphrase for identity " + args.file + ": ", Confirm::kTwice});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto identity = crypto::Identity::Generate();
  if (!identity.ok()) return Fail(Step::kOther, identity.status());
  auto sealed = crypto::SealIdentity(*identity, passphrase->view(), ScryptFor(args.scrypt_logn));
  if (!sealed.ok()) return Fail(Step::kOther, sealed.status());
  Status written = WriteNewIdentityFile(args.file, *sealed);
  if (!written.ok()) return Fail(Step::kStore, written);
  std::printf("%s\n", crypto::FormatPublicIdentity(identity->public_identity()).c_str());
  std::fflush(stdout);
  return kExitOk;
}

int RunIdentityShow(const IdentityShowArgs& args) {
  auto file = ReadIdentityFile(args.file);
  if (!file.ok()) return Fail(Step::kStore, file.status());
  std::printf("%s\n", crypto::FormatPublicIdentity(file->public_identity).c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace phrfs::fs
