// CachedTree's uploader threads: namespace ops in journal order, uploads of dirty objects,
// conflicts (see remote/cache/cached_tree.h for the design).
#include <ctime>

#include "remote/cache/cache_helpers.h"
#include "remote/cache/cached_tree.h"

namespace phrfs::remote {

using namespace cache::internal;
using cache::ConflictRecord;
using cache::Durability;
using cache::OpKind;
using cache::OpRecord;
using cache::RowKind;

// ---------------------------------------------------------------------------------------------
// The uploader.

void CachedTree::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (RunOneOp(lock)) continue;
    if (RunOneUpload(lock)) continue;
    // Sleep until the next write-back delay or retry ends, or until woken.
    auto wake = Clock::now() + std::chrono::seconds(5);
    if (Clock::now() < retry_at_) wake = std::min(wake, retry_at_);
    for (const std::string& key : dirty_) {
      auto it = rows_.find(key);
      if (it != rows_.end() && !it->second.failed) {
        wake = std::min(wake, it->second.changed_at + options_.write_back_delay);
      }
    }
    wake = std::max(wake, Clock::now() + std::chrono::milliseconds(1));
    work_cv_.wait_until(lock, wake);
  }
}

bool CachedTree::RunOneOp(std::unique_lock<std::mutex>& lock) {
  if (op_running_ || ops_.empty() || Clock::now() < retry_at_) return false;
  const OpRecord op = ops_.begin()->second;
  for (const std::string& k : OpKeys(op)) {
    if (uploading_.count(k) != 0) return false;
  }
  op_running_ = true;
  unsent_ops_.erase(op.seq);  // from now on the store may have seen it, whatever the result
  lock.unlock();
  ObjectInfo moved;
  Status st = ExecuteOp(op, &moved);
  lock.lock();
  op_running_ = false;
  if (abandoned_) return true;
  if (st.code() == Code::kUnavailable) {
    NoteUnavailable(st);
    return true;
  }
  if (st.ok()) {
    NoteSuccess();
  } else if (st.code() == Code::kPreconditionFailed || st.code() == Code::kNotEmpty ||
             st.code() == Code::kAlreadyExists) {
    ConflictRecord c;
    c.key = op.key;
    c.detail = st.ToString() + " (the store's version was kept)";
    RecordConflict(std::move(c));
  } else {
    last_error_ = st.ToString();
    Log(LogLevel::kError, "cache: giving up on a store op: " + st.ToString());
  }
  Status saved = Transact(Durability::kLazy, [&]() -> Status {
    PHRFS_RETURN_IF_ERROR(journal_->DeleteOp(op.seq));
    ops_.erase(op.seq);
    const std::vector<std::string> keys = OpKeys(op);
    for (const std::string& k : keys) {
      auto r = op_refs_.find(k);
      if (r != op_refs_.end() && --r->second == 0) op_refs_.erase(r);
    }
    if (op.kind == OpKind::kMove && st.ok() && !moved.etag.empty() && moved.etag != op.etag) {
      // The store gave the renamed object a new etag (S3 copies do): follow it everywhere.
      for (auto& [key, row] : rows_) {
        if (row.rec.etag == op.etag && row.rec.kind == RowKind::kObject) {
          row.rec.etag = moved.etag;
          PHRFS_RETURN_IF_ERROR(SaveRow(key, row));
        }
      }
      for (auto& [seq, other] : ops_) {
        if (other.etag == op.etag) {
          other.etag = moved.etag;
          PHRFS_RETURN_IF_ERROR(journal_->UpdateOpETag(seq, moved.etag));
        }
      }
    }
    // Tombstones and made folders only stand in for the store until it has caught up.
    for (const std::string& key : keys) {
      const std::string* k = &key;
      if (KeyHasOps(*k)) continue;
      auto r = rows_.find(*k);
      if (r != rows_.end() && r->second.rec.kind != RowKind::kObject) {
        rows_.erase(r);
        PHRFS_RETURN_IF_ERROR(journal_->DeleteRow(*k));
      }
    }
    return Status::Ok();
  });
  if (!saved.ok()) last_error_ = saved.ToString();
  switch (op.kind) {
    case OpKind::kMakeFolder:
      NoteRemote(op.key, ListEntry{LeafOf(op.key), true, 0, ""});
      // A folder we just made holds nothing of anyone else's: its listing is known (empty;
      // our own uploads into it enter it through NoteRemote), also for lookups made offline.
      if (st.ok()) listings_.emplace(op.key, Listing{Clock::now(), {}});
      break;
    case OpKind::kRemoveFolder:
    case OpKind::kDelete:
      NoteRemote(op.key, std::nullopt);
      break;
    case OpKind::kMove:
      NoteRemote(op.key, std::nullopt);
      if (st.ok()) {
        NoteRemote(op.key2, ListEntry{LeafOf(op.key2), false, moved.size, moved.etag});
      } else {
        ++remote_gen_;
        listings_.erase(ParentOf(op.key2));
        stats_.erase(op.key2);
      }
      break;
  }
  done_cv_.notify_all();
  work_cv_.notify_all();
  return true;
}

