// Exit codes of the phrfs command (contract: man/phrfs.1 "EXIT STATUS"; scripts rely on them),
// and ExitCodeFor, the one place where a failed step becomes one. Any thread: pure functions.
#pragma once

#include "base/status.h"

namespace phrfs::fs {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,          // unexpected error (I/O, internal)
  kExitUsage = 2,            // bad command line
  kExitWrongPassphrase = 3,  // wrong passphrase or recovery key
  kExitNoStore = 4,          // store missing or not initialised
  kExitCorruptStore = 5,     // store config damaged, or a version/flag this build does not know
  kExitStoreExists = 6,      // init on a store that is already initialised or not empty
  kExitBadMountpoint = 7,    // mount point missing, not a directory, or not empty
  kExitFuse = 8,             // /dev/fuse missing or the kernel refused the mount
  kExitPassfile = 9,         // passphrase file unreadable or empty; passphrases differ
  kExitUnreachable = 10,     // the store's server did not answer (after retries)
  kExitAccessDenied = 11,    // the store's server refused the credentials
  kExitLogDamaged = 12,      // audit: the access log is damaged or incomplete (it still printed)
};

// Which step of a command failed: the same Status code means different things at different
// steps (NotFound of the store is exit 4, of the passphrase file exit 9).
enum class Step {
  kCommandLine,  // arguments and the phrfs.yaml they name
  kPassphrase,   // reading a passphrase or recovery key file, or the terminal
  kStore,        // opening, unlocking, creating or rewriting the store
  kMountpoint,   // the directory to mount on
  kMount,        // /dev/fuse and the kernel mount
  kOther,
};

ExitCode ExitCodeFor(Step step, const Status& status);

}  // namespace phrfs::fs
