// FORMAT "NODE OBJECTS" and "TEST VECTORS" (v2): the 136-byte node header against vectors
// computed independently of this code by tests/crypto/make_v2_vectors.py (Python's
// cryptography package, written from the man page), and the ways a header must be refused.
// If a vector fails, the on-disk format changed: that needs a new format version, not a new
// expected value.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "crypto/aead.h"
#include "crypto/content_cipher.h"
#include "crypto/format.h"
#include "crypto/keys.h"
#include "crypto/kdf.h"
#include "crypto/node_format.h"
#include "crypto/store_config.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using testing::ArrayFromHex;
using testing::FromHex;
using testing::Hex;
using testing::Sequence;

// ---- fixed inputs (man/phrfs-format.5, TEST VECTORS, format v2) ----
// content key: the v1 vectors' "content" sub-key (master key 00..1f, store id a0..af).
constexpr char kContentKeyHex[] = "4fb63291de61c03d56819be9cf49bb23d1b92a7e3a169f7cdadd79ea7cb7caea";

FolderKey ContentKey() { return FolderKey{SecureBytes(FromHex(kContentKeyHex)), 0}; }
NodeId TheNodeId() { return NodeId{Sequence<16>(0x80)}; }
FileId TheContentId() { return FileId{Sequence<16>(0xb0)}; }
FileId RootContentId() { return FileId{Sequence<16>(0x70)}; }

NodeMeta FileMeta() {
  NodeMeta m;
  m.mode = S_IFREG | 0640;
  m.uid = 1000;
  m.gid = 1000;
  m.subdirs = 0;
  m.atime = {1700000000, 123456789};
  m.mtime = {1700000001, 500000000};
  m.ctime = {1700000002, 999999999};
  return m;
}

NodeMeta RootMeta() {
  NodeMeta m;
  m.mode = S_IFDIR | 0700;
  m.uid = 0;
  m.gid = 0;
  m.subdirs = 3;
  m.atime = {1700000100, 0};
  m.mtime = {1700000101, 1};
  m.ctime = {-1, 999999999};  // before the epoch: seconds are two's complement
  return m;
}

NodeHeader FileHeader() { return NodeHeader{NodeKind::kFile, TheNodeId(), 0, TheContentId(), FileMeta()}; }
NodeHeader RootHeader() { return NodeHeader{NodeKind::kDirectory, NodeId{}, 0, RootContentId(), RootMeta()}; }

// ---- expected outputs (make_v2_vectors.py) ----
constexpr char kMetaKeyHex[] = "6439de8ed229cd8a3f64b2580128bf6b6a5cd05110c4e174257b60fee0058736";
constexpr char kHeaderHex[] =
    "50485232020100008081828384858687"
    "88898a8b8c8d8e8f00000000b0b1b2b3"
    "b4b5b6b7b8b9babbbcbdbebf60616263"
    "6465666768696a6bca41c50f4aa6df9e"
    "2301ac4f6dcdd2a5aa4ff8d2b16f80b9"
    "bdfed91a7b8bb7708ef85d49a919b50c"
    "8ebddd3e0168337ee8fe7423f9f81b93"
    "0597848900aebd76264207d64f1ee27b"
    "b101b06fe3af8720";
constexpr char kMetaPlainHex[] =
    "000081a0000003e8000003e800000000"
    "000000006553f100075bcd1500000000"
    "6553f1011dcd6500000000006553f102"
    "3b9ac9ff000000000000000000000000";
constexpr char kBlock0Hex[] =
    "d0d1d2d3d4d5d6d7d8d9dadb2c80df37"
    "24d9d167862a70a010b01e5cf39daba1"
    "42f1899458a1b5c62c8c1b0893";
constexpr char kRootMetaKeyHex[] = "9e8c23b44bb2931baf450cadbd6e13710dad8afc8d7bfc2fa719e54b76021c44";
constexpr char kRootHeaderHex[] =
    "50485232020200000000000000000000"
    "00000000000000000000000070717273"
    "7475767778797a7b7c7d7e7f50515253"
    "5455565758595a5b4ab39f5f362e5e7e"
    "5b49ef39a7181686e7c37e0aeb28e777"
    "e6ef8d87aa74449d963174d980ebd3ad"
    "f0a1126d2116007770a751f6c4ec7373"
    "a3ec352cc889b14e4ba54ea9082e00f1"
    "034b6f5381dabba5";

