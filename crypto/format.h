// Constants of the on-disk format (v2, and v1 for reading old stores), each citing its section
// in man/phrfs-format.5.
// Pure constants; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace phrfs::crypto {

// FORMAT "CONTENT BLOCKS"; the v1 header constants: FORMAT "V1 CONTENT FILES"
inline constexpr std::array<uint8_t, 4> kContentMagic = {'P', 'H', 'R', 'F'};
inline constexpr uint8_t kContentVersion = 1;
inline constexpr uint8_t kAlgAes256Gcm = 1;
inline constexpr size_t kV1HeaderSize = 32;  // v1 content header (FORMAT "V1 CONTENT FILES")
inline constexpr size_t kBlockSize = 4096;  // plaintext bytes per block
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kBlockOverhead = kNonceSize + kTagSize;        // 28
inline constexpr size_t kCipherBlockSize = kBlockSize + kBlockOverhead;  // 4124
inline constexpr size_t kIdSize = 16;  // file ids, directory ids, store ids

// FORMAT "KEY HIERARCHY": HKDF-SHA256 info labels, one per purpose.
inline constexpr char kLabelContent[] = "phrfs/v1/content";
inline constexpr char kLabelNames[] = "phrfs/v1/names";
inline constexpr char kLabelDirHash[] = "phrfs/v1/dir-hash";
inline constexpr char kLabelFileKey[] = "phrfs/v1/file";
inline constexpr char kLabelRecoveryKek[] = "phrfs/v1/recovery-kek";

// FORMAT "NAMES": the fixed second element of the SIV associated-data vector.
inline constexpr char kNameAdLabel[] = "phrfs-name-v1";
// Longest on-disk name component we emit (ext4, WebDAV and S3 all take 255 bytes).
inline constexpr size_t kMaxStoredNameLength = 255;
// Longest plaintext name we accept (POSIX NAME_MAX).
inline constexpr size_t kMaxPlainNameLength = 255;

// FORMAT "NODE OBJECTS" (v2): every entry's object opens with a node header.
inline constexpr std::array<uint8_t, 4> kNodeMagic = {'P', 'H', 'R', '2'};
inline constexpr uint8_t kNodeVersion = 2;
inline constexpr size_t kNodeHeaderPlainSize = 44;  // magic .. content id: the metadata's AAD
inline constexpr size_t kNodeMetaSize = 64;         // metadata plaintext
inline constexpr size_t kNodeMetaOffset = kNodeHeaderPlainSize;  // nonce || sealed meta || tag
inline constexpr size_t kNodeSealedMetaSize = kNonceSize + kNodeMetaSize + kTagSize;  // 92
inline constexpr size_t kNodeHeaderSize = kNodeHeaderPlainSize + kNodeSealedMetaSize;  // 136
inline constexpr char kLabelMeta[] = "phrfs/v2/meta";
inline constexpr char kLabelMetaSeal[] = "phrfs/v2/meta-seal";

// FORMAT "RECIPIENT WRAP": HKDF-SHA256 info label of the X25519 wrapping key.
inline constexpr char kLabelX25519Wrap[] = "phrfs/v2/x25519-wrap";
// FORMAT "DOMAIN KEYRING": the owner's sealing key for keyrings, and the associated-data labels.
inline constexpr char kLabelDomainOwner[] = "phrfs/v2/domain-owner";
// FORMAT "ACCESS LOG": the owner-readable, hash-chained log of a mount's accesses.
inline constexpr std::array<uint8_t, 4> kLogMagic = {'P', 'H', 'R', 'L'};
inline constexpr uint8_t kLogVersion = 1;
inline constexpr uint8_t kLogKindHeader = 0;  // object 0 of a session
inline constexpr uint8_t kLogKindBatch = 1;   // objects 1..n
inline constexpr uint8_t kLogFlagEnd = 1;     // a batch's flags: the session's last object
inline constexpr size_t kLogSessionIdSize = 16;
inline constexpr size_t kLogSessionKeySize = 32;
inline constexpr char kLogAdLabel[] = "phrfs-log-v1";  // first bytes of every log AAD
inline constexpr char kLabelLogHeader[] = "phrfs/v2/log-header";
inline constexpr char kLabelLogRecords[] = "phrfs/v2/log-records";
inline constexpr char kLabelAudit[] = "phrfs/v2/audit";  // the passphrase store's sealing key
inline constexpr char kLogFolder[] = "log";            // log/<session hex>/<seq, 10 digits>
inline constexpr size_t kLogSeqDigits = 10;

// FORMAT "STORE CONFIG"
inline constexpr uint32_t kStoreVersion = 2;
inline constexpr uint32_t kStoreVersionV1 = 1;

}  // namespace phrfs::crypto
