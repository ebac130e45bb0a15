#include "fs/vault/content_file.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/secure_bytes.h"
#include "fs/log.h"

namespace phrfs::fs {
namespace {

using crypto::kBlockOverhead;
using crypto::kBlockSize;
using crypto::kCipherBlockSize;
constexpr size_t kHeader = crypto::kNodeHeaderSize;

// Blocks sealed per WriteAt when a write spans many blocks (bounds memory for huge holes).
constexpr uint64_t kBlocksPerChunk = 256;

uint64_t BlockOffset(uint64_t index) {
  return crypto::BlockOffset(index, kHeader);
}

Status BlockError(uint64_t index, const Status& st) {
  return Status::Error(st.code(), "block " + std::to_string(index) + ": " + st.message());
}

// Per-thread buffers: a fresh 1 MiB vector per call is an mmap, page faults and zeroing, which
// the profile showed as the largest cost of sequential I/O. They hold ciphertext, or plaintext
// that is wiped after use.
std::vector<uint8_t>& SealedBuffer() {
  thread_local std::vector<uint8_t> buffer;
  return buffer;
}
std::vector<uint8_t>& SavedBuffer() {
  thread_local std::vector<uint8_t> buffer;
  return buffer;
}

}  // namespace

ContentFile::ContentFile(const crypto::FolderKey& folder, crypto::FileId content_id,
                         crypto::FileKey key, uint64_t size)
    : folder_(&folder), content_id_(content_id), key_(std::move(key)), size_(size) {}

Result<ContentFile> ContentFile::Open(const crypto::FolderKey& folder,
                                      const crypto::FileId& content_id, uint64_t cipher_size) {
  if (cipher_size <= kHeader) return Status::Corrupt("content: the object holds no block");
  PHRFS_ASSIGN_OR_RETURN(uint64_t size, crypto::PlainSize(cipher_size, kHeader));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, content_id));
  return ContentFile(folder, content_id, std::move(key), size);
}

Result<std::vector<uint8_t>> ContentFile::NewObject(const crypto::FolderKey& folder,
                                                    std::span<const uint8_t, kHeader> header,
                                                    const crypto::FileId& content_id) {
  return SealWhole(folder, header, content_id, {});
}

Result<std::vector<uint8_t>> ContentFile::SealWhole(const crypto::FolderKey& folder,
                                                    std::span<const uint8_t, kHeader> header,
                                                    const crypto::FileId& content_id,
                                                    std::span<const uint8_t> plain) {
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, content_id));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key));
  std::vector<uint8_t> object(crypto::CipherSize(plain.size(), kHeader));
  std::memcpy(object.data(), header.data(), kHeader);
  const uint64_t count = crypto::BlockCount(plain.size());
  for (uint64_t i = 0; i < count; ++i) {
    const size_t len = crypto::BlockPlainLength(plain.size(), i);
    PHRFS_RETURN_IF_ERROR(
        cipher.Seal(content_id, i, i + 1 == count, plain.subspan(i * kBlockSize, len),
                    std::span<uint8_t>(object).subspan(BlockOffset(i), len + kBlockOverhead)));
  }
  return object;
}

Result<size_t> ContentFile::Read(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                                 std::span<uint8_t> out) const {
  if (offset >= size_ || out.empty()) return size_t{0};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
  const uint64_t first = offset / kBlockSize;
  const uint64_t last = (offset + n - 1) / kBlockSize;
  const uint64_t count = crypto::BlockCount(size_);

  const uint64_t begin = BlockOffset(first);
  const uint64_t end = BlockOffset(last) + crypto::BlockPlainLength(size_, last) + kBlockOverhead;
  std::vector<uint8_t>& sealed = SealedBuffer();
  if (sealed.size() < end - begin) sealed.resize(end - begin);
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree.Read(path, begin, {sealed.data(), end - begin}));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));

  uint8_t scratch[kBlockSize];
  size_t done = 0;
  Status status;
  for (uint64_t i = first; i <= last; ++i) {
    const size_t plain_len = crypto::BlockPlainLength(size_, i);
    const size_t pos = (i - first) * kCipherBlockSize;
    if (pos + plain_len + kBlockOverhead > got) {
      status = BlockError(i, Status::Corrupt("truncated"));
      break;
    }
    const uint64_t block_start = i * kBlockSize;
    const size_t skip = static_cast<size_t>(std::max<uint64_t>(offset, block_start) - block_start);
    const size_t take = std::min(plain_len - skip, n - done);
    // Decrypt straight into the caller's buffer when the whole block is wanted.
    const bool whole = skip == 0 && take == plain_len;
    std::span<uint8_t> dest =
        whole ? out.subspan(done, plain_len) : std::span<uint8_t>(scratch, plain_len);
    Status st = cipher.Open(content_id_, i, i + 1 == count,
                            {sealed.data() + pos, plain_len + kBlockOverhead}, dest);
    if (!st.ok()) {
      status = BlockError(i, st);
      break;
    }
    if (!whole) std::memcpy(out.data() + done, scratch + skip, take);
    done += take;
  }
  SecureWipe(scratch);
  if (!status.ok()) {
    SecureWipe(out.first(done));
    return status;
  }
  return done;
}

