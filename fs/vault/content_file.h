// Block-aligned reads and read-modify-write of one file's content (FORMAT "CONTENT BLOCKS")
// through the CipherTree: the offset arithmetic and re-sealing behind every read, write and
// truncate. Every mutation either completes or leaves the object exactly as it was (the bytes it
// overwrote are put back and the object is cut to its old length), so a full disk or a failing
// store never damages acknowledged data.
// Not thread-safe: the vault excludes writers from each other and from readers with the node's
// lock (Read may run concurrently with other Reads).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/content_cipher.h"
#include "crypto/keys.h"
#include "crypto/node_format.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// The largest plaintext size a file may have: beyond it, EFBIG (as ext4, 16 TiB).
inline constexpr uint64_t kMaxFileSize = uint64_t{1} << 44;  // 16 TiB, as ext4

class ContentFile {
 public:
  // For an object whose node header was parsed and whose ciphertext size is `cipher_size`.
  // Corrupt when that size matches no plaintext size (a zero-length object included).
  static Result<ContentFile> Open(const crypto::FolderKey& folder, const crypto::FileId& content_id,
                                  uint64_t cipher_size);
  // The bytes of a new object: `header` followed by the sealed empty block of `content_id`.
  static Result<std::vector<uint8_t>> NewObject(
      const crypto::FolderKey& folder, std::span<const uint8_t, crypto::kNodeHeaderSize> header,
      const crypto::FileId& content_id);
  // The same for small whole contents (symlink targets).
  static Result<std::vector<uint8_t>> SealWhole(
      const crypto::FolderKey& folder, std::span<const uint8_t, crypto::kNodeHeaderSize> header,
      const crypto::FileId& content_id, std::span<const uint8_t> plain);

  uint64_t size() const { return size_; }
  uint64_t cipher_size() const { return crypto::CipherSize(size_, crypto::kNodeHeaderSize); }
  const crypto::FileId& content_id() const { return content_id_; }

  // Reads up to out.size() bytes at `offset`; returns the count (0 at or past the end).
  // Corrupt("block N: ...") when a block fails authentication or is missing.
  Result<size_t> Read(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                      std::span<uint8_t> out) const;
  // Writes `data` at `offset`, extending with encrypted zeros when `offset` is past the end.
  Status Write(remote::CipherTree& tree, const std::string& path, uint64_t offset,
               std::span<const uint8_t> data);
  // Shrinks or extends (with encrypted zeros) to a non-zero size.
  Status Truncate(remote::CipherTree& tree, const std::string& path, uint64_t new_size);
  // Empties the file under a new content id (so no block of the old contents can be replayed
  // into the new ones): writes `new_header` (which names `new_content_id`) and the sealed empty
  // block, and cuts the object. The new contents are sealed under `new_folder` (the key of the
  // domain's current epoch: a rewritten file moves to it), which must outlive this object.
  Status Reset(remote::CipherTree& tree, const std::string& path,
               std::span<const uint8_t, crypto::kNodeHeaderSize> new_header,
               const crypto::FileId& new_content_id, const crypto::FolderKey& new_folder);

 private:
  ContentFile(const crypto::FolderKey& folder, crypto::FileId content_id, crypto::FileKey key,
              uint64_t size);
  // Re-seals blocks so the file holds `data` at `offset` and is `new_size` long
  // (new_size >= size_, new_size >= offset + data.size()).
  Status Splice(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                std::span<const uint8_t> data, uint64_t new_size);
  // Puts `saved` back at `offset` and cuts the object to `old_cipher_size`; logs when even
  // that fails (the object may then be damaged).
  Status Restore(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                 std::span<const uint8_t> saved, uint64_t old_cipher_size) const;

  const crypto::FolderKey* folder_;
  crypto::FileId content_id_;
  crypto::FileKey key_;
  uint64_t size_ = 0;
};

}  // namespace phrfs::fs
