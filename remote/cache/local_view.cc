// CachedTree's local view: what a key is (rows first, then the store's listings and stats,
// cached for the listing TTL), revalidation of clean cached objects, and lazy chunk fetches
// (see remote/cache/cached_tree.h for the design).
#include "remote/cache/cache_helpers.h"
#include "remote/cache/cached_tree.h"

namespace phrfs::remote {

using namespace cache::internal;
using cache::Durability;
using cache::RowKind;

// ---------------------------------------------------------------------------------------------
// The local view.

CachedTree::View CachedTree::ViewOfRow(const Row& row) const {
  View v;
  v.from_row = true;
  switch (row.rec.kind) {
    case RowKind::kAbsent:
      v.kind = View::Kind::kAbsent;
      break;
    case RowKind::kFolder:
      v.kind = View::Kind::kFolder;
      v.new_folder = true;
      break;
    case RowKind::kObject:
      v.kind = View::Kind::kObject;
      v.size = row.rec.size;
      v.etag = row.rec.etag;
      break;
  }
  return v;
}

bool CachedTree::NeedsValidation(const std::string& key, const Row& row) const {
  return row.rec.kind == RowKind::kObject && !row.rec.dirty && !KeyHasOps(key) &&
         uploading_.count(key) == 0 && Clock::now() - row.validated_at > options_.listing_ttl;
}

Result<CachedTree::View> CachedTree::Lookup(std::unique_lock<std::mutex>& lock,
                                            const std::string& key, bool for_create) {
  if (key.empty()) {
    View root;
    root.kind = View::Kind::kFolder;
    return root;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto it = rows_.find(key);
    if (it != rows_.end()) {
      if (attempt < 2 && NeedsValidation(key, it->second)) {
        Revalidate(lock, key);
        continue;
      }
      return ViewOfRow(it->second);
    }
    // The nearest folder with a row decides for keys below it.
    for (std::string p = ParentOf(key); !p.empty(); p = ParentOf(p)) {
      auto a = rows_.find(p);
      if (a == rows_.end()) continue;
      if (a->second.rec.kind == RowKind::kObject) {
        return Status::Error(Code::kNotADirectory, "parent of " + key + " is an object");
      }
      return View{};  // absent: under a tombstone, or under a folder made here
    }
    auto looked = RemoteLookup(lock, key);
    if (!looked.ok() && looked.status().code() == Code::kUnavailable && for_create &&
        options_.assume_new_names_offline) {
      // Offline and nothing known about the name: take it as new. If the store has it after
      // all, the upload's MustNotExist turns that into a conflict, never an overwrite.
      looked = std::optional<ListEntry>();
    }
    PHRFS_ASSIGN_OR_RETURN(std::optional<ListEntry> remote, std::move(looked));
    if (rows_.count(key) != 0) continue;  // a row appeared while unlocked
    View v;
    if (remote) {
      v.kind = remote->is_collection ? View::Kind::kFolder : View::Kind::kObject;
      v.size = remote->is_collection ? 0 : remote->size;
      v.etag = remote->etag;
    }
    return v;
  }
  auto it = rows_.find(key);
  if (it != rows_.end()) return ViewOfRow(it->second);
  return Status::Error(Code::kUnavailable, "lookup " + key + ": the key kept changing");
}

Result<CachedTree::View> CachedTree::LookupParent(std::unique_lock<std::mutex>& lock,
                                                  const std::string& key) {
  std::string parent = ParentOf(key);
  PHRFS_ASSIGN_OR_RETURN(View v, Lookup(lock, parent));
  if (v.kind == View::Kind::kAbsent) return Status::NotFound("parent of " + key);
  if (v.kind == View::Kind::kObject) {
    return Status::Error(Code::kNotADirectory, "parent of " + key);
  }
  return v;
}

Result<std::optional<ListEntry>> CachedTree::RemoteLookup(std::unique_lock<std::mutex>& lock,
                                                          const std::string& key) {
  const auto now = Clock::now();
  const std::string parent = ParentOf(key);
  auto fresh = [&](Clock::time_point t) { return now - t <= options_.listing_ttl; };
  auto from_listing = [&](const Listing& l) -> std::optional<ListEntry> {
    auto e = l.entries.find(LeafOf(key));
    if (e == l.entries.end()) return std::nullopt;
    return e->second;
  };
  auto from_stat = [&](const RemoteStat& s) -> std::optional<ListEntry> {
    if (!s.exists) return std::nullopt;
    return ListEntry{LeafOf(key), s.info.is_collection, s.info.size, s.info.etag};
  };
  auto l = listings_.find(parent);
  auto s = stats_.find(key);
  // The newer of a fresh listing and a fresh stat answers.
  bool l_fresh = l != listings_.end() && fresh(l->second.fetched_at);
  bool s_fresh = s != stats_.end() && fresh(s->second.fetched_at);
  if (s_fresh && (!l_fresh || s->second.fetched_at >= l->second.fetched_at)) {
    return from_stat(s->second);
  }
  if (l_fresh) return from_listing(l->second);

  // One listing of the parent answers this lookup and the next ones in that folder for a TTL
  // (the vault probes up to four keys per name, and a burst of creates probes many names):
  // one request per folder instead of one per key. While the store is unreachable, RemoteList
  // answers with the last listing it had, however old.
  {
    auto listed = RemoteList(lock, parent);
    if (listed.ok()) return from_listing(*listed);
    if (listed.status().code() == Code::kNotFound) return std::optional<ListEntry>();
    if (listed.status().code() == Code::kUnavailable) return listed.status();
    // Anything else (a parent that is an object, ...): ask about the key itself.
  }

  uint64_t gen = remote_gen_;
  lock.unlock();
  auto info = store_->Stat(key);
  lock.lock();
  if (info.ok()) {
    ListEntry e{LeafOf(key), info->is_collection, info->is_collection ? 0 : info->size, info->etag};
    if (gen == remote_gen_) {
      stats_[key] = RemoteStat{Clock::now(), true, *info};
    }
    return std::optional<ListEntry>(e);
  }
  if (info.status().code() == Code::kNotFound) {
    if (gen == remote_gen_) stats_[key] = RemoteStat{Clock::now(), false, {}};
    return std::optional<ListEntry>();
  }
  if (info.status().code() == Code::kUnavailable) {
    reachable_ = false;
    last_error_ = info.status().ToString();
    // Offline: the last thing we knew, however old.
    l = listings_.find(parent);
    s = stats_.find(key);
    if (s != stats_.end() &&
        (l == listings_.end() || s->second.fetched_at >= l->second.fetched_at)) {
      return from_stat(s->second);
    }
    if (l != listings_.end()) return from_listing(l->second);
  }
  return info.status();
}

Result<CachedTree::Listing> CachedTree::RemoteList(std::unique_lock<std::mutex>& lock,
                                                   const std::string& folder) {
  auto l = listings_.find(folder);
  if (l != listings_.end() && Clock::now() - l->second.fetched_at <= options_.listing_ttl) {
    return l->second;
  }
  for (int attempt = 0;; ++attempt) {
    uint64_t gen = remote_gen_;
    Clock::time_point started = Clock::now();
    lock.unlock();
    auto listed = store_->List(folder);
    lock.lock();
    if (!listed.ok()) {
      if (listed.status().code() == Code::kUnavailable) {
        reachable_ = false;
        last_error_ = listed.status().ToString();
        l = listings_.find(folder);
        if (l != listings_.end()) return l->second;
      }
      return listed.status();
    }
    // Something of ours reached the store meanwhile: the listing may predate it.
    if (gen != remote_gen_ && attempt < 3) continue;
    Listing fresh;
    fresh.fetched_at = started;
    for (ListEntry& e : *listed) {
      std::string name = e.name;
      fresh.entries.emplace(std::move(name), std::move(e));
    }
    listings_[folder] = fresh;
    return fresh;
  }
}

void CachedTree::ResetRow(Row& row, uint64_t size, const std::string& etag) {
  // The store has another version: none of the cached chunks belongs to it.
  row.rec.size = size;
  row.rec.etag = etag;
  row.rec.chunks.clear();
  row.rec.sent_hashes.clear();
  row.validated_at = Clock::now();
  ++row.version;
  (void)SizeFile(row.rec.file_id, 0);
  (void)SizeFile(row.rec.file_id, size);
}

void CachedTree::Revalidate(std::unique_lock<std::mutex>& lock, const std::string& key) {
  uint64_t uid = rows_.at(key).uid;
  std::optional<ListEntry> remote;
  bool known = false;
  auto l = listings_.find(ParentOf(key));
  if (l != listings_.end() && l->second.fetched_at > rows_.at(key).validated_at &&
      Clock::now() - l->second.fetched_at <= options_.listing_ttl) {
    auto e = l->second.entries.find(LeafOf(key));
    if (e != l->second.entries.end()) remote = e->second;
    known = true;
  }
  if (!known) {
    lock.unlock();
    auto info = store_->Stat(key);
    lock.lock();
    if (info.ok()) {
      remote = ListEntry{LeafOf(key), info->is_collection, info->size, info->etag};
    } else if (info.status().code() != Code::kNotFound) {
      reachable_ = false;
      last_error_ = info.status().ToString();
      auto it = rows_.find(key);
      // Offline: serve what we have; look again after another TTL.
      if (it != rows_.end() && it->second.uid == uid) it->second.validated_at = Clock::now();
      return;
    }
  }
  auto it = rows_.find(key);
  if (it == rows_.end() || it->second.uid != uid || !NeedsValidation(key, it->second)) return;
  Row& row = it->second;
  if (remote && !remote->is_collection && remote->etag == row.rec.etag) {
    row.validated_at = Clock::now();
    return;
  }
  if (remote && !remote->is_collection) {
    Log(LogLevel::kDebug, "cache: " + key + " changed in the store; cached chunks dropped");
    ResetRow(row, remote->size, remote->etag);
    (void)Transact(Durability::kLazy, [&] { return SaveRow(key, row); });
    return;
  }
  // Gone (or now a folder) in the store: forget the cached copy.
  (void)Transact(Durability::kLazy, [&] {
    DropRow(key);
    return journal_->DeleteRow(key);
  });
}

Result<CachedTree::Row*> CachedTree::EnsureRow(const std::string& key, const View& view) {
  Row* row = nullptr;
  PHRFS_RETURN_IF_ERROR(Transact(Durability::kLazy, [&]() -> Status {
    PHRFS_ASSIGN_OR_RETURN(row, EnsureRowInTxn(key, view));
    return Status::Ok();
  }));
  return row;
}

Status CachedTree::FetchChunks(std::unique_lock<std::mutex>& lock, const std::string& key,
                               uint64_t first, uint64_t last) {
  auto it = rows_.find(key);
  if (it == rows_.end() || it->second.rec.kind != RowKind::kObject || it->second.rec.dirty) {
    return Status::Ok();
  }
  Row& row = it->second;
  const uint64_t cs = options_.chunk_size;
  const uint64_t size = row.rec.size;
  last = std::min(last, ChunkCount(size) == 0 ? 0 : ChunkCount(size) - 1);
  // Runs of missing chunks, one ranged read each.
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (uint64_t i = first; i <= last && i * cs < size; ++i) {
    if (BitSet(row.rec.chunks, i)) continue;
    if (!runs.empty() && runs.back().second + 1 == i) {
      runs.back().second = i;
    } else {
      runs.emplace_back(i, i);
    }
  }
  if (runs.empty()) return Status::Ok();
  const uint64_t uid = row.uid;
  const std::string etag = row.rec.etag;
  lock.unlock();
  std::vector<std::vector<uint8_t>> got;
  Status failed;
  for (auto [a, b] : runs) {
    uint64_t off = a * cs;
    uint64_t len = std::min((b + 1) * cs, size) - off;
    auto bytes = store_->Read(key, off, static_cast<size_t>(len));
    if (!bytes.ok()) {
      failed = bytes.status();
      break;
    }
    got.push_back(std::move(bytes).value());
  }
  // Versions never repeat an etag: if the store still has the version the row is based on
  // after the reads, the reads returned that version's bytes.
  Result<ObjectInfo> after = failed.ok() ? store_->Stat(key) : Result<ObjectInfo>(failed);
  lock.lock();
  it = rows_.find(key);
  if (it == rows_.end() || it->second.uid != uid || it->second.rec.dirty ||
      it->second.rec.etag != etag) {
    return Status::Ok();  // changed meanwhile; the caller looks again
  }
  Row& now = it->second;
  if (!after.ok()) {
    if (after.status().code() == Code::kUnavailable) {
      reachable_ = false;
      last_error_ = after.status().ToString();
      return Relabel(after.status(), "read " + key + " (not cached)");
    }
    if (after.status().code() == Code::kNotFound && !KeyHasOps(key)) {
      (void)Transact(Durability::kLazy, [&] {
        DropRow(key);
        return journal_->DeleteRow(key);
      });
      NoteRemote(key, std::nullopt);
    }
    return after.status();
  }
  reachable_ = true;
  bool short_read = false;
  for (size_t r = 0; r < runs.size(); ++r) {
    uint64_t off = runs[r].first * cs;
    uint64_t want = std::min((runs[r].second + 1) * cs, size) - off;
    if (got[r].size() != want) short_read = true;
  }
  if (after->etag != etag || after->size != size || after->is_collection || short_read) {
    if (after->is_collection) return Status::Error(Code::kIsADirectory, "read " + key);
    ResetRow(now, after->size, after->etag);
    return Transact(Durability::kLazy, [&] { return SaveRow(key, now); });
  }
  for (size_t r = 0; r < runs.size(); ++r) {
    PHRFS_RETURN_IF_ERROR(WriteFile(now, runs[r].first * cs, got[r]));
    for (uint64_t i = runs[r].first; i <= runs[r].second; ++i) SetBit(now.rec.chunks, i);
  }
  now.validated_at = Clock::now();
  return Transact(Durability::kLazy, [&] { return SaveRow(key, now); });
}

}  // namespace phrfs::remote
