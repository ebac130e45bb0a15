// Replacing a small local file whole (a status file, the known-owners file): the text goes to
// PATH.new (created 0600 unless `mode` says otherwise, never through a symlink), is optionally
// made durable, and is renamed over PATH, so that a reader sees the old file or the new one,
// never a part. Any thread; concurrent writers of one PATH must be serialised by the caller.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace phrfs {

enum class Durability { kNone, kSynced };

// kSynced: the file is fsync'ed before the rename and its folder after it. On failure the
// temporary file is removed and PATH is unchanged; the Status names the file.
Status ReplaceFile(const std::string& path, std::string_view text, mode_t mode = 0600,
                   Durability durability = Durability::kNone);

}  // namespace phrfs
