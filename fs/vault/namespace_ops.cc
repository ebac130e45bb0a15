// The vault's operations on names: lookup, creating each kind of node, links, unlink, rmdir and
// rename. Every change of names holds tree_mu_ exclusively, so the checks across entry kinds and
// the changes they guard are atomic.
#include <fcntl.h>
#include <linux/fs.h>

#include <future>

#include "crypto/random.h"
#include "fs/log.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {
Result<crypto::NodeId> NewNodeId() {
  crypto::NodeId id;
  for (;;) {
    PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(id.bytes));
    if (crypto::InodeNumberOf(id) > kRootNode) return id;  // never the root's
  }
}

// ---------------------------------------------------------------- lookup

Result<Entry> Vault::Lookup(uint64_t parent_ino, std::string_view name) {
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  if (parent->synthetic && SyntheticEntries(parent->ino)) return LookupSynthetic(*parent, name);
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::shared_ptr<Node> known;
  {
    std::shared_lock tree(tree_mu_);
    known = table_.FindAt(parent->dir_id(), stored.stem, /*count_lookup=*/true);
    if (!known) {
      PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
      if (!where) return Status::NotFound("no such entry");
      PHRFS_ASSIGN_OR_RETURN(auto node, LoadNode(*parent, where->stem, where->kind));
      return PublishNew(*parent, std::move(node), where->stem);
    }
  }
  // Known: with other writers, its header may be due for a look at the store (Revalidate).
  return RecheckKnown(std::move(known));
}

Result<Entry> Vault::RecheckKnown(std::shared_ptr<Node> known) {
  Status st;
  if (shared_store()) {
    std::unique_lock lock(known->mu);
    st = Revalidate(*known);
  }
  if (!st.ok()) {
    Forget(known->ino, 1);  // the lookup just counted is not answered
    return st;
  }
  return EntryFor(known);
}

Result<Entry> Vault::LookupListed(uint64_t parent_ino, const ListedEntry& entry) {
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  if (parent->synthetic && SyntheticEntries(parent->ino))
    return LookupSynthetic(*parent, entry.name);
  std::shared_ptr<Node> known;
  {
    std::shared_lock tree(tree_mu_);
    known = table_.FindAt(parent->dir_id(), entry.stem, /*count_lookup=*/true);
    if (!known) {
      PHRFS_ASSIGN_OR_RETURN(auto node, LoadNode(*parent, entry.stem, entry.kind));
      return PublishNew(*parent, std::move(node), entry.stem);
    }
  }
  return RecheckKnown(std::move(known));
}

std::vector<Result<Entry>> Vault::LookupListedBatch(uint64_t parent_ino,
                                                    std::span<const ListedEntry> entries) {
  // Below this many unknown entries a second thread costs more than it saves.
  constexpr size_t kParallelFrom = 16;
  std::vector<Result<Entry>> out(entries.size(), Status::NotFound("not looked up"));
  auto parent = GetDir(parent_ino);
  if (!parent.ok() || ((*parent)->synthetic && SyntheticEntries((*parent)->ino))) {
    for (size_t i = 0; i < entries.size(); ++i) out[i] = LookupListed(parent_ino, entries[i]);
    return out;
  }
  const Node& dir = **parent;
  std::vector<bool> published(entries.size(), false);
  {
    // Loaded and published under one shared hold of tree_mu_, as LookupListed does: no rename
    // or unlink can move an entry between its load and its publication.
    std::shared_lock tree(tree_mu_);
    std::vector<size_t> unknown;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!table_.FindAt(dir.dir_id(), entries[i].stem, /*count_lookup=*/false)) unknown.push_back(i);
    }
    if (unknown.size() >= kParallelFrom) {
      std::vector<Result<std::shared_ptr<Node>>> loaded(unknown.size(), Status::NotFound(""));
      auto load = [&](size_t from, size_t to) {
        for (size_t k = from; k < to; ++k) {
          const ListedEntry& e = entries[unknown[k]];
          loaded[k] = LoadNode(dir, e.stem, e.kind);
        }
      };
      const size_t half = unknown.size() / 2;
      std::future<void> helper;
      try {
        helper = std::async(std::launch::async, load, half, unknown.size());
      } catch (const std::system_error&) {  // no thread to be had: all on this one
        load(half, unknown.size());
      }
      load(0, half);
      if (helper.valid()) helper.get();
      for (size_t k = 0; k < unknown.size(); ++k) {
        const size_t i = unknown[k];
        // A load that failed is left to LookupListed below, which reports it the usual way.
        if (!loaded[k].ok()) continue;
        out[i] = PublishNew(*(*parent), std::move(loaded[k]).value(), entries[i].stem);
        published[i] = true;
      }
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!published[i]) out[i] = LookupListed(parent_ino, entries[i]);
  }
  return out;
}

