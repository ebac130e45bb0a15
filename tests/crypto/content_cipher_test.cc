// crypto/content_cipher: header, offset arithmetic, block sealing and tamper detection.
#include "crypto/content_cipher.h"

#include <algorithm>
#include <thread>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

FileKey TestKey(uint8_t fill) {
  FileKey key;
  key.key = SecureBytes(32);
  for (size_t i = 0; i < 32; ++i) key.key[i] = static_cast<uint8_t>(fill + i);
  return key;
}

FileId TestFileId(uint8_t fill) {
  FileId id;
  id.bytes.fill(fill);
  return id;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 31);
  return out;
}

class BlockCipherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cipher = BlockCipher::Create(TestKey(1));
    ASSERT_TRUE(cipher.ok()) << cipher.status().ToString();
    cipher_.emplace(std::move(cipher).value());
  }

  std::vector<uint8_t> SealBlock(uint64_t index, bool last, const std::vector<uint8_t>& plain,
                                 const FileId& file) {
    std::vector<uint8_t> out(plain.size() + kBlockOverhead);
    Status st = cipher_->Seal(file, index, last, plain, out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  // Opens and checks that a failure is Corrupt and leaves `out` all zero.
  void ExpectCorrupt(uint64_t index, bool last, const std::vector<uint8_t>& sealed, const FileId& file) {
    std::vector<uint8_t> out(sealed.size() >= kBlockOverhead ? sealed.size() - kBlockOverhead : 16, 0xAA);
    Status st = cipher_->Open(file, index, last, sealed, out);
    EXPECT_EQ(st.code(), Code::kCorrupt) << st.ToString();
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }))
        << "output not zeroed after a failed open";
  }

  std::optional<BlockCipher> cipher_;
  FileId file_ = TestFileId(0x42);
};

TEST_F(BlockCipherTest, SealThenOpenRoundTripsEveryInterestingBlockLength) {
  for (size_t len : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000}, size_t{4095},
                     kBlockSize}) {
    auto plain = Pattern(len, static_cast<uint8_t>(len));
    auto sealed = SealBlock(7, true, plain, file_);
    ASSERT_EQ(sealed.size(), len + kBlockOverhead);
    std::vector<uint8_t> out(len);
    Status st = cipher_->Open(file_, 7, true, sealed, out);
    ASSERT_TRUE(st.ok()) << len << ": " << st.ToString();
    EXPECT_EQ(out, plain) << len;
  }
}

TEST_F(BlockCipherTest, SealingTheSameBlockTwiceUsesFreshNonces) {
  auto plain = Pattern(100, 3);
  auto a = SealBlock(0, true, plain, file_);
  auto b = SealBlock(0, true, plain, file_);
  EXPECT_NE(a, b);
  EXPECT_FALSE(std::equal(a.begin(), a.begin() + kNonceSize, b.begin()));
}

TEST_F(BlockCipherTest, EveryFlippedBitIsDetectedAsCorrupt) {
  auto sealed = SealBlock(3, false, Pattern(64, 9), file_);
  for (size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    auto tampered = sealed;
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ExpectCorrupt(3, false, tampered, file_);
  }
}

TEST_F(BlockCipherTest, AWrongBlockIndexIsDetectedAsCorrupt) {
  auto sealed = SealBlock(5, false, Pattern(4096, 1), file_);
  ExpectCorrupt(4, false, sealed, file_);
  ExpectCorrupt(6, false, sealed, file_);
  ExpectCorrupt(5 + (uint64_t{1} << 32), false, sealed, file_);
}

TEST_F(BlockCipherTest, AWrongLastFlagIsDetectedAsCorrupt) {
  auto middle = SealBlock(1, false, Pattern(4096, 2), file_);
  ExpectCorrupt(1, true, middle, file_);
  auto tail = SealBlock(2, true, Pattern(10, 2), file_);
  ExpectCorrupt(2, false, tail, file_);
}

TEST_F(BlockCipherTest, AWrongFileIdIsDetectedAsCorrupt) {
  auto sealed = SealBlock(0, true, Pattern(50, 4), file_);
  ExpectCorrupt(0, true, sealed, TestFileId(0x43));
}

TEST_F(BlockCipherTest, ABlockFromAnotherFileIsDetectedAsCorrupt) {
  // Another file: its own id and its own key; same index and flag.
  auto other = BlockCipher::Create(TestKey(99));
  ASSERT_TRUE(other.ok());
  FileId other_id = TestFileId(0x77);
  auto plain = Pattern(200, 5);
  std::vector<uint8_t> foreign(plain.size() + kBlockOverhead);
  ASSERT_TRUE(other->Seal(other_id, 0, true, plain, foreign).ok());
  ExpectCorrupt(0, true, foreign, file_);
  ExpectCorrupt(0, true, foreign, other_id);  // right id, wrong key
}