std::array<uint8_t, kNodeHeaderSize> TheHeaderBytes() { return ArrayFromHex<kNodeHeaderSize>(kHeaderHex); }

SecureBytes MetaKeyFor(const NodeId& id) {
  auto key = DeriveMetaKey(ContentKey(), id);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? std::move(key).value() : SecureBytes();
}

// What a reader does with a stored header: parse the cleartext fields, derive the meta key from
// the node id it found, open the metadata. Returns the first failure.
Result<NodeMeta> ReadHeader(std::span<const uint8_t> bytes) {
  PHRFS_ASSIGN_OR_RETURN(NodeHeaderFields fields, ParseNodeHeaderFields(bytes));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key, DeriveMetaKey(ContentKey(), fields.node_id));
  return OpenNodeMeta(bytes, fields, key);
}

// A header built by hand (not through SealNodeHeader, which refuses bad metadata): the 44
// cleartext bytes, then nonce || GCM(seal key, nonce, cleartext, meta_plain).
std::array<uint8_t, kNodeHeaderSize> HandSealed(uint8_t kind, const NodeId& id, std::span<const uint8_t> meta_plain) {
  std::array<uint8_t, kNodeHeaderSize> out{};
  std::memcpy(out.data(), "PHR2", 4);
  out[4] = 2;
  out[5] = kind;
  std::memcpy(out.data() + 8, id.bytes.data(), kIdSize);
  std::memcpy(out.data() + 28, TheContentId().bytes.data(), kIdSize);
  const auto nonce = Sequence<kNonceSize>(0x60);
  std::memcpy(out.data() + 44, nonce.data(), kNonceSize);
  SecureBytes meta_key = MetaKeyFor(id);
  auto key = HkdfSha256(meta_key.span(), nonce, kLabelMetaSeal, 32);  // the seal's own key
  EXPECT_TRUE(key.ok());
  auto sealed = internal::GcmSealRaw(key->span(), nonce, std::span<const uint8_t>(out.data(), 44), meta_plain);
  EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
  if (sealed.ok() && sealed->size() == kNodeMetaSize + kTagSize) std::memcpy(out.data() + 56, sealed->data(), sealed->size());
  return out;
}

// ---------------------------------------------------------------- known answers

TEST(NodeFormatVectorsTest, LayoutConstantsMatchThePage) {
  EXPECT_EQ(kNodeHeaderPlainSize, 44u);
  EXPECT_EQ(kNodeMetaSize, 64u);
  EXPECT_EQ(kNodeHeaderSize, 136u);
  EXPECT_EQ(BlockOffset(0, kNodeHeaderSize), 136u);
  EXPECT_EQ(BlockOffset(1, kNodeHeaderSize), 136u + 4124u);
  EXPECT_EQ(CipherSize(0, kNodeHeaderSize), 164u);
  EXPECT_EQ(CipherSize(17, kNodeHeaderSize), 181u);
  auto plain = PlainSize(181, kNodeHeaderSize);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, 17u);
}

TEST(NodeFormatVectorsTest, MetaKeysMatchTheDocumentedValues) {
  EXPECT_EQ(Hex(MetaKeyFor(TheNodeId())), kMetaKeyHex);
  EXPECT_EQ(Hex(MetaKeyFor(NodeId{})), kRootMetaKeyHex);
}

TEST(NodeFormatVectorsTest, SealedFileHeaderMatchesTheDocumentedBytes) {
  const auto nonce = Sequence<kNonceSize>(0x60);
  auto header = SealNodeHeaderWithNonce(FileHeader(), MetaKeyFor(TheNodeId()), nonce);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(Hex(*header), kHeaderHex);
}

TEST(NodeFormatVectorsTest, SealedRootHeaderMatchesTheDocumentedBytes) {
  const auto nonce = Sequence<kNonceSize>(0x50);
  auto header = SealNodeHeaderWithNonce(RootHeader(), MetaKeyFor(NodeId{}), nonce);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(Hex(*header), kRootHeaderHex);
}