Status ContentFile::Restore(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                            std::span<const uint8_t> saved, uint64_t old_cipher_size) const {
  Status st = saved.empty() ? Status::Ok() : tree.WriteAt(path, offset, saved);
  if (st.ok()) st = tree.Truncate(path, old_cipher_size);
  if (!st.ok()) {
    Log(LogLevel::kError, "content object %s could not be restored after a failed write: %s",
        path.c_str(), st.ToString().c_str());
  }
  return st;
}

Status ContentFile::Splice(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                           std::span<const uint8_t> data, uint64_t new_size) {
  if (new_size > kMaxFileSize)
    return Status::Error(Code::kFileTooBig, "file would exceed the largest size");
  const uint64_t old_size = size_;
  const uint64_t old_count = crypto::BlockCount(old_size);
  const uint64_t new_count = crypto::BlockCount(new_size);
  const uint64_t old_cipher = cipher_size();
  const uint64_t new_cipher = crypto::CipherSize(new_size, kHeader);
  const bool grows = new_size > old_size;
  // Growing changes the old last block (its length or its last flag), so it is re-sealed too.
  const uint64_t start = grows ? std::min(offset / kBlockSize, old_count - 1) : offset / kBlockSize;
  const uint64_t end = grows ? new_count - 1 : (offset + data.size() - 1) / kBlockSize;
  const uint64_t data_end = offset + data.size();

  // Room first: a write that cannot get its space fails before anything changes.
  if (new_cipher > old_cipher) PHRFS_RETURN_IF_ERROR(tree.Reserve(path, new_cipher));

  // The old ciphertext this call overwrites, kept to put back on failure; the edge blocks' old
  // plaintext comes from it too.
  const uint64_t saved_begin = BlockOffset(start);
  const uint64_t saved_end = std::min(old_cipher, BlockOffset(end) + kCipherBlockSize);
  std::vector<uint8_t>& saved = SavedBuffer();
  size_t saved_len = 0;
  if (saved_end > saved_begin) {
    saved.resize(saved_end - saved_begin);
    PHRFS_ASSIGN_OR_RETURN(saved_len, tree.Read(path, saved_begin, {saved.data(), saved.size()}));
    if (saved_len != saved.size()) return BlockError(start, Status::Corrupt("truncated"));
  }

  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));
  std::vector<uint8_t>& out = SealedBuffer();
  uint8_t plain[kBlockSize];
  Status status;
  bool touched = false;  // whether any WriteAt of this call was attempted
  for (uint64_t chunk = start; chunk <= end && status.ok(); chunk += kBlocksPerChunk) {
    const uint64_t chunk_end = std::min(end, chunk + kBlocksPerChunk - 1);
    const size_t need = (chunk_end - chunk + 1) * kCipherBlockSize;
    if (out.size() < need) out.resize(need);
    size_t used = 0;
    for (uint64_t i = chunk; i <= chunk_end && status.ok(); ++i) {
      const uint64_t block_start = i * kBlockSize;
      const size_t new_len = crypto::BlockPlainLength(new_size, i);
      const size_t old_len = i < old_count ? crypto::BlockPlainLength(old_size, i) : 0;
      // The part of this block that `data` covers: [cb, ce) relative to the block.
      const uint64_t cb = std::clamp(offset, block_start, block_start + new_len) - block_start;
      const uint64_t ce = std::clamp(data_end, block_start, block_start + new_len) - block_start;
      const bool old_needed = old_len > 0 && !(cb == 0 && ce >= old_len);
      std::memset(plain, 0, sizeof plain);
      if (old_needed) {
        const size_t pos = BlockOffset(i) - saved_begin;
        Status st = cipher.Open(content_id_, i, i + 1 == old_count,
                                {saved.data() + pos, old_len + kBlockOverhead}, {plain, old_len});
        if (!st.ok()) {
          status = BlockError(i, st);
          break;
        }
      }
      if (ce > cb) std::memcpy(plain + cb, data.data() + (block_start + cb - offset), ce - cb);
      status = cipher.Seal(content_id_, i, i + 1 == new_count, {plain, new_len},
                           {out.data() + used, new_len + kBlockOverhead});
      used += new_len + kBlockOverhead;
    }
    if (status.ok()) {
      touched = true;
      status = tree.WriteAt(path, BlockOffset(chunk), {out.data(), used});
    }
  }
  SecureWipe(plain);
  if (!status.ok()) {
    // A failed WriteAt may have left part of its range written, and earlier chunks are out:
    // put the old bytes back and cut the object to its old length.
    if (touched) (void)Restore(tree, path, saved_begin, {saved.data(), saved_len}, old_cipher);
    return status;
  }
  size_ = new_size;
  return Status::Ok();
}

