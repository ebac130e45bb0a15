#include "remote/cache/cached_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "remote/cache/cache_helpers.h"
#include "remote/temp_names.h"

namespace phrfs::remote {

using namespace cache::internal;
using cache::ConflictRecord;
using cache::Durability;
using cache::OpKind;
using cache::OpRecord;
using cache::RowKind;
using cache::RowRecord;

static Status CheckStoreId(cache::Journal& journal, const std::string& id, const std::string& dir) {
  PHRFS_ASSIGN_OR_RETURN(std::string recorded, journal.GetMeta("store_id"));
  if (recorded.empty()) return journal.SetMeta("store_id", id);
  if (recorded != id) {
    return Status::InvalidArgument("cache dir " + dir + " belongs to another store (" + recorded +
                                   ")");
  }
  return Status::Ok();
}

class CachedTree::Lease final : public TreeLease {
 public:
  explicit Lease(std::shared_ptr<std::atomic<bool>> held) : held_(std::move(held)) {}
  ~Lease() override { held_->store(false); }

 private:
  std::shared_ptr<std::atomic<bool>> held_;
};

// ---------------------------------------------------------------------------------------------
// Opening, loading, stopping.

Result<std::unique_ptr<CachedTree>> CachedTree::Open(std::shared_ptr<ObjectStore> store,
                                                     const std::string& cache_dir,
                                                     CachedTreeOptions options) {
  if (options.chunk_size == 0) return Status::InvalidArgument("cache: chunk size 0");
  if (options.upload_threads < 1) options.upload_threads = 1;
  if (::mkdir(cache_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "cache dir " + cache_dir);
  }
  const std::string objects = cache_dir + "/objects";
  if (::mkdir(objects.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "cache dir " + objects);
  }
  const std::string lock_path = cache_dir + "/lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "cache lock " + lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Error(Code::kBusy, "cache dir " + cache_dir + " is in use by another mount");
    }
    return Status::FromErrno(err, "cache lock " + lock_path);
  }
  auto journal = cache::Journal::Open(cache_dir + "/journal.db");
  if (!journal.ok()) {
    ::close(fd);
    return journal.status();
  }
  if (!options.store_id.empty()) {
    Status st = CheckStoreId(**journal, options.store_id, cache_dir);
    if (!st.ok()) {
      ::close(fd);
      return st;
    }
  }
  std::unique_ptr<CachedTree> tree(new CachedTree(std::move(store), cache_dir, std::move(options),
                                                  fd, std::move(journal).value()));
  PHRFS_RETURN_IF_ERROR(tree->Load());
  tree->Start();
  return tree;
}

CachedTree::CachedTree(std::shared_ptr<ObjectStore> store, std::string dir,
                       CachedTreeOptions options, int lock_fd,
                       std::unique_ptr<cache::Journal> journal)
    : store_(std::move(store)),
      dir_(std::move(dir)),
      options_(std::move(options)),
      lock_fd_(lock_fd),
      journal_(std::move(journal)),
      lease_held_(std::make_shared<std::atomic<bool>>(false)) {}

CachedTree::~CachedTree() {
  Stop(/*abandon=*/false);
  journal_.reset();
  ::close(lock_fd_);  // releases the flock
}

void CachedTree::Abandon() { Stop(/*abandon=*/true); }