TEST(NodeFormatVectorsTest, TheDocumentedMetadataPlaintextIsWhatTheHeaderSeals) {
  // Built by hand from the documented 64-byte plaintext, the header comes out the same.
  auto by_hand = HandSealed(1, TheNodeId(), FromHex(kMetaPlainHex));
  EXPECT_EQ(Hex(by_hand), kHeaderHex);
}

TEST(NodeFormatVectorsTest, BlockAfterTheHeaderMatchesTheDocumentedBytes) {
  auto file_key = DeriveFileKey(ContentKey(), TheContentId());
  ASSERT_TRUE(file_key.ok());
  auto cipher = BlockCipher::Create(*file_key);
  ASSERT_TRUE(cipher.ok());
  const std::string plain = "phrfs test vector";
  std::vector<uint8_t> block(plain.size() + kBlockOverhead);
  ASSERT_TRUE(cipher->SealWithNonce(TheContentId(), 0, true, Sequence<kNonceSize>(0xd0), testing::AsBytes(plain), block).ok());
  EXPECT_EQ(Hex(block), kBlock0Hex);

  // The whole object: header, then the block at offset 136; it reads back.
  const auto header = TheHeaderBytes();
  std::vector<uint8_t> object(header.begin(), header.end());
  object.insert(object.end(), block.begin(), block.end());
  auto fields = ParseNodeHeaderFields(object);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->content_id, TheContentId());
  auto size = PlainSize(object.size(), kNodeHeaderSize);
  ASSERT_TRUE(size.ok());
  ASSERT_EQ(*size, plain.size());
  std::vector<uint8_t> out(plain.size());
  ASSERT_TRUE(cipher->Open(fields->content_id, 0, true,
                           std::span<const uint8_t>(object).subspan(BlockOffset(0, kNodeHeaderSize)), out).ok());
  EXPECT_EQ(testing::AsString(out), plain);
}

TEST(NodeFormatVectorsTest, InodeNumbersComeFromTheNodeId) {
  EXPECT_EQ(InodeNumberOf(TheNodeId()), 0x8081828384858687ull);
  EXPECT_EQ(InodeNumberOf(NodeId{}), 1u);
  NodeId one{};
  one.bytes[7] = 1;  // first 8 bytes = 1, but not the root
  EXPECT_EQ(InodeNumberOf(one), 2u);
  NodeId low{};
  low.bytes[15] = 1;  // first 8 bytes = 0, but not the root
  EXPECT_EQ(InodeNumberOf(low), 2u);
}

// ---------------------------------------------------------------- round trip

TEST(NodeFormatTest, ParseAndOpenRoundTripTheDocumentedHeaders) {
  auto bytes = TheHeaderBytes();
  auto fields = ParseNodeHeaderFields(bytes);
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  EXPECT_EQ(fields->kind, NodeKind::kFile);
  EXPECT_EQ(fields->node_id, TheNodeId());
  EXPECT_EQ(fields->key_epoch, 0u);
  EXPECT_EQ(fields->content_id, TheContentId());
  auto meta = OpenNodeMeta(bytes, *fields, MetaKeyFor(fields->node_id));
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(*meta, FileMeta());

  auto root = ArrayFromHex<kNodeHeaderSize>(kRootHeaderHex);
  auto root_meta = ReadHeader(root);
  ASSERT_TRUE(root_meta.ok()) << root_meta.status().ToString();
  EXPECT_EQ(*root_meta, RootMeta());
}

TEST(NodeFormatTest, FreshNoncesGiveDifferentBytesThatOpenToTheSameMetadata) {
  SecureBytes key = MetaKeyFor(TheNodeId());
  auto a = SealNodeHeader(FileHeader(), key);
  auto b = SealNodeHeader(FileHeader(), key);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(Hex(*a), Hex(*b));
  EXPECT_EQ(Hex(std::span<const uint8_t>(a->data(), 44)), Hex(std::span<const uint8_t>(b->data(), 44)));
  for (const auto& h : {*a, *b}) {
    auto meta = ReadHeader(h);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    EXPECT_EQ(*meta, FileMeta());
  }
}