Result<uint64_t> Vault::ListedInode(uint64_t parent_ino, const ListedEntry& entry) {
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  if (const auto* made_up = SyntheticEntries(parent->ino)) {
    for (const auto& [n, node] : *made_up) {
      if (n == entry.name) return node->ino;
    }
    return Status::NotFound("no such entry");
  }
  if (auto known = table_.FindAt(parent->dir_id(), entry.stem, /*count_lookup=*/false))
    return known->ino;
  // Only the cleartext part of the header: the node id is the identity.
  const std::string path = Join(parent->folder, entry.stem + std::string(SuffixOf(entry.kind)));
  uint8_t raw[crypto::kNodeHeaderSize];
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree_->Read(path, 0, raw));
  auto fields = crypto::ParseNodeHeaderFields({raw, got});
  if (!fields.ok())
    return Status::Corrupt("store object " + path + ": " + fields.status().message());
  return crypto::InodeNumberOf(fields->node_id);
}

// ---------------------------------------------------------------- creating

Result<Entry> Vault::Create(uint64_t parent_ino, std::string_view name, mode_t mode,
                            const Caller& caller) {
  return MakeNode(parent_ino, name, S_IFREG | (mode & 07777), caller);
}

Result<std::shared_ptr<Node>> Vault::NewChild(Node& parent, const StoredName& stored,
                                              crypto::NodeKind kind, uint32_t mode,
                                              const Caller& caller) {
  PHRFS_ASSIGN_OR_RETURN(crypto::NodeId id, NewNodeId());
  PHRFS_ASSIGN_OR_RETURN(crypto::FileId content_id, crypto::NewFileId());
  auto node = std::make_shared<Node>(crypto::InodeNumberOf(id), kind, id);
  {
    std::shared_lock plock(parent.mu);
    node->header = crypto::NodeHeader{kind, id, parent.children->current().epoch, content_id,
                                      NewMeta(parent, mode, caller)};
  }
  if (kind == crypto::NodeKind::kSymlink)
    node->header.meta.mode = S_IFLNK | 0777;  // never set-group-ID
  node->parent = parent.dir_id();
  node->parent_folder = parent.folder;
  node->stem = stored.stem;
  node->path = Join(parent.folder, stored.stem + std::string(SuffixOf(StoredKindOf(kind))));
  node->domain = parent.children;
  if (kind == crypto::NodeKind::kDirectory) {
    node->children = ChildrenDomain(node->domain, node->dir_id());
    PHRFS_ASSIGN_OR_RETURN(node->folder, node->children->FolderOf(node->dir_id()));
  }
  PHRFS_ASSIGN_OR_RETURN(node->meta_key, crypto::DeriveMetaKey(node->domain->current(), id));
  return node;
}

Status Vault::StoreNewEntry(Node& parent, const StoredName& stored, Node& node,
                            std::span<const uint8_t> object) {
  PHRFS_RETURN_IF_ERROR(WriteSidecar(parent, stored));
  Status st = tree_->Put(node.path, object, remote::PutMode::kMustNotExist);
  if (!st.ok()) {
    RemoveSidecar(parent, stored);  // a failed create leaves nothing behind
    return st;
  }
  node.cipher_size = object.size();
  return Status::Ok();
}

