// The vault's operations on attributes and file contents: getattr, setattr (truncate included),
// readlink, read, write, fallocate, fsync. A file's content state is loaded on first use and
// kept while the kernel knows the node; its lock excludes writers from readers.
#include <fcntl.h>
#include <time.h>

#include "crypto/random.h"
#include "fs/log.h"
#include "fs/vault/clock.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {
namespace {

crypto::Timestamp TimeOf(const struct timespec& ts, const crypto::Timestamp& now) {
  if (ts.tv_nsec == UTIME_NOW) return now;
  return crypto::Timestamp{ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
}

void LogCorrupt(const Node& node, const Status& st) {
  if (st.code() == Code::kCorrupt) {
    Log(LogLevel::kError, "node %llu: %s; returning EIO", static_cast<unsigned long long>(node.ino),
        st.message().c_str());
  }
}

}  // namespace

Result<struct stat> Vault::GetAttr(uint64_t ino) {
  auto node = Get(ino);
  if (!node) return Status::NotFound("node unknown");
  {
    std::shared_lock lock(node->mu);
    if (!Stale(*node)) return Attr(*node);  // always, when this mount is the only writer
  }
  std::unique_lock lock(node->mu);
  PHRFS_RETURN_IF_ERROR(Revalidate(*node));  // checks again: another thread may have done it
  return Attr(*node);
}

Status Vault::LoadContent(Node& node) {
  if (node.content) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(const crypto::FolderKey* key, KeyOf(node, node.path));
  auto content = ContentFile::Open(*key, node.header.content_id, node.cipher_size);
  if (!content.ok()) {
    LogCorrupt(node, content.status());
    return content.status();
  }
  node.content.emplace(std::move(content).value());
  return Status::Ok();
}

Status Vault::EnsureContent(Node& node) {
  {
    std::shared_lock lock(node.mu);
    if (node.content) return Status::Ok();
  }
  std::unique_lock lock(node.mu);
  return LoadContent(node);
}

Status Vault::Resize(Node& node, uint64_t size) {
  PHRFS_RETURN_IF_ERROR(LoadContent(node));
  if (size == node.content->size()) return Status::Ok();
  Status st;
  if (size == 0) {
    // A new content id, so that no block of the old contents can be replayed into the new ones;
    // the header names it, so header and empty block go out together.
    // A rewritten file moves to its domain's current key epoch: after a revocation, what is
    // written again is out of the revoked person's reach (FORMAT "KEY DOMAINS").
    PHRFS_ASSIGN_OR_RETURN(crypto::FileId content_id, crypto::NewFileId());
    crypto::NodeHeader header = node.header;
    header.content_id = content_id;
    const crypto::FolderKey& current = node.domain->current();
    header.key_epoch = current.epoch;
    PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(current, node.id));
    PHRFS_ASSIGN_OR_RETURN(auto bytes, crypto::SealNodeHeader(header, meta_key));
    st = node.content->Reset(*tree_, node.path, bytes, content_id, current);
    if (st.ok()) {
      node.header.content_id = content_id;
      node.header.key_epoch = current.epoch;
      node.meta_key = std::move(meta_key);
    }
  } else {
    st = node.content->Truncate(*tree_, node.path, size);
  }
  if (st.ok()) node.cipher_size = node.content->cipher_size();
  LogCorrupt(node, st);
  return st;
}