TEST(NodeFormatTest, EveryKindRoundTripsWithItsModeTypeBits) {
  for (NodeKind kind : {NodeKind::kFile, NodeKind::kDirectory, NodeKind::kSymlink, NodeKind::kFifo, NodeKind::kSocket}) {
    NodeHeader h = FileHeader();
    h.kind = kind;
    h.meta.mode = ModeTypeOf(kind) | 0600;
    auto bytes = SealNodeHeader(h, MetaKeyFor(h.node_id));
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto fields = ParseNodeHeaderFields(*bytes);
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ(fields->kind, kind);
    auto meta = ReadHeader(*bytes);
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    EXPECT_EQ(meta->mode, ModeTypeOf(kind) | 0600);
  }
}

// ---------------------------------------------------------------- refusals

TEST(NodeFormatTest, EverySingleBitFlipInTheHeaderIsRefused) {
  const auto good = TheHeaderBytes();
  ASSERT_TRUE(ReadHeader(good).ok());
  for (size_t bit = 0; bit < kNodeHeaderSize * 8; ++bit) {
    auto bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto meta = ReadHeader(bad);
    ASSERT_FALSE(meta.ok()) << "bit " << bit << " (byte " << bit / 8 << ") flipped was accepted";
    const Code code = meta.status().code();
    EXPECT_TRUE(code == Code::kCorrupt || code == Code::kNotSupported)
        << "bit " << bit << ": " << meta.status().ToString();
    // Only the version byte may say "not supported"; everything else is damage.
    if (bit / 8 != 4) {
      EXPECT_EQ(code, Code::kCorrupt) << "bit " << bit << ": " << meta.status().ToString();
    }
  }
}

TEST(NodeFormatTest, EverySingleBitFlipIsRefusedEvenUnderTheOriginalMetaKey) {
  // A reader that derived the key before the node id was changed must fail as well: the node id
  // is in the associated data, not only in the key.
  const auto good = TheHeaderBytes();
  SecureBytes key = MetaKeyFor(TheNodeId());
  for (size_t bit = 0; bit < kNodeHeaderSize * 8; ++bit) {
    auto bad = good;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto fields = ParseNodeHeaderFields(bad);
    if (!fields.ok()) continue;
    EXPECT_FALSE(OpenNodeMeta(bad, *fields, key).ok()) << "bit " << bit;
  }
}

TEST(NodeFormatTest, AFileHeaderWithItsKindByteChangedToSymlinkIsCorrupt) {
  auto bad = TheHeaderBytes();
  ASSERT_EQ(bad[5], static_cast<uint8_t>(NodeKind::kFile));
  bad[5] = static_cast<uint8_t>(NodeKind::kSymlink);
  auto fields = ParseNodeHeaderFields(bad);
  ASSERT_TRUE(fields.ok()) << "the kind byte alone is well-formed";
  EXPECT_EQ(fields->kind, NodeKind::kSymlink);
  auto meta = OpenNodeMeta(bad, *fields, MetaKeyFor(fields->node_id));
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.status().code(), Code::kCorrupt);
  // Every other kind value too: the known ones fail authentication, the rest parsing.
  for (int k = 0; k < 256; ++k) {
    if (k == static_cast<int>(NodeKind::kFile)) continue;
    auto other = TheHeaderBytes();
    other[5] = static_cast<uint8_t>(k);
    auto m = ReadHeader(other);
    ASSERT_FALSE(m.ok()) << "kind " << k;
    EXPECT_EQ(m.status().code(), Code::kCorrupt) << "kind " << k;
  }
}