Result<Entry> Vault::MakeNode(uint64_t parent_ino, std::string_view name, mode_t mode,
                              const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  crypto::NodeKind kind;
  switch (mode & S_IFMT) {
    case 0:
    case S_IFREG:
      kind = crypto::NodeKind::kFile;
      mode = S_IFREG | (mode & 07777);
      break;
    case S_IFIFO: kind = crypto::NodeKind::kFifo; break;
    case S_IFSOCK: kind = crypto::NodeKind::kSocket; break;
    default: return Status::Error(Code::kNotPermitted, "device nodes are not supported");
  }
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");

  PHRFS_ASSIGN_OR_RETURN(auto node, NewChild(*parent, stored, kind, mode, caller));
  PHRFS_ASSIGN_OR_RETURN(auto header, crypto::SealNodeHeader(node->header, node->meta_key));
  std::vector<uint8_t> object(header.begin(), header.end());
  if (kind == crypto::NodeKind::kFile) {
    PHRFS_ASSIGN_OR_RETURN(object,
                           ContentFile::NewObject(node->domain->current(), header, node->header.content_id));
  }
  PHRFS_RETURN_IF_ERROR(StoreNewEntry(*parent, stored, *node, object));
  if (kind == crypto::NodeKind::kFile) {
    // The new object's state serves the node from now on: no reload.
    PHRFS_ASSIGN_OR_RETURN(
        ContentFile content,
        ContentFile::Open(node->domain->current(), node->header.content_id, object.size()));
    node->content.emplace(std::move(content));
  }
  TouchDir(*parent, 0);
  return PublishNew(*parent, std::move(node), stored.stem);
}

Result<Entry> Vault::MakeDir(uint64_t parent_ino, std::string_view name, mode_t mode,
                             const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");

  PHRFS_ASSIGN_OR_RETURN(auto node, NewChild(*parent, stored, crypto::NodeKind::kDirectory,
                                             S_IFDIR | (mode & 07777), caller));
  // Folder first, entry second: a crash in between leaves an unreferenced empty folder, never an
  // entry that points nowhere.
  const std::string fan_out = node->folder.substr(0, node->folder.rfind('/'));
  Status st = tree_->MakeFolder(fan_out);
  if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  PHRFS_RETURN_IF_ERROR(tree_->MakeFolder(node->folder));
  auto header = crypto::SealNodeHeader(node->header, node->meta_key);
  st = header.ok() ? StoreNewEntry(*parent, stored, *node, *header) : header.status();
  if (!st.ok()) {
    (void)tree_->RemoveFolder(node->folder);
    return st;
  }
  TouchDir(*parent, +1);
  return PublishNew(*parent, std::move(node), stored.stem);
}

Result<Entry> Vault::MakeSymlink(uint64_t parent_ino, std::string_view name,
                                 std::string_view target, const Caller& caller) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  if (target.empty() || target.size() >= 4096)
    return Status::Error(Code::kNameTooLong, "bad symlink target length");
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");

  PHRFS_ASSIGN_OR_RETURN(
      auto node, NewChild(*parent, stored, crypto::NodeKind::kSymlink, S_IFLNK | 0777, caller));
  PHRFS_ASSIGN_OR_RETURN(auto header, crypto::SealNodeHeader(node->header, node->meta_key));
  const auto* p = reinterpret_cast<const uint8_t*>(target.data());
  PHRFS_ASSIGN_OR_RETURN(
      auto object,
      ContentFile::SealWhole(node->domain->current(), header, node->header.content_id, {p, target.size()}));
  PHRFS_RETURN_IF_ERROR(StoreNewEntry(*parent, stored, *node, object));
  TouchDir(*parent, 0);
  return PublishNew(*parent, std::move(node), stored.stem);
}

Result<Entry> Vault::Link(uint64_t ino, uint64_t new_parent_ino, std::string_view new_name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  auto node = Get(ino);
  if (!node) return Status::NotFound("node unknown");
  if (node->kind == crypto::NodeKind::kDirectory)
    return Status::Error(Code::kNotPermitted, "hard link to a directory");
  if (!tree_->SupportsLinks())
    return Status::Error(Code::kNotPermitted, "this store has no hard links");
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(new_parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*node));
  if (node->domain != parent->children)
    return Status::Error(Code::kCrossDevice, "hard link into another key domain (shared folder)");
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), new_name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto existing, Locate(*parent, stored));
  if (existing) return Status::AlreadyExists("entry exists");
  const std::string path =
      Join(parent->folder, stored.stem + std::string(SuffixOf(StoredKindOf(node->kind))));
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*parent, stored));
  std::string from;
  {
    std::shared_lock lock(node->mu);
    from = node->path;
  }
  Status st = tree_->Link(from, path);
  if (!st.ok()) {
    RemoveSidecar(*parent, stored);
    return st;
  }
  {
    std::unique_lock lock(node->mu);
    node->links++;
  }
  TouchCtime(*node, /*known=*/true);
  TouchDir(*parent, 0);
  table_.AddLocation(parent->dir_id(), stored.stem, node->ino);
  table_.Ref(*node);
  return EntryFor(node);
}

