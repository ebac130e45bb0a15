#include "fs/upgrade.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "crypto/content_cipher.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "crypto/node_format.h"
#include "crypto/random.h"
#include "crypto/store_config.h"
#include "fs/log.h"
#include "fs/store_setup.h"
#include "fs/vault/layout.h"
#include "remote/local/posix_io.h"
#include "remote/temp_names.h"

namespace phrfs::fs {
namespace {

constexpr size_t kCopyChunk = 1 << 20;
constexpr size_t kMaxEntryObject = 64 * 1024;  // v1 .d and .l objects are tiny

// ---- small POSIX helpers on the store directory (the upgrade is local: v1 stores only were) --

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status Errno(const std::string& what) {
  return Status::FromErrno(errno, what);
}

Result<UniqueFd> OpenDir(int root, const std::string& rel) {
  int fd = openat(root, rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno("open " + rel);
  return UniqueFd(fd);
}

Result<std::vector<std::string>> ListNames(int dir_fd) {
  int dup_fd = dup(dir_fd);
  if (dup_fd < 0) return Errno("dup");
  DIR* dir = fdopendir(dup_fd);
  if (dir == nullptr) {
    close(dup_fd);
    return Errno("fdopendir");
  }
  rewinddir(dir);
  std::vector<std::string> names;
  while (struct dirent* e = readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.emplace_back(e->d_name);
  }
  closedir(dir);
  return names;
}

Result<std::vector<uint8_t>> ReadPrefix(int dir_fd, const std::string& name, size_t max) {
  UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return Errno("open " + name);
  std::vector<uint8_t> out(max);
  size_t got = 0;
  while (got < max) {
    ssize_t n = pread(fd.get(), out.data() + got, max - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read " + name);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Status WriteAll(int fd, const uint8_t* data, size_t len, off_t offset) {
  while (len > 0) {
    ssize_t n = pwrite(fd, data, len, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write");
    if (n == 0) return Status::Error(Code::kNoSpace, "write made no progress");
    data += n;
    len -= static_cast<size_t>(n);
    offset += n;
  }
  return Status::Ok();
}

crypto::Timestamp TimeOf(const struct timespec& ts) {
  return crypto::Timestamp{ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
}

crypto::NodeMeta MetaOf(const struct stat& st, uint32_t mode) {
  crypto::NodeMeta m;
  m.mode = mode;
  m.uid = st.st_uid;
  m.gid = st.st_gid;
  m.atime = TimeOf(st.st_atim);
  m.mtime = TimeOf(st.st_mtim);
  m.ctime = TimeOf(st.st_ctim);
  return m;
}

bool IsV2(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), crypto::kNodeMagic.data(), 4) == 0;
}

// A v1 sealed object (directory entry or symlink) opened in memory.
Result<std::vector<uint8_t>> OpenV1Object(const crypto::FolderKey& folder,
                                          std::span<const uint8_t> object) {
  PHRFS_ASSIGN_OR_RETURN(uint64_t size, crypto::PlainSize(object.size(), crypto::kV1HeaderSize));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, crypto::ParseHeader(object));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, header.file_id));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key));
  std::vector<uint8_t> plain(size);
  const uint64_t count = crypto::BlockCount(size);
  for (uint64_t i = 0; i < count; ++i) {
    const size_t len = crypto::BlockPlainLength(size, i);
    PHRFS_RETURN_IF_ERROR(cipher.Open(
        header.file_id, i, i + 1 == count,
        object.subspan(crypto::BlockOffset(i, crypto::kV1HeaderSize), len + crypto::kBlockOverhead),
        std::span<uint8_t>(plain).subspan(i * crypto::kBlockSize, len)));
  }
  return plain;
}

struct Folder {
  std::string path;  // "d/xx/yyyy"
  crypto::DirId id;
};