Result<struct stat> Vault::SetAttr(uint64_t ino, const SetAttrRequest& r) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  auto node = Get(ino);
  if (!node) return Status::NotFound("node unknown");
  if (node->synthetic) return Status::Error(Code::kReadOnly, "a made-up folder of a grantee's mount");
  PHRFS_RETURN_IF_ERROR(CheckWritable(*node));
  std::unique_lock lock(node->mu);
  const crypto::Timestamp now = Now();
  crypto::NodeMeta meta = node->header.meta;
  if (r.size) {
    if (node->kind == crypto::NodeKind::kDirectory)
      return Status::Error(Code::kIsADirectory, "truncate of a directory");
    if (node->kind != crypto::NodeKind::kFile)
      return Status::InvalidArgument("truncate of a special file");
    if (*r.size > kMaxFileSize)
      return Status::Error(Code::kFileTooBig, "size past the largest file");
    WaitForOffer(*node, lock);  // a truncate by path, with no open for writing
    PHRFS_RETURN_IF_ERROR(Resize(*node, *r.size));
    meta.mtime = now;  // POSIX: truncate marks mtime and ctime even when the size is unchanged
  }
  if (r.mode) meta.mode = (meta.mode & S_IFMT) | (*r.mode & 07777);
  if (r.uid) meta.uid = *r.uid;
  if (r.gid) meta.gid = *r.gid;
  if (r.atime) meta.atime = TimeOf(*r.atime, now);
  if (r.mtime) meta.mtime = TimeOf(*r.mtime, now);
  meta.ctime = now;
  const crypto::NodeMeta old = node->header.meta;
  node->header.meta = meta;
  Status st = WriteHeader(*node);
  if (!st.ok()) {
    if (r.size && !r.mode && !r.uid && !r.gid && !r.atime && !r.mtime) {
      // The truncation is done and stays; its times are only times.
      Log(LogLevel::kWarning, "node %llu: times not stored: %s",
          static_cast<unsigned long long>(node->ino), st.ToString().c_str());
      return Attr(*node);
    }
    node->header.meta = old;
    return st;
  }
  return Attr(*node);
}

Result<std::string> Vault::ReadLink(uint64_t ino) {
  auto node = Get(ino);
  if (!node) return Status::NotFound("node unknown");
  if (node->kind != crypto::NodeKind::kSymlink) return Status::InvalidArgument("not a symlink");
  std::shared_lock lock(node->mu);
  PHRFS_ASSIGN_OR_RETURN(const crypto::FolderKey* key, KeyOf(*node, node->path));
  auto content = ContentFile::Open(*key, node->header.content_id, node->cipher_size);
  if (!content.ok()) {
    LogCorrupt(*node, content.status());
    return content.status();
  }
  if (content->size() == 0 || content->size() >= 4096)
    return Status::Corrupt("symlink target of impossible length");
  std::string target(content->size(), '\0');
  auto n = content->Read(*tree_, node->path, 0,
                         {reinterpret_cast<uint8_t*>(target.data()), target.size()});
  if (!n.ok()) {
    LogCorrupt(*node, n.status());
    return n.status();
  }
  if (*n != target.size() || target.find('\0') != std::string::npos)
    return Status::Corrupt("symlink target damaged");
  return target;
}

namespace {
bool OpensForWriting(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }
}  // namespace

Status Vault::Open(uint64_t ino, int flags) {
  PHRFS_ASSIGN_OR_RETURN(auto node, GetFile(ino));
  const bool writing = OpensForWriting(flags);
  if (writing) PHRFS_RETURN_IF_ERROR(CheckWritable(*node));
  if (!shared_store() && !writing) return EnsureContent(*node);
  std::unique_lock lock(node->mu);
  if (shared_store()) PHRFS_RETURN_IF_ERROR(Revalidate(*node));
  PHRFS_RETURN_IF_ERROR(LoadContent(*node));
  if (writing) {
    WaitForOffer(*node, lock);
    node->write_opens++;
  }
  if (shared_store()) node->open_count++;
  return Status::Ok();
}

void Vault::CountCreatedOpen(uint64_t ino, int flags) {
  auto node = Get(ino);
  if (!node) return;
  std::unique_lock lock(node->mu);
  if (OpensForWriting(flags)) node->write_opens++;  // new: no offer of it can be running
  if (shared_store()) node->open_count++;
}

void Vault::Release(uint64_t ino, int flags) {
  const bool writing = OpensForWriting(flags);
  if (!shared_store() && !writing) return;  // nothing is counted for it (Open)
  auto node = Get(ino);
  if (!node) return;
  std::unique_lock lock(node->mu);
  if (shared_store() && node->open_count > 0) node->open_count--;
  if (writing && node->write_opens > 0) node->write_opens--;
}

