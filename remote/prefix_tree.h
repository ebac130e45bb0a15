// A CipherTree that is one folder of another tree: every key is the folder's key plus "/" plus
// the key given, and "" names the folder itself. A grantee's mount reaches each owner's record
// in a store of records this way (fs/owner_records.h), through the one tree (and cache) of the
// whole store. It takes no lease of its own: a lease is on a whole store.
// Thread-safe as the inner tree is; the inner tree must outlive it.
#pragma once

#include <string>
#include <utility>

#include "remote/cipher_tree.h"

namespace phrfs::remote {

class PrefixTree final : public CipherTree {
 public:
  // `folder`: a key without leading or trailing '/', e.g. "owners/0123...".
  PrefixTree(CipherTree& inner, std::string folder) : inner_(inner), folder_(std::move(folder)) {}

  bool SupportsLinks() const override { return inner_.SupportsLinks(); }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override { return inner_.List(In(folder)); }
  Result<TreeStat> Stat(const std::string& path) override { return inner_.Stat(In(path)); }
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override {
    return inner_.Read(In(path), offset, out);
  }
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override {
    return inner_.Put(In(path), data, mode);
  }
  Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) override {
    return inner_.WriteAt(In(path), offset, data);
  }
  Status Truncate(const std::string& path, uint64_t size) override { return inner_.Truncate(In(path), size); }
  Status Reserve(const std::string& path, uint64_t size) override { return inner_.Reserve(In(path), size); }
  Status Sync(const std::string& path) override { return inner_.Sync(In(path)); }
  Status Delete(const std::string& path) override { return inner_.Delete(In(path)); }
  Status MakeFolder(const std::string& path) override { return inner_.MakeFolder(In(path)); }
  Status RemoveFolder(const std::string& path) override { return inner_.RemoveFolder(In(path)); }
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override {
    return inner_.Move(In(from), In(to), mode);
  }
  Status Exchange(const std::string& a, const std::string& b) override { return inner_.Exchange(In(a), In(b)); }
  Status Link(const std::string& from, const std::string& to) override { return inner_.Link(In(from), In(to)); }
  Result<TreeSpace> Space() override { return inner_.Space(); }
  void Prefetch(const std::vector<std::string>& paths, size_t bytes) override {
    std::vector<std::string> inner_paths;
    inner_paths.reserve(paths.size());
    for (const auto& p : paths) inner_paths.push_back(In(p));
    inner_.Prefetch(inner_paths, bytes);
  }
  std::optional<TreeSyncState> SyncState() override { return inner_.SyncState(); }
  Status FlushAll(const std::function<bool()>& give_up) override { return inner_.FlushAll(give_up); }
  Result<std::unique_ptr<TreeLease>> AcquireLease() override {
    return Status::NotSupported("a lease is taken on a whole store, not on its folder " + folder_);
  }

 private:
  std::string In(const std::string& key) const { return key.empty() ? folder_ : folder_ + "/" + key; }

  CipherTree& inner_;
  std::string folder_;
};

}  // namespace phrfs::remote
