#include "fs/content_file.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "crypto/random.h"
#include "remote/local/posix_io.h"

namespace phrfs::fs {
namespace {

// A header this build cannot read is, to the programs using the mount, damage like any other:
// EIO, never "operation not supported".
Result<crypto::FileHeader> ReadableHeader(std::span<const uint8_t> bytes) {
  auto header = crypto::ParseHeader(bytes);
  if (!header.ok() && header.status().code() == Code::kNotSupported) {
    return Status::Corrupt(header.status().message());
  }
  return header;
}

using crypto::kBlockOverhead;
using crypto::kBlockSize;
using crypto::kCipherBlockSize;
using crypto::kHeaderSize;

// Blocks sealed per pwrite when a write spans many blocks (bounds memory for huge holes).
constexpr uint64_t kBlocksPerChunk = 256;

Status BlockError(uint64_t index, const Status& st) {
  return Status::Error(st.code(), "block " + std::to_string(index) + ": " + st.message());
}

Result<crypto::FileHeader> NewHeader(const crypto::FolderKey& folder) {
  PHRFS_ASSIGN_OR_RETURN(crypto::FileId id, crypto::NewFileId());
  return crypto::FileHeader{id, folder.epoch};
}

}  // namespace

ContentFile::ContentFile(const crypto::FolderKey& folder, crypto::FileHeader header,
                         crypto::FileKey key, uint64_t size)
    : folder_(&folder), header_(header), key_(std::move(key)), size_(size) {}

Result<ContentFile> ContentFile::Create(int fd, const crypto::FolderKey& folder) {
  PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, NewHeader(folder));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, header.file_id));
  ContentFile file(folder, header, std::move(key), 0);
  // A new object is empty: no truncate needed after the header and the empty block.
  PHRFS_RETURN_IF_ERROR(file.WriteEmpty(fd, /*object_is_new=*/true));
  return file;
}

Result<ContentFile> ContentFile::Load(int fd, const crypto::FolderKey& folder) {
  PHRFS_ASSIGN_OR_RETURN(struct stat st, remote::StatFd(fd));
  // Even an empty file has a header and a sealed empty block, so a cut to nothing is detected.
  if (st.st_size == 0) return Status::Corrupt("header: the object is empty");
  PHRFS_ASSIGN_OR_RETURN(uint64_t size, crypto::PlainSize(static_cast<uint64_t>(st.st_size)));
  uint8_t raw[kHeaderSize];
  PHRFS_ASSIGN_OR_RETURN(size_t got, remote::ReadAt(fd, raw, 0));
  if (got != kHeaderSize) return Status::Corrupt("header: truncated");
  PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, ReadableHeader(raw));
  if (header.key_epoch != folder.epoch) {
    return Status::Corrupt("header: key epoch " + std::to_string(header.key_epoch) + " unknown");
  }
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, header.file_id));
  return ContentFile(folder, header, std::move(key), size);
}

Status ContentFile::WriteEmpty(int fd, bool object_is_new) {
  auto head = crypto::EncodeHeader(header_);
  std::vector<uint8_t> object(crypto::CipherSize(0));
  std::memcpy(object.data(), head.data(), head.size());
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));
  PHRFS_RETURN_IF_ERROR(cipher.Seal(header_.file_id, 0, true, {},
                                    std::span<uint8_t>(object).subspan(kHeaderSize)));
  PHRFS_RETURN_IF_ERROR(remote::WriteAt(fd, object, 0));
  if (!object_is_new) PHRFS_RETURN_IF_ERROR(remote::Truncate(fd, object.size()));
  size_ = 0;
  return Status::Ok();
}

Status ContentFile::ReadBlock(int fd, crypto::BlockCipher& cipher, uint64_t index,
                              std::span<uint8_t> out) const {
  const size_t plain_len = crypto::BlockPlainLength(size_, index);
  uint8_t sealed[kCipherBlockSize];
  const size_t want = plain_len + kBlockOverhead;
  PHRFS_ASSIGN_OR_RETURN(size_t got, remote::ReadAt(fd, {sealed, want}, crypto::BlockOffset(index)));
  if (got != want) return BlockError(index, Status::Corrupt("truncated"));
  const bool last = index + 1 == crypto::BlockCount(size_);
  Status st = cipher.Open(header_.file_id, index, last, {sealed, want}, out.first(plain_len));
  return st.ok() ? st : BlockError(index, st);
}