class Upgrader {
 public:
  Upgrader(int root, crypto::StoreKeys keys,
           const std::function<void(const UpgradeProgress&)>& progress)
      : root_(root), keys_(std::move(keys)), progress_(progress) {}

  Status Run() {
    PHRFS_RETURN_IF_ERROR(Discover());
    progress_(UpgradeProgress{0, total_});
    PHRFS_RETURN_IF_ERROR(ConvertRoot());
    Step();
    for (const Folder& folder : folders_) PHRFS_RETURN_IF_ERROR(ConvertFolder(folder));
    if (mkdirat(root_, kUnlinkedFolder, 0700) != 0 && errno != EEXIST)
      return Errno("mkdir unlinked");
    return Status::Ok();
  }
  uint64_t left_damaged() const { return damaged_; }

 private:
  void Step() {
    ++done_;
    progress_(UpgradeProgress{done_, total_});
  }

  // Every directory folder reachable from the root, and the number of entries to convert.
  Status Discover() {
    PHRFS_ASSIGN_OR_RETURN(std::string root_folder, FolderOf(keys_.dir_hash, crypto::kRootDirId));
    folders_.push_back(Folder{root_folder, crypto::kRootDirId});
    total_ = 1;  // the root
    for (size_t i = 0; i < folders_.size(); ++i) {
      const Folder folder = folders_[i];
      PHRFS_ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(root_, folder.path));
      PHRFS_ASSIGN_OR_RETURN(auto names, ListNames(dir.get()));
      for (const std::string& name : names) {
        std::string stem;
        StoredKind kind;
        if (!ParseStoredName(name, &stem, &kind)) continue;
        ++total_;
        if (kind != StoredKind::kDirectory) continue;
        auto child = DirIdOfEntry(dir.get(), name);
        if (!child.ok()) {
          Log(LogLevel::kWarning,
              "upgrade: directory entry %s/%s is damaged (%s); its folder is skipped",
              folder.path.c_str(), name.c_str(), child.status().message().c_str());
          continue;
        }
        PHRFS_ASSIGN_OR_RETURN(std::string path, FolderOf(keys_.dir_hash, *child));
        folders_.push_back(Folder{path, *child});
      }
    }
    return Status::Ok();
  }

  Result<crypto::DirId> DirIdOfEntry(int dir_fd, const std::string& name) {
    PHRFS_ASSIGN_OR_RETURN(auto bytes, ReadPrefix(dir_fd, name, kMaxEntryObject));
    if (IsV2(bytes)) {
      PHRFS_ASSIGN_OR_RETURN(auto fields, crypto::ParseNodeHeaderFields(bytes));
      return crypto::DirIdOf(fields.node_id);
    }
    PHRFS_ASSIGN_OR_RETURN(auto plain, OpenV1Object(keys_.content, bytes));
    if (plain.size() != crypto::kIdSize) return Status::Corrupt("bad directory id length");
    crypto::DirId id;
    std::memcpy(id.bytes.data(), plain.data(), crypto::kIdSize);
    return id;
  }

  Result<uint32_t> CountSubdirs(const std::string& folder) {
    PHRFS_ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(root_, folder));
    PHRFS_ASSIGN_OR_RETURN(auto names, ListNames(dir.get()));
    uint32_t n = 0;
    for (const std::string& name : names) {
      std::string stem;
      StoredKind kind;
      if (ParseStoredName(name, &stem, &kind) && kind == StoredKind::kDirectory) ++n;
    }
    return n;
  }

  Result<std::array<uint8_t, crypto::kNodeHeaderSize>> Header(crypto::NodeKind kind,
                                                              const crypto::NodeId& id,
                                                              const crypto::FileId& content_id,
                                                              const crypto::NodeMeta& meta) {
    crypto::NodeHeader header{kind, id, keys_.content.epoch, content_id, meta};
    PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(keys_.content, id));
    return crypto::SealNodeHeader(header, meta_key);
  }

  // Writes `head` then the bytes of `source` from `from` on to a temporary beside `target`,
  // syncs it and renames it over `target`.
  Status Replace(int dir_fd, const std::string& target, std::span<const uint8_t> head, int source,
                 off_t from) {
    PHRFS_ASSIGN_OR_RETURN(remote::StagedObject out, remote::StagedObject::Create(dir_fd));
    Status st = WriteAll(out.fd(), head.data(), head.size(), 0);
    off_t at = static_cast<off_t>(head.size());
    if (st.ok() && source >= 0) {
      std::vector<uint8_t> buf(kCopyChunk);
      for (off_t pos = from;;) {
        ssize_t n = pread(source, buf.data(), buf.size(), pos);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          st = Errno("read " + target);
          break;
        }
        if (n == 0) break;
        st = WriteAll(out.fd(), buf.data(), static_cast<size_t>(n), at);
        if (!st.ok()) break;
        pos += n;
        at += n;
      }
    }
    if (st.ok()) st = out.Sync();
    if (st.ok()) st = out.Commit(target, /*replace=*/true);
    return st;
  }

  Status ConvertRoot() {
    struct stat st;
    if (fstatat(root_, kRootObject, &st, AT_SYMLINK_NOFOLLOW) == 0) return Status::Ok();  // resumed
    PHRFS_ASSIGN_OR_RETURN(std::string root_folder, FolderOf(keys_.dir_hash, crypto::kRootDirId));
    if (fstatat(root_, root_folder.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Errno("stat root folder");
    crypto::NodeMeta meta = MetaOf(st, S_IFDIR | (st.st_mode & 07777));
    PHRFS_ASSIGN_OR_RETURN(meta.subdirs, CountSubdirs(root_folder));
    PHRFS_ASSIGN_OR_RETURN(crypto::FileId content_id, crypto::NewFileId());
    PHRFS_ASSIGN_OR_RETURN(
        auto head, Header(crypto::NodeKind::kDirectory, crypto::NodeId{}, content_id, meta));
    return Replace(root_, kRootObject, head, -1, 0);
  }

  Status ConvertFolder(const Folder& folder) {
    PHRFS_ASSIGN_OR_RETURN(UniqueFd dir, OpenDir(root_, folder.path));
    PHRFS_ASSIGN_OR_RETURN(auto names, ListNames(dir.get()));
    for (const std::string& name : names) {
      if (remote::IsTempName(name)) {
        unlinkat(dir.get(), name.c_str(), 0);  // a v1 leftover
        continue;
      }
      std::string stem;
      StoredKind kind;
      if (!ParseStoredName(name, &stem, &kind)) continue;
      Status st = ConvertEntry(dir.get(), name, stem, kind);
      if (!st.ok()) {
        if (st.code() != Code::kCorrupt)
          return Status::Error(st.code(), folder.path + "/" + name + ": " + st.message());
        ++damaged_;
        Log(LogLevel::kWarning,
            "upgrade: %s/%s is damaged and stays as it is (it will read as EIO): %s",
            folder.path.c_str(), name.c_str(), st.message().c_str());
      }
      Step();
    }
    // v1 gave a directory's folder the directory's own mode (0755, say); in v2 the mode lives in
    // the header and every folder is private to the daemon's user.
    if (fchmod(dir.get(), 0700) != 0) return Errno("chmod " + folder.path);
    if (fsync(dir.get()) != 0) return Errno("fsync " + folder.path);
    return Status::Ok();
  }

  Status ConvertEntry(int dir_fd, const std::string& name, const std::string& stem,
                      StoredKind kind) {
    UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) return Errno("open " + name);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return Errno("stat " + name);
    if (!S_ISREG(st.st_mode)) return Status::Corrupt("not a regular object");
    uint8_t head[crypto::kV1HeaderSize];
    ssize_t got = pread(fd.get(), head, sizeof head, 0);
    if (got < 0) return Errno("read " + name);
    if (IsV2({head, static_cast<size_t>(got)}))
      return FixLongStem(dir_fd, name, stem, kind).status();  // resumed

    switch (kind) {
      case StoredKind::kFile: {
        // A second name of an inode converted earlier in this run stays a hard link.
        auto linked = converted_.find({st.st_dev, st.st_ino});
        if (linked != converted_.end()) {
          PHRFS_RETURN_IF_ERROR(LinkOver(dir_fd, linked->second, name));
          return FixLongStem(dir_fd, name, stem, kind).status();
        }
        PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader v1,
                               crypto::ParseHeader({head, static_cast<size_t>(got)}));
        PHRFS_ASSIGN_OR_RETURN(crypto::NodeId id, NewNodeId());
        PHRFS_ASSIGN_OR_RETURN(auto header, Header(crypto::NodeKind::kFile, id, v1.file_id,
                                                   MetaOf(st, S_IFREG | (st.st_mode & 07777))));
        PHRFS_RETURN_IF_ERROR(Replace(dir_fd, name, header, fd.get(), crypto::kV1HeaderSize));
        // The other names link to this object under the name it ends up with.
        PHRFS_ASSIGN_OR_RETURN(std::string final_name, FixLongStem(dir_fd, name, stem, kind));
        if (st.st_nlink > 1) converted_[{st.st_dev, st.st_ino}] = std::make_pair(dup(dir_fd), final_name);
        return Status::Ok();
      }
      case StoredKind::kSymlink: {
        PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader v1,
                               crypto::ParseHeader({head, static_cast<size_t>(got)}));
        PHRFS_ASSIGN_OR_RETURN(crypto::NodeId id, NewNodeId());
        PHRFS_ASSIGN_OR_RETURN(auto header, Header(crypto::NodeKind::kSymlink, id, v1.file_id,
                                                   MetaOf(st, S_IFLNK | 0777)));
        PHRFS_RETURN_IF_ERROR(Replace(dir_fd, name, header, fd.get(), crypto::kV1HeaderSize));
        break;
      }
      case StoredKind::kDirectory: {
        PHRFS_ASSIGN_OR_RETURN(crypto::DirId child, DirIdOfEntry(dir_fd, name));
        PHRFS_ASSIGN_OR_RETURN(std::string folder, FolderOf(keys_.dir_hash, child));
        struct stat fst;
        if (fstatat(root_, folder.c_str(), &fst, AT_SYMLINK_NOFOLLOW) != 0)
          return Errno("stat " + folder);
        crypto::NodeMeta meta = MetaOf(fst, S_IFDIR | (fst.st_mode & 07777));
        PHRFS_ASSIGN_OR_RETURN(meta.subdirs, CountSubdirs(folder));
        PHRFS_ASSIGN_OR_RETURN(crypto::FileId content_id, crypto::NewFileId());
        PHRFS_ASSIGN_OR_RETURN(auto header, Header(crypto::NodeKind::kDirectory,
                                                   crypto::NodeIdOf(child), content_id, meta));
        PHRFS_RETURN_IF_ERROR(Replace(dir_fd, name, header, -1, 0));
        break;
      }
      case StoredKind::kSpecial: return Status::Corrupt("v1 stores have no special files");
    }
    return FixLongStem(dir_fd, name, stem, kind).status();
  }

  // v2 stores a name under its hash when the ciphertext plus a two-character suffix passes 255
  // bytes; v1 only when the ciphertext alone did. Such names move to their long stem. Returns
  // the object's name afterwards.
  Result<std::string> FixLongStem(int dir_fd, const std::string& name, const std::string& stem,
                                  StoredKind kind) {
    if (stem.rfind(crypto::kLongNamePrefix, 0) == 0) return name;
    if (stem.size() + kMaxSuffixLength <= crypto::kMaxStoredNameLength) return name;
    const std::string long_stem = crypto::LongNameStem(stem);
    const std::string sidecar = long_stem + kSidecarSuffix;
    UniqueFd out(openat(dir_fd, sidecar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (out.get() < 0) return Errno("create " + sidecar);
    PHRFS_RETURN_IF_ERROR(
        WriteAll(out.get(), reinterpret_cast<const uint8_t*>(stem.data()), stem.size(), 0));
    if (fsync(out.get()) != 0) return Errno("fsync " + sidecar);
    const std::string target = long_stem + std::string(SuffixOf(kind));
    if (renameat(dir_fd, name.c_str(), dir_fd, target.c_str()) != 0) return Errno("rename " + name);
    return target;
  }

  Status LinkOver(int dir_fd, const std::pair<int, std::string>& first, const std::string& name) {
    PHRFS_ASSIGN_OR_RETURN(std::string tmp, remote::NewTempName());
    if (linkat(first.first, first.second.c_str(), dir_fd, tmp.c_str(), 0) != 0) {
      return Errno("link " + name);
    }
    if (renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
      Status st = Errno("rename " + name);
      unlinkat(dir_fd, tmp.c_str(), 0);
      return st;
    }
    return Status::Ok();
  }

  static Result<crypto::NodeId> NewNodeId() {
    crypto::NodeId id;
    for (;;) {
      PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(id.bytes));
      if (crypto::InodeNumberOf(id) > 1) return id;
    }
  }

 public:
  ~Upgrader() {
    for (auto& [key, value] : converted_) close(value.first);
  }

 private:
  int root_;
  crypto::StoreKeys keys_;
  const std::function<void(const UpgradeProgress&)>& progress_;
  std::vector<Folder> folders_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  uint64_t damaged_ = 0;
  // Old (dev, ino) of a converted file with several names -> (folder fd, name) of its converted
  // object, so that its other names become links to it again.
  std::map<std::pair<dev_t, ino_t>, std::pair<int, std::string>> converted_;
};

}  // namespace

