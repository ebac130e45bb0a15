// CipherTree: the one interface through which the vault reaches stored ciphertext (README.md
// "Design decisions"). Keys are ObjectStore keys ('/'-separated, relative to the store root,
// already encrypted names). Two families implement it: the direct local tree (positioned I/O on
// a local directory, a bounded descriptor cache) and the object tree (only ObjectStore
// operations: whole-object reads and puts). Remote stores and their cache plug in below it.
// Thread-safe: every implementation accepts concurrent calls from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace phrfs::remote {

struct TreeStat {
  bool is_folder = false;
  uint64_t size = 0;   // 0 for folders
  uint32_t links = 1;  // hard links to an object (1 where the tree has no hard links)
};

struct TreeEntry {
  std::string name;  // last key component only, never "." or ".."
  bool is_folder = false;
};

struct TreeSpace {
  uint64_t block_size = 4096;
  uint64_t blocks = 0;
  uint64_t blocks_free = 0;
  uint64_t blocks_available = 0;
  uint64_t files = 0;
  uint64_t files_free = 0;
};

// How far a write-back tree's store is behind (remote stores behind the cache).
struct TreeSyncState {
  uint64_t pending_uploads = 0;  // changes not yet on the store (uploads and namespace changes)
  uint64_t bytes_queued = 0;     // bytes those uploads still have to move
  uint64_t conflicts = 0;        // changes kept as conflict copies since the tree was opened
  bool offline = false;          // the store did not answer the last attempt
  std::string last_error;        // empty when the last attempt worked
};

enum class PutMode { kReplace, kMustNotExist };
enum class MoveMode { kReplace, kNoReplace };

// Held for as long as a mount uses the store; releasing it (destruction) lets another mount in.
class TreeLease {
 public:
  virtual ~TreeLease() = default;
};

// Keys follow ObjectStore::SplitKey (InvalidArgument otherwise), and no component may be a
// temporary name (remote/temp_names.h): trees stage writes under such names and List hides them.
// "" names the root folder for List and Sync only.
//
// Error contract (as ObjectStore's): NotFound, AlreadyExists, NotEmpty, NotADirectory,
// IsADirectory, NoSpace, PermissionDenied, Unavailable, Corrupt (something in the store that is
// not what the layout allows, e.g. a symlink, a FIFO or a device where an object belongs),
// IoError. Never an exception, never a silent success; a short write is an error.
class CipherTree {
 public:
  virtual ~CipherTree() = default;
  CipherTree() = default;
  CipherTree(const CipherTree&) = delete;
  CipherTree& operator=(const CipherTree&) = delete;

  // Whether Link works (local directories); the vault answers EPERM for hard links otherwise.
  virtual bool SupportsLinks() const = 0;

  // Direct children of a folder ("" = the root), in no particular order.
  virtual Result<std::vector<TreeEntry>> List(const std::string& folder) = 0;
  virtual Result<TreeStat> Stat(const std::string& path) = 0;
  // Up to out.size() bytes at `offset`; fewer only at the end of the object.
  virtual Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) = 0;
  // Creates or replaces a whole object atomically: readers see the old or the new bytes.
  virtual Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) = 0;
  // Writes into an existing object at `offset` (may extend it). All or nothing is NOT promised
  // for the direct tree: on error the range may hold a mix, which the caller repairs.
  virtual Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) = 0;
  // Cuts or extends (with zeros) an existing object.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Makes sure that growing the object to `size` bytes will not fail for lack of space
  // (fallocate KEEP_SIZE); Ok where the tree cannot reserve. NoSpace when it cannot be had.
  virtual Status Reserve(const std::string& path, uint64_t size) = 0;
  // Makes an object's (or a folder's) state durable.
  virtual Status Sync(const std::string& path) = 0;
  virtual Status Delete(const std::string& path) = 0;
  // One level: the parent must exist. AlreadyExists when it does.
  virtual Status MakeFolder(const std::string& path) = 0;
  virtual Status RemoveFolder(const std::string& path) = 0;  // only when empty
  // Moves an object (not a folder: IsADirectory) to another key; the target's folder must exist.
  // kNoReplace: AlreadyExists when the target exists, and nothing changes.
  virtual Status Move(const std::string& from, const std::string& to, MoveMode mode) = 0;
  // Swaps two existing objects (RENAME_EXCHANGE). Atomic in the direct tree; in the object tree
  // three moves through a temporary name.
  virtual Status Exchange(const std::string& a, const std::string& b) = 0;
  // A second name for an object (hard link). NotSupported unless SupportsLinks().
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Result<TreeSpace> Space() = 0;
  // A hint that the first `bytes` of each of these objects will be read soon (a listing's node
  // headers): a tree may start fetching them in parallel. Errors are ignored; no-op by default.
  virtual void Prefetch(const std::vector<std::string>& paths, size_t bytes) {
    (void)paths;
    (void)bytes;
  }
  // Write-back trees: how far the store is behind; nullopt for trees that write through.
  virtual std::optional<TreeSyncState> SyncState() { return std::nullopt; }
  // Write-back trees: waits until every pending change has reached the store. Returns
  // Unavailable, the work kept for the next open, once `give_up` (asked about once a second)
  // says so. Ok at once for trees that write through.
  virtual Status FlushAll(const std::function<bool()>& give_up) {
    (void)give_up;
    return Status::Ok();
  }
  // Exclusive use of the store by one mount. Busy when another live mount holds it.
  virtual Result<std::unique_ptr<TreeLease>> AcquireLease() = 0;
};

}  // namespace phrfs::remote