Result<size_t> ContentFile::Read(int fd, uint64_t offset, std::span<uint8_t> out) const {
  if (offset >= size_ || out.empty()) return size_t{0};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
  const uint64_t first = offset / kBlockSize;
  const uint64_t last = (offset + n - 1) / kBlockSize;
  const uint64_t count = crypto::BlockCount(size_);

  // One pread for the whole run of blocks.
  const uint64_t begin = crypto::BlockOffset(first);
  const uint64_t end = crypto::BlockOffset(last) + crypto::BlockPlainLength(size_, last) + kBlockOverhead;
  // Reused per thread: a fresh 1 MiB vector per read is an mmap, page faults and zeroing, which
  // the profile showed as the largest cost of a sequential read.
  thread_local std::vector<uint8_t> sealed;
  if (sealed.size() < end - begin) sealed.resize(end - begin);
  PHRFS_ASSIGN_OR_RETURN(size_t got, remote::ReadAt(fd, {sealed.data(), end - begin}, begin));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));

  uint8_t scratch[kBlockSize];
  size_t done = 0;
  for (uint64_t i = first; i <= last; ++i) {
    const size_t plain_len = crypto::BlockPlainLength(size_, i);
    const size_t pos = (i - first) * kCipherBlockSize;
    if (pos + plain_len + kBlockOverhead > got) {
      return Status(BlockError(i, Status::Corrupt("truncated")));
    }
    const uint64_t block_start = i * kBlockSize;
    const size_t skip = static_cast<size_t>(std::max<uint64_t>(offset, block_start) - block_start);
    const size_t take = std::min(plain_len - skip, n - done);
    // Decrypt straight into the caller's buffer when the whole block is wanted.
    const bool whole = skip == 0 && take == plain_len;
    std::span<uint8_t> dest = whole ? out.subspan(done, plain_len) : std::span<uint8_t>(scratch, plain_len);
    Status st = cipher.Open(header_.file_id, i, i + 1 == count,
                            {sealed.data() + pos, plain_len + kBlockOverhead}, dest);
    if (!st.ok()) return BlockError(i, st);
    if (!whole) std::memcpy(out.data() + done, scratch + skip, take);
    done += take;
  }
  return done;
}

Status ContentFile::Splice(int fd, uint64_t offset, std::span<const uint8_t> data, uint64_t new_size) {
  const uint64_t old_size = size_;
  const uint64_t old_count = crypto::BlockCount(old_size);
  const uint64_t new_count = crypto::BlockCount(new_size);
  const bool grows = new_size > old_size;
  // Growing changes the old last block (its length or its last flag), so it is re-sealed too.
  const uint64_t start = grows ? std::min(offset / kBlockSize, old_count - 1) : offset / kBlockSize;
  const uint64_t end = grows ? new_count - 1 : (offset + data.size() - 1) / kBlockSize;
  const uint64_t data_end = offset + data.size();

  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));
  thread_local std::vector<uint8_t> out;  // reused per thread, as in Read
  uint8_t plain[kBlockSize];
  for (uint64_t chunk = start; chunk <= end; chunk += kBlocksPerChunk) {
    const uint64_t chunk_end = std::min(end, chunk + kBlocksPerChunk - 1);
    const size_t need = (chunk_end - chunk + 1) * kCipherBlockSize;
    if (out.size() < need) out.resize(need);
    size_t used = 0;
    for (uint64_t i = chunk; i <= chunk_end; ++i) {
      const uint64_t block_start = i * kBlockSize;
      const size_t new_len = crypto::BlockPlainLength(new_size, i);
      const size_t old_len = i < old_count ? crypto::BlockPlainLength(old_size, i) : 0;
      // The part of this block that `data` covers: [cover_begin, cover_end) relative to the block.
      const uint64_t cb = std::clamp(offset, block_start, block_start + new_len) - block_start;
      const uint64_t ce = std::clamp(data_end, block_start, block_start + new_len) - block_start;
      const bool old_needed = old_len > 0 && !(cb == 0 && ce >= old_len);
      std::memset(plain, 0, sizeof plain);
      if (old_needed) PHRFS_RETURN_IF_ERROR(ReadBlock(fd, cipher, i, plain));
      if (ce > cb) std::memcpy(plain + cb, data.data() + (block_start + cb - offset), ce - cb);
      PHRFS_RETURN_IF_ERROR(cipher.Seal(header_.file_id, i, i + 1 == new_count, {plain, new_len},
                                        {out.data() + used, new_len + kBlockOverhead}));
      used += new_len + kBlockOverhead;
    }
    PHRFS_RETURN_IF_ERROR(remote::WriteAt(fd, {out.data(), used}, crypto::BlockOffset(chunk)));
  }
  size_ = new_size;
  return Status::Ok();
}