Status CachedTree::Load() {
  std::unique_lock lock(mu_);
  rows_.clear();
  ops_.clear();
  op_refs_.clear();
  unsent_ops_.clear();  // a previous run (or this one, before a reload) may have sent them
  dirty_.clear();
  PHRFS_ASSIGN_OR_RETURN(auto rows, journal_->LoadRows());
  PHRFS_ASSIGN_OR_RETURN(auto ops, journal_->LoadOps());
  PHRFS_ASSIGN_OR_RETURN(auto conflicts, journal_->LoadConflicts());
  std::set<uint64_t> files;
  for (auto& [key, rec] : rows) {
    Row row;
    row.rec = std::move(rec);
    row.uid = next_uid_++;
    if (row.rec.file_id != 0) {
      files.insert(row.rec.file_id);
      next_file_id_ = std::max(next_file_id_, row.rec.file_id + 1);
    }
    if (row.rec.kind == RowKind::kObject && row.rec.dirty) {
      // Writes to a dirty object change its cache file without a commit: the file is the truth.
      struct stat st;
      if (::stat(FilePath(row.rec.file_id).c_str(), &st) == 0) {
        row.rec.size = static_cast<uint64_t>(st.st_size);
      } else {
        row.failed = true;
        last_error_ = "cache file of " + key + " is missing";
        Log(LogLevel::kError, "cache: " + last_error_ + "; its pending upload is lost");
      }
      dirty_.insert(key);
    }
    rows_.emplace(key, std::move(row));
  }
  for (OpRecord& op : ops) {
    for (const std::string& k : OpKeys(op)) ++op_refs_[k];
    ops_.emplace(op.seq, std::move(op));
  }
  conflict_count_ = conflicts.size();
  recent_conflicts_.clear();
  size_t first = conflicts.size() > kRecentConflicts ? conflicts.size() - kRecentConflicts : 0;
  for (size_t i = first; i < conflicts.size(); ++i) {
    recent_conflicts_.push_back(CacheConflict{conflicts[i].key, conflicts[i].conflict_key,
                                              conflicts[i].unix_time, conflicts[i].detail});
  }
  // Cache files no row names: left by a crash between writing a file and committing its row.
  if (DIR* d = ::opendir((dir_ + "/objects").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char* end = nullptr;
      unsigned long long id = std::strtoull(e->d_name, &end, 16);
      if (end && *end == '\0' && files.count(id) != 0) continue;
      ::unlink((dir_ + "/objects/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  if (!ops_.empty() || !dirty_.empty()) {
    Log(LogLevel::kInfo, "cache: resuming " + std::to_string(ops_.size()) + " ops and " +
                             std::to_string(dirty_.size()) + " uploads");
  }
  return Status::Ok();
}

void CachedTree::Start() {
  for (int i = 0; i < options_.upload_threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  for (int i = 0; i < options_.prefetch_threads; ++i) {
    prefetchers_.emplace_back([this] { PrefetchLoop(); });
  }
}

void CachedTree::Stop(bool abandon) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    abandoned_ = abandon;
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  prefetch_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  for (std::thread& t : prefetchers_) t.join();
  prefetchers_.clear();
}

// ---------------------------------------------------------------------------------------------
// Small helpers (mu_ held).

void CachedTree::Log(LogLevel level, const std::string& message) {
  if (options_.log) options_.log(level, message);
}

std::string CachedTree::FilePath(uint64_t file_id) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx", static_cast<unsigned long long>(file_id));
  return dir_ + "/objects/" + name;
}

Status CachedTree::ReadFile(const Row& row, uint64_t offset, std::span<uint8_t> out) {
  int fd = ::open(FilePath(row.rec.file_id).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cache file");
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "cache file read");
    }
    if (n == 0) {  // a sparse tail: zeros
      std::memset(out.data() + done, 0, out.size() - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

Status CachedTree::WriteFile(const Row& row, uint64_t offset, std::span<const uint8_t> data) {
  int fd = ::open(FilePath(row.rec.file_id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "cache file");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      return Status::FromErrno(err, "cache file write");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

Status CachedTree::SizeFile(uint64_t file_id, uint64_t size) {
  int fd = ::open(FilePath(file_id).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(errno, "cache file");
  int rc = ::ftruncate(fd, static_cast<off_t>(size));
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "cache file truncate");
  return Status::Ok();
}

void CachedTree::RemoveFile(uint64_t file_id) {
  if (file_id != 0) ::unlink(FilePath(file_id).c_str());
}

uint64_t CachedTree::ChunkCount(uint64_t size) const {
  return (size + options_.chunk_size - 1) / options_.chunk_size;
}

bool CachedTree::FullyCached(const Row& row) const {
  if (row.rec.dirty) return true;
  uint64_t n = ChunkCount(row.rec.size);
  for (uint64_t i = 0; i < n; ++i) {
    if (!BitSet(row.rec.chunks, i)) return false;
  }
  return true;
}

uint64_t CachedTree::CachedBytesOf(const Row& row) const {
  if (row.rec.kind != RowKind::kObject) return 0;
  if (row.rec.dirty) return row.rec.size;
  uint64_t n = 0;
  for (uint8_t b : row.rec.chunks) n += static_cast<uint64_t>(__builtin_popcount(b));
  return std::min(n * options_.chunk_size, row.rec.size);
}

bool CachedTree::KeyHasOps(const std::string& key) const { return op_refs_.count(key) != 0; }

bool CachedTree::GatedByOps(const std::string& key) const {
  for (std::string k = key; !k.empty(); k = ParentOf(k)) {
    if (KeyHasOps(k)) return true;
  }
  return false;
}

Status CachedTree::SaveRow(const std::string& key, const Row& row) {
  return journal_->PutRow(key, row.rec);
}

void CachedTree::DropRow(const std::string& key) {
  auto it = rows_.find(key);
  if (it == rows_.end()) return;
  doomed_files_.push_back(it->second.rec.file_id);
  dirty_.erase(key);
  rows_.erase(it);
}

Status CachedTree::Transact(Durability durability, const std::function<Status()>& change) {
  doomed_files_.clear();
  PHRFS_RETURN_IF_ERROR(journal_->Begin(durability));
  Status st = change();
  if (st.ok()) st = journal_->Commit();
  if (!st.ok()) {
    journal_->Rollback();
    doomed_files_.clear();
    // The in-memory view may hold half of the change: reread what the journal has.
    Log(LogLevel::kError, "cache: journal update failed: " + st.ToString());
    lock_reload_needed_ = true;
    return st;
  }
  for (uint64_t id : doomed_files_) RemoveFile(id);
  doomed_files_.clear();
  return Status::Ok();
}

void CachedTree::ReloadIfNeeded(std::unique_lock<std::mutex>& lock) {
  if (!lock_reload_needed_) return;
  lock_reload_needed_ = false;
  lock.unlock();
  Status st = Load();
  lock.lock();
  if (!st.ok()) last_error_ = st.ToString();
}

Status CachedTree::EraseRowOrTombstone(const std::string& key) {
  if (KeyHasOps(key)) {
    auto it = rows_.find(key);
    Row fresh;
    fresh.rec.kind = RowKind::kAbsent;
    if (it != rows_.end()) {
      doomed_files_.push_back(it->second.rec.file_id);
      fresh.uid = it->second.uid;
    } else {
      fresh.uid = next_uid_++;
    }
    dirty_.erase(key);
    rows_[key] = fresh;
    return SaveRow(key, fresh);
  }
  DropRow(key);
  return journal_->DeleteRow(key);
}

Status CachedTree::AppendOp(OpRecord op) {
  PHRFS_RETURN_IF_ERROR(journal_->AppendOp(op));
  for (const std::string& k : OpKeys(op)) ++op_refs_[k];
  unsent_ops_.insert(op.seq);
  ops_.emplace(op.seq, std::move(op));
  work_cv_.notify_all();
  return Status::Ok();
}

void CachedTree::NoteRemote(const std::string& key, std::optional<ListEntry> entry) {
  ++remote_gen_;
  auto l = listings_.find(ParentOf(key));
  if (l != listings_.end()) {
    if (entry) {
      l->second.entries[LeafOf(key)] = *entry;
    } else {
      l->second.entries.erase(LeafOf(key));
    }
  }
  RemoteStat rs;
  rs.fetched_at = Clock::now();
  rs.exists = entry.has_value();
  if (entry) {
    rs.info.is_collection = entry->is_collection;
    rs.info.size = entry->size;
    rs.info.etag = entry->etag;
  }
  stats_[key] = rs;
  if (!entry) listings_.erase(key);
}

void CachedTree::NoteUnavailable(const Status& st) {
  ++failures_;
  reachable_ = false;
  last_error_ = st.ToString();
  auto next = backoff_.count() == 0 ? options_.retry_min : backoff_ * 2;
  backoff_ = std::min(next, options_.retry_max);
  retry_at_ = Clock::now() + backoff_;
  done_cv_.notify_all();
}

void CachedTree::NoteSuccess() {
  reachable_ = true;
  backoff_ = std::chrono::milliseconds(0);
  retry_at_ = Clock::time_point{};
}

void CachedTree::RecordConflict(ConflictRecord c) {
  c.unix_time = std::time(nullptr);
  Log(LogLevel::kWarning,
      "cache: conflict on " + c.key + ": " + c.detail +
          (c.conflict_key.empty() ? "" : "; local bytes kept as " + c.conflict_key));
  if (!journal_->AddConflict(c).ok()) Log(LogLevel::kError, "cache: cannot record conflict");
  ++conflict_count_;
  recent_conflicts_.push_back(CacheConflict{c.key, c.conflict_key, c.unix_time, c.detail});
  if (recent_conflicts_.size() > kRecentConflicts) {
    recent_conflicts_.erase(recent_conflicts_.begin());
  }
}

namespace {
// Set on prefetch threads: they must never wait for the uploader (whose threads may be busy).
thread_local bool tls_prefetching = false;
constexpr size_t kMaxPrefetchQueue = 4096;
constexpr size_t kMaxPrefetchBytes = 1 << 20;
// The first read-ahead window, in chunks (it doubles with each fetch of a stream).
constexpr uint64_t kFirstWindow = 4;
}  // namespace

Status CachedTree::WaitOpsDone(std::unique_lock<std::mutex>& lock, const std::string& key) {
  // The store has the bytes of a renamed object under its old key until the rename is done.
  if (!KeyHasOps(key)) return Status::Ok();
  if (tls_prefetching) return Status::Error(Code::kUnavailable, "prefetch " + key + ": busy");
  const uint64_t failures = failures_;
  retry_at_ = Clock::time_point{};
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return !KeyHasOps(key) || failures_ != failures || stopping_; });
  if (KeyHasOps(key)) {
    return Status::Error(Code::kUnavailable, "read " + key + " (not cached): " + last_error_);
  }
  return Status::Ok();
}

void CachedTree::WaitNotUploading(std::unique_lock<std::mutex>& lock, const std::string& key) {
  done_cv_.wait(lock, [&] { return uploading_.count(key) == 0 || stopping_; });
}

// ---------------------------------------------------------------------------------------------
// CipherTree: reads.

Result<std::vector<TreeEntry>> CachedTree::List(const std::string& folder) {
  PHRFS_RETURN_IF_ERROR(CheckKey(folder, /*allow_root=*/true));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, folder));
  if (v.kind == View::Kind::kAbsent) return Status::NotFound("list " + folder);
  if (v.kind == View::Kind::kObject) return Status::Error(Code::kNotADirectory, "list " + folder);
  PHRFS_ASSIGN_OR_RETURN(auto names, ListLocked(lock, folder, v.new_folder));
  std::vector<TreeEntry> out;
  for (auto& [name, is_folder] : names) {
    if (IsTempName(name)) continue;
    out.push_back(TreeEntry{name, is_folder});
  }
  return out;
}

Result<std::map<std::string, bool>> CachedTree::ListLocked(std::unique_lock<std::mutex>& lock,
                                                           const std::string& folder,
                                                           bool new_folder) {
  std::map<std::string, bool> names;
  const std::string prefix = folder.empty() ? "" : folder + "/";
  if (!new_folder) {
    PHRFS_ASSIGN_OR_RETURN(Listing listing, RemoteList(lock, folder));
    for (auto& [name, e] : listing.entries) names[name] = e.is_collection;
    // Clean cached objects that the listing shows changed or gone.
    std::vector<std::string> stale;
    for (auto it = rows_.lower_bound(prefix);
         it != rows_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      const std::string leaf = it->first.substr(prefix.size());
      if (leaf.find('/') != std::string::npos) continue;
      const Row& row = it->second;
      if (row.rec.kind != RowKind::kObject || row.rec.dirty || KeyHasOps(it->first) ||
          uploading_.count(it->first) != 0 || row.validated_at >= listing.fetched_at) {
        continue;
      }
      stale.push_back(it->first);
    }
    for (const std::string& key : stale) {
      Row& row = rows_.at(key);
      auto e = listing.entries.find(key.substr(prefix.size()));
      if (e != listing.entries.end() && !e->second.is_collection &&
          e->second.etag == row.rec.etag) {
        row.validated_at = listing.fetched_at;
        continue;
      }
      if (e != listing.entries.end() && !e->second.is_collection) {
        ResetRow(row, e->second.size, e->second.etag);
        (void)Transact(Durability::kLazy, [&] { return SaveRow(key, row); });
      } else {
        (void)Transact(Durability::kLazy, [&] {
          DropRow(key);
          return journal_->DeleteRow(key);
        });
      }
    }
  }
  for (auto it = rows_.lower_bound(prefix);
       it != rows_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string leaf = it->first.substr(prefix.size());
    if (leaf.find('/') != std::string::npos) continue;
    switch (it->second.rec.kind) {
      case RowKind::kAbsent:
        names.erase(leaf);
        break;
      case RowKind::kFolder:
        names[leaf] = true;
        break;
      case RowKind::kObject:
        names[leaf] = false;
        break;
    }
  }
  return names;
}

Result<TreeStat> CachedTree::Stat(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
  switch (v.kind) {
    case View::Kind::kAbsent:
      return Status::NotFound("stat " + path);
    case View::Kind::kFolder:
      return TreeStat{true, 0, 1};
    case View::Kind::kObject:
      break;
  }
  return TreeStat{false, v.size, 1};
}

Result<size_t> CachedTree::Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  bool fetched = false;
  for (int attempt = 0; attempt < kFetchAttempts; ++attempt) {
    PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
    if (v.kind == View::Kind::kAbsent) return Status::NotFound("read " + path);
    if (v.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, "read " + path);
    PHRFS_ASSIGN_OR_RETURN(Row * row, EnsureRow(path, v));
    const uint64_t size = row->rec.size;
    if (offset >= size || out.empty()) return size_t{0};
    const uint64_t end = std::min<uint64_t>(size, offset + out.size());
    const uint64_t first = offset / options_.chunk_size;
    const uint64_t last = (end - 1) / options_.chunk_size;
    bool have = row->rec.dirty;
    if (!have) {
      have = true;
      for (uint64_t i = first; i <= last; ++i) {
        if (!BitSet(row->rec.chunks, i)) have = false;
      }
    }
    const bool sequential = !row->rec.dirty && !fetched && NoteRead(*row, offset, end);
    if (have) {
      const size_t n = static_cast<size_t>(end - offset);
      PHRFS_RETURN_IF_ERROR(ReadFile(*row, offset, out.first(n)));
      row->last_access = ++access_clock_;
      if (sequential && !GatedByOps(path)) QueueReadAhead(path, *row, last);
      if (fetched) EvictIfNeeded();  // the cache only grows by fetches and writes
      return n;
    }
    uint64_t upto = last;
    if (sequential) {
      // The chunks after this read come with it, in a window that grows with the stream.
      const uint64_t max_chunks = options_.readahead_max_bytes / options_.chunk_size;
      row->readahead =
          std::min(max_chunks, row->readahead == 0 ? kFirstWindow : row->readahead * 2);
      upto = last + row->readahead;
    }
    // Both release the lock: `row` may be gone (a finished op erases its tombstone, eviction
    // drops clean rows) and is not touched after this; FetchChunks looks the key up again.
    row = nullptr;
    PHRFS_RETURN_IF_ERROR(WaitOpsDone(lock, path));
    PHRFS_RETURN_IF_ERROR(FetchChunks(lock, path, first, upto, /*wait_before=*/last + 1));
    fetched = true;
  }
  return Status::Error(Code::kUnavailable, "read " + path + ": the object kept changing");
}

bool CachedTree::NoteRead(Row& row, uint64_t offset, uint64_t end) {
  // Sequential: this read starts where the last one ended, give or take a chunk (the kernel's
  // read-ahead may hand adjacent reads to several threads), and not before the last one.
  // A stream earns read-ahead once it has read a chunk's worth: a probe of a file's first bytes
  // (a listing's node header, a small read) never pulls more than its chunk.
  const bool sequential = row.read_end != 0 && offset >= row.read_start &&
                          offset <= row.read_end + options_.chunk_size;
  if (!sequential) {
    row.stream_start = offset;
    row.readahead = 0;
  }
  row.read_start = offset;
  row.read_end = end;
  return sequential && end - row.stream_start >= options_.chunk_size &&
         options_.readahead_max_bytes >= options_.chunk_size;
}

void CachedTree::QueueReadAhead(const std::string& path, Row& row, uint64_t last) {
  if (options_.prefetch_threads <= 0) return;
  const uint64_t max_chunks = options_.readahead_max_bytes / options_.chunk_size;
  const uint64_t count = ChunkCount(row.rec.size);
  if (count == 0) return;
  if (row.readahead == 0) row.readahead = std::min(max_chunks, kFirstWindow);
  // The next window starts at the first chunk ahead that is neither cached nor on its way, once
  // the reader is within half a window of it (so windows stay whole, not a chunk at a time).
  const uint64_t near = std::min(count - 1, last + std::max<uint64_t>(1, row.readahead / 2));
  uint64_t first = near + 1;
  for (uint64_t i = last + 1; i <= near; ++i) {
    if (!BitSet(row.rec.chunks, i) && fetching_.count({row.uid, i}) == 0) {
      first = i;
      break;
    }
  }
  if (first > near) return;
  const uint64_t upto = std::min(count - 1, first + row.readahead - 1);
  // Bounded memory: fetched bytes wait in memory until their range is complete.
  if (fetching_bytes_ + (upto - first + 1) * options_.chunk_size >
      2 * options_.readahead_max_bytes) {
    return;
  }
  PrefetchJob job;
  job.path = path;
  job.uid = row.uid;
  job.first = first;
  job.last = upto;
  prefetch_queue_.push_front(std::move(job));  // a reader is waiting for these: before hints
  row.readahead = std::min(max_chunks, row.readahead * 2);
  prefetch_cv_.notify_one();
}

// ---------------------------------------------------------------------------------------------
// CipherTree: writes.

Status CachedTree::MarkDirty(const std::string& key, Row& row) {
  if (row.rec.dirty) return Status::Ok();
  // Committed before the cache file changes: a crash in between re-uploads the old bytes
  // (harmless), never leaves changed bytes marked clean.
  row.rec.dirty = true;
  row.rec.chunks.clear();
  Status st = Transact(Durability::kFull, [&] { return SaveRow(key, row); });
  if (!st.ok()) {
    row.rec.dirty = false;
    return st;
  }
  dirty_.insert(key);
  return Status::Ok();
}

void CachedTree::Touched(Row& row) {
  ++row.version;
  row.changed_at = Clock::now();
  row.last_access = ++access_clock_;
  work_cv_.notify_all();
}

Status CachedTree::Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  if (data.size() > kMaxObjectSize) {
    return Status::Error(Code::kFileTooBig, "put " + path + ": too large for the cache");
  }
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_RETURN_IF_ERROR(LookupParent(lock, path).status());
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path, /*for_create=*/true));
  if (v.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, "put " + path);
  if (v.kind == View::Kind::kObject && mode == PutMode::kMustNotExist) {
    return Status::AlreadyExists("put " + path + ": exists");
  }
  Row row;
  auto it = rows_.find(path);
  row.uid = it != rows_.end() ? it->second.uid : next_uid_++;
  row.version = it != rows_.end() ? it->second.version : 0;
  if (it != rows_.end()) row.rec.sent_hashes = it->second.rec.sent_hashes;
  row.rec.kind = RowKind::kObject;
  row.rec.file_id = next_file_id_++;
  row.rec.size = data.size();
  row.rec.etag = v.kind == View::Kind::kObject ? v.etag : std::string();
  row.rec.dirty = true;
  // A new file, switched to in one commit: readers see the old bytes or the new ones.
  PHRFS_RETURN_IF_ERROR(SizeFile(row.rec.file_id, 0));
  Status st = WriteFile(row, 0, data);
  if (!st.ok()) {
    RemoveFile(row.rec.file_id);
    return st;
  }
  uint64_t old_file = it != rows_.end() ? it->second.rec.file_id : 0;
  st = Transact(Durability::kFull, [&] { return SaveRow(path, row); });
  if (!st.ok()) {
    RemoveFile(row.rec.file_id);
    return st;
  }
  RemoveFile(old_file);
  Row& placed = rows_[path] = std::move(row);
  placed.validated_at = Clock::now();
  dirty_.insert(path);
  Touched(placed);
  EvictIfNeeded();
  return Status::Ok();
}