void Vault::WaitForOffer(Node& node, std::unique_lock<std::shared_mutex>& lock) {
  // An offer ends without waiting for anything this thread could hold: the kernel copies into
  // pages locked only by reads in flight, and READ never waits for an offer.
  offer_ended_.wait(lock, [&] { return !node.offering; });
}

Result<size_t> Vault::BeginOffer(uint64_t ino, std::span<uint8_t> out) {
  if (shared_store()) return size_t{0};
  PHRFS_ASSIGN_OR_RETURN(auto node, GetFile(ino));
  std::unique_lock lock(node->mu);
  if (node->offered || node->offering || node->write_opens > 0) return size_t{0};
  PHRFS_RETURN_IF_ERROR(LoadContent(*node));
  const uint64_t size = node->content->size();
  if (size == 0 || size > out.size()) return size_t{0};
  auto n = node->content->Read(*tree_, node->path, 0, out.first(size));
  if (!n.ok()) {
    LogCorrupt(*node, n.status());
    return n.status();
  }
  node->offering = true;
  return *n;
}

void Vault::EndOffer(uint64_t ino, bool stored) {
  auto node = Get(ino);  // known: the kernel holds the node it is opening
  if (!node) return;
  {
    std::unique_lock lock(node->mu);
    node->offering = false;
    if (stored) node->offered = true;
  }
  offer_ended_.notify_all();
}

Result<size_t> Vault::Read(uint64_t ino, uint64_t offset, std::span<uint8_t> out) {
  PHRFS_ASSIGN_OR_RETURN(auto node, GetFile(ino));
  PHRFS_RETURN_IF_ERROR(EnsureContent(*node));
  std::shared_lock lock(node->mu);
  auto n = node->content->Read(*tree_, node->path, offset, out);
  if (!n.ok()) LogCorrupt(*node, n.status());
  return n;
}

Result<size_t> Vault::Write(uint64_t ino, uint64_t offset, std::span<const uint8_t> data,
                            bool append) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto node, GetFile(ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*node));
  std::unique_lock lock(node->mu);
  PHRFS_RETURN_IF_ERROR(LoadContent(*node));
  if (append) offset = node->content->size();
  Status st = node->content->Write(*tree_, node->path, offset, data);
  if (!st.ok()) {
    LogCorrupt(*node, st);  // running out of space is logged once a second at the FUSE edge
    return st;
  }
  node->cipher_size = node->content->cipher_size();
  const crypto::Timestamp now = Now();
  node->header.meta.mtime = now;
  node->header.meta.ctime = now;
  // The bytes are stored. Their times go to the header at most once a second (a 4 KiB random
  // write would otherwise cost a second write, a key derivation and a seal), and at fsync,
  // forget and unmount: a crash can cost the last second of mtime, never a byte.
  MarkTimes(*node);
  return data.size();
}

Status Vault::Allocate(uint64_t ino, uint64_t offset, uint64_t length) {
  PHRFS_RETURN_IF_ERROR(CheckWritable());
  PHRFS_ASSIGN_OR_RETURN(auto node, GetFile(ino));
  PHRFS_RETURN_IF_ERROR(CheckWritable(*node));
  if (offset > kMaxFileSize || length > kMaxFileSize - offset)
    return Status::Error(Code::kFileTooBig, "past the largest file");
  std::unique_lock lock(node->mu);
  PHRFS_RETURN_IF_ERROR(LoadContent(*node));
  if (offset + length <= node->content->size()) return Status::Ok();
  PHRFS_RETURN_IF_ERROR(Resize(*node, offset + length));
  node->header.meta.ctime = Now();
  (void)WriteHeader(*node);
  return Status::Ok();
}

Status Vault::Fsync(uint64_t ino) {
  auto node = Get(ino);
  if (!node) return Status::NotFound("node unknown");
  std::unique_lock lock(node->mu);
  FlushTimes(*node);
  return tree_->Sync(node->path);
}

