#include "crypto/content_cipher.h"

#include <cstring>
#include <string>

#include <openssl/crypto.h>

#include "crypto/aead.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kAadSize = kIdSize + 8 + 1;

std::array<uint8_t, kAadSize> MakeAad(const FileId& file, uint64_t index, bool last) {
  std::array<uint8_t, kAadSize> aad{};
  std::memcpy(aad.data(), file.bytes.data(), kIdSize);
  for (int i = 0; i < 8; ++i) aad[kIdSize + i] = static_cast<uint8_t>(index >> (56 - 8 * i));
  aad[kIdSize + 8] = last ? 1 : 0;
  return aad;
}

}  // namespace

// ---- header ----

std::array<uint8_t, kV1HeaderSize> EncodeHeader(const FileHeader& header) {
  std::array<uint8_t, kV1HeaderSize> out{};
  std::memcpy(out.data(), kContentMagic.data(), kContentMagic.size());
  out[4] = kContentVersion;
  out[5] = kAlgAes256Gcm;
  // out[6..7] reserved, zero
  std::memcpy(out.data() + 8, header.file_id.bytes.data(), kIdSize);
  for (int i = 0; i < 4; ++i) out[24 + i] = static_cast<uint8_t>(header.key_epoch >> (24 - 8 * i));
  // out[28..31] reserved, zero
  return out;
}

Result<FileHeader> ParseHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kV1HeaderSize) {
    return Status::Corrupt("content header: " + std::to_string(bytes.size()) + " bytes, need 32");
  }
  if (std::memcmp(bytes.data(), kContentMagic.data(), kContentMagic.size()) != 0) {
    return Status::Corrupt("content header: bad magic");
  }
  if (bytes[4] != kContentVersion) {
    return Status::NotSupported("content header: unsupported version " + std::to_string(bytes[4]));
  }
  if (bytes[5] != kAlgAes256Gcm) {
    return Status::NotSupported("content header: unsupported algorithm " + std::to_string(bytes[5]));
  }
  if (bytes[6] != 0 || bytes[7] != 0 || bytes[28] != 0 || bytes[29] != 0 || bytes[30] != 0 ||
      bytes[31] != 0) {
    return Status::Corrupt("content header: non-zero reserved bytes");
  }
  FileHeader header;
  std::memcpy(header.file_id.bytes.data(), bytes.data() + 8, kIdSize);
  header.key_epoch = (uint32_t{bytes[24]} << 24) | (uint32_t{bytes[25]} << 16) |
                     (uint32_t{bytes[26]} << 8) | uint32_t{bytes[27]};
  return header;
}

// ---- offset arithmetic ----

uint64_t BlockCount(uint64_t plain_size) {
  if (plain_size == 0) return 1;
  return plain_size / kBlockSize + (plain_size % kBlockSize != 0 ? 1 : 0);
}

uint64_t CipherSize(uint64_t plain_size, size_t header_size) {
  return header_size + BlockCount(plain_size) * kBlockOverhead + plain_size;
}

Result<uint64_t> PlainSize(uint64_t cipher_size, size_t header_size) {
  if (cipher_size < header_size + kBlockOverhead) {
    return Status::Corrupt("content object of " + std::to_string(cipher_size) +
                           " bytes is shorter than a header and one block");
  }
  uint64_t body = cipher_size - header_size;
  uint64_t full = body / kCipherBlockSize;
  uint64_t rest = body % kCipherBlockSize;
  if (rest == 0) return full * kBlockSize;  // full >= 1 here, since body >= 28
  // A partial block holds at least one byte, except the single empty block of an empty file.
  if (rest < kBlockOverhead || (rest == kBlockOverhead && full > 0)) {
    return Status::Corrupt("content object size " + std::to_string(cipher_size) +
                           " matches no plaintext size");
  }
  return full * kBlockSize + (rest - kBlockOverhead);
}

size_t BlockPlainLength(uint64_t plain_size, uint64_t index) {
  uint64_t blocks = BlockCount(plain_size);
  if (plain_size == 0 || index >= blocks) return 0;
  if (index + 1 < blocks) return kBlockSize;
  return static_cast<size_t>(plain_size - (blocks - 1) * kBlockSize);
}

// ---- BlockCipher ----

struct BlockCipher::Impl {
  internal::GcmContext seal;
  internal::GcmContext open;
};

BlockCipher::BlockCipher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockCipher::BlockCipher(BlockCipher&&) noexcept = default;
BlockCipher& BlockCipher::operator=(BlockCipher&&) noexcept = default;
BlockCipher::~BlockCipher() = default;

Result<BlockCipher> BlockCipher::Create(const FileKey& key) {
  if (key.key.size() != 32) return Status::InvalidArgument("file key must be 32 bytes");
  PHRFS_ASSIGN_OR_RETURN(auto seal, internal::GcmContext::Create(key.key.span(), /*encrypt=*/true));
  PHRFS_ASSIGN_OR_RETURN(auto open, internal::GcmContext::Create(key.key.span(), /*encrypt=*/false));
  return BlockCipher(std::unique_ptr<Impl>(new Impl{std::move(seal), std::move(open)}));
}

Status BlockCipher::Seal(const FileId& file, uint64_t index, bool last, std::span<const uint8_t> plain,
                         std::span<uint8_t> out) {
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomNonce(nonce));
  return SealWithNonce(file, index, last, nonce, plain, out);
}

Status BlockCipher::SealWithNonce(const FileId& file, uint64_t index, bool last,
                                  std::span<const uint8_t, kNonceSize> nonce,
                                  std::span<const uint8_t> plain, std::span<uint8_t> out) {
  if (!impl_) return Status::InvalidArgument("moved-from BlockCipher");
  if (plain.size() > kBlockSize) {
    return Status::InvalidArgument("block of " + std::to_string(plain.size()) + " bytes exceeds 4096");
  }
  if (out.size() < plain.size() + kBlockOverhead) return Status::InvalidArgument("output buffer too small");
  out = out.first(plain.size() + kBlockOverhead);
  auto aad = MakeAad(file, index, last);
  std::memcpy(out.data(), nonce.data(), kNonceSize);
  Status st = impl_->seal.Seal(nonce, aad, plain, out.subspan(kNonceSize, plain.size()),
                               out.last(kTagSize));
  if (!st.ok()) OPENSSL_cleanse(out.data(), out.size());
  return st;
}

Status BlockCipher::Open(const FileId& file, uint64_t index, bool last, std::span<const uint8_t> cipher,
                         std::span<uint8_t> out) {
  auto fail = [&](Status status) {
    OPENSSL_cleanse(out.data(), out.size());
    return status;
  };
  if (!impl_) return fail(Status::InvalidArgument("moved-from BlockCipher"));
  if (cipher.size() < kBlockOverhead || cipher.size() > kCipherBlockSize) {
    return fail(Status::Corrupt("block " + std::to_string(index) + " has impossible size " +
                                std::to_string(cipher.size())));
  }
  size_t plain_len = cipher.size() - kBlockOverhead;
  if (out.size() < plain_len) return fail(Status::InvalidArgument("output buffer too small"));
  auto aad = MakeAad(file, index, last);
  Status st = impl_->open.Open(cipher.first(kNonceSize), aad, cipher.subspan(kNonceSize, plain_len),
                               cipher.last(kTagSize), out.first(plain_len));
  if (!st.ok()) {
    if (st.code() == Code::kCorrupt) {
      return fail(Status::Corrupt("block " + std::to_string(index) + ": authentication failed"));
    }
    return fail(std::move(st));
  }
  return Status::Ok();
}

}  // namespace phrfs::crypto
