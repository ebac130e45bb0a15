#include "remote/object_tree.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <new>

#include "remote/temp_names.h"

namespace phrfs::remote {
namespace {

// How often WriteAt/Truncate redo their patch when another writer replaced the object between
// their read and their write.
constexpr int kRewriteAttempts = 8;
// How often AcquireLease retries when the lease it found vanished before it could be read.
constexpr int kLeaseAttempts = 4;
constexpr size_t kMaxLeaseSize = 4096;

// Synthetic capacity: a store without statfs still has to answer df(1).
constexpr uint64_t kSyntheticBlocks = uint64_t{1} << 32;  // 16 TiB of 4 KiB blocks
constexpr uint64_t kSyntheticFiles = uint64_t{1} << 32;

Status Relabel(const Status& st, const std::string& what) {
  return Status::Error(st.code(), what + ": " + st.message());
}

Status CheckKey(const std::string& key, bool allow_root) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, ObjectStore::SplitKey(key, allow_root));
  return RejectTempNames(parts, key);
}

std::string FolderOf(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

std::string ThisHost() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

// "hostname pid" -> whether it names a process of this host that no longer exists.
bool NamesDeadLocalProcess(const std::vector<uint8_t>& content, const std::string& host) {
  std::string text(content.begin(), content.end());
  size_t space = text.rfind(' ');
  if (space == std::string::npos || text.substr(0, space) != host) return false;
  std::string pid_text = text.substr(space + 1);
  while (!pid_text.empty() && (pid_text.back() == '\n' || pid_text.back() == '\r')) {
    pid_text.pop_back();
  }
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
  if (ec != std::errc() || end != pid_text.data() + pid_text.size() || pid <= 0) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

class ObjectLease final : public TreeLease {
 public:
  ObjectLease(std::shared_ptr<ObjectStore> store, std::string etag)
      : store_(std::move(store)), etag_(std::move(etag)) {}
  ~ObjectLease() override {
    // Only our own lease: if another process took it over meanwhile, it stays.
    (void)store_->Delete(ObjectTree::kLeaseName, Precondition::ETagMatches(etag_));
  }

 private:
  std::shared_ptr<ObjectStore> store_;
  std::string etag_;
};

}  // namespace

ObjectTree::ObjectTree(std::shared_ptr<ObjectStore> store, LeaseTaker lease_taker)
    : store_(std::move(store)), lease_taker_(std::move(lease_taker)) {}

Status ObjectTree::RequireObject(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(ObjectInfo info, store_->Stat(path));
  if (info.is_collection) return Status::FromErrno(EISDIR, path);
  return Status::Ok();
}

std::mutex& ObjectTree::RewriteLock(const std::string& path) {
  return rewrite_locks_[std::hash<std::string>{}(path) % rewrite_locks_.size()];
}

template <class Patch>
Status ObjectTree::Rewrite(const std::string& path, const char* op, Patch&& patch) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  // Held across the store's round trips, but only against rewrites of keys in the same stripe.
  std::lock_guard lock(RewriteLock(path));
  for (int attempt = 0; attempt < kRewriteAttempts; ++attempt) {
    // The etag names these bytes' version (or an older one): the write below lands only if the
    // object is still that version.
    auto whole = store_->ReadWhole(path, kMaxRewriteSize);
    if (!whole.ok()) {
      if (whole.status().code() == Code::kIsADirectory) {
        return Status::FromErrno(EISDIR, std::string(op) + " " + path);
      }
      if (whole.status().code() == Code::kFileTooBig) {
        return Status::Error(Code::kFileTooBig, std::string(op) + " " + path +
                                                    ": too large to rewrite in memory");
      }
      return whole.status();
    }
    std::vector<uint8_t>& bytes = whole->bytes;
    try {
      PHRFS_RETURN_IF_ERROR(patch(bytes));
    } catch (const std::bad_alloc&) {
      return Status::Error(Code::kOutOfMemory, std::string(op) + " " + path);
    }
    auto written = store_->Write(path, bytes, Precondition::ETagMatches(whole->etag));
    if (written.ok()) return Status::Ok();
    if (written.status().code() != Code::kPreconditionFailed) {
      return Relabel(written.status(), std::string(op) + " " + path);
    }
    // Replaced (or deleted) by someone else: start over from what is there now.
  }
  return Status::Error(Code::kUnavailable,
                       std::string(op) + " " + path + ": the object kept changing");
}

