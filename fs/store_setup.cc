#include "fs/store_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "crypto/types.h"

namespace phrfs::fs {
namespace {

// phrfs.conf is a few hundred bytes; anything near this size is not ours.
constexpr size_t kMaxStoreConfigSize = 64 * 1024;
constexpr mode_t kStoreDirMode = 0700;
constexpr mode_t kStoreConfigMode = 0600;
constexpr char kDirFoldersName[] = "d";

Status WithStore(const Status& status, const std::string& store_dir) {
  return Status::Error(status.code(), "store " + store_dir + ": " + status.message());
}

}  // namespace

Result<remote::Fd> OpenStoreDir(const std::string& store_dir) {
  auto fd = remote::OpenAt(AT_FDCWD, store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd.ok()) return fd;
  if (fd.status().code() == Code::kNotFound) {
    return Status::NotFound("store " + store_dir + " does not exist");
  }
  if (fd.status().code() == Code::kNotADirectory) {
    return Status::NotFound("store " + store_dir + " is not a directory");
  }
  return WithStore(fd.status(), store_dir);
}

namespace {

// Creates `relative` (e.g. "d/ab/cdef...") one component at a time below `root`, remembering
// the components it made so that a failed init can take them away again.
Status MakeFolders(int root, const std::string& relative, std::vector<std::string>& made) {
  size_t pos = 0;
  while (pos <= relative.size()) {
    size_t slash = relative.find('/', pos);
    if (slash == std::string::npos) slash = relative.size();
    std::string prefix = relative.substr(0, slash);
    Status st = remote::MkdirAt(root, prefix, kStoreDirMode);
    if (st.ok()) {
      made.push_back(prefix);
    } else if (st.code() != Code::kAlreadyExists) {
      return st;
    }
    pos = slash + 1;
  }
  return Status::Ok();
}

void RemoveFolders(int root, const std::vector<std::string>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) (void)remote::RmdirAt(root, *it);
}

Result<UnlockedStore> ReadStore(const std::string& store_dir) {
  PHRFS_ASSIGN_OR_RETURN(remote::Fd root, OpenStoreDir(store_dir));
  auto bytes = remote::ReadWhole(root.get(), crypto::kStoreConfigName, kMaxStoreConfigSize);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) {
      return Status::NotFound("store " + store_dir + " is not initialised (no " +
                              crypto::kStoreConfigName + "; run phrfs init)");
    }
    if (bytes.status().code() == Code::kCorrupt) {
      return Status::Corrupt("store " + store_dir + ": " + crypto::kStoreConfigName +
                             " is too large to be a store config");
    }
    return WithStore(bytes.status(), store_dir);
  }
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  auto config = crypto::ParseStoreConfig(text);
  if (!config.ok()) {
    Code code = config.status().code();
    // An out-of-bounds KDF line is damage too (or a hostile file), not a usage error.
    if (code == Code::kInvalidArgument) code = Code::kCorrupt;
    return Status::Error(code, "store " + store_dir + ": " + crypto::kStoreConfigName + ": " +
                                   config.status().message());
  }
  return UnlockedStore{std::move(root), std::move(config).value(), SecureBytes()};
}

}  // namespace

