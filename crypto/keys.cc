#include "crypto/keys.h"

#include "base/encoding.h"
#include "crypto/format.h"
#include "crypto/kdf.h"

namespace phrfs::crypto {

Result<StoreKeys> StoreKeys::Derive(const SecureBytes& master_key, const StoreId& store_id) {
  if (master_key.size() != 32) return Status::InvalidArgument("master key must be 32 bytes");
  std::span<const uint8_t> salt(store_id.bytes);
  StoreKeys keys;
  PHRFS_ASSIGN_OR_RETURN(keys.content.key, HkdfSha256(master_key.span(), salt, kLabelContent, 32));
  keys.content.epoch = 0;
  PHRFS_ASSIGN_OR_RETURN(keys.names, HkdfSha256(master_key.span(), salt, kLabelNames, 64));
  PHRFS_ASSIGN_OR_RETURN(keys.dir_hash, HkdfSha256(master_key.span(), salt, kLabelDirHash, 32));
  return keys;
}

Result<FileKey> DeriveFileKey(const FolderKey& folder, const FileId& file_id) {
  if (folder.key.size() != 32) return Status::InvalidArgument("folder key must be 32 bytes");
  FileKey key;
  PHRFS_ASSIGN_OR_RETURN(key.key, HkdfSha256(folder.key.span(), file_id.bytes, kLabelFileKey, 32));
  return key;
}

Result<std::string> DirFolderPath(const SecureBytes& dir_hash_key, const DirId& dir) {
  if (dir_hash_key.size() != 32) return Status::InvalidArgument("dir-hash key must be 32 bytes");
  PHRFS_ASSIGN_OR_RETURN(auto mac, HmacSha256(dir_hash_key.span(), dir.bytes));
  std::string encoded = Base32LowerEncode(std::span<const uint8_t>(mac.data(), 20));  // 32 chars
  return encoded.substr(0, 2) + "/" + encoded.substr(2);
}

}  // namespace phrfs::crypto