TEST(NodeFormatTest, ModeTypeBitsThatDisagreeWithTheKindAreCorrupt) {
  // Authentic metadata (sealed under the right key and AAD) whose mode says symlink, in a header
  // whose kind says file: OpenNodeMeta must still refuse it.
  std::vector<uint8_t> plain = FromHex(kMetaPlainHex);
  const uint32_t lnk = S_IFLNK | 0640;
  plain[0] = static_cast<uint8_t>(lnk >> 24);
  plain[1] = static_cast<uint8_t>(lnk >> 16);
  plain[2] = static_cast<uint8_t>(lnk >> 8);
  plain[3] = static_cast<uint8_t>(lnk);
  auto bad = HandSealed(static_cast<uint8_t>(NodeKind::kFile), TheNodeId(), plain);
  auto meta = ReadHeader(bad);
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.status().code(), Code::kCorrupt);

  // Type bits of no kind at all (zero, a device) are refused the same way.
  for (uint32_t type : {0u, static_cast<uint32_t>(S_IFCHR), static_cast<uint32_t>(S_IFBLK), static_cast<uint32_t>(S_IFDIR)}) {
    const uint32_t mode = type | 0640;
    plain[0] = static_cast<uint8_t>(mode >> 24);
    plain[1] = static_cast<uint8_t>(mode >> 16);
    plain[2] = static_cast<uint8_t>(mode >> 8);
    plain[3] = static_cast<uint8_t>(mode);
    auto m = ReadHeader(HandSealed(static_cast<uint8_t>(NodeKind::kFile), TheNodeId(), plain));
    ASSERT_FALSE(m.ok()) << std::oct << mode;
    EXPECT_EQ(m.status().code(), Code::kCorrupt);
  }

  // The writer refuses to seal such a header in the first place.
  NodeHeader h = FileHeader();
  h.meta.mode = S_IFLNK | 0777;
  auto sealed = SealNodeHeaderWithNonce(h, MetaKeyFor(h.node_id), Sequence<kNonceSize>(0x60));
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().code(), Code::kInvalidArgument);
}

TEST(NodeFormatTest, NonZeroReservedMetadataIsCorrupt) {
  // Control: the documented plaintext, sealed by hand, opens.
  ASSERT_TRUE(ReadHeader(HandSealed(1, TheNodeId(), FromHex(kMetaPlainHex))).ok());
  for (size_t i = 52; i < kNodeMetaSize; ++i) {
    std::vector<uint8_t> plain = FromHex(kMetaPlainHex);
    plain[i] = 0x01;
    auto meta = ReadHeader(HandSealed(1, TheNodeId(), plain));
    ASSERT_FALSE(meta.ok()) << "reserved byte " << i;
    EXPECT_EQ(meta.status().code(), Code::kCorrupt) << "reserved byte " << i;
  }
}

TEST(NodeFormatTest, NanosecondsOfASecondOrMoreAreCorrupt) {
  for (size_t offset : {16u + 8u, 28u + 8u, 40u + 8u}) {  // atime, mtime, ctime nanoseconds
    std::vector<uint8_t> plain = FromHex(kMetaPlainHex);
    const uint32_t ns = 1000000000;
    plain[offset] = static_cast<uint8_t>(ns >> 24);
    plain[offset + 1] = static_cast<uint8_t>(ns >> 16);
    plain[offset + 2] = static_cast<uint8_t>(ns >> 8);
    plain[offset + 3] = static_cast<uint8_t>(ns);
    auto meta = ReadHeader(HandSealed(1, TheNodeId(), plain));
    ASSERT_FALSE(meta.ok()) << "offset " << offset;
    EXPECT_EQ(meta.status().code(), Code::kCorrupt);
  }
}

TEST(NodeFormatTest, MalformedCleartextFieldsAreCorruptOrNotSupported) {
  auto expect = [](std::span<const uint8_t> bytes, Code code, const char* what) {
    auto fields = ParseNodeHeaderFields(bytes);
    ASSERT_FALSE(fields.ok()) << what;
    EXPECT_EQ(fields.status().code(), code) << what << ": " << fields.status().ToString();
  };
  const auto good = TheHeaderBytes();
  expect(std::span<const uint8_t>(good.data(), kNodeHeaderSize - 1), Code::kCorrupt, "135 bytes");
  expect({}, Code::kCorrupt, "empty");
  auto v1 = good;
  std::memcpy(v1.data(), "PHRF", 4);
  v1[4] = 1;
  expect(v1, Code::kCorrupt, "a v1 content header");
  auto v3 = good;
  v3[4] = 3;
  expect(v3, Code::kNotSupported, "version 3");
  auto v1_version = good;
  v1_version[4] = 1;
  expect(v1_version, Code::kNotSupported, "version 1 under the v2 magic");
  auto reserved = good;
  reserved[7] = 0x80;
  expect(reserved, Code::kCorrupt, "reserved byte 7");
  auto kind0 = good;
  kind0[5] = 0;
  expect(kind0, Code::kCorrupt, "kind 0");
  auto kind6 = good;
  kind6[5] = 6;
  expect(kind6, Code::kCorrupt, "kind 6");
  // Bytes after the header (content blocks) are not the header's business.
  std::vector<uint8_t> longer(good.begin(), good.end());
  longer.push_back(0xff);
  EXPECT_TRUE(ParseNodeHeaderFields(longer).ok());
}

