// A CipherTree that forwards every call to a tree it shares (shared_ptr), so that several
// short-lived users (a vault opened, closed and opened again by `phrfs share apply`) can each
// own "their" tree while one connection and cache serve them all.
// Thread-safe as the inner tree is.
#pragma once

#include <memory>

#include "remote/cipher_tree.h"

namespace phrfs::remote {

class SharedTree final : public CipherTree {
 public:
  explicit SharedTree(std::shared_ptr<CipherTree> inner) : inner_(std::move(inner)) {}

  bool SupportsLinks() const override { return inner_->SupportsLinks(); }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override { return inner_->List(folder); }
  Result<TreeStat> Stat(const std::string& path) override { return inner_->Stat(path); }
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override {
    return inner_->Read(path, offset, out);
  }
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override {
    return inner_->Put(path, data, mode);
  }
  Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) override {
    return inner_->WriteAt(path, offset, data);
  }
  Status Truncate(const std::string& path, uint64_t size) override { return inner_->Truncate(path, size); }
  Status Reserve(const std::string& path, uint64_t size) override { return inner_->Reserve(path, size); }
  Status Sync(const std::string& path) override { return inner_->Sync(path); }
  Status Delete(const std::string& path) override { return inner_->Delete(path); }
  Status MakeFolder(const std::string& path) override { return inner_->MakeFolder(path); }
  Status RemoveFolder(const std::string& path) override { return inner_->RemoveFolder(path); }
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override {
    return inner_->Move(from, to, mode);
  }
  Status Exchange(const std::string& a, const std::string& b) override { return inner_->Exchange(a, b); }
  Status Link(const std::string& from, const std::string& to) override { return inner_->Link(from, to); }
  Result<TreeSpace> Space() override { return inner_->Space(); }
  void Prefetch(const std::vector<std::string>& paths, size_t bytes) override {
    inner_->Prefetch(paths, bytes);
  }
  std::optional<TreeSyncState> SyncState() override { return inner_->SyncState(); }
  Status FlushAll(const std::function<bool()>& give_up) override { return inner_->FlushAll(give_up); }
  Result<std::unique_ptr<TreeLease>> AcquireLease() override { return inner_->AcquireLease(); }

 private:
  std::shared_ptr<CipherTree> inner_;
};

}  // namespace phrfs::remote
