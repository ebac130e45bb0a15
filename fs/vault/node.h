// One node of the mounted tree as the kernel knows it: its identity (the node id from its
// object's header), where its object lives now, its metadata, and for files the content state
// shared by every open handle. A node holds no descriptor: the tree's bounded caches do.
// Thread-safety: const fields are immutable; `mu` guards the rest, except `nlookup` (atomic).
// Lock order: Vault::tree_mu_ before Node::mu (of at most one node at a time, except where a
// function says so) before NodeTable::mu_.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "crypto/node_format.h"
#include "crypto/types.h"
#include "fs/vault/content_file.h"
#include "fs/vault/key_domain.h"
#include "fs/vault/layout.h"

namespace phrfs::fs {

struct Node {
  Node(uint64_t ino_, crypto::NodeKind kind_, crypto::NodeId id_)
      : ino(ino_), kind(kind_), id(id_) {}

  const uint64_t ino;  // also the FUSE node id (FORMAT "NODE OBJECTS": InodeNumberOf)
  const crypto::NodeKind kind;
  const crypto::NodeId id;
  std::atomic<uint64_t> nlookup{0};
  bool several_locations = false;  // indexed under more than one name (NodeTable::mu_)

  std::shared_mutex mu;
  // Where the object lives: its parent's directory id and folder, its stem (the kind gives the
  // suffix), and the whole key. Changed by rename and unlink under Vault::tree_mu_ + mu.
  crypto::DirId parent;
  std::string parent_folder;
  std::string stem;
  std::string path;
  bool unlinked = false;            // `path` is in unlinked/: no name in the tree shows this object
  std::vector<std::string> hidden;  // names in unlinked/ that keep the object for open files
  bool removed = false;             // a directory that was removed (its listing is empty)
  // Made up by a grantee's mount (its root, the folders above a shared folder, a shared
  // folder's root): no object of its own in the store; its header lives in memory only.
  bool synthetic = false;
  std::string shown_path;  // made-up nodes: where the mount shows them ("/alice/labs")
  // Directories: the folder of their entries (const after creation).
  std::string folder;
  // The key domain that seals this node's object (its parent's `children`), and for directories
  // the domain of their entries: the same, except at the root of a shared folder. Const after
  // creation; they keep the keys a content state points to alive.
  std::shared_ptr<const KeyDomain> domain;
  std::shared_ptr<const KeyDomain> children;
  // The header as stored: the authenticated metadata, content id and epoch.
  crypto::NodeHeader header;
  SecureBytes meta_key;  // derived on the first header write (files are written often)
  // Times changed by writes but not yet stored: a file's header is rewritten at most once a
  // second for its mtime, and at fsync, forget and unmount (Vault::Write).
  bool times_dirty = false;
  int64_t times_written_ms = 0;  // CLOCK_MONOTONIC_COARSE of the last header write
  uint32_t links = 1;            // names that show the object (hard links); 0 once unlinked
  uint64_t cipher_size = 0;      // files and symlinks: the object's size as last known
  // With other writers (VaultOptions::revalidate_ms): when the header and size were last read
  // from the store (MonotonicMs), and how many opens of the file are not yet released.
  int64_t checked_ms = 0;
  uint32_t open_count = 0;
  // Files: opens for writing not yet released, and the offer of the content to the kernel's
  // page cache (Vault::BeginOffer): running, or done once.
  uint32_t write_opens = 0;
  bool offering = false;
  bool offered = false;
  // Files: loaded on first read or write and kept while the kernel knows the node.
  std::optional<ContentFile> content;

  crypto::DirId dir_id() const { return crypto::DirIdOf(id); }
};

}  // namespace phrfs::fs
