// Exit codes of the phrfs command (contract: man/phrfs.1 "EXIT STATUS"; scripts rely on them).
#pragma once

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
};

}  // namespace phrfs::fs
