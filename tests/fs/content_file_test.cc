// ContentFile against a plain in-memory model: random writes, truncations and reads on a memfd
// must give the model's bytes, before and after reloading, and the object must keep the size the
// format predicts. Tampering with the object must surface as Corrupt, never as wrong bytes.
#include "fs/content_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/content_cipher.h"
#include "crypto/random.h"
#include "remote/local/posix_io.h"

namespace phrfs::fs {
namespace {

using crypto::kBlockSize;

crypto::FolderKey TestFolderKey() {
  crypto::FolderKey key{SecureBytes(32), 0};
  for (size_t i = 0; i < 32; ++i) key.key[i] = static_cast<uint8_t>(i * 7 + 1);
  return key;
}

class ContentFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = remote::Fd(memfd_create("content", 0));
    ASSERT_TRUE(fd_.valid());
  }
  uint64_t ObjectSize() {
    auto st = remote::StatFd(fd_.get());
    EXPECT_TRUE(st.ok());
    return st.ok() ? static_cast<uint64_t>(st->st_size) : 0;
  }
  std::vector<uint8_t> ReadAll(const ContentFile& file) {
    std::vector<uint8_t> out(file.size());
    auto n = file.Read(fd_.get(), 0, out);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (n.ok()) out.resize(*n);
    return out;
  }
  void FlipByte(uint64_t offset) {
    uint8_t b;
    ASSERT_EQ(pread(fd_.get(), &b, 1, offset), 1);
    b ^= 0x01;
    ASSERT_EQ(pwrite(fd_.get(), &b, 1, offset), 1);
  }

  crypto::FolderKey folder_ = TestFolderKey();
  remote::Fd fd_;
};

TEST_F(ContentFileTest, NewFileIsEmptyAndHasOneEmptyFinalBlock) {
  auto file = ContentFile::Create(fd_.get(), folder_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->size(), 0u);
  EXPECT_EQ(ObjectSize(), crypto::CipherSize(0));
  auto loaded = ContentFile::Load(fd_.get(), folder_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 0u);
  EXPECT_EQ(loaded->file_id(), file->file_id());
}

TEST_F(ContentFileTest, RandomOperationsMatchAPlainModel) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SetUp();
    std::mt19937_64 rng(seed);
    auto created = ContentFile::Create(fd_.get(), folder_);
    ASSERT_TRUE(created.ok());
    ContentFile file = std::move(created).value();
    std::vector<uint8_t> model;
    auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n)(rng); };
    // Offsets cluster around block boundaries, where the arithmetic is easiest to get wrong.
    auto offset = [&]() -> uint64_t {
      uint64_t base = pick(6) * kBlockSize;
      int64_t delta = static_cast<int64_t>(pick(4)) - 2;
      return pick(3) == 0 ? pick(6 * kBlockSize) : static_cast<uint64_t>(std::max<int64_t>(0, base + delta));
    };
    for (int step = 0; step < 300; ++step) {
      const uint64_t op = pick(9);
      if (op <= 4) {
        const uint64_t off = offset();
        std::vector<uint8_t> data(pick(3) == 0 ? pick(3 * kBlockSize) : pick(64));
        for (auto& b : data) b = static_cast<uint8_t>(rng());
        ASSERT_TRUE(file.Write(fd_.get(), off, data).ok()) << "step " << step;
        if (!data.empty()) {
          if (model.size() < off + data.size()) model.resize(off + data.size(), 0);
          std::copy(data.begin(), data.end(), model.begin() + off);
        }
      } else if (op <= 6) {
        const uint64_t size = pick(5) == 0 ? 0 : offset();
        ASSERT_TRUE(file.Truncate(fd_.get(), size).ok()) << "step " << step;
        model.resize(size, 0);
      } else if (op <= 8) {
        const uint64_t off = offset();
        std::vector<uint8_t> out(pick(2 * kBlockSize));
        auto n = file.Read(fd_.get(), off, out);
        ASSERT_TRUE(n.ok()) << n.status().ToString();
        const uint64_t expect = off >= model.size() ? 0 : std::min<uint64_t>(out.size(), model.size() - off);
        ASSERT_EQ(*n, expect) << "step " << step;
        ASSERT_TRUE(std::equal(out.begin(), out.begin() + *n, model.begin() + off)) << "step " << step;
      } else {
        auto reloaded = ContentFile::Load(fd_.get(), folder_);
        ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
        file = std::move(reloaded).value();
      }
      ASSERT_EQ(file.size(), model.size()) << "step " << step;
      ASSERT_EQ(ObjectSize(), crypto::CipherSize(model.size())) << "step " << step;
    }
    auto reloaded = ContentFile::Load(fd_.get(), folder_);
    ASSERT_TRUE(reloaded.ok());
    EXPECT_EQ(ReadAll(*reloaded), model);
  }
}

