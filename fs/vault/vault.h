// The encrypted tree (README.md "Design decisions"): maps plaintext names, byte ranges and
// attributes onto the node objects of a v2 store, reached only through a CipherTree (FORMAT
// "LAYOUT", "NODE OBJECTS"). One operation per filesystem request, in terms of node ids (= inode
// numbers), names and byte ranges; the FUSE layer decodes a request, calls one of these and replies
// with the result. Nothing here knows about fuse_req_t or errno. Thread-safe: called concurrently
// from FUSE worker threads. Lock order: tree_mu_ (shared for lookups and forgets, exclusive for
// changes to names) before Node::mu before NodeTable's lock.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <unordered_map>
#include <mutex>
#include <atomic>
#include <condition_variable>

#include "base/status.h"
#include "crypto/keys.h"
#include "fs/vault/dir_path_cache.h"
#include "fs/vault/key_domain.h"
#include "fs/vault/layout.h"
#include "fs/vault/node.h"
#include "fs/vault/node_table.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

inline constexpr uint64_t kRootNode = 1;  // FUSE_ROOT_ID; InodeNumberOf(all-zero node id)

struct VaultOptions {
  bool read_only = false;
  // 0: this mount is the store's only writer (local stores), so what it read stays true. Above
  // 0 (remote stores, which other mounts may change): a node's header, size and a name found
  // absent are trusted this long, then read again at the next lookup, open or stat of a file
  // that no one has open; cached pages are dropped at open.
  int64_t revalidate_ms = 0;
  // Called once at unmount, after the vault's last writes and before it lets go of the store's
  // lease and tree: where a write-back tree waits for its uploads.
  std::function<void(remote::CipherTree&)> on_close;
  // The shared folders (key domains of their own) this mount holds keys for, by the directory
  // id of their root. A directory not in it keeps its parent's domain.
  SharedDomains shared_domains;
  // A grantee's mount (phrfs mount --identity): nothing of the owner's record but the folders
  // shared with this person. The root and the folders above each shared folder are made up
  // (read-only, owned by the mounting user); each shared folder shows at /<owner><path>.
  struct GrantedFolder {
    std::string owner;  // the owner's name, as the keyring gives it
    std::string path;   // "/labs"
    crypto::DirId root;
    std::shared_ptr<const KeyDomain> domain;
    bool writable = false;
  };
  bool grantee = false;
  std::vector<GrantedFolder> granted;
};

struct Entry {
  uint64_t node = 0;
  struct stat attr {};
};

// Who is asking: new nodes are given to the caller (and to the parent's group under a
// set-group-ID directory).
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
  std::string name;  // plaintext
  std::string stem;
  StoredKind kind;
};

struct DirHandle {
  uint64_t node;
  std::vector<ListedEntry> entries;
  bool listed_once = false;  // the opendir listing serves the first pass; later passes re-list
};

// A fresh node id (never the root's).
Result<crypto::NodeId> NewNodeId();

// Where a write-back tree keeps this mount's version of an object when another mount changed it
// first (Vault::ConflictCopyFor): a key beside the original and the node header to put in place
// of the first kNodeHeaderSize bytes; the content blocks stay as they are.
struct ConflictCopy {
  std::string key;
  std::array<uint8_t, crypto::kNodeHeaderSize> header;
};

class Vault {
 public:
  // Takes the store's lease (Busy when another mount holds it), opens the root and removes what
  // an earlier mount left in unlinked/.
  static Result<std::unique_ptr<Vault>> Open(std::unique_ptr<remote::CipherTree> tree,
                                             crypto::StoreKeys keys, const VaultOptions& options);
  ~Vault();

  Result<Entry> Lookup(uint64_t parent, std::string_view name);
  // Looks up a listed entry (readdirplus): the same as Lookup, without re-encrypting the name.
  Result<Entry> LookupListed(uint64_t parent, const ListedEntry& entry);
  // LookupListed for each of `entries`, in order, one result each. The nodes this mount does
  // not know yet (a header read, a key derivation and a decryption each) are loaded on two
  // threads: a cold listing with attributes costs about half the wait.
  std::vector<Result<Entry>> LookupListedBatch(uint64_t parent,
                                               std::span<const ListedEntry> entries);
  void Forget(uint64_t node, uint64_t nlookup);
  Result<struct stat> GetAttr(uint64_t node);
  Result<struct stat> SetAttr(uint64_t node, const SetAttrRequest& request);
  Result<std::string> ReadLink(uint64_t node);

