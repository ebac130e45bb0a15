// The store's key hierarchy (FORMAT "KEY HIERARCHY"): sub-keys derived from the master key with
// HKDF-SHA256, salt = store id, one labelled purpose each; per-file keys from the folder key and
// the file id. Immutable after construction; any thread.
#pragma once

#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/types.h"

namespace phrfs::crypto {

// The key that encrypts a folder's contents. In v1 every folder uses the store's content key at
// epoch 0; sharing (a later issue) gives shared folders their own key and epochs.
struct FolderKey {
  SecureBytes key;  // 32 bytes
  uint32_t epoch = 0;
};

// A file's own AES-256-GCM key: HKDF(folder key, salt = file id, info = kLabelFileKey).
struct FileKey {
  SecureBytes key;  // 32 bytes
};

struct StoreKeys {
  FolderKey content;     // 32 bytes, kLabelContent
  SecureBytes names;     // 64 bytes (AES-256-SIV), kLabelNames
  SecureBytes dir_hash;  // 32 bytes (HMAC-SHA256), kLabelDirHash

  static Result<StoreKeys> Derive(const SecureBytes& master_key, const StoreId& store_id);
};

Result<FileKey> DeriveFileKey(const FolderKey& folder, const FileId& file_id);

// Name of the store folder that holds a directory's entries: lowercase base32 of the first 20
// bytes of HMAC-SHA256(dir_hash key, dir id) -> 32 characters, split "xx/yyyy...(30)".
// The store shows a flat set of folders, not the record's tree (FORMAT "LAYOUT").
Result<std::string> DirFolderPath(const SecureBytes& dir_hash_key, const DirId& dir);

}  // namespace phrfs::crypto
