// crypto/keys: the key hierarchy's shape (values are pinned in format_vectors_test.cc).
#include "crypto/keys.h"

#include <gtest/gtest.h>

#include "crypto/kdf.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

SecureBytes Master(uint8_t fill) {
  SecureBytes key(32);
  for (size_t i = 0; i < 32; ++i) key[i] = fill;
  return key;
}

StoreId Store(uint8_t fill) {
  StoreId id;
  id.bytes.fill(fill);
  return id;
}

TEST(StoreKeysTest, DerivesSubKeysOfTheDocumentedSizesAtEpochZero) {
  auto keys = StoreKeys::Derive(Master(1), Store(2));
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->content.key.size(), 32u);
  EXPECT_EQ(keys->content.epoch, 0u);
  EXPECT_EQ(keys->names.size(), 64u);
  EXPECT_EQ(keys->dir_hash.size(), 32u);
}

TEST(StoreKeysTest, EachPurposeGetsItsOwnKeyAndEachMatchesItsHkdfLabel) {
  auto keys = StoreKeys::Derive(Master(1), Store(2));
  ASSERT_TRUE(keys.ok());
  auto master = Master(1);
  StoreId store = Store(2);
  auto expect = [&](const SecureBytes& key, const char* label) {
    auto want = HkdfSha256(master.span(), store.bytes, label, key.size());
    ASSERT_TRUE(want.ok());
    EXPECT_TRUE(key.Equals(want->span())) << label;
  };
  expect(keys->content.key, kLabelContent);
  expect(keys->names, kLabelNames);
  expect(keys->dir_hash, kLabelDirHash);
  EXPECT_FALSE(keys->content.key.Equals(keys->dir_hash.span()));
}

TEST(StoreKeysTest, AnotherStoreIdOrMasterKeyGivesOtherKeys) {
  auto a = StoreKeys::Derive(Master(1), Store(2));
  auto b = StoreKeys::Derive(Master(1), Store(3));
  auto c = StoreKeys::Derive(Master(4), Store(2));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(a->content.key.Equals(b->content.key.span()));
  EXPECT_FALSE(a->content.key.Equals(c->content.key.span()));
  EXPECT_FALSE(a->names.Equals(b->names.span()));
}

TEST(StoreKeysTest, AMasterKeyThatIsNot32BytesIsRefused) {
  EXPECT_EQ(StoreKeys::Derive(SecureBytes(16), Store(1)).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(StoreKeys::Derive(SecureBytes(), Store(1)).status().code(), Code::kInvalidArgument);
}

TEST(FileKeyTest, EachFileIdGetsItsOwnKey) {
  auto keys = StoreKeys::Derive(Master(1), Store(2));
  ASSERT_TRUE(keys.ok());
  FileId f1, f2;
  f1.bytes.fill(1);
  f2.bytes.fill(2);
  auto k1 = DeriveFileKey(keys->content, f1);
  auto k1again = DeriveFileKey(keys->content, f1);
  auto k2 = DeriveFileKey(keys->content, f2);
  ASSERT_TRUE(k1.ok() && k1again.ok() && k2.ok());
  EXPECT_EQ(k1->key.size(), 32u);
  EXPECT_TRUE(k1->key.Equals(k1again->key.span()));
  EXPECT_FALSE(k1->key.Equals(k2->key.span()));
  EXPECT_FALSE(k1->key.Equals(keys->content.key.span()));
  FolderKey bad;
  EXPECT_EQ(DeriveFileKey(bad, f1).status().code(), Code::kInvalidArgument);
}

TEST(DirFolderPathTest, IsTwoCharactersSlashThirtyLowercaseBase32) {
  auto keys = StoreKeys::Derive(Master(1), Store(2));
  ASSERT_TRUE(keys.ok());
  DirId dir;
  dir.bytes.fill(9);
  auto path = DirFolderPath(keys->dir_hash, dir);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  ASSERT_EQ(path->size(), 33u);
  EXPECT_EQ((*path)[2], '/');
  for (size_t i = 0; i < path->size(); ++i) {
    if (i == 2) continue;
    char c = (*path)[i];
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << *path;
  }
  EXPECT_EQ(*path, *DirFolderPath(keys->dir_hash, dir));
  EXPECT_NE(*path, *DirFolderPath(keys->dir_hash, kRootDirId));
  EXPECT_EQ(DirFolderPath(SecureBytes(5), dir).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace phrfs::crypto
