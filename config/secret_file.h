// Reads one secret (a WebDAV password, an S3 secret key) from a file that only its owner may
// read, as ssh(1) insists for private keys. The bytes go straight into SecureBytes; nothing is
// logged or echoed. Any thread (no shared state).
#pragma once

#include <cstddef>
#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::config {

// A secret file larger than this is refused: it holds one line, and the read buffer comes
// from the small locked arena (base/secure_arena.h).
inline constexpr size_t kMaxSecretFileSize = 4096;

// Reads `path`; `key` names where the path came from ("webdav.password_file") and begins every
// message. One trailing newline ("\n" or "\r\n") is removed. Errors: NotFound / PermissionDenied
// / IoError when the file cannot be opened or read; InvalidArgument when it is not a regular
// file, when group or others have any permission on it (the message says to chmod 600), when
// it is empty, larger than kMaxSecretFileSize, or holds more than one line.
Result<SecureBytes> ReadSecretFile(const std::string& path, const std::string& key);

}  // namespace phrfs::config