TEST_F(BlockCipherTest, AnAllZeroBlockIsNotAcceptedAsAHole) {
  ExpectCorrupt(0, false, std::vector<uint8_t>(kCipherBlockSize, 0), file_);
  ExpectCorrupt(0, true, std::vector<uint8_t>(kBlockOverhead, 0), file_);
}

TEST_F(BlockCipherTest, BlocksShorterThanTheOverheadOrLongerThanACipherBlockAreRejected) {
  for (size_t len : {size_t{0}, size_t{1}, size_t{27}}) {
    std::vector<uint8_t> out(16, 0xAA);
    EXPECT_EQ(cipher_->Open(file_, 0, true, std::vector<uint8_t>(len, 1), out).code(), Code::kCorrupt) << len;
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }));
  }
  std::vector<uint8_t> big(kCipherBlockSize + 1, 1);
  std::vector<uint8_t> out(kBlockSize + 1);
  EXPECT_EQ(cipher_->Open(file_, 0, true, big, out).code(), Code::kCorrupt);

  std::vector<uint8_t> too_much(kBlockSize + 1, 1);
  std::vector<uint8_t> sealed(too_much.size() + kBlockOverhead);
  EXPECT_EQ(cipher_->Seal(file_, 0, true, too_much, sealed).code(), Code::kInvalidArgument);
  std::vector<uint8_t> small_out(10);
  EXPECT_EQ(cipher_->Seal(file_, 0, true, Pattern(10, 1), small_out).code(), Code::kInvalidArgument);
}

TEST_F(BlockCipherTest, AFailedOpenLeavesTheContextUsable) {
  auto sealed = SealBlock(0, true, Pattern(300, 8), file_);
  ExpectCorrupt(1, true, sealed, file_);
  std::vector<uint8_t> out(300);
  EXPECT_TRUE(cipher_->Open(file_, 0, true, sealed, out).ok());
  EXPECT_EQ(out, Pattern(300, 8));
}

TEST(BlockCipherCreateTest, RejectsKeysThatAreNot32Bytes) {
  FileKey key;
  key.key = SecureBytes(16);
  EXPECT_EQ(BlockCipher::Create(key).status().code(), Code::kInvalidArgument);
}