// Makes the row for `path` (an object) fully cached up to `upto` bytes and dirty.
Result<CachedTree::Row*> CachedTree::PrepareRewrite(std::unique_lock<std::mutex>& lock,
                                                    const std::string& path, const char* op,
                                                    uint64_t upto) {
  for (int attempt = 0; attempt < kFetchAttempts; ++attempt) {
    PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
    if (v.kind == View::Kind::kAbsent) return Status::NotFound(std::string(op) + " " + path);
    if (v.kind == View::Kind::kFolder) {
      return Status::Error(Code::kIsADirectory, std::string(op) + " " + path);
    }
    PHRFS_ASSIGN_OR_RETURN(Row * row, EnsureRow(path, v));
    if (!row->rec.dirty) {
      // The upload is whole-object: every byte that stays must be here first.
      uint64_t keep = std::min(upto, row->rec.size);
      bool have = true;
      for (uint64_t i = 0; i < ChunkCount(keep); ++i) {
        if (!BitSet(row->rec.chunks, i)) have = false;
      }
      if (!have) {
        PHRFS_RETURN_IF_ERROR(WaitOpsDone(lock, path));
        PHRFS_RETURN_IF_ERROR(FetchChunks(lock, path, 0, ChunkCount(keep) - 1));
        continue;
      }
      PHRFS_RETURN_IF_ERROR(MarkDirty(path, *row));
      if (keep < row->rec.size) {
        // Bytes past `upto` were not fetched and go away (truncate): cut them first.
        PHRFS_RETURN_IF_ERROR(SizeFile(row->rec.file_id, keep));
        row->rec.size = keep;
      }
      return row;
    }
    return row;
  }
  return Status::Error(Code::kUnavailable, std::string(op) + " " + path + ": kept changing");
}

