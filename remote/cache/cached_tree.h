// CachedTree: the CipherTree over any ObjectStore with a local write-back cache of ciphertext and
// a crash-safe SQLite journal of the work still owed to the store (docs: DESIGN.md "Storage
// contract"). It only ever sees store keys and encrypted bytes.
// Thread-safe: every CipherTree call may come from any thread. One mutex guards the in-memory
// view, the journal and the cache files; store round trips happen outside it, on the caller's
// thread (fetches), the uploader threads or the prefetch threads.
// Files: cached_tree.cc (open, CipherTree calls, Sync/Flush/Status), local_view.cc (lookups,
// listings, revalidation, chunk fetches), uploader.cc (ops, uploads, conflicts), journal.cc.
//
// Design
// ------
// Cache directory: `lock` (flock LOCK_EX|LOCK_NB for the life of the tree: one tree per cache
// dir, Busy otherwise), `journal.db` (SQLite, WAL), `objects/<16 hex digits>` (one sparse cache
// file per cached object, named by a number from the journal, never by the key).
//
// Local view = one row per key the cache knows of (journal table `entries`):
//   object  file id, size, `etag` = the store object the local bytes are based on ("" = none:
//           a new object, uploaded with MustNotExist), dirty flag, fetched-chunk bitmap (clean
//           objects only; a dirty object is always fully cached);
//   folder  made here, its MakeCollection still queued;
//   absent  a tombstone: deleted, moved away or removed here, the store op still queued.
// Keys without a row are answered from the store: a listing cache per folder (TTL, default
// 30 s; a stale listing is used while the store is Unavailable) and Stat. Rows win over the
// store, so pending local changes always show. A clean row is checked against the store's
// etag when older than the TTL; a changed etag drops its cached chunks (never a torn mix).
//
// Work owed to the store:
//   - namespace ops (table `ops`, strict seq order, one at a time): MakeCollection,
//     RemoveCollection, Delete (ETagMatches the etag it was based on), Rename;
//   - uploads: every dirty row, whole object, ETagMatches(row etag) or MustNotExist. An upload
//     of a key waits while a queued op names that key or one of its folders; uploads of
//     distinct keys run in parallel (Options::upload_threads). Repeated writes coalesce: the
//     upload sends whatever the row holds when it starts; writes during it keep the row dirty.
//   - a Move of an object the store has is a queued Rename (cheap for big clean objects); a
//     never-uploaded object is only renamed locally and later uploaded under its new key. A
//     Delete of the target while that Rename is the last queued op and was never sent (not
//     even in an attempt that failed, nor before a restart) replaces it by a Delete of the
//     source (ETagMatches the same etag).
//     Exchange is three such moves through a temporary name, in one journal transaction.
//   - namespace calls on a key wait for an upload of that key in flight (so every etag a
//     queued op carries is the one the store will have); a read needing chunks of an object
//     named by a queued op waits for that op (a renamed object is still under its old key).
//   - an object whose upload may have reached the store unconfirmed (`sent_hashes` non-empty)
//     is treated as possibly there: deleting or moving it queues a Delete that removes the
//     store's object only if its bytes hash to one of ours.
// Durability: a call that changes the view commits the journal (synchronous=FULL) before it
// returns; a dirty row is committed before its cache file is first changed. A crash (kill -9)
// therefore loses nothing that was acknowledged: the next CachedTree on the directory resumes
// every op and upload. Replays are idempotent (AlreadyExists/NotFound accepted where they mean
// "already done"); an upload whose reply was lost is recognised on PreconditionFailed by
// comparing the store's bytes with the hashes of uploads sent but not confirmed (`sent_hashes`).
// Cache files are not fsynced: after a power loss (not a process crash) a dirty object may be
// uploaded with lost pages, which the vault's authenticated blocks then report as Corrupt.
//
// Uploads happen on Sync(key) (waits for the store to have the bytes; Unavailable when an
// attempt fails meanwhile), after Options::write_back_delay since the object's last change, and
// on Flush(). Unavailable from the store: exponential backoff (retry_min..retry_max) for all
// work; local writes, namespace changes and cached reads keep working; a read needing bytes not
// cached is Unavailable.
//
// Conflicts: an upload whose precondition fails (someone else changed or created the key) never
// overwrites: the store's version stays at the key (the local row is reset to it) and the local
// bytes are written to conflict_key(key), by default
//   conflicts/<key with '/' replaced by '~'>.conflict-<UTC yyyymmddThhmmssZ>-<host>
// at the store root (the vault cannot decrypt a name it did not make, so the copy is parked in
// one root folder instead of next to the key; the layer above may supply a callback that makes
// a decryptable name). An upload into a folder another client removed is parked the same way.
// A Delete whose etag no longer matches is dropped (the other writer's version stays). Each
// conflict goes to the journal, to Status and to the log. Sync returns Ok after a conflict.
// Permanent errors (e.g. PermissionDenied) mark the upload failed: kept in the cache, reported
// by Flush and Status, retried by the next Open.
//
// Fetches: one fetch per chunk at a time (a reader needing a chunk another thread is fetching
// waits for that fetch); each ranged read is checked against the row's etag (ReadIfMatch) and
// kept on its own. A reader whose reads follow each other gets a read-ahead window (see
// CachedTreeOptions::readahead_max_bytes).
//
// Eviction: when cached bytes exceed Options::cache_limit_bytes, clean objects not named by a
// queued op lose their cached chunks in least-recently-used order; dirty objects never do.
// docs/write-back-cache.md says the same for users.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/log_level.h"
#include "remote/cache/journal.h"
#include "remote/cipher_tree.h"
#include "remote/object_store.h"