  Result<Entry> MakeDir(uint64_t parent, std::string_view name, mode_t mode, const Caller& caller);
  Result<Entry> MakeSymlink(uint64_t parent, std::string_view name, std::string_view target,
                            const Caller& caller);
  // Regular files, FIFOs and sockets; device nodes are NotPermitted.
  Result<Entry> MakeNode(uint64_t parent, std::string_view name, mode_t mode, const Caller& caller);
  Result<Entry> Link(uint64_t node, uint64_t new_parent, std::string_view new_name);
  Status Unlink(uint64_t parent, std::string_view name);
  Status RemoveDir(uint64_t parent, std::string_view name);
  // flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
  Status Rename(uint64_t parent, std::string_view name, uint64_t new_parent,
                std::string_view new_name, unsigned flags);

  // Creates a file with its content state loaded (AlreadyExists if the name is taken).
  Result<Entry> Create(uint64_t parent, std::string_view name, mode_t mode, const Caller& caller);
  // Checks that `node` may be opened with `flags` (used only when the kernel sends OPEN) and
  // counts opens for writing (an open for writing waits while the file's content is offered).
  Status Open(uint64_t node, int flags);
  // Counts the open that FUSE CREATE makes with a new file, as Open counts its own.
  void CountCreatedOpen(uint64_t node, int flags);
  // The end of one Open, or of a CREATE's open, with the same flags (FUSE RELEASE).
  void Release(uint64_t node, int flags);
  // Offering a small file's content to the kernel's page cache when it is opened for reading
  // (fs/fuse_ops.cc stores it with fuse_lowlevel_notify_store), so that reading it back needs
  // no READ round trip after the OPEN that an access log requires. BeginOffer reads the whole
  // plaintext into `out` and returns its size, or 0 when there is nothing to offer: the file is
  // empty or larger than `out`, was offered already, is open for writing, or other mounts may
  // change the store (the kernel then drops its pages at every open). A nonzero size must be
  // followed by EndOffer; until then opens for writing and truncations of the file wait, so the
  // kernel never takes content older than a write it has seen. Neither holds the node's lock
  // while the kernel copies, so reads of the file go on meanwhile.
  Result<size_t> BeginOffer(uint64_t node, std::span<uint8_t> out);
  // `stored`: the kernel took the content; later opens offer nothing (its pages stay valid:
  // every later write goes through it, and pages it drops come back by READ).
  void EndOffer(uint64_t node, bool stored);
  // For a write-back tree whose upload of `key` met another mount's version: our version's
  // copy as "NAME (conflict YYYY-MM-DD HHMMSS)EXT" in the same directory, a node of its own
  // (new node id, same metadata and content id, so its blocks need no change). nullopt when
  // that cannot be made without the store (a directory this mount does not know, a name that
  // would need a long-name sidecar, not a file or symlink, a damaged header): the tree then
  // parks the bytes elsewhere. Reads only memory; any thread.
  std::optional<ConflictCopy> ConflictCopyFor(const std::string& key,
                                              std::span<const uint8_t> header);
  // Whether other writers may change the store under this mount (revalidate_ms > 0).
  bool shared_store() const { return options_.revalidate_ms > 0; }
  Result<size_t> Read(uint64_t node, uint64_t offset, std::span<uint8_t> out);
  // append: every write goes to the end (O_APPEND), whatever offset the kernel sends.
  Result<size_t> Write(uint64_t node, uint64_t offset, std::span<const uint8_t> data, bool append);
  // Extends to offset + length with zeros when that is past the end (fallocate mode 0).
  Status Allocate(uint64_t node, uint64_t offset, uint64_t length);
  Status Fsync(uint64_t node);

  Result<std::unique_ptr<DirHandle>> OpenDir(uint64_t node);
  // Re-reads the listing (opendir, and every read from offset 0, so rewinddir sees changes).
  Status ListDir(DirHandle& handle);
  // The inode number of a listed entry, for readdir without attributes.
  Result<uint64_t> ListedInode(uint64_t parent, const ListedEntry& entry);
  Status FsyncDir(uint64_t node);
  Result<struct statvfs> StatFs();

