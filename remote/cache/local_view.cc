// CachedTree's local view: what a key is (rows first, then the store's listings and stats,
// cached for the listing TTL), revalidation of clean cached objects, and lazy chunk fetches
// (see remote/cache/cached_tree.h for the design).
#include "remote/cache/cache_helpers.h"
#include "remote/cache/cached_tree.h"

#include <atomic>
#include <thread>

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
  // Every read comes here: an existing row needs no journal transaction.
  auto it = rows_.find(key);
  if (it != rows_.end() && it->second.rec.kind == RowKind::kObject) return &it->second;
  Row* row = nullptr;
  PHRFS_RETURN_IF_ERROR(Transact(Durability::kLazy, [&]() -> Status {
    PHRFS_ASSIGN_OR_RETURN(row, EnsureRowInTxn(key, view));
    return Status::Ok();
  }));
  return row;
}

Status CachedTree::FetchChunks(std::unique_lock<std::mutex>& lock, const std::string& key,
                               uint64_t first, uint64_t last, uint64_t wait_before) {
  auto it = rows_.find(key);
  if (it == rows_.end() || it->second.rec.kind != RowKind::kObject || it->second.rec.dirty) {
    return Status::Ok();
  }
  Row& row = it->second;
  const uint64_t cs = options_.chunk_size;
  const uint64_t size = row.rec.size;
  const uint64_t uid = row.uid;
  const uint64_t version = row.version;
  const std::string etag = row.rec.etag;
  last = std::min(last, ChunkCount(size) == 0 ? 0 : ChunkCount(size) - 1);
  // Missing chunks: runs of ours to fetch, and those another thread is fetching (waited for).
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  std::vector<uint64_t> others;
  for (uint64_t i = first; i <= last && i * cs < size; ++i) {
    if (BitSet(row.rec.chunks, i)) continue;
    if (fetching_.count({uid, i}) != 0) {
      if (i < wait_before) others.push_back(i);
      continue;
    }
    if (!runs.empty() && runs.back().second + 1 == i) {
      runs.back().second = i;
    } else {
      runs.emplace_back(i, i);
    }
  }
  auto wait_for_others = [&] {
    done_cv_.wait(lock, [&] {
      if (stopping_) return true;
      for (uint64_t i : others) {
        if (fetching_.count({uid, i}) != 0) return false;
      }
      return true;
    });
    return Status::Ok();  // the caller looks again, and fetches what that fetch did not bring
  };
  if (runs.empty()) return wait_for_others();
  // Ranged reads of at least kMinRangeChunks (fewer, larger requests: a server may hash the whole
  // object for every response, as Apache does with FileETag Digest), split so that up to
  // fetch_parallel are in flight.
  constexpr uint64_t kMinRangeChunks = 8;
  uint64_t total = 0;
  for (auto [a, b] : runs) total += b - a + 1;
  const uint64_t parallel = static_cast<uint64_t>(std::max(1, options_.fetch_parallel));
  const uint64_t piece = std::max(kMinRangeChunks, (total + parallel - 1) / parallel);
  std::vector<std::pair<uint64_t, uint64_t>> pieces;
  for (auto [a, b] : runs) {
    for (uint64_t p = a; p <= b; p += piece) pieces.emplace_back(p, std::min(b, p + piece - 1));
  }
  auto piece_bytes = [&](size_t r) {
    return std::min((pieces[r].second + 1) * cs, size) - pieces[r].first * cs;
  };
  uint64_t claimed = 0;
  for (size_t r = 0; r < pieces.size(); ++r) {
    for (uint64_t i = pieces[r].first; i <= pieces[r].second; ++i) fetching_.insert({uid, i});
    claimed += piece_bytes(r);
  }
  fetching_bytes_ += claimed;
  lock.unlock();
  std::vector<Result<std::vector<uint8_t>>> got(pieces.size(),
                                                Result<std::vector<uint8_t>>(Status::Ok()));
  auto fetch = [&](size_t r) {
    const uint64_t off = pieces[r].first * cs;
    const size_t len = static_cast<size_t>(piece_bytes(r));
    if (!etag.empty()) {
      got[r] = store_->ReadIfMatch(key, off, len, etag);
      return;
    }
    // No etag to check in the request: the store's object must still have none afterwards.
    got[r] = store_->Read(key, off, len);
    if (!got[r].ok()) return;
    auto after = store_->Stat(key);
    if (!after.ok()) {
      got[r] = after.status();
    } else if (after->is_collection || !after->etag.empty()) {
      got[r] = Status::PreconditionFailed("read " + key + ": changed");
    }
  };
  {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t r; (r = next.fetch_add(1)) < pieces.size();) fetch(r);
    };
    std::vector<std::thread> helpers;
    const size_t extra = std::min<size_t>(pieces.size(), parallel) - 1;
    for (size_t t = 0; t < extra; ++t) helpers.emplace_back(worker);
    worker();
    for (std::thread& t : helpers) t.join();
  }
  lock.lock();
  for (auto [a, b] : pieces) {
    for (uint64_t i = a; i <= b; ++i) fetching_.erase({uid, i});
  }
  fetching_bytes_ -= claimed;
  done_cv_.notify_all();
  it = rows_.find(key);
  // A tombstone keeps the uid of the row it replaced (and an etag-less one matches etag ""):
  // only the same clean object version may take the bytes.
  if (it == rows_.end() || it->second.rec.kind != RowKind::kObject || it->second.uid != uid ||
      it->second.version != version || it->second.rec.dirty || it->second.rec.etag != etag) {
    return Status::Ok();  // changed meanwhile; the caller looks again
  }
  Row& now = it->second;
  // Each range was checked against the etag on its own: keep every one that came whole.
  bool changed = false;
  bool kept = false;
  Status failed;
  for (size_t r = 0; r < pieces.size(); ++r) {
    if (!got[r].ok()) {
      Code c = got[r].status().code();
      if (c == Code::kPreconditionFailed || c == Code::kNotFound || c == Code::kIsADirectory) {
        changed = true;
      } else if (failed.ok()) {
        failed = got[r].status();
      }
      continue;
    }
    if (got[r]->size() != piece_bytes(r)) {
      changed = true;  // shorter than the size we know: another version
      continue;
    }
    PHRFS_RETURN_IF_ERROR(WriteFile(now, pieces[r].first * cs, *got[r]));
    for (uint64_t i = pieces[r].first; i <= pieces[r].second; ++i) SetBit(now.rec.chunks, i);
    kept = true;
  }
  if (kept) {
    reachable_ = true;
    now.validated_at = Clock::now();
    PHRFS_RETURN_IF_ERROR(Transact(Durability::kLazy, [&] { return SaveRow(key, now); }));
  }
  if (changed) {
    // The store has another version (or none): learn which, drop what we cached of this one.
    lock.unlock();
    Result<ObjectInfo> after = store_->Stat(key);
    lock.lock();
    it = rows_.find(key);
    if (it == rows_.end() || it->second.rec.kind != RowKind::kObject || it->second.uid != uid ||
        it->second.rec.dirty || it->second.rec.etag != etag) {
      return Status::Ok();
    }
    Row& again = it->second;
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
    if (after->is_collection) return Status::Error(Code::kIsADirectory, "read " + key);
    ResetRow(again, after->size, after->etag);
    return Transact(Durability::kLazy, [&] { return SaveRow(key, again); });
  }
  if (!failed.ok()) {
    if (failed.code() == Code::kUnavailable) {
      reachable_ = false;
      last_error_ = failed.ToString();
    }
    return Relabel(failed, "read " + key + " (not cached)");
  }
  if (!others.empty()) return wait_for_others();
  return Status::Ok();
}

}  // namespace phrfs::remote