namespace phrfs::remote {

struct CachedTreeOptions {
  uint64_t chunk_size = 256 * 1024;  // granularity of lazy fetches
  std::chrono::milliseconds write_back_delay{2000};
  std::chrono::milliseconds listing_ttl{30000};
  std::chrono::milliseconds retry_min{500};
  std::chrono::milliseconds retry_max{30000};
  int upload_threads = 2;
  int prefetch_threads = 4;  // serve Prefetch hints (a listing's node headers) in parallel
  // A fetch of missing chunks is split into up to this many ranged reads in flight at once.
  int fetch_parallel = 4;
  // Read-ahead for a sequential reader: the window starts at 4 chunks and doubles with every
  // fetch of the stream up to this many bytes (0 = none). The chunks beyond the read are fetched
  // with it; once the reader is served from the cache, the next window is fetched by the
  // prefetch threads while it reads.
  uint64_t readahead_max_bytes = uint64_t{8} << 20;
  // While the store is Unavailable, a name the cache knows nothing about is taken as new by
  // Put, MakeFolder and Move targets (instead of failing with Unavailable).
  bool assume_new_names_offline = true;
  // Names the store (e.g. its URL). Recorded at the first Open; a cache dir recorded for another
  // store is refused (InvalidArgument), so queued work never reaches the wrong store.
  std::string store_id;
  uint64_t cache_limit_bytes = uint64_t{2} << 30;
  // Where the local bytes of a conflicting upload go; must return a valid store key.
  std::function<std::string(const std::string& key)> conflict_key;
  // Better than conflict_key when the layer above can name a copy beside the key (the vault:
  // "NAME (conflict ...)" with a node header of its own): given the key and the local bytes,
  // the copy's key and the bytes that replace the first prefix.size() bytes. nullopt, or a
  // key already taken: conflict_key's place. Called without the tree's lock held.
  struct ConflictPlacement {
    std::string key;
    std::vector<uint8_t> prefix;
  };
  std::function<std::optional<ConflictPlacement>(const std::string& key,
                                                 std::span<const uint8_t> data)>
      conflict_copy;
  // Receives errors, conflicts (warning) and debug lines (store keys only, never plaintext).
  std::function<void(LogLevel, const std::string&)> log;
};

struct CacheConflict {
  std::string key;
  std::string conflict_key;  // "" when there were no local bytes to keep
  int64_t unix_time = 0;
  std::string detail;
};

// For `phrfs status` and `phrfs umount` progress.
struct CacheStatus {
  uint64_t pending_ops = 0;      // namespace ops not yet in the store
  uint64_t pending_uploads = 0;  // dirty objects
  uint64_t bytes_queued = 0;     // their total size
  uint64_t failed_uploads = 0;   // given up on until the next open (see last_error)
  uint64_t cached_bytes = 0;
  bool store_reachable = true;  // false after an Unavailable until the next success
  std::string last_error;
  uint64_t conflicts = 0;                       // recorded in this cache dir, ever
  std::vector<CacheConflict> recent_conflicts;  // the last few, oldest first
};

class CachedTree final : public CipherTree {
 public:
  static Result<std::unique_ptr<CachedTree>> Open(std::shared_ptr<ObjectStore> store,
                                                  const std::string& cache_dir,
                                                  CachedTreeOptions options = {});
  // Stops the uploader (finishing calls in flight) without flushing; pending work stays in the
  // journal for the next Open.
  ~CachedTree() override;