Status CachedTree::WriteAt(const std::string& path, uint64_t offset,
                           std::span<const uint8_t> data) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  if (offset > kMaxObjectSize || data.size() > kMaxObjectSize - offset) {
    return Status::Error(Code::kFileTooBig, "write " + path + ": too large for the cache");
  }
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(Row * row, PrepareRewrite(lock, path, "write", ~uint64_t{0}));
  if (data.empty()) return Status::Ok();
  PHRFS_RETURN_IF_ERROR(WriteFile(*row, offset, data));
  row->rec.size = std::max<uint64_t>(row->rec.size, offset + data.size());
  Touched(*row);
  return Status::Ok();
}

Status CachedTree::Truncate(const std::string& path, uint64_t size) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  if (size > kMaxObjectSize) {
    return Status::Error(Code::kFileTooBig, "truncate " + path + ": too large for the cache");
  }
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(Row * row, PrepareRewrite(lock, path, "truncate", size));
  PHRFS_RETURN_IF_ERROR(SizeFile(row->rec.file_id, size));
  row->rec.size = size;
  Touched(*row);
  return Status::Ok();
}

Status CachedTree::Reserve(const std::string& path, uint64_t) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
  if (v.kind == View::Kind::kAbsent) return Status::NotFound("reserve " + path);
  if (v.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, "reserve " + path);
  return Status::Ok();
}

