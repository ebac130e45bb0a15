#include "remote/memory_store.h"

#include <algorithm>
#include <chrono>

namespace phrfs::remote {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

Status Err(Code code, const std::string& what) { return Status::Error(code, what); }

}  // namespace

Status MemoryStore::CheckParent(const std::string& path) const {
  std::string parent = ParentOf(path);
  if (parent.empty()) return Status::Ok();
  // Walk from the top so a missing ancestor is NotFound and an object ancestor NotADirectory,
  // as a POSIX path walk reports them.
  size_t pos = 0;
  for (;;) {
    size_t slash = parent.find('/', pos);
    std::string prefix = parent.substr(0, slash);
    auto it = nodes_.find(prefix);
    if (it == nodes_.end()) return Err(Code::kNotFound, "parent of " + path);
    if (!it->second.is_collection) return Err(Code::kNotADirectory, "parent of " + path);
    if (slash == std::string::npos) return Status::Ok();
    pos = slash + 1;
  }
}

bool MemoryStore::HasChildren(const std::string& path) const {
  std::string prefix = path + "/";
  auto it = nodes_.lower_bound(prefix);
  return it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

std::string MemoryStore::NextETag() { return "m" + std::to_string(++etag_counter_); }

Result<std::vector<ListEntry>> MemoryStore::DoList(const std::string& collection) {
  std::lock_guard lock(mu_);
  std::string prefix;
  if (!collection.empty()) {
    PHRFS_RETURN_IF_ERROR(CheckParent(collection));
    auto it = nodes_.find(collection);
    if (it == nodes_.end()) return Err(Code::kNotFound, "list " + collection);
    if (!it->second.is_collection) return Err(Code::kNotADirectory, "list " + collection);
    prefix = collection + "/";
  }
  std::vector<ListEntry> out;
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') != std::string::npos) continue;  // a grandchild
    const Node& n = it->second;
    out.push_back(ListEntry{rest, n.is_collection, n.is_collection ? 0 : n.data.size(), n.etag});
  }
  return out;
}

Result<ObjectInfo> MemoryStore::DoStat(const std::string& path) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err(Code::kNotFound, "stat " + path);
  const Node& n = it->second;
  return ObjectInfo{n.is_collection, n.is_collection ? 0 : n.data.size(), n.etag, n.mtime_ns};
}

Result<std::vector<uint8_t>> MemoryStore::DoRead(const std::string& path, uint64_t offset,
                                                 size_t max_length) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err(Code::kNotFound, "read " + path);
  if (it->second.is_collection) return Err(Code::kIsADirectory, "read " + path);
  const std::vector<uint8_t>& data = it->second.data;
  if (offset >= data.size()) return std::vector<uint8_t>();
  size_t n = std::min<uint64_t>(max_length, data.size() - offset);
  return std::vector<uint8_t>(data.begin() + offset, data.begin() + offset + n);
}

Result<std::string> MemoryStore::DoWrite(const std::string& path, std::span<const uint8_t> data,
                                         const Precondition& precondition) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  auto it = nodes_.find(path);
  if (it != nodes_.end() && it->second.is_collection) {
    return Err(Code::kIsADirectory, "write " + path);
  }
  switch (precondition.kind) {
    case Precondition::Kind::kNone: break;
    case Precondition::Kind::kMustNotExist:
      if (it != nodes_.end()) return Status::PreconditionFailed("write " + path + ": exists");
      break;
    case Precondition::Kind::kETagMatches:
      if (it == nodes_.end() || it->second.etag != precondition.etag) {
        return Status::PreconditionFailed("write " + path + ": etag mismatch");
      }
      break;
  }
  Node& n = nodes_[path];
  n.is_collection = false;
  n.data.assign(data.begin(), data.end());
  n.etag = NextETag();
  n.mtime_ns = NowNs();
  return n.etag;
}

Status MemoryStore::DoDelete(const std::string& path, const Precondition& precondition) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err(Code::kNotFound, "delete " + path);
  if (it->second.is_collection) return Err(Code::kIsADirectory, "delete " + path);
  if (precondition.kind == Precondition::Kind::kETagMatches &&
      it->second.etag != precondition.etag) {
    return Status::PreconditionFailed("delete " + path + ": etag mismatch");
  }
  nodes_.erase(it);
  return Status::Ok();
}

Status MemoryStore::DoMakeCollection(const std::string& path) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  if (nodes_.count(path) != 0) return Err(Code::kAlreadyExists, "mkcol " + path);
  Node& n = nodes_[path];
  n.is_collection = true;
  n.mtime_ns = NowNs();
  return Status::Ok();
}

Status MemoryStore::DoRemoveCollection(const std::string& path) {
  std::lock_guard lock(mu_);
  PHRFS_RETURN_IF_ERROR(CheckParent(path));
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Err(Code::kNotFound, "rmcol " + path);
  if (!it->second.is_collection) return Err(Code::kNotADirectory, "rmcol " + path);
  if (HasChildren(path)) return Err(Code::kNotEmpty, "rmcol " + path);
  nodes_.erase(it);
  return Status::Ok();
}

Status MemoryStore::DoRename(const std::string& from, const std::string& to,
                             RenameOptions options) {
  std::lock_guard lock(mu_);
  const std::string what = "rename " + from + " -> " + to;
  PHRFS_RETURN_IF_ERROR(CheckParent(from));
  auto src = nodes_.find(from);
  if (src == nodes_.end()) return Err(Code::kNotFound, what);
  PHRFS_RETURN_IF_ERROR(CheckParent(to));
  // The target's ancestors must not be the source itself (caught by ObjectStore::Rename).
  auto dst = nodes_.find(to);
  if (dst != nodes_.end()) {
    if (!options.replace) return Err(Code::kAlreadyExists, what);
    if (from == to) return Status::Ok();  // rename(2): same entry, nothing to do
    bool src_dir = src->second.is_collection;
    bool dst_dir = dst->second.is_collection;
    if (src_dir && !dst_dir) return Err(Code::kNotADirectory, what);
    if (!src_dir && dst_dir) return Err(Code::kIsADirectory, what);
    if (dst_dir && HasChildren(to)) return Err(Code::kNotEmpty, what);
    nodes_.erase(dst);
  }
  // Move the node and, for a collection, every descendant.
  std::vector<std::pair<std::string, Node>> moved;
  moved.emplace_back(to, std::move(src->second));
  nodes_.erase(src);
  std::string prefix = from + "/";
  for (auto it = nodes_.lower_bound(prefix);
       it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    moved.emplace_back(to + "/" + it->first.substr(prefix.size()), std::move(it->second));
    it = nodes_.erase(it);
  }
  for (auto& [key, node] : moved) nodes_[key] = std::move(node);
  return Status::Ok();
}

}  // namespace phrfs::remote
