#include "fs/vault/node_table.h"

namespace phrfs::fs {

std::string NodeTable::LocationKey(const crypto::DirId& parent, const std::string& stem) {
  std::string key(reinterpret_cast<const char*>(parent.bytes.data()), parent.bytes.size());
  key += stem;
  return key;
}

std::shared_ptr<Node> NodeTable::Get(uint64_t ino) const {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second;
}

std::shared_ptr<Node> NodeTable::FindAt(const crypto::DirId& parent, const std::string& stem,
                                        bool count_lookup) {
  std::lock_guard lock(mu_);
  auto at = at_.find(LocationKey(parent, stem));
  if (at == at_.end()) return nullptr;
  auto it = nodes_.find(at->second);
  if (it == nodes_.end()) return nullptr;
  if (count_lookup) it->second->nlookup++;
  return it->second;
}

std::shared_ptr<Node> NodeTable::Publish(std::shared_ptr<Node> fresh, const crypto::DirId& parent,
                                         const std::string& stem) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = nodes_.try_emplace(fresh->ino, fresh);
  it->second->nlookup++;
  auto [at, added] = at_.insert_or_assign(LocationKey(parent, stem), it->second->ino);
  if (!inserted && added) it->second->several_locations = true;
  return it->second;
}

std::shared_ptr<Node> NodeTable::Unref(uint64_t ino, uint64_t n) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end()) return nullptr;
  if (it->second->nlookup.fetch_sub(n) > n) return nullptr;
  std::shared_ptr<Node> gone = std::move(it->second);
  nodes_.erase(it);
  // Its locations go too (a node is rarely at more than one: hard links).
  if (gone->several_locations) {
    for (auto at = at_.begin(); at != at_.end();)
      at = at->second == ino ? at_.erase(at) : std::next(at);
  }
  auto own = at_.find(LocationKey(gone->parent, gone->stem));
  if (own != at_.end() && own->second == ino) at_.erase(own);
  return gone;
}

void NodeTable::MoveLocation(const crypto::DirId& from_parent, const std::string& from_stem,
                             const crypto::DirId& to_parent, const std::string& to_stem) {
  std::lock_guard lock(mu_);
  auto it = at_.find(LocationKey(from_parent, from_stem));
  if (it == at_.end()) {
    at_.erase(LocationKey(to_parent, to_stem));
    return;
  }
  const uint64_t ino = it->second;
  at_.erase(it);
  at_[LocationKey(to_parent, to_stem)] = ino;
}

void NodeTable::DropLocation(const crypto::DirId& parent, const std::string& stem) {
  std::lock_guard lock(mu_);
  at_.erase(LocationKey(parent, stem));
}

void NodeTable::AddLocation(const crypto::DirId& parent, const std::string& stem, uint64_t ino) {
  std::lock_guard lock(mu_);
  at_[LocationKey(parent, stem)] = ino;
  auto it = nodes_.find(ino);
  if (it != nodes_.end()) it->second->several_locations = true;
}

size_t NodeTable::size() const {
  std::lock_guard lock(mu_);
  return nodes_.size();
}

std::vector<std::shared_ptr<Node>> NodeTable::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Node>> all;
  all.reserve(nodes_.size());
  for (const auto& [ino, node] : nodes_) all.push_back(node);
  return all;
}

}  // namespace phrfs::fs
