// The nodes the kernel knows, by FUSE node id (= inode number), and an index of the locations
// (parent directory id + stem) where known nodes live, so that a repeated lookup costs no I/O.
// The vault is the store's only writer (it holds the store lease), so what this table says
// about a known location is authoritative. Thread-safe: one leaf mutex, never held across I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/types.h"
#include "fs/vault/node.h"

namespace phrfs::fs {

class NodeTable {
 public:
  std::shared_ptr<Node> Get(uint64_t ino) const;
  // The node at a location, with one more kernel lookup counted; null if none is known there.
  std::shared_ptr<Node> FindAt(const crypto::DirId& parent, const std::string& stem,
                               bool count_lookup);
  // Registers `fresh` (or returns the node already known by that id, e.g. another hard link of
  // one object) at the location, counting one kernel lookup.
  std::shared_ptr<Node> Publish(std::shared_ptr<Node> fresh, const crypto::DirId& parent,
                                const std::string& stem);
  // Counts one more kernel lookup of a known node.
  void Ref(Node& node) { node.nlookup++; }
  // Subtracts `n` lookups; when none remain the node leaves the table and is returned (the
  // caller finishes it outside the lock), else null.
  std::shared_ptr<Node> Unref(uint64_t ino, uint64_t n);

  // Location index upkeep (under Vault::tree_mu_).
  void MoveLocation(const crypto::DirId& from_parent, const std::string& from_stem,
                    const crypto::DirId& to_parent, const std::string& to_stem);
  void DropLocation(const crypto::DirId& parent, const std::string& stem);
  void AddLocation(const crypto::DirId& parent, const std::string& stem, uint64_t ino);

  size_t size() const;
  // Every node (for unmount-time cleanup).
  std::vector<std::shared_ptr<Node>> All() const;

 private:
  static std::string LocationKey(const crypto::DirId& parent, const std::string& stem);
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Node>> nodes_;
  std::unordered_map<std::string, uint64_t> at_;  // location key -> ino
};

}  // namespace phrfs::fs
