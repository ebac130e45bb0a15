// LocalStore: the ObjectStore over a directory on a local POSIX file system (the embedded
// default). Keys map to paths under the root, walked one component at a time without following
// symlinks. Thread-safe: plain syscalls, plus one mutex that orders precondition checks.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/local/posix_io.h"
#include "remote/object_store.h"

namespace phrfs::remote {

// Writes go to a temporary sibling (remote/temp_names.h), are fsynced, then renamed into place,
// so readers never see a partial object. Temporary names are therefore reserved: List hides them
// (leftovers of a crash) and any other use of such a key is InvalidArgument, except as the last
// component of a Rename's source or target, so that a CipherTree over this store can park an
// object out of sight for a moment (ObjectTree::Exchange).
//
// Etags are hex "<mtime ns>-<size>-<inode>". Limits, documented rather than hidden:
//  - kMustNotExist is enforced by the kernel (RENAME_NOREPLACE, or link(2) where that flag is
//    unsupported), so it holds against every writer.
//  - kETagMatches is a compare-then-rename under mutex_: safe against other writers through
//    this LocalStore object only, not against other processes or another LocalStore on the
//    same directory.
//  - An etag may repeat if an inode number is reused with the same size within one timestamp
//    tick of the file system (ABA); callers must not rely on etags across long gaps.
class LocalStore final : public ObjectStore {
 public:
  // Opens an existing directory as the store root.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& path);

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& collection) override;
  Result<ObjectInfo> DoStat(const std::string& path) override;
  Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                      size_t max_length) override;
  Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                              const Precondition& precondition) override;
  Status DoDelete(const std::string& path, const Precondition& precondition) override;
  Status DoMakeCollection(const std::string& path) override;
  Status DoRemoveCollection(const std::string& path) override;
  Status DoRename(const std::string& from, const std::string& to, RenameOptions options) override;

 private:
  explicit LocalStore(Fd root) : root_(std::move(root)) {}

  // The directory that holds a key's last component, opened O_PATH, and that component.
  struct Located {
    Fd parent;
    std::string leaf;
  };
  enum class LeafRule { kNoTempName, kTempNameAllowed };
  Result<Located> Locate(const std::string& key, LeafRule rule = LeafRule::kNoTempName) const;
  // Opens a collection key ("" = root) as an O_PATH directory descriptor.
  Result<Fd> OpenCollection(const std::string& key) const;

  Fd root_;
  std::mutex mu_;  // held across every etag check and the change it guards
};

}  // namespace phrfs::remote
