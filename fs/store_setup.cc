#include "fs/store_setup.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "crypto/node_format.h"
#include "crypto/owner_record.h"
#include "crypto/random.h"
#include "fs/vault/layout.h"
#include "remote/local/direct_tree.h"
#include "remote/local_store.h"
#include "remote/object_tree.h"

namespace phrfs::fs {
namespace {

// phrfs.conf is a few hundred bytes; anything near this size is not ours.
constexpr size_t kMaxStoreConfigSize = 64 * 1024;
constexpr mode_t kStoreDirMode = 0700;
constexpr mode_t kRootMode = 0700;

Status WithStore(const Status& status, const std::string& label) {
  return Status::Error(status.code(), "store " + label + ": " + status.message());
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Result<UnlockedStore> ReadStore(std::unique_ptr<remote::CipherTree> tree,
                                const std::string& label) {
  auto stat = tree->Stat(crypto::kStoreConfigName);
  if (!stat.ok()) {
    if (stat.status().code() == Code::kNotFound) {
      if (tree->Stat(crypto::kRecordsMarkerName).ok() || tree->Stat(crypto::kOwnerRecordName).ok()) {
        return Status::InvalidArgument("store " + label +
                                       " holds records owned by identities, which no "
                                       "passphrase opens: give --identity FILE");
      }
      return Status::NotFound("store " + label + " is not initialised (no " +
                              crypto::kStoreConfigName + "; run phrfs init)");
    }
    return WithStore(stat.status(), label);
  }
  auto text = ReadSmallObject(*tree, crypto::kStoreConfigName, kMaxStoreConfigSize);
  if (!text.ok()) {
    if (text.status().code() == Code::kCorrupt)
      return Status::Corrupt("store " + label + ": " + crypto::kStoreConfigName + " is not a store config");
    return WithStore(text.status(), label);
  }
  auto config = crypto::ParseStoreConfig(*text);
  if (!config.ok()) {
    Code code = config.status().code();
    // An out-of-bounds KDF line is damage too (or a hostile file), not a usage error.
    if (code == Code::kInvalidArgument) code = Code::kCorrupt;
    return Status::Error(code, "store " + label + ": " + crypto::kStoreConfigName + ": " +
                                   config.status().message());
  }
  return UnlockedStore{std::move(tree), label, std::move(config).value(), SecureBytes()};
}

}  // namespace

Result<std::string> ReadSmallObject(remote::CipherTree& tree, const std::string& path,
                                    size_t max_size) {
  PHRFS_ASSIGN_OR_RETURN(remote::TreeStat st, tree.Stat(path));
  if (st.is_folder || st.size > max_size) return Status::Corrupt(path + ": not what phrfs writes there");
  std::string text(st.size, '\0');
  PHRFS_ASSIGN_OR_RETURN(size_t got,
                         tree.Read(path, 0, {reinterpret_cast<uint8_t*>(text.data()), text.size()}));
  text.resize(got);
  return text;
}

Result<std::unique_ptr<remote::CipherTree>> OpenLocalStoreTree(const std::string& dir,
                                                               TreeAccess access, bool create) {
  if (dir.empty()) return Status::InvalidArgument("store path is empty");
  if (create && mkdir(dir.c_str(), kStoreDirMode) != 0 && errno != EEXIST) {
    return WithStore(Status::FromErrno(errno, "create directory"), dir);
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("store " + dir + " does not exist");
    return WithStore(Status::FromErrno(errno, "stat"), dir);
  }
  if (!S_ISDIR(st.st_mode)) return Status::NotFound("store " + dir + " is not a directory");
  if (access == TreeAccess::kDirect) {
    auto tree = remote::DirectTree::Open(dir, remote::DirectTreeOptions{});
    if (!tree.ok()) return WithStore(tree.status(), dir);
    return std::unique_ptr<remote::CipherTree>(std::move(tree).value());
  }
  auto store = remote::LocalStore::Open(dir);
  if (!store.ok()) return WithStore(store.status(), dir);
  std::shared_ptr<remote::ObjectStore> shared(std::move(store).value());
  // The same lease as the direct tree: both kinds of access to one directory exclude each other.
  return std::unique_ptr<remote::CipherTree>(std::make_unique<remote::ObjectTree>(
      std::move(shared), [dir] { return remote::LockLocalDirectory(dir); }));
}

Result<std::vector<uint8_t>> NewRootObject(const crypto::StoreKeys& keys) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  crypto::NodeHeader header;
  header.kind = crypto::NodeKind::kDirectory;
  header.node_id = crypto::NodeId{};
  header.key_epoch = keys.content.epoch;
  PHRFS_ASSIGN_OR_RETURN(header.content_id, crypto::NewFileId());
  header.meta.mode = S_IFDIR | kRootMode;
  header.meta.uid = geteuid();
  header.meta.gid = getegid();
  header.meta.atime = header.meta.mtime = header.meta.ctime =
      crypto::Timestamp{now.tv_sec, static_cast<uint32_t>(now.tv_nsec)};
  PHRFS_ASSIGN_OR_RETURN(SecureBytes meta_key, crypto::DeriveMetaKey(keys.content, header.node_id));
  PHRFS_ASSIGN_OR_RETURN(auto bytes, crypto::SealNodeHeader(header, meta_key));
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

Status WriteStoreConfig(remote::CipherTree& tree, const crypto::StoreConfig& config) {
  const std::string text = crypto::SerializeStoreConfig(config);
  PHRFS_RETURN_IF_ERROR(tree.Put(crypto::kStoreConfigName, Bytes(text), remote::PutMode::kReplace));
  PHRFS_RETURN_IF_ERROR(tree.Sync(crypto::kStoreConfigName));
  return tree.Sync("");
}

Status LayOutEmptyTree(remote::CipherTree& tree, const std::string& label,
                       const crypto::StoreKeys& keys, const std::string& config_name,
                       const std::string& config_text) {
  auto entries = tree.List("");
  if (!entries.ok()) return WithStore(entries.status(), label);
  for (const auto& entry : *entries) {
    if (entry.name == config_name) {
      return Status::AlreadyExists("store " + label + " is already initialised");
    }
  }
  if (!entries->empty()) {
    return Status::AlreadyExists("store " + label +
                                 " is not empty; init needs an empty or new directory");
  }
  PHRFS_ASSIGN_OR_RETURN(std::string root_folder, FolderOf(keys.dir_hash, crypto::kRootDirId));
  PHRFS_ASSIGN_OR_RETURN(auto root_object, NewRootObject(keys));

  // The config goes last: its presence is what makes the tree a store, so a failure before it
  // leaves nothing that looks initialised.
  std::vector<std::string> made;
  Status st;
  for (const std::string& folder :
       {std::string(kFoldersRoot), root_folder.substr(0, root_folder.rfind('/')), root_folder,
        std::string(kUnlinkedFolder)}) {
    st = tree.MakeFolder(folder);
    if (!st.ok()) break;
    made.push_back(folder);
  }
  if (st.ok()) st = tree.Put(kRootObject, root_object, remote::PutMode::kMustNotExist);
  if (st.ok()) {
    st = tree.Put(config_name, Bytes(config_text), remote::PutMode::kMustNotExist);
    if (st.ok()) st = tree.Sync(config_name);
  }
  if (!st.ok()) {
    (void)tree.Delete(kRootObject);
    for (auto it = made.rbegin(); it != made.rend(); ++it) (void)tree.RemoveFolder(*it);
    if (st.code() == Code::kAlreadyExists || st.code() == Code::kPreconditionFailed) {
      return Status::AlreadyExists("store " + label + " was initialised concurrently");
    }
    return WithStore(st, label);
  }
  (void)tree.Sync("");
  return Status::Ok();
}

Result<std::string> InitStore(remote::CipherTree& tree, const std::string& label,
                              std::string_view passphrase, const crypto::ScryptParams& params) {
  PHRFS_ASSIGN_OR_RETURN(crypto::NewStore created, crypto::CreateStore(passphrase, params));
  PHRFS_ASSIGN_OR_RETURN(crypto::StoreKeys keys,
                         crypto::StoreKeys::Derive(created.master_key, created.config.store_id));
  PHRFS_RETURN_IF_ERROR(LayOutEmptyTree(tree, label, keys, crypto::kStoreConfigName,
                                        crypto::SerializeStoreConfig(created.config)));
  return crypto::FormatRecoveryKey(created.recovery_key);
}

Result<UnlockedStore> UnlockStore(std::unique_ptr<remote::CipherTree> tree,
                                  const std::string& label, std::string_view passphrase) {
  PHRFS_ASSIGN_OR_RETURN(UnlockedStore store, ReadStore(std::move(tree), label));
  auto master = crypto::UnlockWithPassphrase(store.config, passphrase);
  if (!master.ok()) {
    if (master.status().code() == Code::kWrongKey)
      return Status::WrongKey("wrong passphrase for store " + label);
    return WithStore(master.status(), label);
  }
  store.master_key = std::move(master).value();
  return store;
}

Result<UnlockedStore> UnlockStoreWithRecoveryKey(std::unique_ptr<remote::CipherTree> tree,
                                                 const std::string& label,
                                                 std::string_view recovery_key_text) {
  PHRFS_ASSIGN_OR_RETURN(UnlockedStore store, ReadStore(std::move(tree), label));
  auto recovery_key = crypto::ParseRecoveryKey(recovery_key_text);
  if (!recovery_key.ok()) {
    return Status::WrongKey("malformed recovery key (expected 64 hex digits) for store " + label);
  }
  auto master = crypto::UnlockWithRecoveryKey(store.config, *recovery_key);
  if (!master.ok()) {
    if (master.status().code() == Code::kWrongKey)
      return Status::WrongKey("wrong recovery key for store " + label);
    return WithStore(master.status(), label);
  }
  store.master_key = std::move(master).value();
  return store;
}

Status ChangeStorePassphrase(UnlockedStore& store, std::string_view new_passphrase,
                             const crypto::ScryptParams& params) {
  // Work on a copy so that `store` still describes the stored config if anything fails.
  crypto::StoreConfig updated = store.config;
  PHRFS_RETURN_IF_ERROR(
      crypto::ChangePassphrase(updated, store.master_key, new_passphrase, params));
  PHRFS_RETURN_IF_ERROR(WriteStoreConfig(*store.tree, updated));
  store.config = std::move(updated);
  return Status::Ok();
}

}  // namespace phrfs::fs
