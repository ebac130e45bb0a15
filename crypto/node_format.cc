#include "crypto/node_format.h"

#include <sys/stat.h>

#include <cstring>
#include <string>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void PutTime(uint8_t* p, const Timestamp& t) {
  PutU64(p, static_cast<uint64_t>(t.sec));
  PutU32(p + 8, t.nsec);
}
Timestamp GetTime(const uint8_t* p) {
  return Timestamp{static_cast<int64_t>(GetU64(p)), GetU32(p + 8)};
}

bool ValidKind(uint8_t k) {
  return k >= 1 && k <= 5;
}

// Every seal of a header gets a key of its own, HKDF(meta key, salt = its random nonce): the
// header of a busy file is resealed on every write, and one GCM key with random nonces would
// pass its limit of 2^32 seals within months.
Result<SecureBytes> SealKey(const SecureBytes& meta_key, std::span<const uint8_t> nonce) {
  return HkdfSha256(meta_key.span(), nonce, kLabelMetaSeal, 32);
}

std::array<uint8_t, kNodeMetaSize> EncodeMeta(const NodeMeta& m) {
  std::array<uint8_t, kNodeMetaSize> out{};
  PutU32(out.data() + 0, m.mode);
  PutU32(out.data() + 4, m.uid);
  PutU32(out.data() + 8, m.gid);
  PutU32(out.data() + 12, m.subdirs);
  PutTime(out.data() + 16, m.atime);
  PutTime(out.data() + 28, m.mtime);
  PutTime(out.data() + 40, m.ctime);
  // 52..63 reserved, zero
  return out;
}

}  // namespace

uint32_t ModeTypeOf(NodeKind kind) {
  switch (kind) {
    case NodeKind::kFile: return S_IFREG;
    case NodeKind::kDirectory: return S_IFDIR;
    case NodeKind::kSymlink: return S_IFLNK;
    case NodeKind::kFifo: return S_IFIFO;
    case NodeKind::kSocket: return S_IFSOCK;
  }
  return 0;
}

uint64_t InodeNumberOf(const NodeId& id) {
  const uint64_t v = GetU64(id.bytes.data());
  if (id == NodeId{}) return 1;
  return v < 2 ? 2 : v;
}

Result<SecureBytes> DeriveMetaKey(const FolderKey& folder, const NodeId& node) {
  if (folder.key.size() != 32) return Status::InvalidArgument("folder key must be 32 bytes");
  return HkdfSha256(folder.key.span(), node.bytes, kLabelMeta, 32);
}

Result<std::array<uint8_t, kNodeHeaderSize>> SealNodeHeader(const NodeHeader& header,
                                                            const SecureBytes& meta_key) {
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomNonce(nonce));
  return SealNodeHeaderWithNonce(header, meta_key, nonce);
}

Result<std::array<uint8_t, kNodeHeaderSize>> SealNodeHeaderWithNonce(
    const NodeHeader& header, const SecureBytes& meta_key,
    std::span<const uint8_t, kNonceSize> nonce) {
  if (meta_key.size() != 32) return Status::InvalidArgument("meta key must be 32 bytes");
  if ((header.meta.mode & S_IFMT) != ModeTypeOf(header.kind)) {
    return Status::InvalidArgument("mode type bits disagree with the node kind");
  }
  std::array<uint8_t, kNodeHeaderSize> out{};
  std::memcpy(out.data(), kNodeMagic.data(), kNodeMagic.size());
  out[4] = kNodeVersion;
  out[5] = static_cast<uint8_t>(header.kind);
  // out[6..7] reserved, zero
  std::memcpy(out.data() + 8, header.node_id.bytes.data(), kIdSize);
  PutU32(out.data() + 24, header.key_epoch);
  std::memcpy(out.data() + 28, header.content_id.bytes.data(), kIdSize);
  std::memcpy(out.data() + kNodeMetaOffset, nonce.data(), kNonceSize);
  auto plain = EncodeMeta(header.meta);
  PHRFS_ASSIGN_OR_RETURN(SecureBytes seal_key, SealKey(meta_key, nonce));
  PHRFS_ASSIGN_OR_RETURN(auto ctx, internal::GcmContext::Create(seal_key.span(), /*encrypt=*/true));
  std::span<uint8_t> sealed(out.data() + kNodeMetaOffset + kNonceSize, kNodeMetaSize + kTagSize);
  Status st = ctx.Seal(nonce, std::span<const uint8_t>(out.data(), kNodeHeaderPlainSize), plain,
                       sealed.first(kNodeMetaSize), sealed.last(kTagSize));
  SecureWipe(plain);
  PHRFS_RETURN_IF_ERROR(st);
  return out;
}

