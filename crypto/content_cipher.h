// File contents (FORMAT "CONTENT BLOCKS"): a header (32 bytes in v1, the 136-byte node header in
// v2), then 4 KiB plaintext blocks sealed with AES-256-GCM under the per-file key, random 96-bit
// nonce, AAD = content id || u64be block index || u8 last-block flag. Offset arithmetic is pure
// functions of the header size.
// BlockCipher holds one EVP context: one per thread or per call, never shared across threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"
#include "crypto/format.h"
#include "crypto/keys.h"
#include "crypto/types.h"

namespace phrfs::crypto {

struct FileHeader {
  FileId file_id;
  uint32_t key_epoch = 0;
};

// v1 only (read by `phrfs upgrade`):
// magic(4) version(1) alg(1) reserved(2)=0 file_id(16) key_epoch(u32be) reserved(4)=0
std::array<uint8_t, kV1HeaderSize> EncodeHeader(const FileHeader& header);
// Corrupt on wrong magic, short input or non-zero reserved bytes; NotSupported on an unknown
// version or algorithm.
Result<FileHeader> ParseHeader(std::span<const uint8_t> bytes);

// ---- offset arithmetic ----
// Number of blocks a file of `plain_size` bytes is stored in; an empty file is one empty block.
uint64_t BlockCount(uint64_t plain_size);
// Size of the whole ciphertext object (a header of `header_size` included) for a plaintext size.
uint64_t CipherSize(uint64_t plain_size, size_t header_size);
// Inverse of CipherSize; Corrupt for sizes no plaintext size maps to.
Result<uint64_t> PlainSize(uint64_t cipher_size, size_t header_size);
// Offset of block `index` inside the ciphertext object.
inline uint64_t BlockOffset(uint64_t index, size_t header_size) {
  return header_size + index * kCipherBlockSize;
}
// Plaintext length of block `index` in a file of `plain_size` bytes (0 for the empty file).
size_t BlockPlainLength(uint64_t plain_size, uint64_t index);

class BlockCipher {
 public:
  static Result<BlockCipher> Create(const FileKey& key);
  BlockCipher(BlockCipher&&) noexcept;
  BlockCipher& operator=(BlockCipher&&) noexcept;
  ~BlockCipher();

  // Seals `plain` (at most kBlockSize bytes) as block `index`; writes nonce||ct||tag into `out`,
  // which must hold plain.size() + kBlockOverhead bytes.
  Status Seal(const FileId& file, uint64_t index, bool last, std::span<const uint8_t> plain,
              std::span<uint8_t> out);
  // Seal with a caller-chosen nonce: for test vectors only (FORMAT "TEST VECTORS"). Reusing a
  // nonce under one file key breaks GCM; production code calls Seal.
  Status SealWithNonce(const FileId& file, uint64_t index, bool last,
                       std::span<const uint8_t, kNonceSize> nonce, std::span<const uint8_t> plain,
                       std::span<uint8_t> out);
  // Opens a sealed block into `out` (cipher.size() - kBlockOverhead bytes). Corrupt when
  // authentication fails or the block is shorter than kBlockOverhead or longer than
  // kCipherBlockSize; `out` is then zeroed, never partially released.
  Status Open(const FileId& file, uint64_t index, bool last, std::span<const uint8_t> cipher,
              std::span<uint8_t> out);

 private:
  struct Impl;
  explicit BlockCipher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phrfs::crypto