Status CachedTree::ExecuteOp(const OpRecord& op, ObjectInfo* moved) {
  switch (op.kind) {
    case OpKind::kMakeFolder: {
      Status st = store_->MakeCollection(op.key);
      if (st.code() == Code::kAlreadyExists) {
        auto info = store_->Stat(op.key);
        if (!info.ok()) return info.status();
        if (info->is_collection) return Status::Ok();  // done before a crash, or by another
      }
      return st;
    }
    case OpKind::kRemoveFolder: {
      Status st = store_->RemoveCollection(op.key);
      if (st.code() == Code::kNotFound) return Status::Ok();
      return st;
    }
    case OpKind::kDelete: {
      if (!op.etag.empty()) {
        Status st = store_->Delete(op.key, Precondition::ETagMatches(op.etag));
        if (st.code() == Code::kNotFound) return Status::Ok();
        if (st.code() != Code::kPreconditionFailed || op.key2.empty()) return st;
      }
      // The store may hold an upload of ours whose reply never came: delete that, nothing else.
      auto info = store_->Stat(op.key);
      if (info.status().code() == Code::kNotFound) return Status::Ok();
      if (!info.ok()) return info.status();
      if (!info->is_collection && info->size <= kMaxObjectSize) {
        auto bytes = store_->Read(op.key, 0, static_cast<size_t>(info->size));
        if (!bytes.ok()) return bytes.status();
        if (HashListed(op.key2, HashBytes(*bytes))) {
          Status st = store_->Delete(op.key, Precondition::ETagMatches(info->etag));
          if (st.code() == Code::kNotFound) return Status::Ok();
          return st;
        }
      }
      // Someone else's object: theirs stays (a conflict only if we meant to delete ours).
      return op.etag.empty() ? Status::Ok()
                             : Status::PreconditionFailed("delete " + op.key + ": changed");
    }
    case OpKind::kMove: {
      Status st = store_->Rename(op.key, op.key2, RenameOptions{.replace = op.replace});
      if (st.ok() || st.code() == Code::kNotFound || st.code() == Code::kAlreadyExists) {
        auto info = store_->Stat(op.key2);
        if (!info.ok()) {
          if (info.status().code() == Code::kUnavailable) return info.status();
          return st.ok() ? info.status() : st;
        }
        if (!st.ok()) {
          // A replay after a crash: the source is gone and the target is the moved object.
          auto src = store_->Stat(op.key);
          if (src.status().code() == Code::kUnavailable) return src.status();
          bool replayed = src.status().code() == Code::kNotFound && info->etag == op.etag;
          if (!replayed) return st;
        }
        *moved = *info;
        return Status::Ok();
      }
      return st;
    }
  }
  return Status::InvalidArgument("unknown op");
}