Status ContentFile::Write(remote::CipherTree& tree, const std::string& path, uint64_t offset,
                          std::span<const uint8_t> data) {
  if (data.empty()) return Status::Ok();
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
    return Status::Error(Code::kFileTooBig, "write past the largest file size");
  }
  return Splice(tree, path, offset, data, std::max(size_, offset + data.size()));
}

Status ContentFile::Truncate(remote::CipherTree& tree, const std::string& path, uint64_t new_size) {
  if (new_size == size_) return Status::Ok();
  if (new_size == 0) return Status::InvalidArgument("truncate to zero goes through Reset");
  if (new_size > kMaxFileSize)
    return Status::Error(Code::kFileTooBig, "file would exceed the largest size");
  if (new_size > size_) return Splice(tree, path, new_size, {}, new_size);

  const uint64_t last = crypto::BlockCount(new_size) - 1;
  const size_t len = crypto::BlockPlainLength(new_size, last);
  const size_t old_len = crypto::BlockPlainLength(size_, last);
  const uint64_t old_cipher = cipher_size();
  uint8_t saved[kCipherBlockSize];
  PHRFS_ASSIGN_OR_RETURN(size_t got,
                         tree.Read(path, BlockOffset(last), {saved, old_len + kBlockOverhead}));
  if (got != old_len + kBlockOverhead) return BlockError(last, Status::Corrupt("truncated"));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));
  uint8_t plain[kBlockSize];
  const bool was_last = last + 1 == crypto::BlockCount(size_);
  Status st =
      cipher.Open(content_id_, last, was_last, {saved, old_len + kBlockOverhead}, {plain, old_len});
  if (!st.ok()) return BlockError(last, st);
  uint8_t sealed[kCipherBlockSize];
  st = cipher.Seal(content_id_, last, true, {plain, len}, {sealed, len + kBlockOverhead});
  SecureWipe(plain);
  PHRFS_RETURN_IF_ERROR(st);
  st = tree.WriteAt(path, BlockOffset(last), {sealed, len + kBlockOverhead});
  if (st.ok()) st = tree.Truncate(path, crypto::CipherSize(new_size, kHeader));
  if (!st.ok()) {
    (void)Restore(tree, path, BlockOffset(last), {saved, old_len + kBlockOverhead}, old_cipher);
    return st;
  }
  size_ = new_size;
  return Status::Ok();
}

Status ContentFile::Reset(remote::CipherTree& tree, const std::string& path,
                          std::span<const uint8_t, kHeader> new_header,
                          const crypto::FileId& new_content_id,
                          const crypto::FolderKey& new_folder) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> object,
                         NewObject(new_folder, new_header, new_content_id));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(new_folder, new_content_id));
  const uint64_t old_cipher = cipher_size();
  // The new object is never longer than the old one (even an empty file has a sealed block), so
  // writing it over the start needs no new space.
  std::vector<uint8_t> saved(std::min<uint64_t>(old_cipher, object.size()));
  PHRFS_ASSIGN_OR_RETURN(size_t got, tree.Read(path, 0, saved));
  if (got != saved.size()) return Status::Corrupt("content: object shorter than its size");
  Status st = tree.WriteAt(path, 0, object);
  if (st.ok()) st = tree.Truncate(path, object.size());
  if (!st.ok()) {
    (void)Restore(tree, path, 0, saved, old_cipher);
    return st;
  }
  folder_ = &new_folder;
  content_id_ = new_content_id;
  key_ = std::move(key);
  size_ = 0;
  return Status::Ok();
}

}  // namespace phrfs::fs