Status UpgradeStore(const std::string& store_dir, std::string_view passphrase,
                    const std::function<void(const UpgradeProgress&)>& progress) {
  PHRFS_ASSIGN_OR_RETURN(auto tree,
                         OpenLocalStoreTree(store_dir, TreeAccess::kDirect, /*create=*/false));
  PHRFS_ASSIGN_OR_RETURN(UnlockedStore store, UnlockStore(std::move(tree), store_dir, passphrase));
  if (store.config.version == crypto::kStoreVersion) {
    return Status::AlreadyExists("store " + store_dir + " is already format v2");
  }
  // One upgrade (or mount) at a time.
  PHRFS_ASSIGN_OR_RETURN(auto lease, store.tree->AcquireLease());
  PHRFS_ASSIGN_OR_RETURN(crypto::StoreKeys keys,
                         crypto::StoreKeys::Derive(store.master_key, store.config.store_id));
  int root = open(store_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return Status::FromErrno(errno, "open store " + store_dir);
  Status st;
  {
    Upgrader upgrader(root, std::move(keys), progress);
    st = upgrader.Run();
    if (st.ok() && upgrader.left_damaged() > 0) {
      Log(LogLevel::kWarning, "upgrade: %llu damaged object(s) were left as they were",
          static_cast<unsigned long long>(upgrader.left_damaged()));
    }
  }
  close(root);
  PHRFS_RETURN_IF_ERROR(st);
  // Last: the config's version makes the store v2. The recovery wrapping stays valid (its
  // associated data keeps the v1 version line); the passphrase wrapping is re-made for v2.
  crypto::StoreConfig updated = store.config;
  updated.version = crypto::kStoreVersion;
  PHRFS_RETURN_IF_ERROR(
      crypto::ChangePassphrase(updated, store.master_key, passphrase, updated.kdf));
  return WriteStoreConfig(*store.tree, updated);
}

}  // namespace phrfs::fs
