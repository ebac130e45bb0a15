// Identity files for the phrfs commands (`phrfs identity`, and the sharing commands that need
// the user's private keys): reading and parsing one, writing a new one atomically with mode
// 0600 and never over an existing file, and opening one with a passphrase read from a file or
// the terminal. Main thread only (the terminal prompt installs signal handlers). Never prints or
// logs a key or passphrase.
#pragma once

#include <string>

#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/identity_file.h"
#include "fs/cli/exit_codes.h"

namespace phrfs::fs {

// An identity file is a few hundred bytes; anything much larger is not one.
inline constexpr size_t kMaxIdentityFileSize = 4096;

// NotFound when `path` does not exist; Corrupt/NotSupported (the message names `path` and the
// line) when it is not a well-formed identity file. Opening it is what proves it intact.
Result<crypto::IdentityFile> ReadIdentityFile(const std::string& path);

// Writes `file` to `path` through a temporary file in the same folder (O_EXCL, mode 0600,
// fsync), moved into place without replacing anything (renameat2 RENAME_NOREPLACE, or link on
// file systems without it), then fsyncs the folder. AlreadyExists when `path` exists; the
// existing file is left untouched.
Status WriteNewIdentityFile(const std::string& path, const crypto::IdentityFile& file);

// Reads and opens the identity at `path`, asking for its passphrase on the terminal or reading
// the first line of `passfile` when that is not empty. On failure, `*failed_step` (when not null)
// says which step failed, so that Fail(step, status) gives the exit code man/phrfs.1 promises:
// 3 wrong passphrase (or a changed file), 4 no such identity file, 5 damaged identity file,
// 9 passphrase file unreadable or empty.
Result<crypto::Identity> LoadIdentityFile(const std::string& path, const std::string& passfile,
                                          Step* failed_step);

}  // namespace phrfs::fs
