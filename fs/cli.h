// The phrfs command line (docs/cli-contract.md, man phrfs(1)): parses argv with CLI11 and runs
// init, mount, umount or passwd. Main thread only; the mount path may fork a daemon.
#pragma once

#include "base/status.h"
#include "fs/exit_codes.h"

namespace phrfs::fs {

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

// The one place where a failure becomes an exit code (fs/exit_codes.h).
ExitCode ExitCodeFor(Step step, const Status& status);

// Runs the command line; returns the process exit code. Never throws.
int RunCli(int argc, char** argv);

}  // namespace phrfs::fs
