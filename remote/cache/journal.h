// Journal: the crash-safe record of the write-back cache (remote/cache/cached_tree.h) in one
// SQLite database in WAL mode: the local view of the namespace (one row per key the cache knows
// about), the ordered queue of namespace operations still to apply to the store, and the
// conflicts seen. It holds store keys and etags only, never plaintext.
// Not thread-safe: the owning CachedTree calls it under its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

struct sqlite3;

namespace phrfs::remote::cache {

enum class RowKind : int { kObject = 0, kFolder = 1, kAbsent = 2 };

// One key of the local view. See CachedTree's header for what each state means.
struct RowRecord {
  RowKind kind = RowKind::kObject;
  uint64_t file_id = 0;  // cache file objects/<file_id as 16 hex digits>; 0 = none
  uint64_t size = 0;
  std::string etag;  // etag of the store object the local bytes are based on; "" = none
  bool dirty = false;
  std::vector<uint8_t> chunks;  // fetched-chunk bitmap (clean objects only)
  std::string sent_hashes;      // hashes of uploads that may have reached the store unconfirmed
};

enum class OpKind : int { kMakeFolder = 1, kRemoveFolder = 2, kDelete = 3, kMove = 4 };

struct OpRecord {
  uint64_t seq = 0;  // assigned by AppendOp; the order in which ops reach the store
  OpKind kind = OpKind::kDelete;
  std::string key;
  std::string key2;      // kMove: the target
  std::string etag;      // kDelete: precondition; kMove: the etag of the object moved
  bool replace = false;  // kMove: the target exists in the store and is replaced
};

struct ConflictRecord {
  std::string key;           // what the local copy was written to
  std::string conflict_key;  // where the local bytes were parked ("" = nothing to park)
  int64_t unix_time = 0;
  std::string detail;
};

// kFull: the commit acknowledges work to the caller (fsync of the WAL before returning).
// kLazy: bookkeeping that is safe to lose or redo after a crash.
enum class Durability { kFull, kLazy };

class Journal {
 public:
  // Opens (creating when missing) the database at `path`.
  static Result<std::unique_ptr<Journal>> Open(const std::string& path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  Status Begin(Durability durability);
  Status Commit();
  void Rollback();

  Status PutRow(const std::string& key, const RowRecord& row);
  Status DeleteRow(const std::string& key);
  Status AppendOp(OpRecord& op);  // sets op.seq
  Status DeleteOp(uint64_t seq);
  Status UpdateOpETag(uint64_t seq, const std::string& etag);
  Status AddConflict(const ConflictRecord& conflict);

  Result<std::vector<std::pair<std::string, RowRecord>>> LoadRows();
  Result<std::vector<OpRecord>> LoadOps();
  Result<std::vector<ConflictRecord>> LoadConflicts();
  // Small named values ("" when unset), e.g. which store the cache belongs to.
  Result<std::string> GetMeta(const std::string& name);
  Status SetMeta(const std::string& name, const std::string& value);

 private:
  explicit Journal(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);

  sqlite3* db_;
  Durability current_ = Durability::kFull;
};

}  // namespace phrfs::remote::cache