TEST(NodeFormatTest, AHeaderMovedToAnotherNodeIdOrEpochIsCorrupt) {
  // The node id and epoch are in the associated data: a header edited to claim another node's
  // identity fails even when the key is derived for that other node.
  auto bytes = TheHeaderBytes();
  bytes[8] ^= 0x01;
  EXPECT_EQ(ReadHeader(bytes).status().code(), Code::kCorrupt);
  auto epoch = TheHeaderBytes();
  epoch[27] = 1;
  EXPECT_EQ(ReadHeader(epoch).status().code(), Code::kCorrupt);
  auto content = TheHeaderBytes();
  content[43] ^= 0x01;
  EXPECT_EQ(ReadHeader(content).status().code(), Code::kCorrupt);
}

TEST(NodeFormatTest, AWrongMetaKeyIsCorrupt) {
  auto bytes = TheHeaderBytes();
  auto fields = ParseNodeHeaderFields(bytes);
  ASSERT_TRUE(fields.ok());
  auto other = OpenNodeMeta(bytes, *fields, MetaKeyFor(NodeId{}));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), Code::kCorrupt);
  // Another store's content key.
  FolderKey foreign{SecureBytes(Sequence<32>(0x01)), 0};
  auto key = DeriveMetaKey(foreign, TheNodeId());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(OpenNodeMeta(bytes, *fields, *key).status().code(), Code::kCorrupt);
}

// ---------------------------------------------------------------- store config, version 2

// The v1 config vector's inputs (format_vectors_test.cc) in a version-2 config: the passphrase
// wrapping binds "phrfs-store 2", the recovery wrapping still binds "phrfs-store 1" (so its line
// is the v1 vector's, byte for byte).
constexpr char kV2Config[] =
    "phrfs-store 2\n"
    "store_id a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n"
    "flags none\n"
    "kdf scrypt n=1024 r=8 p=1 salt=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
    "wrapped_passphrase 0NHS09TV1tfY2drbAS1NZOj9Hx4Qacw4wSSaHN8dsZeVitIFDoA_vO0AyrTljALCXMa57aseTrhW_ssE\n"
    "wrapped_recovery 0NHS09TV1tfY2drbLBaZEDosmjmZV9goyezuUFd_9opxN4MqRyij6OmBl82Rm715_POf7Z6td2gnQq29\n";
constexpr char kRecoveryKeyText[] = "e0e1e2e3-e4e5e6e7-e8e9eaeb-ecedeeef-f0f1f2f3-f4f5f6f7-f8f9fafb-fcfdfeff";

TEST(StoreConfigV2VectorsTest, TheDocumentedV2ConfigUnlocksWithPassphraseAndRecoveryKey) {
  auto config = ParseStoreConfig(kV2Config);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->version, 2u);
  EXPECT_EQ(SerializeStoreConfig(*config), kV2Config);
  auto master = UnlockWithPassphrase(*config, "phrfs-test-passphrase");
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_EQ(Hex(*master), Hex(Sequence<32>(0x00)));
  auto recovery_key = ParseRecoveryKey(kRecoveryKeyText);
  ASSERT_TRUE(recovery_key.ok());
  auto recovered = UnlockWithRecoveryKey(*config, *recovery_key);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(Hex(*recovered), Hex(Sequence<32>(0x00)));
}

TEST(StoreConfigV2VectorsTest, TheVersionLineIsBoundByThePassphraseWrappingOnly) {
  // Version 2 turned back to 1: the passphrase refuses it, the recovery key does not notice.
  std::string downgraded = kV2Config;
  downgraded[12] = '1';
  auto config = ParseStoreConfig(downgraded);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(UnlockWithPassphrase(*config, "phrfs-test-passphrase").status().code(), Code::kWrongKey);
  auto recovery_key = ParseRecoveryKey(kRecoveryKeyText);
  ASSERT_TRUE(recovery_key.ok());
  EXPECT_TRUE(UnlockWithRecoveryKey(*config, *recovery_key).ok());
}

}  // namespace
}  // namespace phrfs::crypto