Status ContentFile::Write(int fd, uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty()) return Status::Ok();
  return Splice(fd, offset, data, std::max(size_, offset + data.size()));
}

Status ContentFile::Truncate(int fd, uint64_t new_size) {
  if (new_size == size_) return Status::Ok();
  if (new_size == 0) {
    PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, NewHeader(*folder_));
    PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(*folder_, header.file_id));
    header_ = header;
    key_ = std::move(key);
    return WriteEmpty(fd, /*object_is_new=*/false);
  }
  if (new_size > size_) return Splice(fd, new_size, {}, new_size);

  const uint64_t last = crypto::BlockCount(new_size) - 1;
  const size_t len = crypto::BlockPlainLength(new_size, last);
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key_));
  uint8_t plain[kBlockSize];
  PHRFS_RETURN_IF_ERROR(ReadBlock(fd, cipher, last, plain));
  uint8_t sealed[kCipherBlockSize];
  PHRFS_RETURN_IF_ERROR(cipher.Seal(header_.file_id, last, true, {plain, len}, {sealed, len + kBlockOverhead}));
  PHRFS_RETURN_IF_ERROR(remote::WriteAt(fd, {sealed, len + kBlockOverhead}, crypto::BlockOffset(last)));
  PHRFS_RETURN_IF_ERROR(remote::Truncate(fd, crypto::CipherSize(new_size)));
  size_ = new_size;
  return Status::Ok();
}

Result<std::vector<uint8_t>> SealObject(const crypto::FolderKey& folder, std::span<const uint8_t> plain) {
  PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, NewHeader(folder));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, header.file_id));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key));
  std::vector<uint8_t> object(crypto::CipherSize(plain.size()));
  auto head = crypto::EncodeHeader(header);
  std::memcpy(object.data(), head.data(), head.size());
  const uint64_t count = crypto::BlockCount(plain.size());
  for (uint64_t i = 0; i < count; ++i) {
    const size_t len = crypto::BlockPlainLength(plain.size(), i);
    PHRFS_RETURN_IF_ERROR(cipher.Seal(header.file_id, i, i + 1 == count,
                                      plain.subspan(i * kBlockSize, len),
                                      std::span<uint8_t>(object).subspan(crypto::BlockOffset(i), len + kBlockOverhead)));
  }
  return object;
}

Result<std::vector<uint8_t>> OpenObject(const crypto::FolderKey& folder, std::span<const uint8_t> object) {
  PHRFS_ASSIGN_OR_RETURN(uint64_t size, crypto::PlainSize(object.size()));
  PHRFS_ASSIGN_OR_RETURN(crypto::FileHeader header, ReadableHeader(object.first(std::min(object.size(), kHeaderSize))));
  if (header.key_epoch != folder.epoch) return Status::Corrupt("header: unknown key epoch");
  PHRFS_ASSIGN_OR_RETURN(crypto::FileKey key, crypto::DeriveFileKey(folder, header.file_id));
  PHRFS_ASSIGN_OR_RETURN(crypto::BlockCipher cipher, crypto::BlockCipher::Create(key));
  std::vector<uint8_t> plain(size);
  const uint64_t count = crypto::BlockCount(size);
  for (uint64_t i = 0; i < count; ++i) {
    const size_t len = crypto::BlockPlainLength(size, i);
    Status st = cipher.Open(header.file_id, i, i + 1 == count,
                            object.subspan(crypto::BlockOffset(i), len + kBlockOverhead),
                            std::span<uint8_t>(plain).subspan(i * kBlockSize, len));
    if (!st.ok()) return BlockError(i, st);
  }
  return plain;
}

}  // namespace phrfs::fs