// ---------------------------------------------------------------- removing

Status Vault::Unlink(uint64_t parent_ino, std::string_view name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
  if (!where) return Status::NotFound("no such entry");
  if (where->kind == StoredKind::kDirectory)
    return Status::Error(Code::kIsADirectory, "unlink of a directory");
  PHRFS_RETURN_IF_ERROR(Discard(*where));
  table_.DropLocation(parent->dir_id(), stored.stem);
  RemoveSidecar(*parent, stored);
  if (where->known) TouchCtime(*where->known, /*known=*/true);
  TouchDir(*parent, 0);
  return Status::Ok();
}

Status Vault::RemoveDir(uint64_t parent_ino, std::string_view name) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto parent, GetDir(parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*parent));
  PHRFS_ASSIGN_OR_RETURN(StoredName stored, parent->children->names().Encode(parent->dir_id(), name));
  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto where, Locate(*parent, stored));
  if (!where) return Status::NotFound("no such entry");
  if (where->kind != StoredKind::kDirectory)
    return Status::Error(Code::kNotADirectory, "rmdir of a non-directory");
  dir_paths_.NewGeneration();  // tree_mu_ is held exclusively: no PathOf sees the change half done
  std::shared_ptr<Node> child = where->known;
  if (!child) {
    PHRFS_ASSIGN_OR_RETURN(child, LoadNode(*parent, where->stem, where->kind));
  }

  PHRFS_ASSIGN_OR_RETURN(auto entries, tree_->List(child->folder));
  for (const auto& e : entries) {
    std::string stem;
    StoredKind kind;
    if (ParseStoredName(e.name, &stem, &kind))
      return Status::Error(Code::kNotEmpty, "directory not empty");
  }
  // Entry first, folder second: a crash in between leaves an orphan folder only.
  PHRFS_RETURN_IF_ERROR(tree_->Delete(where->path));
  table_.DropLocation(parent->dir_id(), stored.stem);
  RemoveSidecar(*parent, stored);
  {
    std::unique_lock lock(child->mu);
    child->removed = true;
  }
  for (const auto& e : entries)
    (void)tree_->Delete(Join(child->folder, e.name));  // sidecars, temporaries
  Status st = tree_->RemoveFolder(child->folder);
  if (st.ok()) {
    // The two-character fan-out folder goes when it empties; another directory may still use it.
    (void)tree_->RemoveFolder(child->folder.substr(0, child->folder.rfind('/')));
  } else {
    Log(LogLevel::kWarning, "removed directory left its store folder: %s", st.ToString().c_str());
  }
  TouchDir(*parent, -1);
  return Status::Ok();
}

// ---------------------------------------------------------------- rename