Result<std::vector<TreeEntry>> ObjectTree::List(const std::string& folder) {
  PHRFS_RETURN_IF_ERROR(CheckKey(folder, true));
  PHRFS_ASSIGN_OR_RETURN(std::vector<ListEntry> listed, store_->List(folder));
  std::vector<TreeEntry> out;
  out.reserve(listed.size());
  for (ListEntry& e : listed) {
    if (IsTempName(e.name)) continue;  // parked by an Exchange, or a store's leftover
    out.push_back(TreeEntry{std::move(e.name), e.is_collection});
  }
  return out;
}

Result<TreeStat> ObjectTree::Stat(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  PHRFS_ASSIGN_OR_RETURN(ObjectInfo info, store_->Stat(path));
  return TreeStat{info.is_collection, info.is_collection ? 0 : info.size, 1};
}

Result<size_t> ObjectTree::Read(const std::string& path, uint64_t offset,
                                std::span<uint8_t> out) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, store_->Read(path, offset, out.size()));
  size_t n = std::min(bytes.size(), out.size());
  if (n != 0) std::memcpy(out.data(), bytes.data(), n);
  return n;
}

Status ObjectTree::Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  auto written = store_->Write(path, data,
                               mode == PutMode::kMustNotExist ? Precondition::MustNotExist()
                                                              : Precondition::None());
  if (written.ok()) return Status::Ok();
  if (written.status().code() == Code::kPreconditionFailed) {
    return Status::AlreadyExists("put " + path + ": exists");
  }
  return written.status();
}

Status ObjectTree::WriteAt(const std::string& path, uint64_t offset,
                           std::span<const uint8_t> data) {
  if (offset > kMaxRewriteSize || data.size() > kMaxRewriteSize - offset) {
    return Status::Error(Code::kFileTooBig, "write " + path + ": beyond the rewrite limit");
  }
  return Rewrite(path, "write", [&](std::vector<uint8_t>& bytes) {
    size_t end = static_cast<size_t>(offset) + data.size();
    if (bytes.size() < end) bytes.resize(end, 0);  // a gap reads as zeros
    std::copy(data.begin(), data.end(), bytes.begin() + static_cast<ptrdiff_t>(offset));
    return Status::Ok();
  });
}

Status ObjectTree::Truncate(const std::string& path, uint64_t size) {
  if (size > kMaxRewriteSize) {
    return Status::Error(Code::kFileTooBig, "truncate " + path + ": beyond the rewrite limit");
  }
  return Rewrite(path, "truncate", [&](std::vector<uint8_t>& bytes) {
    bytes.resize(static_cast<size_t>(size), 0);
    return Status::Ok();
  });
}

Status ObjectTree::Reserve(const std::string& path, uint64_t) { return CheckKey(path, false); }

Status ObjectTree::Sync(const std::string& path) { return CheckKey(path, true); }

Status ObjectTree::Delete(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  return store_->Delete(path);
}

Status ObjectTree::MakeFolder(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  return store_->MakeCollection(path);
}

Status ObjectTree::RemoveFolder(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(CheckKey(path, false));
  return store_->RemoveCollection(path);
}

