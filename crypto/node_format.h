// The v2 node header (FORMAT "NODE OBJECTS"): every entry's object — file, directory, symlink,
// FIFO or socket — opens with 136 bytes that name its kind, its identity (node id), its key epoch
// and content id, and its metadata (mode, owner, group, times) sealed with AES-256-GCM under a
// key of that seal's own (derived from the per-node meta key and the seal's random nonce), with
// the header's first 44 bytes as associated data. So an object's kind and
// metadata are authenticated, and a stored object cannot be read as another kind.
// Pure functions over values; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/format.h"
#include "crypto/keys.h"
#include "crypto/types.h"

namespace phrfs::crypto {

// FORMAT "NODE OBJECTS": the kind byte.
enum class NodeKind : uint8_t {
  kFile = 1,
  kDirectory = 2,
  kSymlink = 3,
  kFifo = 4,
  kSocket = 5,
};

struct NodeId {
  std::array<uint8_t, kIdSize> bytes{};
  bool operator==(const NodeId&) const = default;
};

struct Timestamp {
  int64_t sec = 0;
  uint32_t nsec = 0;
  bool operator==(const Timestamp&) const = default;
};

// FORMAT "NODE OBJECTS": the 64-byte metadata plaintext.
struct NodeMeta {
  uint32_t mode = 0;  // st_mode, type bits included (they must agree with the kind)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t subdirs = 0;  // directories: number of child directories (st_nlink - 2)
  Timestamp atime, mtime, ctime;
  bool operator==(const NodeMeta&) const = default;
};

struct NodeHeader {
  NodeKind kind = NodeKind::kFile;
  NodeId node_id;
  uint32_t key_epoch = 0;
  FileId content_id;  // the id in every content block's AAD (files, symlinks)
  NodeMeta meta;
};

// The st_mode type bits a kind must carry.
uint32_t ModeTypeOf(NodeKind kind);
// A directory's node id is its directory id.
inline NodeId NodeIdOf(const DirId& dir) {
  return NodeId{dir.bytes};
}
inline DirId DirIdOf(const NodeId& node) {
  return DirId{node.bytes};
}
// st_ino for a node id: its first 8 bytes (big-endian); the root (all zero) is 1, and no other
// node is given 0 or 1.
uint64_t InodeNumberOf(const NodeId& id);

// The per-node metadata key: HKDF-SHA256(folder key, salt = node id, info = kLabelMeta). Each
// seal uses HKDF-SHA256(meta key, salt = the seal's nonce, info = kLabelMetaSeal).
Result<SecureBytes> DeriveMetaKey(const FolderKey& folder, const NodeId& node);

// Encodes the whole 136-byte header, sealing the metadata under `meta_key` with a fresh nonce.
Result<std::array<uint8_t, kNodeHeaderSize>> SealNodeHeader(const NodeHeader& header,
                                                            const SecureBytes& meta_key);
// The same with a caller-chosen nonce: for test vectors only (FORMAT "TEST VECTORS").
Result<std::array<uint8_t, kNodeHeaderSize>> SealNodeHeaderWithNonce(
    const NodeHeader& header, const SecureBytes& meta_key,
    std::span<const uint8_t, kNonceSize> nonce);

// The cleartext fields of a header, before its metadata is opened. Corrupt on a wrong magic,
// an unknown kind, non-zero reserved bytes or a short input; NotSupported on another version.
struct NodeHeaderFields {
  NodeKind kind;
  NodeId node_id;
  uint32_t key_epoch;
  FileId content_id;
};
Result<NodeHeaderFields> ParseNodeHeaderFields(std::span<const uint8_t> bytes);
// Opens the metadata of a parsed header. Corrupt when authentication fails, the reserved bytes
// are not zero, or the mode's type bits disagree with the kind.
Result<NodeMeta> OpenNodeMeta(std::span<const uint8_t> header_bytes, const NodeHeaderFields& fields,
                              const SecureBytes& meta_key);

}  // namespace phrfs::crypto