  // Uploads everything pending, ignoring the write-back delay. Ok when nothing is left;
  // Unavailable when `timeout` passes first (work stays queued and retried); IoError when
  // uploads were given up on (see CacheStatus::failed_uploads and last_error).
  Status Flush(std::chrono::milliseconds timeout = std::chrono::hours(24 * 365));
  CacheStatus GetStatus();
  // The CipherTree view of GetStatus and Flush, for `phrfs status` and unmount (sync_state.cc).
  std::optional<TreeSyncState> SyncState() override;
  Status FlushAll(const std::function<bool()>& give_up) override;
  // Test-only: stops like kill -9 would: results of store calls in flight are not recorded.
  void Abandon();

  bool SupportsLinks() const override { return false; }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override;
  Result<TreeStat> Stat(const std::string& path) override;
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override;
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override;
  Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Reserve(const std::string& path, uint64_t size) override;
  Status Sync(const std::string& path) override;
  Status Delete(const std::string& path) override;
  Status MakeFolder(const std::string& path) override;
  Status RemoveFolder(const std::string& path) override;
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override;
  Status Exchange(const std::string& a, const std::string& b) override;
  Status Link(const std::string& from, const std::string& to) override;
  Result<TreeSpace> Space() override;
  // Queues reads of the first `bytes` of each path for the prefetch threads (bounded queue;
  // hints beyond it are dropped). A prefetch never waits for queued store ops.
  void Prefetch(const std::vector<std::string>& paths, size_t bytes) override;
  // The cache dir's flock is held by the tree itself; the lease is one per tree at a time
  // (Busy otherwise). The store is shared by design between mounts on different machines.
  Result<std::unique_ptr<TreeLease>> AcquireLease() override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Row {
    cache::RowRecord rec;
    uint64_t uid = 0;      // identity across renames, for uploads finishing late
    uint64_t version = 0;  // bumped by every change of the bytes
    Clock::time_point changed_at{};
    Clock::time_point validated_at{};
    uint64_t last_access = 0;
    bool failed = false;
    bool fd_dirty = false;
    // Read-ahead state (memory only): where the last read started and ended, and the window in
    // chunks (0 = none yet).
    uint64_t read_start = 0;
    uint64_t read_end = 0;
    uint64_t stream_start = 0;  // where the sequential run of reads began
    uint64_t readahead = 0;
  };
  struct PrefetchJob {
    std::string path;
    size_t bytes = 0;  // a Prefetch hint: the first `bytes`
    // A read-ahead (bytes == 0): chunks [first, last] of the row `uid`.
    uint64_t uid = 0;
    uint64_t first = 0;
    uint64_t last = 0;
  };
  // What the local view says about one key.
  struct View {
    enum class Kind { kAbsent, kObject, kFolder } kind = Kind::kAbsent;
    uint64_t size = 0;
    std::string etag;         // of the store object (objects only)
    bool from_row = false;    // a row decided it
    bool new_folder = false;  // a folder row, or under one: the store has nothing below it
  };
  struct Listing {
    Clock::time_point fetched_at;
    std::map<std::string, ListEntry> entries;
  };
  struct RemoteStat {
    Clock::time_point fetched_at;
    bool exists = false;
    ObjectInfo info;
  };
  class Lease;