Result<NodeHeaderFields> ParseNodeHeaderFields(std::span<const uint8_t> bytes) {
  if (bytes.size() < kNodeHeaderSize) {
    return Status::Corrupt("node header: " + std::to_string(bytes.size()) + " bytes, need " +
                           std::to_string(kNodeHeaderSize));
  }
  if (std::memcmp(bytes.data(), kNodeMagic.data(), kNodeMagic.size()) != 0) {
    return Status::Corrupt("node header: bad magic");
  }
  if (bytes[4] != kNodeVersion) {
    return Status::NotSupported("node header: unsupported version " + std::to_string(bytes[4]));
  }
  if (!ValidKind(bytes[5]))
    return Status::Corrupt("node header: unknown kind " + std::to_string(bytes[5]));
  if (bytes[6] != 0 || bytes[7] != 0)
    return Status::Corrupt("node header: non-zero reserved bytes");
  NodeHeaderFields f;
  f.kind = static_cast<NodeKind>(bytes[5]);
  std::memcpy(f.node_id.bytes.data(), bytes.data() + 8, kIdSize);
  f.key_epoch = GetU32(bytes.data() + 24);
  std::memcpy(f.content_id.bytes.data(), bytes.data() + 28, kIdSize);
  return f;
}

Result<NodeMeta> OpenNodeMeta(std::span<const uint8_t> header_bytes, const NodeHeaderFields& fields,
                              const SecureBytes& meta_key) {
  if (header_bytes.size() < kNodeHeaderSize) return Status::Corrupt("node header: truncated");
  if (meta_key.size() != 32) return Status::InvalidArgument("meta key must be 32 bytes");
  const uint8_t* sealed = header_bytes.data() + kNodeMetaOffset;
  PHRFS_ASSIGN_OR_RETURN(SecureBytes seal_key, SealKey(meta_key, {sealed, kNonceSize}));
  PHRFS_ASSIGN_OR_RETURN(auto ctx,
                         internal::GcmContext::Create(seal_key.span(), /*encrypt=*/false));
  std::array<uint8_t, kNodeMetaSize> plain{};
  Status st = ctx.Open({sealed, kNonceSize}, header_bytes.first(kNodeHeaderPlainSize),
                       {sealed + kNonceSize, kNodeMetaSize},
                       {sealed + kNonceSize + kNodeMetaSize, kTagSize}, plain);
  if (!st.ok()) {
    if (st.code() == Code::kCorrupt)
      return Status::Corrupt("node header: metadata authentication failed");
    return st;
  }
  NodeMeta m;
  m.mode = GetU32(plain.data());
  m.uid = GetU32(plain.data() + 4);
  m.gid = GetU32(plain.data() + 8);
  m.subdirs = GetU32(plain.data() + 12);
  m.atime = GetTime(plain.data() + 16);
  m.mtime = GetTime(plain.data() + 28);
  m.ctime = GetTime(plain.data() + 40);
  bool reserved_zero = true;
  for (size_t i = 52; i < kNodeMetaSize; ++i) reserved_zero &= plain[i] == 0;
  SecureWipe(plain);
  if (!reserved_zero) return Status::Corrupt("node header: non-zero reserved metadata");
  if ((m.mode & S_IFMT) != ModeTypeOf(fields.kind)) {
    return Status::Corrupt("node header: mode type disagrees with the kind");
  }
  if (m.atime.nsec >= 1000000000 || m.mtime.nsec >= 1000000000 || m.ctime.nsec >= 1000000000) {
    return Status::Corrupt("node header: nanoseconds out of range");
  }
  return m;
}

}  // namespace phrfs::crypto
