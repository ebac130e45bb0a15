// ObjectTree: the CipherTree over any ObjectStore (WebDAV, S3, the local and in-memory stores),
// using nothing but whole-object store operations; the vault's tests run it over MemoryStore.
// Thread-safe when the store is; its only state is a set of striped locks that keep two of its
// own WriteAt/Truncate calls on one object from undoing each other's work.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/cipher_tree.h"
#include "remote/object_store.h"

namespace phrfs::remote {

// How the CipherTree operations map onto a store without positioned writes:
//  - WriteAt and Truncate read the whole object, patch it in memory and write it back with
//    Precondition::ETagMatches, so the replacement is atomic (a failed write leaves the old
//    bytes) and a concurrent change is never lost. Rewrites of one object through this tree
//    take turns (striped locks); against other writers of the store, the patch is redone on the
//    new bytes a few times at most, then Unavailable. Their cost grows with the object.
//  - Reserve and Sync are no-ops: a store write is durable when it returns.
//  - Exchange is three renames through a temporary name in a's folder, undone on failure;
//    a crash in between leaves one object parked under that (listing-hidden) name.
//  - No hard links; Space reports large synthetic numbers.
//  - The lease is the object kLeaseName ("hostname pid") at the root. It is visible to List.
// Temporary names (remote/temp_names.h) are hidden from List and refused in keys.
class ObjectTree final : public CipherTree {
 public:
  static constexpr char kLeaseName[] = "phrfs.lease";
  // Objects larger than this are not rewritten in memory by WriteAt/Truncate (FileTooBig).
  static constexpr uint64_t kMaxRewriteSize = uint64_t{4} << 30;

  // How a lease is taken when the store offers something better than the lease object (a local
  // directory: the same flock the direct tree takes, so that both kinds of access exclude
  // each other and a killed daemon's lease goes with it).
  using LeaseTaker = std::function<Result<std::unique_ptr<TreeLease>>()>;

  explicit ObjectTree(std::shared_ptr<ObjectStore> store, LeaseTaker lease_taker = nullptr);

  bool SupportsLinks() const override { return false; }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override;
  Result<TreeStat> Stat(const std::string& path) override;
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override;
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override;
  Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Reserve(const std::string& path, uint64_t size) override;
  Status Sync(const std::string& path) override;
  Status Delete(const std::string& path) override;
  Status MakeFolder(const std::string& path) override;
  Status RemoveFolder(const std::string& path) override;
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override;
  Status Exchange(const std::string& a, const std::string& b) override;
  Status Link(const std::string& from, const std::string& to) override;
  Result<TreeSpace> Space() override;
  // Written with MustNotExist. A lease left by a dead process of this host (kill(pid, 0) says
  // ESRCH) is taken over with ETagMatches; any other holder makes it Busy. Released (deleted,
  // ETagMatches) when the returned lease is destroyed.
  Result<std::unique_ptr<TreeLease>> AcquireLease() override;

 private:
  // Reads the whole object, lets `patch` change the bytes and writes them back if the object
  // is still the one that was read; redoes the patch if it changed meanwhile.
  template <class Patch>
  Status Rewrite(const std::string& path, const char* op, Patch&& patch);
  // IsADirectory for a collection; NotFound when missing.
  Status RequireObject(const std::string& path);

  std::mutex& RewriteLock(const std::string& path);

  const std::shared_ptr<ObjectStore> store_;
  const LeaseTaker lease_taker_;
  std::array<std::mutex, 64> rewrite_locks_;  // by hash of the key
};

}  // namespace phrfs::remote