  CachedTree(std::shared_ptr<ObjectStore> store, std::string dir, CachedTreeOptions options,
             int lock_fd, std::unique_ptr<cache::Journal> journal);
  Status Load();
  void Start();
  void Stop(bool abandon);

  // Everything below runs with mu_ held; those taking the lock release it around store calls.
  View ViewOfRow(const Row& row) const;
  bool NeedsValidation(const std::string& key, const Row& row) const;
  // `for_create`: a name about to be created; see assume_new_names_offline.
  Result<View> Lookup(std::unique_lock<std::mutex>& lock, const std::string& key,
                      bool for_create = false);
  // The parent of `key` as a folder: NotFound / NotADirectory otherwise.
  Result<View> LookupParent(std::unique_lock<std::mutex>& lock, const std::string& key);
  Result<std::optional<ListEntry>> RemoteLookup(std::unique_lock<std::mutex>& lock,
                                                const std::string& key);
  Result<Listing> RemoteList(std::unique_lock<std::mutex>& lock, const std::string& folder);
  // Names (-> is folder) in a folder of the local view, temporary names included.
  Result<std::map<std::string, bool>> ListLocked(std::unique_lock<std::mutex>& lock,
                                                 const std::string& folder, bool new_folder);
  void Revalidate(std::unique_lock<std::mutex>& lock, const std::string& key);
  void ResetRow(Row& row, uint64_t size, const std::string& etag);
  Result<Row*> EnsureRow(const std::string& key, const View& view);
  Result<Row*> EnsureRowInTxn(const std::string& key, const View& view);
  // Fetches the missing chunks in [first, last] of a clean row. Those another thread is fetching
  // are not fetched again; the ones below `wait_before` are waited for (a reader needs them, a
  // read-ahead does not). Ok also when the row changed meanwhile: callers look again.
  Status FetchChunks(std::unique_lock<std::mutex>& lock, const std::string& key, uint64_t first,
                     uint64_t last, uint64_t wait_before = ~uint64_t{0});
  Result<Row*> PrepareRewrite(std::unique_lock<std::mutex>& lock, const std::string& path,
                              const char* op, uint64_t upto);
  void WaitNotUploading(std::unique_lock<std::mutex>& lock, const std::string& key);
  // Until no queued op names `key` (Unavailable when store work fails meanwhile).
  Status WaitOpsDone(std::unique_lock<std::mutex>& lock, const std::string& key);
  Status MoveLocked(const std::string& from, const View& src, const std::string& to,
                    const View& dst);
  Status MarkDirty(const std::string& key, Row& row);
  void Touched(Row& row);
  // Inside Transact, for a Delete of `path` (store etag `etag`): when the last queued op is a
  // rename onto `path` that was never sent to the store (unsent_ops_; the vault parks an unlinked
  // file under a temporary name, then deletes it), replaces it by a Delete of its source: one
  // store op instead of two. A rename that was attempted may already have moved the object.
  Status FoldDeleteIntoMove(const std::string& path, const std::string& etag, bool* folded);
  // Inside Transact: a tombstone while queued ops name the key, else no row at all.
  Status EraseRowOrTombstone(const std::string& key);
  void DropRow(const std::string& key);  // in memory only; its file goes after the commit
  Status SaveRow(const std::string& key, const Row& row);
  Status AppendOp(cache::OpRecord op);
  // One journal transaction; on failure the view is reloaded from the journal.
  Status Transact(cache::Durability durability, const std::function<Status()>& change);
  void ReloadIfNeeded(std::unique_lock<std::mutex>& lock);
  bool KeyHasOps(const std::string& key) const;
  bool GatedByOps(const std::string& key) const;
  // What the store now has at `key` after work of ours reached it.
  void NoteRemote(const std::string& key, std::optional<ListEntry> entry);
  std::string FilePath(uint64_t file_id) const;
  Status ReadFile(const Row& row, uint64_t offset, std::span<uint8_t> out);
  Status WriteFile(const Row& row, uint64_t offset, std::span<const uint8_t> data);
  Status SizeFile(uint64_t file_id, uint64_t size);
  void RemoveFile(uint64_t file_id);
  uint64_t ChunkCount(uint64_t size) const;
  bool FullyCached(const Row& row) const;
  uint64_t CachedBytesOf(const Row& row) const;
  void EvictIfNeeded();
  void Log(LogLevel level, const std::string& message);
  void NoteUnavailable(const Status& st);
  void NoteSuccess();
  void RecordConflict(cache::ConflictRecord c);