bool CachedTree::RunOneUpload(std::unique_lock<std::mutex>& lock) {
  const auto now = Clock::now();
  if (now < retry_at_) return false;
  std::string key;
  for (const std::string& k : dirty_) {
    auto it = rows_.find(k);
    if (it == rows_.end() || it->second.failed || uploading_.count(k) != 0 || GatedByOps(k)) {
      continue;
    }
    if (flushers_ == 0 && sync_wanted_.count(k) == 0 &&
        now < it->second.changed_at + options_.write_back_delay) {
      continue;
    }
    key = k;
    break;
  }
  if (key.empty()) return false;
  Row& row = rows_.at(key);
  const uint64_t uid = row.uid;
  const uint64_t version = row.version;
  const std::string base = row.rec.etag;
  std::vector<uint8_t> data(static_cast<size_t>(row.rec.size));
  Status st = ReadFile(row, 0, data);
  if (!st.ok()) {
    row.failed = true;
    last_error_ = st.ToString();
    Log(LogLevel::kError, "cache: cannot read the cache file of " + key + ": " + st.ToString());
    done_cv_.notify_all();
    return true;
  }
  const std::string hash = HashBytes(data);
  // Recorded before the bytes can reach the store: a reply lost to a crash or the network is
  // then recognised instead of reported as a conflict.
  if (!HashListed(row.rec.sent_hashes, hash)) {
    std::string before = row.rec.sent_hashes;
    row.rec.sent_hashes += (before.empty() ? "" : ",") + hash;
    st = Transact(Durability::kFull, [&] { return SaveRow(key, row); });
    if (!st.ok()) {
      row.rec.sent_hashes = before;
      last_error_ = st.ToString();
      return false;
    }
  }
  const std::string sent = row.rec.sent_hashes;
  uploading_.insert(key);
  lock.unlock();

  Result<std::string> written = store_->Write(
      key, data, base.empty() ? Precondition::MustNotExist() : Precondition::ETagMatches(base));
  bool adopted_only = false;  // the store has an earlier upload of ours, not this one
  uint64_t store_size = data.size();
  if (written.status().code() == Code::kPreconditionFailed) {
    auto info = store_->Stat(key);
    if (info.ok() && !info->is_collection && info->size <= kMaxObjectSize) {
      auto bytes = store_->Read(key, 0, static_cast<size_t>(info->size));
      if (bytes.ok() && HashListed(sent, HashBytes(*bytes))) {
        // Ours after all: only the reply was lost (or we crashed before recording it).
        auto again = store_->Stat(key);
        if (again.ok() && again->etag == info->etag) {
          written = info->etag;
          adopted_only = HashBytes(*bytes) != hash;
          store_size = info->size;
        } else if (!again.ok() && again.status().code() == Code::kUnavailable) {
          written = again.status();
        }
      } else if (!bytes.ok() && bytes.status().code() == Code::kUnavailable) {
        written = bytes.status();
      }
    } else if (!info.ok() && info.status().code() == Code::kUnavailable) {
      written = info.status();
    }
  }
  lock.lock();
  uploading_.erase(key);
  done_cv_.notify_all();
  if (abandoned_) return true;
  auto it = rows_.find(key);
  if (it == rows_.end() || it->second.uid != uid) return true;
  Row& now_row = it->second;
  if (written.ok()) {
    NoteSuccess();
    now_row.rec.etag = *written;
    now_row.rec.sent_hashes.clear();
    now_row.validated_at = Clock::now();
    if (!adopted_only && now_row.version == version) {
      now_row.rec.dirty = false;
      now_row.rec.chunks.clear();
      for (uint64_t i = 0; i < ChunkCount(now_row.rec.size); ++i) SetBit(now_row.rec.chunks, i);
      dirty_.erase(key);
      sync_wanted_.erase(key);
    }
    Status saved = Transact(Durability::kLazy, [&] { return SaveRow(key, now_row); });
    if (!saved.ok()) last_error_ = saved.ToString();
    NoteRemote(key, ListEntry{LeafOf(key), false, store_size, *written});
    Log(LogLevel::kDebug, "cache: uploaded " + key);
    EvictIfNeeded();
  } else if (written.status().code() == Code::kUnavailable) {
    NoteUnavailable(written.status());
  } else if (written.status().code() == Code::kPreconditionFailed) {
    HandleConflict(lock, key, uid,
                   "the store's object changed since the local copy was based on it");
  } else if (written.status().code() == Code::kNotFound ||
             written.status().code() == Code::kNotADirectory) {
    // Another client removed (or replaced) the folder: keep our bytes where they can land.
    HandleConflict(lock, key, uid,
                   "the folder is gone from the store: " + written.status().ToString());
  } else {
    now_row.failed = true;
    last_error_ = written.status().ToString();
    Log(LogLevel::kError, "cache: giving up on the upload of " + key + ": " + last_error_);
  }
  done_cv_.notify_all();
  work_cv_.notify_all();
  return true;
}