Status CachedTree::Delete(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  for (;;) {
    WaitNotUploading(lock, path);
    PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
    if (uploading_.count(path) != 0) continue;
    if (v.kind == View::Kind::kAbsent) return Status::NotFound("delete " + path);
    if (v.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, "delete " + path);
    auto it = rows_.find(path);
    const std::string unconfirmed = it != rows_.end() ? it->second.rec.sent_hashes : "";
    return Transact(Durability::kFull, [&]() -> Status {
      if (v.etag.empty() && unconfirmed.empty()) {
        return EraseRowOrTombstone(path);  // the store never had it
      }
      if (unconfirmed.empty()) {
        bool folded = false;
        PHRFS_RETURN_IF_ERROR(FoldDeleteIntoMove(path, v.etag, &folded));
        if (folded) return EraseRowOrTombstone(path);
      }
      OpRecord op;
      op.kind = OpKind::kDelete;
      op.key = path;
      op.etag = v.etag;
      op.key2 = unconfirmed;
      PHRFS_RETURN_IF_ERROR(AppendOp(op));
      return EraseRowOrTombstone(path);
    });
  }
}

Status CachedTree::FoldDeleteIntoMove(const std::string& path, const std::string& etag,
                                      bool* folded) {
  *folded = false;
  if (ops_.empty()) return Status::Ok();
  auto last = std::prev(ops_.end());
  const OpRecord& move = last->second;
  // Only a rename the store has never seen: one that was attempted (running now, or failed with
  // Unavailable after it may have taken effect, or sent before a restart) may already have moved
  // the object to `path`, where a Delete of the source would miss it (NotFound counts as done).
  const bool sent = unsent_ops_.count(last->first) == 0;
  auto refs = op_refs_.find(path);
  if (sent || move.kind != OpKind::kMove || move.key2 != path || move.replace ||
      move.etag.empty() || move.etag != etag || refs == op_refs_.end() || refs->second != 1) {
    return Status::Ok();
  }
  OpRecord del;
  del.kind = OpKind::kDelete;
  del.key = move.key;
  del.etag = move.etag;
  const std::vector<std::string> keys = OpKeys(move);
  PHRFS_RETURN_IF_ERROR(journal_->DeleteOp(last->first));
  unsent_ops_.erase(last->first);
  ops_.erase(last);
  for (const std::string& k : keys) {
    auto r = op_refs_.find(k);
    if (r != op_refs_.end() && --r->second == 0) op_refs_.erase(r);
  }
  // The source keeps its tombstone: the new op names it until the store has caught up.
  PHRFS_RETURN_IF_ERROR(AppendOp(del));
  *folded = true;
  return Status::Ok();
}