  // Uploader threads (remote/cache/uploader.cc).
  void WorkerLoop();
  bool RunOneOp(std::unique_lock<std::mutex>& lock);
  bool RunOneUpload(std::unique_lock<std::mutex>& lock);
  Status ExecuteOp(const cache::OpRecord& op, ObjectInfo* moved);
  void HandleConflict(std::unique_lock<std::mutex>& lock, const std::string& key, uint64_t uid,
                      const std::string& detail);
  Result<std::string> ParkConflictCopy(const std::string& key, std::span<const uint8_t> data);
  bool HasWork() const;
  void PrefetchLoop();
  // A read of [offset, end) of a clean row: updates its read-ahead state; true if sequential.
  bool NoteRead(Row& row, uint64_t offset, uint64_t end);
  // Queues the next read-ahead window after chunk `last` for the prefetch threads if some of it
  // is neither cached nor being fetched.
  void QueueReadAhead(const std::string& path, Row& row, uint64_t last);

  const std::shared_ptr<ObjectStore> store_;
  const std::string dir_;
  const CachedTreeOptions options_;
  const int lock_fd_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // uploader threads: new work, time passes, stop
  std::condition_variable done_cv_;  // Sync, Flush, namespace calls: something finished
  std::unique_ptr<cache::Journal> journal_;
  std::map<std::string, Row> rows_;
  std::set<std::string> dirty_;  // keys of dirty object rows
  std::map<uint64_t, cache::OpRecord> ops_;
  std::map<std::string, int> op_refs_;  // key -> queued ops naming it
  // Queued ops this tree appended and no worker has started: the store has never seen them. An
  // op loaded from the journal, or one whose attempt failed, may have taken effect (a lost
  // reply, a crash mid-call), so it is never rewritten, only replayed.
  std::set<uint64_t> unsent_ops_;
  std::set<std::string> uploading_;
  bool op_running_ = false;
  std::vector<uint64_t> doomed_files_;  // cache files to remove once the transaction commits
  bool lock_reload_needed_ = false;
  std::map<std::string, Listing> listings_;
  std::map<std::string, RemoteStat> stats_;
  uint64_t remote_gen_ = 0;  // bumped whenever work of ours reaches the store
  uint64_t next_uid_ = 1;
  uint64_t next_file_id_ = 1;
  uint64_t access_clock_ = 0;
  int flushers_ = 0;
  std::set<std::string> sync_wanted_;
  uint64_t failures_ = 0;  // Unavailable results of store work, ever (Sync watches it)
  Clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  bool reachable_ = true;
  std::string last_error_;
  uint64_t conflict_count_ = 0;
  std::vector<CacheConflict> recent_conflicts_;
  const std::shared_ptr<std::atomic<bool>> lease_held_;
  bool stopping_ = false;
  bool abandoned_ = false;
  std::vector<std::thread> workers_;
  std::condition_variable prefetch_cv_;
  std::deque<PrefetchJob> prefetch_queue_;
  std::set<std::pair<uint64_t, uint64_t>> fetching_;  // (row uid, chunk) being fetched
  uint64_t fetching_bytes_ = 0;
  std::vector<std::thread> prefetchers_;
};

}  // namespace phrfs::remote
