// Block-aligned reads and read-modify-write of one content object (FORMAT "CONTENT FILES")
// through a descriptor: the offset arithmetic and re-sealing behind every FUSE read, write and
// truncate. Not thread-safe: the vault excludes writers from each other and from readers with the
// inode's content lock (Read may run concurrently with other Reads).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "crypto/content_cipher.h"
#include "crypto/keys.h"

namespace phrfs::fs {

class ContentFile {
 public:
  // Writes a fresh header (new random file id) and the empty final block to `fd`.
  static Result<ContentFile> Create(int fd, const crypto::FolderKey& folder);
  // Reads the header of an existing object. Corrupt when the header or the object's size cannot
  // be valid, a zero-length object included (even an empty file has a header and a block).
  static Result<ContentFile> Load(int fd, const crypto::FolderKey& folder);

  uint64_t size() const { return size_; }
  const crypto::FileId& file_id() const { return header_.file_id; }

  // Reads up to out.size() bytes at `offset`; returns the count (0 at or past the end).
  // Corrupt("block N: ...") when a block fails authentication or is missing.
  Result<size_t> Read(int fd, uint64_t offset, std::span<uint8_t> out) const;
  // Writes `data` at `offset`, extending with encrypted zeros when `offset` is past the end.
  Status Write(int fd, uint64_t offset, std::span<const uint8_t> data);
  // Shrinks or extends (with encrypted zeros). Truncating to zero draws a new file id, so blocks
  // of the old contents can never be replayed into the new ones.
  Status Truncate(int fd, uint64_t new_size);

 private:
  ContentFile(const crypto::FolderKey& folder, crypto::FileHeader header, crypto::FileKey key,
              uint64_t size);
  // Writes the header and the sealed empty final block; cuts the object after them unless it is
  // known to be new (and so already that short).
  Status WriteEmpty(int fd, bool object_is_new);
  // Re-seals blocks so the file holds `data` at `offset` and is `new_size` long
  // (new_size >= size_, new_size >= offset + data.size()).
  Status Splice(int fd, uint64_t offset, std::span<const uint8_t> data, uint64_t new_size);
  // Opens block `index` of the current contents into `out` (BlockPlainLength bytes).
  Status ReadBlock(int fd, crypto::BlockCipher& cipher, uint64_t index, std::span<uint8_t> out) const;

  const crypto::FolderKey* folder_;
  crypto::FileHeader header_;
  crypto::FileKey key_;
  uint64_t size_ = 0;
};

// Small whole objects in the content format (directory entries hold the child's id, symlink
// entries their target): sealed and opened in memory. Corrupt when authentication fails.
Result<std::vector<uint8_t>> SealObject(const crypto::FolderKey& folder, std::span<const uint8_t> plain);
Result<std::vector<uint8_t>> OpenObject(const crypto::FolderKey& folder, std::span<const uint8_t> object);

}  // namespace phrfs::fs