Status CachedTree::MakeFolder(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_RETURN_IF_ERROR(LookupParent(lock, path).status());
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path, /*for_create=*/true));
  if (v.kind != View::Kind::kAbsent) return Status::AlreadyExists("mkcol " + path);
  return Transact(Durability::kFull, [&]() -> Status {
    OpRecord op;
    op.kind = OpKind::kMakeFolder;
    op.key = path;
    PHRFS_RETURN_IF_ERROR(AppendOp(op));
    Row row;
    auto it = rows_.find(path);
    if (it != rows_.end()) doomed_files_.push_back(it->second.rec.file_id);
    row.uid = next_uid_++;
    row.rec.kind = RowKind::kFolder;
    rows_[path] = row;
    return SaveRow(path, row);
  });
}

Status CachedTree::RemoveFolder(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
  if (v.kind == View::Kind::kAbsent) return Status::NotFound("rmcol " + path);
  if (v.kind == View::Kind::kObject) return Status::Error(Code::kNotADirectory, "rmcol " + path);
  PHRFS_ASSIGN_OR_RETURN(auto names, ListLocked(lock, path, v.new_folder));
  if (!names.empty()) return Status::Error(Code::kNotEmpty, "rmcol " + path);
  return Transact(Durability::kFull, [&]() -> Status {
    OpRecord op;
    op.kind = OpKind::kRemoveFolder;
    op.key = path;
    PHRFS_RETURN_IF_ERROR(AppendOp(op));
    return EraseRowOrTombstone(path);
  });
}

// With a transaction open. `src` is an object; `dst` is absent or an object.
Status CachedTree::MoveLocked(const std::string& from, const View& src, const std::string& to,
                              const View& dst) {
  PHRFS_ASSIGN_OR_RETURN(Row * s, EnsureRowInTxn(from, src));
  Row moved = *s;
  const bool dst_in_store = dst.kind == View::Kind::kObject && !dst.etag.empty();
  auto old = rows_.find(to);
  // Uploads to `to` that may have reached the store unconfirmed: what is there may be ours.
  std::string dst_unconfirmed;
  if (old != rows_.end()) {
    doomed_files_.push_back(old->second.rec.file_id);
    dirty_.erase(to);
    if (old->second.rec.kind == RowKind::kObject) dst_unconfirmed = old->second.rec.sent_hashes;
  }
  if (!moved.rec.etag.empty()) {
    // The store has the source: rename it there (cheap for a large clean object); a dirty one
    // is uploaded under the new key afterwards.
    OpRecord op;
    op.kind = OpKind::kMove;
    op.key = from;
    op.key2 = to;
    op.etag = moved.rec.etag;
    op.replace = dst_in_store || !dst_unconfirmed.empty();
    PHRFS_RETURN_IF_ERROR(AppendOp(op));
  } else {
    // Never uploaded: only the local name changes; the upload replaces what `to` is now.
    if (!moved.rec.sent_hashes.empty()) {
      // ... unless an upload of it may have reached the store unconfirmed: remove that one.
      OpRecord op;
      op.kind = OpKind::kDelete;
      op.key = from;
      op.key2 = moved.rec.sent_hashes;
      PHRFS_RETURN_IF_ERROR(AppendOp(op));
      moved.rec.sent_hashes.clear();
    }
    moved.rec.etag = dst_in_store ? dst.etag : std::string();
    moved.rec.sent_hashes = dst_unconfirmed;
  }
  // The source's file now belongs to the target row: no tombstone may remove it.
  rows_.erase(from);
  dirty_.erase(from);
  if (KeyHasOps(from)) {
    Row tomb;
    tomb.uid = next_uid_++;
    tomb.rec.kind = RowKind::kAbsent;
    rows_[from] = tomb;
    PHRFS_RETURN_IF_ERROR(SaveRow(from, tomb));
  } else {
    PHRFS_RETURN_IF_ERROR(journal_->DeleteRow(from));
  }
  if (moved.rec.dirty) dirty_.insert(to);
  rows_[to] = moved;
  return SaveRow(to, moved);
}

Result<CachedTree::Row*> CachedTree::EnsureRowInTxn(const std::string& key, const View& view) {
  auto it = rows_.find(key);
  if (it != rows_.end() && it->second.rec.kind == RowKind::kObject) return &it->second;
  Row row;
  row.uid = next_uid_++;
  row.rec.kind = RowKind::kObject;
  row.rec.file_id = next_file_id_++;
  row.rec.size = view.size;
  row.rec.etag = view.etag;
  row.validated_at = Clock::now();
  PHRFS_RETURN_IF_ERROR(SizeFile(row.rec.file_id, view.size));
  Row& placed = rows_[key] = std::move(row);
  PHRFS_RETURN_IF_ERROR(SaveRow(key, placed));
  return &placed;
}