Status Vault::Rename(uint64_t parent_ino, std::string_view name, uint64_t new_parent_ino,
                     std::string_view new_name, unsigned flags) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return Status::InvalidArgument("rename flags");
  PHRFS_ASSIGN_OR_RETURN(auto from_dir, GetDir(parent_ino));
  PHRFS_ASSIGN_OR_RETURN(auto to_dir, GetDir(new_parent_ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*from_dir));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*to_dir));
  // Another domain seals names and contents under other keys: programs copy instead (as across
  // filesystems), which re-encrypts.
  if (from_dir->children != to_dir->children)
    return Status::Error(Code::kCrossDevice, "rename into another key domain (shared folder)");
  PHRFS_ASSIGN_OR_RETURN(StoredName from, from_dir->children->names().Encode(from_dir->dir_id(), name));
  PHRFS_ASSIGN_OR_RETURN(StoredName to, to_dir->children->names().Encode(to_dir->dir_id(), new_name));

  std::unique_lock tree(tree_mu_);
  NamesChange change{this};
  PHRFS_ASSIGN_OR_RETURN(auto src, Locate(*from_dir, from));
  if (!src) return Status::NotFound("no such entry");
  PHRFS_ASSIGN_OR_RETURN(auto dst, Locate(*to_dir, to));
  if (from_dir == to_dir && from.stem == to.stem) return Status::Ok();  // same name: nothing to do
  // A directory that moves or is replaced takes its cached path (and its descendants') along.
  if (src->kind == StoredKind::kDirectory || (dst && dst->kind == StoredKind::kDirectory))
    dir_paths_.NewGeneration();

  // The nodes involved, loaded when the kernel does not know them (their identity and kind).
  std::shared_ptr<Node> src_node = src->known;
  if (!src_node) {
    PHRFS_ASSIGN_OR_RETURN(src_node, LoadNode(*from_dir, src->stem, src->kind));
  }
  std::shared_ptr<Node> dst_node;
  if (dst) {
    dst_node = dst->known;
    if (!dst_node) {
      PHRFS_ASSIGN_OR_RETURN(dst_node, LoadNode(*to_dir, dst->stem, dst->kind));
    }
    // rename(2) between two links of one file does nothing and reports success.
    if (dst_node->id == src_node->id && !(flags & RENAME_EXCHANGE)) {
      if (flags & RENAME_NOREPLACE) return Status::AlreadyExists("target exists");
      return Status::Ok();
    }
  }
  const bool src_is_dir = src->kind == StoredKind::kDirectory;
  const std::string src_new = Join(to_dir->folder, to.stem + std::string(SuffixOf(src->kind)));

  // Updates a moved node's location (if the kernel knows it) and its ctime.
  auto moved = [&](const std::shared_ptr<Node>& node, const Node& dir, const std::string& stem,
                   const std::string& path, bool known) {
    {
      std::unique_lock lock(node->mu);
      node->parent = dir.dir_id();
      node->parent_folder = dir.folder;
      node->stem = stem;
      node->path = path;
    }
    TouchCtime(*node, known);
  };

  if (flags & RENAME_EXCHANGE) {
    if (!dst) return Status::NotFound("exchange target missing");
    const bool dst_is_dir = dst->kind == StoredKind::kDirectory;
    const std::string dst_new =
        Join(from_dir->folder, from.stem + std::string(SuffixOf(dst->kind)));
    // A long name's sidecar describes its stem, which stays in its folder: nothing to rewrite.
    if (src->kind == dst->kind) {
      PHRFS_RETURN_IF_ERROR(tree_->Exchange(src->path, dst->path));
    } else {
      // Different kinds live under different store names: two moves, each refusing to replace.
      PHRFS_RETURN_IF_ERROR(tree_->Move(src->path, src_new, remote::MoveMode::kNoReplace));
      Status st = tree_->Move(dst->path, dst_new, remote::MoveMode::kNoReplace);
      if (!st.ok()) {
        (void)tree_->Move(src_new, src->path, remote::MoveMode::kNoReplace);
        return st;
      }
    }
    table_.DropLocation(from_dir->dir_id(), from.stem);
    table_.DropLocation(to_dir->dir_id(), to.stem);
    moved(src_node, *to_dir, to.stem, src_new, src->known != nullptr);
    moved(dst_node, *from_dir, from.stem, dst_new, dst->known != nullptr);
    if (src->known) table_.AddLocation(to_dir->dir_id(), to.stem, src_node->ino);
    if (dst->known) table_.AddLocation(from_dir->dir_id(), from.stem, dst_node->ino);
    const int delta = (src_is_dir ? 1 : 0) - (dst_is_dir ? 1 : 0);
    TouchDir(*from_dir, from_dir == to_dir ? 0 : -delta);
    if (from_dir != to_dir) TouchDir(*to_dir, delta);
    return Status::Ok();
  }

  bool replaced_dir = false;
  if (dst) {
    if (flags & RENAME_NOREPLACE) return Status::AlreadyExists("target exists");
    if (src_is_dir && dst->kind != StoredKind::kDirectory) {
      return Status::Error(Code::kNotADirectory, "rename of a directory over a non-directory");
    }
    if (!src_is_dir && dst->kind == StoredKind::kDirectory) {
      return Status::Error(Code::kIsADirectory, "rename of a non-directory over a directory");
    }
    if (dst->kind == StoredKind::kDirectory) {
      PHRFS_ASSIGN_OR_RETURN(auto entries, tree_->List(dst_node->folder));
      for (const auto& e : entries) {
        std::string stem;
        StoredKind kind;
        if (ParseStoredName(e.name, &stem, &kind))
          return Status::Error(Code::kNotEmpty, "target directory not empty");
      }
      replaced_dir = true;
    }
  }
  PHRFS_RETURN_IF_ERROR(WriteSidecar(*to_dir, to));
  const bool dst_in_use = dst && dst->known && dst_node->kind != crypto::NodeKind::kDirectory &&
                          dst_node->nlookup > 0 && dst->path == src_new &&
                          dst_node->path == dst->path;
  if (dst_in_use && tree_->SupportsLinks()) {
    // The replaced file may still be open: a second name out of sight keeps its object until
    // FORGET, and the replacement itself stays one atomic move.
    {
      std::unique_lock lock(dst_node->mu);
      PHRFS_ASSIGN_OR_RETURN(std::string hidden, NewUnlinkedPath(dst_node->id));
      PHRFS_RETURN_IF_ERROR(tree_->Link(dst_node->path, hidden));
      dst_node->path = hidden;
      dst_node->unlinked = true;
      dst_node->hidden.push_back(hidden);
      if (dst_node->links > 0) dst_node->links--;  // its name goes to the source below
    }
    PHRFS_RETURN_IF_ERROR(tree_->Move(src->path, src_new, remote::MoveMode::kReplace));
  } else if (dst_in_use) {
    // Without hard links: move it out of sight first, then the source takes its name.
    PHRFS_RETURN_IF_ERROR(Discard(*dst));
    PHRFS_RETURN_IF_ERROR(tree_->Move(src->path, src_new, remote::MoveMode::kNoReplace));
  } else {
    PHRFS_RETURN_IF_ERROR(tree_->Move(src->path, src_new, remote::MoveMode::kReplace));
    if (dst && dst->path != src_new) {
      PHRFS_RETURN_IF_ERROR(Discard(*dst));  // another kind held the name
    } else if (dst && dst->known && !replaced_dir) {
      // One name of a node the kernel knows by another (hard link) is gone.
      std::unique_lock lock(dst_node->mu);
      if (dst_node->links > 0) dst_node->links--;
    }
  }
  if (from_dir != to_dir || from.stem != to.stem) RemoveSidecar(*from_dir, from);
  table_.DropLocation(from_dir->dir_id(), from.stem);
  table_.DropLocation(to_dir->dir_id(), to.stem);
  moved(src_node, *to_dir, to.stem, src_new, src->known != nullptr);
  if (src->known) table_.AddLocation(to_dir->dir_id(), to.stem, src_node->ino);
  if (dst_node) {
    if (replaced_dir) {
      {
        std::unique_lock lock(dst_node->mu);
        dst_node->removed = true;
      }
      auto left = tree_->List(dst_node->folder);  // sidecars, temporaries
      if (left.ok()) {
        for (const auto& e : *left) (void)tree_->Delete(Join(dst_node->folder, e.name));
      }
      Status st = tree_->RemoveFolder(dst_node->folder);
      if (st.ok())
        (void)tree_->RemoveFolder(dst_node->folder.substr(0, dst_node->folder.rfind('/')));
      else
        Log(LogLevel::kWarning, "replaced directory left its store folder: %s",
            st.ToString().c_str());
    } else if (dst->known) {
      TouchCtime(*dst_node, /*known=*/true);
    }
  }
  if (from_dir == to_dir) {
    TouchDir(*from_dir, replaced_dir ? -1 : 0);
  } else {
    TouchDir(*from_dir, src_is_dir ? -1 : 0);
    TouchDir(*to_dir, (src_is_dir ? 1 : 0) - (replaced_dir ? 1 : 0));
  }
  return Status::Ok();
}

}  // namespace phrfs::fs