  // The path in the mount of a node the kernel knows ("/labs/blood.pdf"; "/" for the root), for
  // the access log: names decrypted up to the root. NotFound for a node that left the tree
  // (unlinked), or whose parent the kernel forgot.
  Result<std::string> PathOf(uint64_t node);
  // The path of `name` in directory `parent`.
  Result<std::string> PathIn(uint64_t parent, std::string_view name);
  // The tree the vault reads and writes (for the access log, which shares it).
  remote::CipherTree& tree() { return *tree_; }

  // A known directory's id (what a shared domain's root is registered by).
  Result<crypto::DirId> DirIdOf(uint64_t node) const;

  bool read_only() const { return options_.read_only; }
  size_t known_nodes() const { return table_.size(); }

 private:
  Vault(std::unique_ptr<remote::CipherTree> tree, crypto::StoreKeys keys,
        const VaultOptions& options);
  Status Init();

  // Where a name is in a directory.
  struct Located {
    StoredKind kind;
    std::string stem;
    std::string path;
    std::shared_ptr<Node> known;  // the node, when the kernel knows it (not counted)
  };
  // ---- nodes and headers (vault.cc)
  std::shared_ptr<Node> Get(uint64_t node) const { return table_.Get(node); }
  Result<std::shared_ptr<Node>> GetDir(uint64_t node) const;
  Result<std::shared_ptr<Node>> GetFile(uint64_t node) const;
  // Reads the object at `path` and makes a node of it (not yet published).
  Result<std::shared_ptr<Node>> LoadNode(const Node& parent, const std::string& stem,
                                         StoredKind kind);
  // Seals `node`'s header (with its current metadata) and writes it over the object's first
  // bytes. The caller holds node.mu exclusively.
  Status WriteHeader(Node& node);
  // Writes the header if writes left its times unstored (node.mu held exclusively).
  void FlushTimes(Node& node);
  Result<std::array<uint8_t, crypto::kNodeHeaderSize>> SealHeader(const KeyDomain& domain,
                                                                  const crypto::NodeHeader& header);
  // The key of a node's epoch in its domain; Corrupt (logged) when this mount does not hold it.
  Result<const crypto::FolderKey*> KeyOf(const Node& node, const std::string& path) const;
  // The domain of the entries of directory `dir`, whose own object is sealed in `own`.
  std::shared_ptr<const KeyDomain> ChildrenDomain(const std::shared_ptr<const KeyDomain>& own,
                                                  const crypto::DirId& dir) const;
  // Sets mtime and ctime of a directory to now and adjusts its subdirectory count.
  void TouchDir(Node& dir, int subdirs_delta);
  // Sets ctime to now (rename, link, unlink of one of several names). `known`: the node is in
  // the table (its times may wait for MarkTimes); otherwise the header is written at once.
  void TouchCtime(Node& node, bool known);
  // Times changed in memory reach the store at most once a second per node, and at fsync,
  // forget and unmount (FlushTimes): a burst of creates in one directory, or of writes to one
  // file, costs one header write a second, not one each. node.mu held exclusively.
  void MarkTimes(Node& node);
  static constexpr int64_t kTimesWriteIntervalMs = 1000;
  struct stat Attr(const Node& node) const;
  Result<Entry> EntryFor(const std::shared_ptr<Node>& node);