Status CachedTree::Move(const std::string& from, const std::string& to, MoveMode mode) {
  PHRFS_RETURN_IF_ERROR(CheckKey(from, false));
  PHRFS_RETURN_IF_ERROR(CheckKey(to, false));
  const std::string what = "move " + from + " -> " + to;
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  for (;;) {
    WaitNotUploading(lock, from);
    WaitNotUploading(lock, to);
    PHRFS_ASSIGN_OR_RETURN(View src, Lookup(lock, from));
    if (src.kind == View::Kind::kAbsent) return Status::NotFound(what);
    if (src.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, what);
    auto parent = LookupParent(lock, to);
    if (!parent.ok()) return Relabel(parent.status(), what);
    PHRFS_ASSIGN_OR_RETURN(View dst, Lookup(lock, to, /*for_create=*/true));
    if (dst.kind != View::Kind::kAbsent && mode == MoveMode::kNoReplace) {
      return Status::AlreadyExists(what);
    }
    if (from == to) return Status::Ok();
    if (dst.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, what);
    if (uploading_.count(from) != 0 || uploading_.count(to) != 0) continue;
    // Views taken while unlocked may be stale: take them again from the rows where possible.
    return Transact(Durability::kFull, [&] { return MoveLocked(from, src, to, dst); });
  }
}

Status CachedTree::Exchange(const std::string& a, const std::string& b) {
  PHRFS_RETURN_IF_ERROR(CheckKey(a, false));
  PHRFS_RETURN_IF_ERROR(CheckKey(b, false));
  const std::string what = "exchange " + a + " <-> " + b;
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  for (;;) {
    WaitNotUploading(lock, a);
    WaitNotUploading(lock, b);
    PHRFS_ASSIGN_OR_RETURN(View va, Lookup(lock, a));
    if (va.kind == View::Kind::kAbsent) return Status::NotFound(what);
    if (va.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, what);
    PHRFS_ASSIGN_OR_RETURN(View vb, Lookup(lock, b));
    if (vb.kind == View::Kind::kAbsent) return Status::NotFound(what);
    if (vb.kind == View::Kind::kFolder) return Status::Error(Code::kIsADirectory, what);
    if (a == b) return Status::Ok();
    if (uploading_.count(a) != 0 || uploading_.count(b) != 0) continue;
    PHRFS_ASSIGN_OR_RETURN(std::string leaf, NewTempName());
    const std::string parked = Join(ParentOf(a), leaf);
    // Three moves through a temporary name, in one journal transaction.
    return Transact(Durability::kFull, [&]() -> Status {
      const View none;
      PHRFS_RETURN_IF_ERROR(MoveLocked(a, va, parked, none));
      View vt = ViewOfRow(rows_.at(parked));
      PHRFS_RETURN_IF_ERROR(MoveLocked(b, vb, a, none));
      return MoveLocked(parked, vt, b, none);
    });
  }
}

Status CachedTree::Link(const std::string& from, const std::string& to) {
  return Status::NotSupported("link " + from + " -> " + to + ": the store has no hard links");
}

Result<TreeSpace> CachedTree::Space() {
  constexpr uint64_t kBlocks = uint64_t{1} << 32;
  TreeSpace space;
  space.block_size = 4096;
  space.blocks = kBlocks;
  space.blocks_free = kBlocks;
  space.blocks_available = kBlocks;
  space.files = kBlocks;
  space.files_free = kBlocks;
  return space;
}

void CachedTree::Prefetch(const std::vector<std::string>& paths, size_t bytes) {
  if (options_.prefetch_threads <= 0 || bytes == 0) return;
  {
    std::lock_guard lock(mu_);
    for (const std::string& path : paths) {
      if (prefetch_queue_.size() >= kMaxPrefetchQueue) break;
      if (!CheckKey(path, false).ok()) continue;
      auto it = rows_.find(path);
      if (it != rows_.end() && (it->second.rec.dirty || it->second.rec.kind != RowKind::kObject ||
                                BitSet(it->second.rec.chunks, 0))) {
        continue;  // nothing to fetch (chunk 0 holds the first bytes unless bytes > a chunk)
      }
      PrefetchJob job;
      job.path = path;
      job.bytes = std::min(bytes, kMaxPrefetchBytes);
      prefetch_queue_.push_back(std::move(job));
    }
  }
  prefetch_cv_.notify_all();
}

void CachedTree::PrefetchLoop() {
  tls_prefetching = true;
  std::vector<uint8_t> buf;
  std::unique_lock lock(mu_);
  for (;;) {
    prefetch_cv_.wait(lock, [&] { return stopping_ || !prefetch_queue_.empty(); });
    if (stopping_) return;
    PrefetchJob job = std::move(prefetch_queue_.front());
    prefetch_queue_.pop_front();
    if (job.bytes == 0) {
      // Read-ahead: only while the row is the one the reader read and the store has its bytes
      // under this key (no queued op names it); errors are the reader's to meet.
      auto it = rows_.find(job.path);
      if (it != rows_.end() && it->second.uid == job.uid && !GatedByOps(job.path)) {
        (void)FetchChunks(lock, job.path, job.first, job.last, /*wait_before=*/0);
        EvictIfNeeded();
      }
      continue;
    }
    lock.unlock();
    buf.resize(job.bytes);
    (void)Read(job.path, 0, buf);  // a hint: errors are the real read's to report
    lock.lock();
  }
}

Result<std::unique_ptr<TreeLease>> CachedTree::AcquireLease() {
  bool expected = false;
  if (!lease_held_->compare_exchange_strong(expected, true)) {
    return Status::Error(Code::kBusy, "the cache is already in use by this mount");
  }
  return std::unique_ptr<TreeLease>(new Lease(lease_held_));
}

// ---------------------------------------------------------------------------------------------
// Sync, Flush, Status.

