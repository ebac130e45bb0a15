// DirectTree: the CipherTree over a directory on a local POSIX file system. Positioned I/O on
// descriptors, no cache of bytes; only a bounded LRU of open folder and object descriptors.
// Thread-safe: any call from any thread; descriptors in use are shared, never closed under a call.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "remote/cipher_tree.h"
#include "remote/local/lru_cache.h"
#include "remote/local/posix_io.h"

namespace phrfs::remote {

struct DirectTreeOptions {
  size_t folder_descriptors = 64;   // O_PATH descriptors of folders kept open (LRU)
  size_t object_descriptors = 128;  // descriptors of objects kept open (LRU)
};

// Keys are walked one component at a time from the root descriptor with O_NOFOLLOW, so nothing
// planted in the store (a symlink, FIFO, socket or device) is ever followed or opened as an
// object: such an entry is Corrupt, and is listed as an object so that the damage is visible.
// Temporary names (remote/temp_names.h) are hidden from List and refused in keys.
//
// The tree holds at most folder_descriptors + object_descriptors cached descriptors, plus the
// root's and those in use by calls in flight. When the process runs out of descriptors (EMFILE,
// ENFILE) it drops every cached one and retries once; NoResources if that is not enough.
//
// Objects are opened read-write, or read-only where that is all the file system allows (then a
// write is PermissionDenied or ReadOnly). Put stages the bytes under a temporary name in the
// same folder and renames it into place, without fsync: durability is Sync's job.
// The lease DirectTree::AcquireLease takes, for a local directory reached another way:
// flock(LOCK_EX | LOCK_NB) on a descriptor of `dir` of its own. Busy while another lives.
Result<std::unique_ptr<TreeLease>> LockLocalDirectory(const std::string& dir);

class DirectTree final : public CipherTree {
 public:
  // Opens an existing directory as the tree's root.
  static Result<std::unique_ptr<DirectTree>> Open(const std::string& root_dir,
                                                  const DirectTreeOptions& options = {});

  bool SupportsLinks() const override { return true; }
  Result<std::vector<TreeEntry>> List(const std::string& folder) override;
  Result<TreeStat> Stat(const std::string& path) override;
  Result<size_t> Read(const std::string& path, uint64_t offset, std::span<uint8_t> out) override;
  Status Put(const std::string& path, std::span<const uint8_t> data, PutMode mode) override;
  Status WriteAt(const std::string& path, uint64_t offset, std::span<const uint8_t> data) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Reserve(const std::string& path, uint64_t size) override;
  // `path` may name an object, a folder, or be "" for the root folder.
  Status Sync(const std::string& path) override;
  Status Delete(const std::string& path) override;
  Status MakeFolder(const std::string& path) override;
  Status RemoveFolder(const std::string& path) override;
  Status Move(const std::string& from, const std::string& to, MoveMode mode) override;
  Status Exchange(const std::string& a, const std::string& b) override;
  Status Link(const std::string& from, const std::string& to) override;
  Result<TreeSpace> Space() override;
  // posix_fadvise(WILLNEED) on each object: the disk reads them in parallel, ahead of the
  // one-at-a-time reads that follow (a cold `find` of many files reads every node header).
  void Prefetch(const std::vector<std::string>& paths, size_t bytes) override;
  // flock(LOCK_EX | LOCK_NB) on a descriptor of the root of its own: Busy while any other
  // lease on the same directory (from this or another process) is alive.
  Result<std::unique_ptr<TreeLease>> AcquireLease() override;

  // Closes every cached descriptor (those in use stay open until their calls return).
  void DropCachedDescriptors();
  // How many descriptors the caches hold right now; for tests.
  size_t CachedDescriptors() const;

 private:
  // An open object; a read-only one remembers why it could not be opened for writing.
  struct ObjectFd {
    Fd fd;
    Code write_refusal = Code::kOk;
    std::string refusal_message;
  };
  // The folder that holds a key's last component, and that component.
  struct Located {
    std::shared_ptr<const Fd> folder;
    std::string leaf;
  };

  DirectTree(Fd root, const DirectTreeOptions& options);

  // openat that survives descriptor exhaustion once by dropping the caches.
  Result<Fd> OpenDescriptor(int dir, const std::string& name, int flags, mode_t mode = 0);
  // A folder key ("" = root) that passed SplitKey, as a cached O_PATH descriptor.
  Result<std::shared_ptr<const Fd>> OpenFolder(const std::string& key,
                                         const std::vector<std::string>& parts);
  Result<Located> Locate(const std::string& key);
  Result<std::shared_ptr<const ObjectFd>> OpenObject(const std::string& key);
  Result<std::shared_ptr<const ObjectFd>> OpenWritableObject(const std::string& key);
  // Requires the leaf to be a regular file: IsADirectory for a folder, Corrupt for the rest.
  Status RequireObject(const Located& loc, const std::string& key);
  Status SyncFolder(const std::string& key);

  const std::shared_ptr<const Fd> root_;  // O_PATH | O_DIRECTORY
  LruCache<const Fd> folders_;            // folder key -> O_PATH descriptor
  LruCache<const ObjectFd> objects_;      // object key -> open object
};

}  // namespace phrfs::remote