TEST_F(ContentFileTest, WriteFarPastTheEndFillsTheHoleWithEncryptedZeros) {
  auto file = ContentFile::Create(fd_.get(), folder_);
  ASSERT_TRUE(file.ok());
  const std::vector<uint8_t> tail = {1, 2, 3};
  ASSERT_TRUE(file->Write(fd_.get(), 300 * kBlockSize + 17, tail).ok());
  EXPECT_EQ(file->size(), 300 * kBlockSize + 20);
  auto all = ReadAll(*file);
  EXPECT_TRUE(std::all_of(all.begin(), all.end() - 3, [](uint8_t b) { return b == 0; }));
  // No block of the object is all zero bytes: holes are ciphertext too.
  std::vector<uint8_t> block(crypto::kCipherBlockSize);
  ASSERT_TRUE(remote::ReadAt(fd_.get(), block, crypto::BlockOffset(5)).ok());
  EXPECT_FALSE(std::all_of(block.begin(), block.end(), [](uint8_t b) { return b == 0; }));
}

TEST_F(ContentFileTest, TruncateToZeroDrawsANewFileId) {
  auto file = ContentFile::Create(fd_.get(), folder_);
  ASSERT_TRUE(file.ok());
  std::vector<uint8_t> data(10000, 7);
  ASSERT_TRUE(file->Write(fd_.get(), 0, data).ok());
  const crypto::FileId before = file->file_id();
  ASSERT_TRUE(file->Truncate(fd_.get(), 0).ok());
  EXPECT_FALSE(file->file_id() == before);
  EXPECT_EQ(ObjectSize(), crypto::CipherSize(0));
}

class ContentFileTamperTest : public ContentFileTest {
 protected:
  void SetUp() override {
    ContentFileTest::SetUp();
    auto file = ContentFile::Create(fd_.get(), folder_);
    ASSERT_TRUE(file.ok());
    data_.resize(3 * kBlockSize + 100);
    for (size_t i = 0; i < data_.size(); ++i) data_[i] = static_cast<uint8_t>(i * 31);
    ASSERT_TRUE(file->Write(fd_.get(), 0, data_).ok());
  }
  Status ReadBlock(uint64_t index) {
    auto file = ContentFile::Load(fd_.get(), folder_);
    if (!file.ok()) return file.status();
    std::vector<uint8_t> out(kBlockSize);
    auto n = file->Read(fd_.get(), index * kBlockSize, out);
    if (n.ok()) {
      EXPECT_TRUE(std::equal(out.begin(), out.begin() + *n, data_.begin() + index * kBlockSize));
    }
    return n.status();
  }
  std::vector<uint8_t> data_;
};

TEST_F(ContentFileTamperTest, FlippedCiphertextByteFailsOnlyThatBlock) {
  FlipByte(crypto::BlockOffset(1) + 100);
  Status st = ReadBlock(1);
  EXPECT_EQ(st.code(), Code::kCorrupt);
  EXPECT_NE(st.message().find("block 1"), std::string::npos) << st.message();
  EXPECT_TRUE(ReadBlock(0).ok());
  EXPECT_TRUE(ReadBlock(2).ok());
  EXPECT_TRUE(ReadBlock(3).ok());
}