Status CachedTree::Sync(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, /*allow_root=*/true));
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, path));
  if (v.kind == View::Kind::kAbsent) return Status::NotFound("sync " + path);
  const uint64_t failures = failures_;
  retry_at_ = Clock::time_point{};  // an fsync tries now, whatever the backoff
  if (v.kind == View::Kind::kFolder) {
    // A folder's entries: every namespace op queued so far, and its new objects (an entry of
    // the store exists only once its object is uploaded).
    const uint64_t upto = ops_.empty() ? 0 : ops_.rbegin()->first;
    const std::string prefix = path.empty() ? "" : path + "/";
    std::map<std::string, uint64_t> fresh;  // key -> uid
    for (auto it = rows_.lower_bound(prefix);
         it != rows_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      if (it->first.find('/', prefix.size()) != std::string::npos) continue;
      if (it->second.rec.dirty && it->second.rec.etag.empty() && !it->second.failed) {
        fresh.emplace(it->first, it->second.uid);
        sync_wanted_.insert(it->first);
      }
    }
    auto pending = [&] {
      if (!ops_.empty() && ops_.begin()->first <= upto) return true;
      for (const auto& [key, uid] : fresh) {
        auto r = rows_.find(key);
        if (r != rows_.end() && r->second.uid == uid && r->second.rec.dirty &&
            r->second.rec.etag.empty() && !r->second.failed) {
          return true;
        }
      }
      return false;
    };
    work_cv_.notify_all();
    done_cv_.wait(lock, [&] { return stopping_ || failures_ != failures || !pending(); });
    if (pending()) {
      for (const auto& [key, uid] : fresh) sync_wanted_.erase(key);
      return Status::Error(Code::kUnavailable, "sync " + path + ": " + last_error_);
    }
    return Status::Ok();
  }
  auto it = rows_.find(path);
  if (it == rows_.end() || !it->second.rec.dirty) return Status::Ok();
  const uint64_t uid = it->second.uid;
  sync_wanted_.insert(path);
  work_cv_.notify_all();
  Status result;
  done_cv_.wait(lock, [&] {
    auto r = rows_.find(path);
    if (r == rows_.end() || r->second.uid != uid || !r->second.rec.dirty) return true;
    if (r->second.failed) {
      result = Status::IoError("sync " + path + ": " + last_error_);
      return true;
    }
    if (failures_ != failures || stopping_) {
      result = Status::Error(Code::kUnavailable, "sync " + path + ": " + last_error_);
      return true;
    }
    return false;
  });
  if (!result.ok()) sync_wanted_.erase(path);
  return result;
}

bool CachedTree::HasWork() const {
  if (!ops_.empty() || op_running_ || !uploading_.empty()) return true;
  for (const std::string& key : dirty_) {
    auto it = rows_.find(key);
    if (it != rows_.end() && !it->second.failed) return true;
  }
  return false;
}

Status CachedTree::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ReloadIfNeeded(lock);
  ++flushers_;
  retry_at_ = Clock::time_point{};
  work_cv_.notify_all();
  const auto deadline =
      Clock::now() + std::min(timeout, std::chrono::milliseconds(std::chrono::hours(24 * 365)));
  bool done = done_cv_.wait_until(lock, deadline, [&] { return stopping_ || !HasWork(); });
  --flushers_;
  if (!done || HasWork()) {
    return Status::Error(Code::kUnavailable, "flush: work still pending: " + last_error_);
  }
  size_t failed = 0;
  for (const std::string& key : dirty_) {
    auto r = rows_.find(key);
    if (r != rows_.end() && r->second.failed) ++failed;
  }
  if (failed != 0) {
    return Status::IoError("flush: " + std::to_string(failed) +
                           " uploads failed and stay in the cache: " + last_error_);
  }
  return Status::Ok();
}

CacheStatus CachedTree::GetStatus() {
  std::lock_guard lock(mu_);
  CacheStatus s;
  s.pending_ops = ops_.size();
  for (const std::string& key : dirty_) {
    auto it = rows_.find(key);
    if (it == rows_.end()) continue;
    if (it->second.failed) {
      ++s.failed_uploads;
    } else {
      ++s.pending_uploads;
      s.bytes_queued += it->second.rec.size;
    }
  }
  for (const auto& [key, row] : rows_) s.cached_bytes += CachedBytesOf(row);
  s.store_reachable = reachable_;
  s.last_error = last_error_;
  s.conflicts = conflict_count_;
  s.recent_conflicts = recent_conflicts_;
  return s;
}

void CachedTree::EvictIfNeeded() {
  uint64_t total = 0;
  std::vector<std::pair<uint64_t, std::string>> candidates;  // clean object rows, by last use
  for (const auto& [key, row] : rows_) {
    total += CachedBytesOf(row);
    if (row.rec.kind == RowKind::kObject && !row.rec.dirty && !KeyHasOps(key) &&
        uploading_.count(key) == 0) {
      candidates.emplace_back(row.last_access, key);
    }
  }
  if (total <= options_.cache_limit_bytes && candidates.size() <= kMaxCleanRows) return;
  std::sort(candidates.begin(), candidates.end());
  size_t clean_rows = candidates.size();
  std::vector<std::string> dropped;
  for (const auto& [access, key] : candidates) {
    if (total <= options_.cache_limit_bytes && clean_rows <= kMaxCleanRows) break;
    // A clean row only mirrors the store: dropping it (bytes and all) loses nothing, and the
    // journal and memory stay bounded too.
    total -= CachedBytesOf(rows_.at(key));
    --clean_rows;
    dropped.push_back(key);
  }
  (void)Transact(Durability::kLazy, [&]() -> Status {
    for (const std::string& key : dropped) {
      DropRow(key);
      PHRFS_RETURN_IF_ERROR(journal_->DeleteRow(key));
    }
    return Status::Ok();
  });
}

}  // namespace phrfs::remote
