#include "remote/object_store.h"

namespace phrfs::remote {

Result<std::vector<std::string>> ObjectStore::SplitKey(const std::string& key, bool allow_root) {
  std::vector<std::string> parts;
  if (key.empty()) {
    if (allow_root) return parts;
    return Status::InvalidArgument("empty key");
  }
  if (key.find('\0') != std::string::npos) return Status::InvalidArgument("key contains NUL");
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    std::string part = key.substr(start, slash == std::string::npos ? std::string::npos
                                                                     : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument("bad key component in " + key);
    }
    parts.push_back(std::move(part));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

Result<std::vector<ListEntry>> ObjectStore::List(const std::string& collection) {
  PHRFS_RETURN_IF_ERROR(SplitKey(collection, /*allow_root=*/true).status());
  return DoList(collection);
}

Result<ObjectInfo> ObjectStore::Stat(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  return DoStat(path);
}

Result<std::vector<uint8_t>> ObjectStore::Read(const std::string& path, uint64_t offset,
                                               size_t max_length) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  return DoRead(path, offset, max_length);
}

Result<std::vector<uint8_t>> ObjectStore::ReadIfMatch(const std::string& path, uint64_t offset,
                                                      size_t max_length,
                                                      const std::string& etag) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  if (etag.empty()) return Status::InvalidArgument("read " + path + ": empty etag");
  return DoReadIfMatch(path, offset, max_length, etag);
}

Result<std::vector<uint8_t>> ObjectStore::DoReadIfMatch(const std::string& path, uint64_t offset,
                                                        size_t max_length,
                                                        const std::string& etag) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, DoRead(path, offset, max_length));
  PHRFS_ASSIGN_OR_RETURN(ObjectInfo after, DoStat(path));
  if (after.is_collection) return Status::Error(Code::kIsADirectory, "read " + path);
  if (after.etag != etag) return Status::PreconditionFailed("read " + path + ": changed");
  return bytes;
}

Result<WholeObject> ObjectStore::ReadWhole(const std::string& path, uint64_t max_size) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  return DoReadWhole(path, max_size);
}

Result<WholeObject> ObjectStore::DoReadWhole(const std::string& path, uint64_t max_size) {
  PHRFS_ASSIGN_OR_RETURN(ObjectInfo info, DoStat(path));
  if (info.is_collection) return Status::Error(Code::kIsADirectory, "read " + path);
  if (info.size > max_size || info.size > SIZE_MAX) {
    return Status::Error(Code::kFileTooBig, "read " + path + ": larger than " +
                                                std::to_string(max_size) + " bytes");
  }
  // Read after Stat: bytes changed in between belong to a newer version than the etag names,
  // so a write conditioned on it fails.
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                         DoRead(path, 0, static_cast<size_t>(info.size)));
  return WholeObject{std::move(bytes), std::move(info.etag)};
}

Result<std::string> ObjectStore::Write(const std::string& path, std::span<const uint8_t> data,
                                       const Precondition& precondition) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  if (precondition.kind == Precondition::Kind::kETagMatches && precondition.etag.empty()) {
    return Status::InvalidArgument("write " + path + ": empty etag in precondition");
  }
  return DoWrite(path, data, precondition);
}

Status ObjectStore::Delete(const std::string& path, const Precondition& precondition) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  if (precondition.kind == Precondition::Kind::kMustNotExist) {
    return Status::InvalidArgument("delete " + path + ": must-not-exist precondition");
  }
  if (precondition.kind == Precondition::Kind::kETagMatches && precondition.etag.empty()) {
    return Status::InvalidArgument("delete " + path + ": empty etag in precondition");
  }
  return DoDelete(path, precondition);
}

Status ObjectStore::MakeCollection(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  return DoMakeCollection(path);
}

Status ObjectStore::RemoveCollection(const std::string& path) {
  PHRFS_RETURN_IF_ERROR(SplitKey(path, false).status());
  return DoRemoveCollection(path);
}

Status ObjectStore::Rename(const std::string& from, const std::string& to,
                           RenameOptions options) {
  PHRFS_RETURN_IF_ERROR(SplitKey(from, false).status());
  PHRFS_RETURN_IF_ERROR(SplitKey(to, false).status());
  if (to.size() > from.size() && to.compare(0, from.size(), from) == 0 && to[from.size()] == '/') {
    return Status::InvalidArgument("rename " + from + " -> " + to + ": into itself");
  }
  return DoRename(from, to, options);
}

}  // namespace phrfs::remote