Result<std::string> InitStore(const std::string& store_dir, std::string_view passphrase,
                              const crypto::ScryptParams& params) {
  if (store_dir.empty()) return Status::InvalidArgument("store path is empty");
  if (mkdir(store_dir.c_str(), kStoreDirMode) != 0 && errno != EEXIST) {
    return WithStore(Status::FromErrno(errno, "create directory"), store_dir);
  }
  PHRFS_ASSIGN_OR_RETURN(remote::Fd root, OpenStoreDir(store_dir));
  auto entries = remote::ListDir(root.get());
  if (!entries.ok()) return WithStore(entries.status(), store_dir);
  for (const auto& entry : *entries) {
    if (entry.name == crypto::kStoreConfigName) {
      return Status::AlreadyExists("store " + store_dir + " is already initialised");
    }
  }
  if (!entries->empty()) {
    return Status::AlreadyExists("store " + store_dir + " is not empty; init needs an empty or new directory");
  }

  PHRFS_ASSIGN_OR_RETURN(crypto::NewStore created, crypto::CreateStore(passphrase, params));
  PHRFS_ASSIGN_OR_RETURN(crypto::StoreKeys keys,
                         crypto::StoreKeys::Derive(created.master_key, created.config.store_id));
  PHRFS_ASSIGN_OR_RETURN(std::string root_folder,
                         crypto::DirFolderPath(keys.dir_hash, crypto::kRootDirId));

  // The config goes last: its presence is what makes the directory a store, so a failure
  // before it leaves nothing that looks initialised.
  std::vector<std::string> made;
  Status st = MakeFolders(root.get(), std::string(kDirFoldersName) + "/" + root_folder, made);
  if (st.ok()) {
    std::string text = crypto::SerializeStoreConfig(created.config);
    st = remote::WriteWholeAtomic(
        root.get(), crypto::kStoreConfigName,
        {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, kStoreConfigMode,
        /*must_not_exist=*/true);
  }
  if (!st.ok()) {
    RemoveFolders(root.get(), made);
    if (st.code() == Code::kAlreadyExists || st.code() == Code::kPreconditionFailed) {
      return Status::AlreadyExists("store " + store_dir + " was initialised concurrently");
    }
    return WithStore(st, store_dir);
  }
  (void)remote::Sync(root.get(), false);
  return crypto::FormatRecoveryKey(created.recovery_key);
}

Result<UnlockedStore> UnlockStore(const std::string& store_dir, std::string_view passphrase) {
  PHRFS_ASSIGN_OR_RETURN(UnlockedStore store, ReadStore(store_dir));
  auto master = crypto::UnlockWithPassphrase(store.config, passphrase);
  if (!master.ok()) {
    if (master.status().code() == Code::kWrongKey) {
      return Status::WrongKey("wrong passphrase for store " + store_dir);
    }
    return WithStore(master.status(), store_dir);
  }
  store.master_key = std::move(master).value();
  return store;
}

Result<UnlockedStore> UnlockStoreWithRecoveryKey(const std::string& store_dir,
                                                 std::string_view recovery_key_text) {
  PHRFS_ASSIGN_OR_RETURN(UnlockedStore store, ReadStore(store_dir));
  auto recovery_key = crypto::ParseRecoveryKey(recovery_key_text);
  if (!recovery_key.ok()) {
    return Status::WrongKey("malformed recovery key (expected 64 hex digits) for store " + store_dir);
  }
  auto master = crypto::UnlockWithRecoveryKey(store.config, *recovery_key);
  if (!master.ok()) {
    if (master.status().code() == Code::kWrongKey) {
      return Status::WrongKey("wrong recovery key for store " + store_dir);
    }
    return WithStore(master.status(), store_dir);
  }
  store.master_key = std::move(master).value();
  return store;
}

Status ChangeStorePassphrase(UnlockedStore& store, std::string_view new_passphrase,
                             const crypto::ScryptParams& params) {
  // Work on a copy so that `store` still describes the file on disk if anything fails.
  crypto::StoreConfig updated = store.config;
  PHRFS_RETURN_IF_ERROR(
      crypto::ChangePassphrase(updated, store.master_key, new_passphrase, params));
  std::string text = crypto::SerializeStoreConfig(updated);
  PHRFS_RETURN_IF_ERROR(remote::WriteWholeAtomic(
      store.root.get(), crypto::kStoreConfigName,
      {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, kStoreConfigMode,
      /*must_not_exist=*/false));
  (void)remote::Sync(store.root.get(), false);
  store.config = std::move(updated);
  return Status::Ok();
}

}  // namespace phrfs::fs