Status ObjectTree::Move(const std::string& from, const std::string& to, MoveMode mode) {
  PHRFS_RETURN_IF_ERROR(CheckKey(from, false));
  PHRFS_RETURN_IF_ERROR(CheckKey(to, false));
  // The store would move a whole collection; the tree's contract moves objects only.
  PHRFS_RETURN_IF_ERROR(RequireObject(from));
  return store_->Rename(from, to, RenameOptions{.replace = mode == MoveMode::kReplace});
}

Status ObjectTree::Exchange(const std::string& a, const std::string& b) {
  PHRFS_RETURN_IF_ERROR(CheckKey(a, false));
  PHRFS_RETURN_IF_ERROR(CheckKey(b, false));
  PHRFS_RETURN_IF_ERROR(RequireObject(a));
  PHRFS_RETURN_IF_ERROR(RequireObject(b));
  if (a == b) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(std::string temp_leaf, NewTempName());
  const std::string folder = FolderOf(a);
  const std::string parked = folder.empty() ? temp_leaf : folder + "/" + temp_leaf;
  const RenameOptions keep{.replace = false};
  const std::string what = "exchange " + a + " <-> " + b;

  PHRFS_RETURN_IF_ERROR(store_->Rename(a, parked, keep));
  Status st = store_->Rename(b, a, keep);
  if (!st.ok()) {
    (void)store_->Rename(parked, a, keep);
    return Relabel(st, what);
  }
  st = store_->Rename(parked, b, keep);
  if (!st.ok()) {
    if (store_->Rename(a, b, keep).ok()) (void)store_->Rename(parked, a, keep);
    return Relabel(st, what);
  }
  return Status::Ok();
}

Status ObjectTree::Link(const std::string& from, const std::string& to) {
  return Status::NotSupported("link " + from + " -> " + to + ": the store has no hard links");
}

Result<TreeSpace> ObjectTree::Space() {
  TreeSpace space;
  space.block_size = 4096;
  space.blocks = kSyntheticBlocks;
  space.blocks_free = kSyntheticBlocks;
  space.blocks_available = kSyntheticBlocks;
  space.files = kSyntheticFiles;
  space.files_free = kSyntheticFiles;
  return space;
}

Result<std::unique_ptr<TreeLease>> ObjectTree::AcquireLease() {
  if (lease_taker_) return lease_taker_();
  const std::string host = ThisHost();
  const std::string mine = host + " " + std::to_string(::getpid());
  const std::span<const uint8_t> content(reinterpret_cast<const uint8_t*>(mine.data()),
                                         mine.size());
  for (int attempt = 0; attempt < kLeaseAttempts; ++attempt) {
    auto created = store_->Write(kLeaseName, content, Precondition::MustNotExist());
    if (created.ok()) {
      return std::unique_ptr<TreeLease>(new ObjectLease(store_, std::move(created).value()));
    }
    if (created.status().code() != Code::kPreconditionFailed) return created.status();

    // Someone holds it: take it over only from a dead process of this host.
    auto info = store_->Stat(kLeaseName);
    if (info.status().code() == Code::kNotFound) continue;  // released meanwhile
    if (!info.ok()) return info.status();
    auto holder = store_->Read(kLeaseName, 0, kMaxLeaseSize);
    if (holder.status().code() == Code::kNotFound) continue;
    if (!holder.ok()) return holder.status();
    if (!NamesDeadLocalProcess(*holder, host)) {
      return Status::Error(Code::kBusy, "the store is already mounted by another phrfs process (" +
                                            std::string(holder->begin(), holder->end()) + ")");
    }
    auto taken = store_->Write(kLeaseName, content, Precondition::ETagMatches(info->etag));
    if (taken.ok()) {
      return std::unique_ptr<TreeLease>(new ObjectLease(store_, std::move(taken).value()));
    }
    if (taken.status().code() != Code::kPreconditionFailed) return taken.status();
    // Another process took it over or released it first: look again.
  }
  return Status::Error(Code::kBusy, "the store is already mounted by another phrfs process");
}

}  // namespace phrfs::remote