void CachedTree::HandleConflict(std::unique_lock<std::mutex>& lock, const std::string& key,
                                uint64_t uid, const std::string& detail) {
  // Someone else changed (or created, or deleted) the object since our copy's base: theirs stays
  // at the key, ours is parked under a conflict key. Namespace calls on the key wait meanwhile.
  uploading_.insert(key);
  for (int round = 0; round < 4; ++round) {
    auto it = rows_.find(key);
    if (it == rows_.end() || it->second.uid != uid) break;
    Row& row = it->second;
    const uint64_t version = row.version;
    std::vector<uint8_t> data(static_cast<size_t>(row.rec.size));
    if (!ReadFile(row, 0, data).ok()) break;
    lock.unlock();
    Result<std::string> parked = ParkConflictCopy(key, data);
    auto info = parked.ok() ? store_->Stat(key) : Result<ObjectInfo>(parked.status());
    if (!info.ok() && info.status().code() == Code::kNotADirectory) {
      info = Status::NotFound("stat " + key);  // nothing of theirs at the key itself
    }
    lock.lock();
    if (abandoned_) break;
    if (!parked.ok() || (!info.ok() && info.status().code() != Code::kNotFound)) {
      const Status& err = parked.ok() ? info.status() : parked.status();
      if (err.code() == Code::kUnavailable) {
        NoteUnavailable(err);
      } else {
        auto r = rows_.find(key);
        if (r != rows_.end()) r->second.failed = true;
        last_error_ = err.ToString();
        Log(LogLevel::kError,
            "cache: cannot keep the conflicting copy of " + key + ": " + err.ToString());
      }
      break;
    }
    it = rows_.find(key);
    if (it == rows_.end() || it->second.uid != uid) break;
    if (it->second.version != version) continue;  // written meanwhile: park the newer bytes
    ConflictRecord c;
    c.key = key;
    c.conflict_key = *parked;
    c.detail = detail;
    RecordConflict(std::move(c));
    Row& r = it->second;
    dirty_.erase(key);
    sync_wanted_.erase(key);
    r.rec.dirty = false;
    ++remote_gen_;
    listings_.erase(ParentOf(*parked));
    listings_.erase("");
    if (info.ok() && !info->is_collection) {
      ResetRow(r, info->size, info->etag);
      (void)Transact(Durability::kLazy, [&] { return SaveRow(key, r); });
    } else {
      (void)Transact(Durability::kLazy, [&] { return EraseRowOrTombstone(key); });
      NoteRemote(key, info.ok() ? std::optional<ListEntry>(ListEntry{LeafOf(key), true, 0, ""})
                                : std::nullopt);
    }
    break;
  }
  uploading_.erase(key);
  done_cv_.notify_all();
}

Result<std::string> CachedTree::ParkConflictCopy(const std::string& key,
                                                 std::span<const uint8_t> data) {
  if (options_.conflict_copy) {
    std::optional<CachedTreeOptions::ConflictPlacement> beside = options_.conflict_copy(key, data);
    if (beside && beside->prefix.size() <= data.size()) {
      std::vector<uint8_t> bytes(data.begin(), data.end());
      std::copy(beside->prefix.begin(), beside->prefix.end(), bytes.begin());
      auto w = store_->Write(beside->key, bytes, Precondition::MustNotExist());
      if (w.ok()) return beside->key;
      if (w.status().code() == Code::kUnavailable) return w.status();
      // Taken or refused: park it the default way.
    }
  }
  std::string target = options_.conflict_key ? options_.conflict_key(key) : DefaultConflictKey(key);
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, ObjectStore::SplitKey(target, false));
  std::string folder;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    folder = Join(folder, parts[i]);
    Status st = store_->MakeCollection(folder);
    if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  }
  for (int n = 0; n < 100; ++n) {
    std::string candidate = n == 0 ? target : target + "-" + std::to_string(n);
    auto w = store_->Write(candidate, data, Precondition::MustNotExist());
    if (w.ok()) return candidate;
    if (w.status().code() != Code::kPreconditionFailed) return w.status();
  }
  return Status::AlreadyExists("conflict copy of " + key + ": no free name");
}

}  // namespace phrfs::remote