// ---------------------------------------------------------------- directories

Result<std::unique_ptr<DirHandle>> Vault::OpenDir(uint64_t ino) {
  auto handle = std::make_unique<DirHandle>();
  handle->node = ino;
  PHRFS_RETURN_IF_ERROR(ListDir(*handle));
  return handle;
}

Status Vault::ListDir(DirHandle& handle) {
  PHRFS_ASSIGN_OR_RETURN(auto dir, GetDir(handle.node));
  // Shared with lookups, exclusive of changes: the subdirectory count below is exact.
  std::shared_lock tree(tree_mu_);
  handle.entries.clear();
  {
    std::shared_lock lock(dir->mu);
    if (dir->removed) return Status::Ok();
  }
  if (const auto* made_up = SyntheticEntries(dir->ino)) {
    for (const auto& [name, node] : *made_up)
      handle.entries.push_back(ListedEntry{name, name, StoredKind::kDirectory});
    return Status::Ok();
  }
  PHRFS_ASSIGN_OR_RETURN(auto listed, tree_->List(dir->folder));
  handle.entries.reserve(listed.size());
  uint32_t subdirs = 0;
  for (auto& e : listed) {
    std::string stem;
    StoredKind kind;
    if (e.is_folder || !ParseStoredName(e.name, &stem, &kind)) continue;
    std::string encoded = stem;
    if (stem.rfind(crypto::kLongNamePrefix, 0) == 0) {
      std::vector<uint8_t> side(crypto::kMaxPlainNameLength * 2 + 64);
      auto got = tree_->Read(Join(dir->folder, stem + kSidecarSuffix), 0, side);
      if (!got.ok()) {
        Log(LogLevel::kWarning,
            "directory node %llu: long name %s has no readable sidecar; skipped",
            static_cast<unsigned long long>(dir->ino), stem.c_str());
        continue;
      }
      encoded.assign(side.begin(), side.begin() + *got);
      if (crypto::LongNameStem(encoded) != stem) {
        Log(LogLevel::kWarning, "directory node %llu: long-name sidecar %s does not match; skipped",
            static_cast<unsigned long long>(dir->ino), stem.c_str());
        continue;
      }
    }
    auto name = dir->children->names().Decode(dir->dir_id(), encoded);
    if (!name.ok()) {
      Log(LogLevel::kWarning,
          "directory node %llu: store entry %s has a name that does not decrypt; skipped",
          static_cast<unsigned long long>(dir->ino), e.name.c_str());
      continue;
    }
    if (kind == StoredKind::kDirectory) ++subdirs;
    handle.entries.push_back(ListedEntry{std::move(name).value(), std::move(stem), kind});
  }
  // Attributes (readdirplus) and inode numbers (readdir) of the entries the kernel does not
  // know yet come from their node headers: let the tree fetch those ahead, in parallel.
  std::vector<std::string> unknown;
  for (const ListedEntry& e : handle.entries) {
    if (!table_.FindAt(dir->dir_id(), e.stem, /*count_lookup=*/false)) {
      unknown.push_back(Join(dir->folder, e.stem + std::string(SuffixOf(e.kind))));
    }
  }
  if (!unknown.empty()) tree_->Prefetch(unknown, crypto::kNodeHeaderSize);
  // A listing knows the exact number of subdirectories: repair a count a crash left behind.
  std::unique_lock lock(dir->mu);
  if (dir->header.meta.subdirs != subdirs && !dir->removed) {
    dir->header.meta.subdirs = subdirs;
    if (!options_.read_only) (void)WriteHeader(*dir);
  }
  return Status::Ok();
}

Status Vault::FsyncDir(uint64_t ino) {
  PHRFS_ASSIGN_OR_RETURN(auto dir, GetDir(ino));
  Status st = tree_->Sync(dir->folder);
  if (st.ok()) st = tree_->Sync(dir->path);
  return st;
}

}  // namespace phrfs::fs
