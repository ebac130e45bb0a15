// The vault's operations, one per filesystem request, in terms of node ids, names and byte ranges.
// The FUSE layer (fuse_ops.cc) decodes a request, calls one of these and replies with the result;
// nothing here knows about fuse_req_t or errno. Thread-safe (see the lock order in inode.h).
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <map>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "fs/inode.h"
#include "fs/vault.h"
#include "remote/local/posix_io.h"

namespace phrfs::fs {

inline constexpr uint64_t kRootNode = 1;  // FUSE_ROOT_ID

struct Entry {
  uint64_t node = 0;
  struct stat attr {};
};

// Who is asking: new objects are given to the caller when the daemon runs as root.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
};

struct SetAttrRequest {
  std::optional<mode_t> mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<uint64_t> size;
  std::optional<struct timespec> atime;  // tv_nsec may be UTIME_NOW
  std::optional<struct timespec> mtime;
};

// One entry of a directory listing, decoded at opendir.
struct ListedEntry {
  std::string name;    // plaintext
  std::string stored;  // store name including the kind suffix
  Kind kind;
  ino_t src_ino;
};

struct DirHandle {
  uint64_t node;
  std::vector<ListedEntry> entries;
  bool listed_once = false;  // the opendir listing serves the first pass; later passes re-list
};

class VaultImpl {
 public:
  VaultImpl(remote::Fd store_root, crypto::StoreKeys keys, const VaultOptions& options);
  Status Init();  // opens the root directory

  Result<Entry> Lookup(uint64_t parent, std::string_view name);
  void Forget(uint64_t node, uint64_t nlookup);
  Result<struct stat> GetAttr(uint64_t node);
  Result<struct stat> SetAttr(uint64_t node, const SetAttrRequest& request);
  Result<std::string> ReadLink(uint64_t node);

  Result<Entry> MakeDir(uint64_t parent, std::string_view name, mode_t mode, const Caller& caller);
  Result<Entry> MakeSymlink(uint64_t parent, std::string_view name, std::string_view target,
                            const Caller& caller);
  Result<Entry> Link(uint64_t node, uint64_t new_parent, std::string_view new_name);
  Status Unlink(uint64_t parent, std::string_view name);
  Status RemoveDir(uint64_t parent, std::string_view name);
  // flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
  Status Rename(uint64_t parent, std::string_view name, uint64_t new_parent,
                std::string_view new_name, unsigned flags);

  // Creates a file with its content state loaded (O_EXCL: AlreadyExists if the name is taken).
  Result<Entry> Create(uint64_t parent, std::string_view name, mode_t mode, int flags,
                       const Caller& caller);
  // Checks that `node` may be opened with `flags` and loads its content state; used only when
  // the kernel sends OPEN (it does not when it supports zero-message opens).
  Status Open(uint64_t node, int flags);
  Result<size_t> Read(uint64_t node, uint64_t offset, std::span<uint8_t> out);
  // append: every write goes to the end (O_APPEND), whatever offset the kernel sends.
  Result<size_t> Write(uint64_t node, uint64_t offset, std::span<const uint8_t> data, bool append);
  Status Fsync(uint64_t node, bool data_only);

  Result<std::unique_ptr<DirHandle>> OpenDir(uint64_t node);
  // Re-reads the listing (opendir, and every read from offset 0, so rewinddir sees changes).
  Status ListDir(DirHandle& handle);
  // Looks up a listed entry (readdirplus): the same as Lookup, without re-encrypting the name.
  Result<Entry> LookupListed(uint64_t parent, const ListedEntry& entry);
  Status FsyncDir(uint64_t node);
  Result<struct statvfs> StatFs();

  bool read_only() const { return options_.read_only; }

 private:
  struct Located {
    Kind kind;
    std::string stored;                 // with kind suffix
    std::optional<struct stat> found;   // the stat that found it (Locate), saving a second one
  };

  std::shared_ptr<Inode> Get(uint64_t node);
  Result<std::shared_ptr<Inode>> GetDir(uint64_t node);
  // Registers (or finds, by backing identity) the node for freshly opened descriptors and counts
  // one kernel lookup.
  std::shared_ptr<Inode> Publish(Kind kind, remote::Fd path_fd, remote::Fd entry_fd,
                                 const crypto::DirId& dir_id, const struct stat& src);
  // The known node for a backing identity, with one more kernel lookup counted; null if unknown.
  std::shared_ptr<Inode> Republish(const struct stat& src);
  // Lookup of an entry whose store name is known; `out` (optional) receives the node.
  Result<Entry> LookupStored(Inode& parent, const Located& where, std::shared_ptr<Inode>* out = nullptr);
  // Attributes as the kernel sees them; `backing` may carry a fresh stat of the backing object.
  Result<struct stat> Attr(Inode& inode, const struct stat* backing = nullptr);

  // Encrypted stem of a name in a directory: the base64url name, or ".L<hash>" for long ones.
  struct StoredName {
    std::string encoded;  // full base64url ciphertext
    std::string stem;     // what the store holds, before the kind suffix
  };
  Result<StoredName> EncodeName(const Inode& dir, std::string_view name);
  Result<std::optional<Located>> Locate(const Inode& dir, const StoredName& name);
  Status WriteSidecar(const Inode& dir, const StoredName& name);
  void RemoveSidecar(const Inode& dir, const StoredName& name);
  Result<crypto::DirId> ReadDirEntryObject(int entry_path_fd);
  Result<crypto::DirId> ReadDirEntry(int dir_fd, const std::string& stored);
  Result<remote::Fd> OpenDirFolder(const crypto::DirId& id);
  Result<std::string> DirFolderPath(const crypto::DirId& id);
  Status RemoveDirFolder(const crypto::DirId& id);
  Result<bool> DirFolderEmpty(const crypto::DirId& id);
  Status CheckWritable() const;
  void GiveToCaller(int dir_fd, const std::string& stored, const Caller& caller);
  Result<std::shared_ptr<Inode>> FileNode(uint64_t node);
  // Loads the content state of a file node if it is not yet; the caller holds content_mu
  // exclusively.
  Status LoadContent(Inode& inode);
  // The same, taking the lock itself; afterwards the state stays loaded.
  Status EnsureContent(Inode& inode);

  remote::Fd root_;
  crypto::StoreKeys keys_;
  crypto::NameCipher names_;
  VaultOptions options_;
  bool daemon_is_root_;

  // Serialises every change to the tree's names (create, mkdir, symlink, link, unlink, rmdir,
  // rename) so that the checks across entry kinds and the changes they guard are atomic.
  std::mutex tree_mu_;
  // Guards nodes_ and by_src_ only; never held across I/O. Leaf lock.
  std::mutex table_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Inode>> nodes_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> by_src_;
  uint64_t next_node_ = kRootNode + 1;

  // Recent name encryptions, keyed by dir id + name: a create, rename or unlink encrypts the name
  // its own lookup just encrypted (AES-SIV costs ~3 us). Emptied when full. Guarded by name_mu_.
  static constexpr size_t kNameCacheSize = 1024;
  std::mutex name_mu_;
  std::unordered_map<std::string, StoredName> name_cache_;
};

}  // namespace phrfs::fs