  // ---- names (vault.cc)
  // The node for a name, if the name exists; nullopt when it does not. The caller holds tree_mu_.
  Result<std::optional<Located>> Locate(const Node& dir, const StoredName& name);
  Status WriteSidecar(const Node& dir, const StoredName& name);
  void RemoveSidecar(const Node& dir, const StoredName& name);
  Status CheckWritable() const;
  // The same, for a change in directory `dir` or to node `node`: refused in made-up folders
  // and in shares granted read-only.
  Status CheckWritable(const Node& node) const;
  // ---- a grantee's made-up folders (grantee_view.cc)
  Status InitGrantee();
  bool IsSynthetic(uint64_t ino) const { return synthetic_inos_.count(ino) != 0; }
  // A made-up folder's entry, counted as a lookup; NotFound when absent. `dir` must be one.
  Result<Entry> LookupSynthetic(const Node& dir, std::string_view name);
  const std::vector<std::pair<std::string, std::shared_ptr<Node>>>* SyntheticEntries(uint64_t ino) const;
  Result<Entry> PublishNew(Node& parent, std::shared_ptr<Node> node, const std::string& stem);
  crypto::NodeMeta NewMeta(const Node& parent, uint32_t mode, const Caller& caller) const;
  // A new node of `kind` named `stored` in `parent`, not stored yet: fresh ids, metadata for the
  // caller, its location and its meta key.
  Result<std::shared_ptr<Node>> NewChild(Node& parent, const StoredName& stored,
                                         crypto::NodeKind kind, uint32_t mode,
                                         const Caller& caller);
  // Stores a new node's object (and its long-name sidecar); nothing stays behind on failure.
  Status StoreNewEntry(Node& parent, const StoredName& stored, Node& node,
                       std::span<const uint8_t> object);
  // Takes a name's object out of the tree: deleted, or moved to unlinked/ when the kernel may
  // still use its node. The caller holds tree_mu_ exclusively.
  Status Discard(const Located& where);

  // With other writers (revalidate_ms > 0): reads `node`'s header and size again once they are
  // older than revalidate_ms and no one has the file open; takes in a new version (new content
  // id, size or metadata) and drops the content state of the old. NotFound when the object has
  // gone. node.mu held exclusively.
  Status Revalidate(Node& node);
  // Answers a lookup (already counted) of a known node, revalidating it first when due; on
  // failure the count is given back.
  Result<Entry> RecheckKnown(std::shared_ptr<Node> known);
  bool Stale(const Node& node) const;

  // ---- files (file_io.cc)
  // Loads the content state of a file node if it is not yet; the caller holds node.mu exclusively.
  Status LoadContent(Node& node);
  Status EnsureContent(Node& node);
  Status Resize(Node& node, uint64_t size);
  // Waits, with `lock` on node.mu held exclusively, until no offer of node's content is running.
  void WaitForOffer(Node& node, std::unique_lock<std::shared_mutex>& lock);

  std::unique_ptr<remote::CipherTree> tree_;
  std::unique_ptr<remote::TreeLease> lease_;
  std::shared_ptr<const KeyDomain> main_;  // the store's own keys (FORMAT "KEY DOMAINS")
  // A grantee's made-up folders: their entries, and every made-up node (shared folders' roots
  // included). Built by InitGrantee, immutable afterwards.
  std::unordered_map<uint64_t, std::vector<std::pair<std::string, std::shared_ptr<Node>>>>
      synthetic_dirs_;
  std::unordered_map<uint64_t, std::shared_ptr<Node>> synthetic_inos_;
  VaultOptions options_;

  mutable std::shared_mutex tree_mu_;
  std::condition_variable_any offer_ended_;  // with a node's mu: Node::offering went false
  NodeTable table_;
  // PathOf's directory paths. A new generation (under tree_mu_ exclusive, or after a forget)
  // whenever a directory's path may change: a rename that moves or replaces a directory,
  // rmdir, a directory node forgotten. Nothing else changes a known node's parent or stem.
  DirPathCache dir_paths_;

  // Names a lookup just found absent, with the generation of the names at that moment: the
  // create that follows (CREATE, MKDIR, ... come right after a negative LOOKUP) skips probing
  // the store again when no change of names happened in between. The generation grows with
  // every change of names (under tree_mu_ exclusive); the memo has its own leaf lock.
  bool KnownAbsent(const crypto::DirId& dir, const std::string& stem) const;
  void RememberAbsent(const crypto::DirId& dir, const std::string& stem);
  void NamesChanged() { names_generation_++; }
  // Declared right after taking tree_mu_ exclusively: bumps the generation as the change ends.
  struct NamesChange {
    Vault* vault;
    ~NamesChange() { vault->NamesChanged(); }
  };
  std::atomic<uint64_t> names_generation_{0};
  mutable std::mutex absent_mu_;
  struct Absent {
    uint64_t generation;
    int64_t when_ms;  // MonotonicMs(): with other writers, trusted for revalidate_ms only
  };
  std::unordered_map<std::string, Absent> absent_;  // dir id + stem
};

}  // namespace phrfs::fs