TEST_F(ContentFileTamperTest, FlippedNonceOrTagFails) {
  FlipByte(crypto::BlockOffset(0));                                     // nonce
  FlipByte(crypto::BlockOffset(2) + crypto::kCipherBlockSize - 1);      // tag
  EXPECT_EQ(ReadBlock(0).code(), Code::kCorrupt);
  EXPECT_EQ(ReadBlock(2).code(), Code::kCorrupt);
}

TEST_F(ContentFileTamperTest, SwappedBlocksFail) {
  std::vector<uint8_t> a(crypto::kCipherBlockSize), b(crypto::kCipherBlockSize);
  ASSERT_TRUE(remote::ReadAt(fd_.get(), a, crypto::BlockOffset(0)).ok());
  ASSERT_TRUE(remote::ReadAt(fd_.get(), b, crypto::BlockOffset(1)).ok());
  ASSERT_TRUE(remote::WriteAt(fd_.get(), b, crypto::BlockOffset(0)).ok());
  ASSERT_TRUE(remote::WriteAt(fd_.get(), a, crypto::BlockOffset(1)).ok());
  EXPECT_EQ(ReadBlock(0).code(), Code::kCorrupt);
  EXPECT_EQ(ReadBlock(1).code(), Code::kCorrupt);
}

TEST_F(ContentFileTamperTest, DroppingTheLastBlockIsDetected) {
  ASSERT_TRUE(remote::Truncate(fd_.get(), crypto::BlockOffset(3)).ok());
  // Three full blocks now look like a 12 KiB file whose last block lacks the last flag.
  EXPECT_EQ(ReadBlock(2).code(), Code::kCorrupt);
  EXPECT_TRUE(ReadBlock(1).ok());
}

TEST_F(ContentFileTamperTest, BlockFromAnotherFileFails) {
  remote::Fd other(memfd_create("other", 0));
  auto file = ContentFile::Create(other.get(), folder_);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->Write(other.get(), 0, data_).ok());
  std::vector<uint8_t> block(crypto::kCipherBlockSize);
  ASSERT_TRUE(remote::ReadAt(other.get(), block, crypto::BlockOffset(1)).ok());
  ASSERT_TRUE(remote::WriteAt(fd_.get(), block, crypto::BlockOffset(1)).ok());
  EXPECT_EQ(ReadBlock(1).code(), Code::kCorrupt);
}

TEST_F(ContentFileTamperTest, ObjectCutToNothingFailsToLoad) {
  ASSERT_TRUE(remote::Truncate(fd_.get(), 0).ok());
  EXPECT_EQ(ContentFile::Load(fd_.get(), folder_).status().code(), Code::kCorrupt);
}

TEST_F(ContentFileTamperTest, ImpossibleObjectSizeFailsToLoad) {
  ASSERT_TRUE(remote::Truncate(fd_.get(), crypto::BlockOffset(3) + 5).ok());
  EXPECT_EQ(ContentFile::Load(fd_.get(), folder_).status().code(), Code::kCorrupt);
}

TEST_F(ContentFileTamperTest, DamagedHeaderFailsToLoadOrRead) {
  FlipByte(0);  // magic
  EXPECT_EQ(ContentFile::Load(fd_.get(), folder_).status().code(), Code::kCorrupt);
  FlipByte(0);
  FlipByte(10);  // file id: a different per-file key, so every block fails
  EXPECT_EQ(ReadBlock(0).code(), Code::kCorrupt);
}

TEST(SmallObjectTest, RoundTripsAndRejectsTampering) {
  const crypto::FolderKey folder = TestFolderKey();
  const std::vector<uint8_t> plain = {'t', 'a', 'r', 'g', 'e', 't'};
  auto object = SealObject(folder, plain);
  ASSERT_TRUE(object.ok());
  auto opened = OpenObject(folder, *object);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, plain);
  (*object)[object->size() - 1] ^= 1;
  EXPECT_EQ(OpenObject(folder, *object).status().code(), Code::kCorrupt);
}

}  // namespace
}  // namespace phrfs::fs
