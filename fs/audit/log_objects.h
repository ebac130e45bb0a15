// Reading the access log's objects from a store (FORMAT "ACCESS LOG"): the sessions under
// log/, one session's objects by number, and the references each session's header makes.
// Shared by AccessLogger (to find the latest sessions) and the reader. Any thread; the tree
// must be thread-safe (every CipherTree is).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/access_log.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// An object's whole contents (at most 64 MiB: no log object is larger).
Result<std::vector<uint8_t>> ReadLogObject(remote::CipherTree& tree, const std::string& path);

// The session folders under log/ (empty when there is no log/ yet). Other names are ignored.
Result<std::vector<crypto::LogSessionId>> ListLogSessions(remote::CipherTree& tree);

// One session's objects by the number in their name. Names that are not numbers are ignored.
Result<std::map<uint64_t, std::vector<uint8_t>>> ReadLogSession(remote::CipherTree& tree,
                                                                const crypto::LogSessionId& session);

// Every session with a header and the sessions that header references (none when it is
// unreadable). Sessions without a header are left out: an empty folder is a start that failed,
// and any other damage is the verification's to report.
Result<std::map<crypto::LogSessionId, std::vector<crypto::LogSessionId>>> ReadSessionReferences(
    remote::CipherTree& tree);

}  // namespace phrfs::fs