TEST(BlockCipherThreadTest, OneCipherPerThreadSealsAndOpensConcurrently) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      auto cipher = BlockCipher::Create(TestKey(static_cast<uint8_t>(t)));
      if (!cipher.ok()) { ++failures; return; }
      FileId id = TestFileId(static_cast<uint8_t>(t));
      for (uint64_t i = 0; i < 500; ++i) {
        auto plain = Pattern(1 + i % 4096, static_cast<uint8_t>(i));
        std::vector<uint8_t> sealed(plain.size() + kBlockOverhead), out(plain.size());
        if (!cipher->Seal(id, i, false, plain, sealed).ok() || !cipher->Open(id, i, false, sealed, out).ok() ||
            out != plain) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- random ----

TEST(RandomTest, NoncesDoNotRepeatAcrossManyRefills) {
  std::set<std::array<uint8_t, kNonceSize>> seen;
  for (int i = 0; i < 5000; ++i) {  // about 15 buffer refills
    std::array<uint8_t, kNonceSize> nonce;
    ASSERT_TRUE(RandomNonce(nonce).ok());
    EXPECT_TRUE(seen.insert(nonce).second);
  }
}

TEST(RandomTest, NewIdsAreDistinctAndDirIdsAreNeverTheRootId) {
  auto a = NewFileId();
  auto b = NewFileId();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  auto d = NewDirId();
  ASSERT_TRUE(d.ok());
  EXPECT_NE(*d, kRootDirId);
}

// ---- header ----

TEST(FileHeaderTest, EncodeThenParseRoundTrips) {
  FileHeader header{TestFileId(0x5a), 0x01020304};
  auto bytes = EncodeHeader(header);
  EXPECT_EQ(testing::Hex(bytes),
            "50485246" "01" "01" "0000" "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a" "01020304" "00000000");
  auto parsed = ParseHeader(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->file_id, header.file_id);
  EXPECT_EQ(parsed->key_epoch, header.key_epoch);
}

TEST(FileHeaderTest, ParseAcceptsTrailingBytesAfterTheHeader) {
  std::vector<uint8_t> object(100, 0);
  auto header = EncodeHeader(FileHeader{TestFileId(1), 0});
  std::copy(header.begin(), header.end(), object.begin());
  EXPECT_TRUE(ParseHeader(object).ok());
}

TEST(FileHeaderTest, MalformedHeadersAreCorruptOrNotSupported) {
  auto good = EncodeHeader(FileHeader{TestFileId(1), 7});
  auto bytes = [&] { return std::vector<uint8_t>(good.begin(), good.end()); };

  EXPECT_EQ(ParseHeader({}).status().code(), Code::kCorrupt);
  EXPECT_EQ(ParseHeader(std::span<const uint8_t>(good).first(31)).status().code(), Code::kCorrupt);
  for (size_t i = 0; i < 4; ++i) {
    auto b = bytes();
    b[i] ^= 0x20;
    EXPECT_EQ(ParseHeader(b).status().code(), Code::kCorrupt) << "magic byte " << i;
  }
  {
    auto b = bytes();
    b[4] = 2;
    EXPECT_EQ(ParseHeader(b).status().code(), Code::kNotSupported);
    b[4] = 0;
    EXPECT_EQ(ParseHeader(b).status().code(), Code::kNotSupported);
  }
  {
    auto b = bytes();
    b[5] = 2;
    EXPECT_EQ(ParseHeader(b).status().code(), Code::kNotSupported);
  }
  for (size_t i : {6, 7, 28, 29, 30, 31}) {
    auto b = bytes();
    b[i] = 1;
    EXPECT_EQ(ParseHeader(b).status().code(), Code::kCorrupt) << "reserved byte " << i;
  }
}

// ---- offset arithmetic ----
// With the v1 header (32 bytes), as `phrfs upgrade` reads it; the v2 header's (136 bytes) is
// checked in node_format_test.cc.
constexpr size_t kHeaderSize = kV1HeaderSize;

TEST(OffsetTest, BlockCountCipherSizeAndPlainSizeAgreeForEverySizeUpTo3BlocksPlus5) {
  for (uint64_t p = 0; p <= 3 * kBlockSize + 5; ++p) {
    uint64_t blocks = BlockCount(p);
    EXPECT_EQ(blocks, p == 0 ? 1 : (p + kBlockSize - 1) / kBlockSize) << p;
    uint64_t c = CipherSize(p, kHeaderSize);
    EXPECT_EQ(c, kHeaderSize + blocks * kBlockOverhead + p) << p;
    auto back = PlainSize(c, kHeaderSize);
    ASSERT_TRUE(back.ok()) << p << ": " << back.status().ToString();
    EXPECT_EQ(*back, p);
    // Block lengths add up, and every block but the last is full.
    uint64_t sum = 0;
    for (uint64_t i = 0; i < blocks; ++i) {
      size_t len = BlockPlainLength(p, i);
      if (i + 1 < blocks) {
        EXPECT_EQ(len, kBlockSize) << p << " block " << i;
      }
      sum += len;
    }
    EXPECT_EQ(sum, p);
    EXPECT_EQ(BlockPlainLength(p, blocks), 0u);
    EXPECT_EQ(BlockOffset(blocks - 1, kHeaderSize) + BlockPlainLength(p, blocks - 1) + kBlockOverhead, c) << p;
  }
}

TEST(OffsetTest, PlainSizeRejectsEveryImpossibleCipherSize) {
  std::set<uint64_t> valid;
  for (uint64_t p = 0; p <= 3 * kBlockSize + 5; ++p) valid.insert(CipherSize(p, kHeaderSize));
  uint64_t limit = CipherSize(3 * kBlockSize + 5, kHeaderSize);
  int rejected = 0;
  for (uint64_t c = 0; c <= limit; ++c) {
    auto plain = PlainSize(c, kHeaderSize);
    if (valid.count(c)) {
      EXPECT_TRUE(plain.ok()) << c;
    } else {
      ASSERT_FALSE(plain.ok()) << c << " -> " << *plain;
      EXPECT_EQ(plain.status().code(), Code::kCorrupt);
      ++rejected;
    }
  }
  // 0..59, then 1..27 after each of the 3 full blocks, plus the empty block after a full one.
  EXPECT_EQ(rejected, 60 + 3 * 28);
}

TEST(OffsetTest, SpecificSizes) {
  EXPECT_EQ(CipherSize(0, kHeaderSize), 60u);
  EXPECT_EQ(CipherSize(1, kHeaderSize), 61u);
  EXPECT_EQ(CipherSize(4096, kHeaderSize), 32u + 4124u);
  EXPECT_EQ(CipherSize(4097, kHeaderSize), 32u + 4124u + 29u);
  EXPECT_EQ(BlockOffset(0, kHeaderSize), 32u);
  EXPECT_EQ(BlockOffset(2, kHeaderSize), 32u + 2 * 4124u);
  EXPECT_FALSE(PlainSize(59, kHeaderSize).ok());
  EXPECT_FALSE(PlainSize(32 + 4124 + 28, kHeaderSize).ok());  // a trailing empty block after a full one
  EXPECT_FALSE(PlainSize(32 + 4124 + 27, kHeaderSize).ok());
  EXPECT_EQ(*PlainSize(uint64_t{32} + 1000 * uint64_t{4124}, kHeaderSize), 1000 * uint64_t{4096});
}

}  // namespace
}  // namespace phrfs::crypto
