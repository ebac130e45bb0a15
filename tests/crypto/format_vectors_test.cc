// FORMAT "TEST VECTORS" (man/phrfs-format.5): fixed inputs, fixed outputs. The expected values
// were computed independently of this code (openssl kdf / openssl mac on the command line, and
// Python's cryptography package for GCM and SIV) and are printed in the man page. If one of these
// fails, the on-disk format changed: that needs a new format version, not a new expected value.
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "crypto/content_cipher.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "crypto/store_config.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using testing::AsBytes;
using testing::FromHex;
using testing::Hex;
using testing::Sequence;

// ---- fixed inputs ----
// master key  00 01 02 ... 1f          store id  a0 a1 ... af
// file id     b0 b1 ... bf             dir id    c0 c1 ... cf
// GCM nonce   d0 d1 ... db             recovery key  e0 e1 ... ff
// scrypt salt 40 41 ... 5f, passphrase "phrfs-test-passphrase", N=1024 r=8 p=1

SecureBytes MasterKey() { return SecureBytes(std::span<const uint8_t>(Sequence<32>(0x00))); }
StoreId TheStoreId() { return StoreId{Sequence<16>(0xa0)}; }
FileId TheFileId() { return FileId{Sequence<16>(0xb0)}; }
DirId TheDirId() { return DirId{Sequence<16>(0xc0)}; }

class FormatVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto keys = StoreKeys::Derive(MasterKey(), TheStoreId());
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_.emplace(std::move(keys).value());
  }
  std::optional<StoreKeys> keys_;
};

TEST_F(FormatVectorsTest, SubKeysMatchTheDocumentedValues) {
  EXPECT_EQ(Hex(keys_->content.key), "4fb63291de61c03d56819be9cf49bb23d1b92a7e3a169f7cdadd79ea7cb7caea");
  EXPECT_EQ(Hex(keys_->names),
            "eb9b15f24a4566e885063dcdfc5837b3e52a8de2ff6f94e0627839cbd4a487b5"
            "e628c79bb73e6f9327366d19ab27d0353ad1aed1612a47a19d0cb4001b60bc61");
  EXPECT_EQ(Hex(keys_->dir_hash), "b0e8374967032d3f6147a95dac4ee7202a68a0e4c9dd728fe70910b610e413cd");
  EXPECT_EQ(keys_->content.epoch, 0u);
}

TEST_F(FormatVectorsTest, FileKeyMatchesTheDocumentedValue) {
  auto file_key = DeriveFileKey(keys_->content, TheFileId());
  ASSERT_TRUE(file_key.ok());
  EXPECT_EQ(Hex(file_key->key), "be4f09c5ca6a80e0623b9e5a0fad748819f4ccd22b9c7f03032f32362f9cc484");
}

TEST_F(FormatVectorsTest, HeaderMatchesTheDocumentedBytes) {
  EXPECT_EQ(Hex(EncodeHeader(FileHeader{TheFileId(), 0})),
            "5048524601010000b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000000000000000");
}

TEST_F(FormatVectorsTest, SealedBlocksWithAFixedNonceMatchTheDocumentedBytes) {
  auto file_key = DeriveFileKey(keys_->content, TheFileId());
  ASSERT_TRUE(file_key.ok());
  auto cipher = BlockCipher::Create(*file_key);
  ASSERT_TRUE(cipher.ok());
  const auto nonce = Sequence<12>(0xd0);
  const std::string plain = "phrfs test vector";
  std::vector<uint8_t> out(plain.size() + kBlockOverhead);

  // Block 0 of a one-block file: last flag 1.
  ASSERT_TRUE(cipher->SealWithNonce(TheFileId(), 0, true, nonce, AsBytes(plain), out).ok());
  EXPECT_EQ(Hex(out),
            "d0d1d2d3d4d5d6d7d8d9dadb"
            "2c80df3724d9d167862a70a010b01e5cf3"
            "9daba142f1899458a1b5c62c8c1b0893");
  std::vector<uint8_t> back(plain.size());
  ASSERT_TRUE(cipher->Open(TheFileId(), 0, true, out, back).ok());
  EXPECT_EQ(testing::AsString(back), plain);

  // The same bytes as block 5, not last: same ciphertext (same key, nonce), different tag.
  ASSERT_TRUE(cipher->SealWithNonce(TheFileId(), 5, false, nonce, AsBytes(plain), out).ok());
  EXPECT_EQ(Hex(out),
            "d0d1d2d3d4d5d6d7d8d9dadb"
            "2c80df3724d9d167862a70a010b01e5cf3"
            "cc98301ed3be07f2db8880c9616ef4c6");
}

TEST_F(FormatVectorsTest, EncryptedNamesMatchTheDocumentedText) {
  NameCipher names(keys_->names.Clone());
  EXPECT_EQ(*names.Encrypt(TheDirId(), "hello.txt"), "0GOcBamGtZOO6EjXwLy31ADqhq7FJMJTCQ");
  EXPECT_EQ(*names.Encrypt(kRootDirId, "hello.txt"), "p55CUJFTW7rdvlLDWgISJMQtl6aU27d9Og");
  auto decrypted = names.Decrypt(TheDirId(), "0GOcBamGtZOO6EjXwLy31ADqhq7FJMJTCQ");
  ASSERT_TRUE(decrypted.ok());
  EXPECT_EQ(*decrypted, "hello.txt");

  auto long_name = names.Encrypt(TheDirId(), std::string(200, 'a'));
  ASSERT_TRUE(long_name.ok());
  EXPECT_EQ(long_name->size(), 288u);
  EXPECT_TRUE(IsLongName(*long_name));
  EXPECT_EQ(LongNameStem(*long_name), ".LEUbIzUGCVAHQSekoVYLebTDjvRgQst8OP0tsbTzlobc");
}

TEST_F(FormatVectorsTest, DirFolderPathsMatchTheDocumentedText) {
  EXPECT_EQ(*DirFolderPath(keys_->dir_hash, TheDirId()), "gz/gkv7deqqtiwjyex7ypw6hvtgxdohhc");
  EXPECT_EQ(*DirFolderPath(keys_->dir_hash, kRootDirId), "7h/uros5fkz2dtxvq3whu4j6lqlkxta6a");
}

TEST_F(FormatVectorsTest, KeyEncryptionKeysMatchTheDocumentedValues) {
  auto pass_kek = Scrypt("phrfs-test-passphrase", Sequence<32>(0x40), ScryptParams{1024, 8, 1}, 32);
  ASSERT_TRUE(pass_kek.ok());
  EXPECT_EQ(Hex(*pass_kek), "6c72380c78fdd092d6be62d3ccdb71f7388e564b1af4db4519b1cc24209d51f7");
  auto recovery_kek = HkdfSha256(Sequence<32>(0xe0), TheStoreId().bytes, kLabelRecoveryKek, 32);
  ASSERT_TRUE(recovery_kek.ok());
  EXPECT_EQ(Hex(*recovery_kek), "7087bce3032602da86dfa05eecac71aaec90d60b47e2555945d190acc4374ac9");
}

// A complete store config built outside this code from the documented AAD layout (nonce d0..db
// for both wrappings): parsing and unlocking it pins the text format and the associated data.
constexpr char kVectorConfig[] =
    "phrfs-store 1\n"
    "store_id a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n"
    "flags none\n"
    "kdf scrypt n=1024 r=8 p=1 salt=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
    "wrapped_passphrase 0NHS09TV1tfY2drbAS1NZOj9Hx4Qacw4wSSaHN8dsZeVitIFDoA_vO0AyrQgpUfhJXP26Nq93IfJu8MD\n"
    "wrapped_recovery 0NHS09TV1tfY2drbLBaZEDosmjmZV9goyezuUFd_9opxN4MqRyij6OmBl82Rm715_POf7Z6td2gnQq29\n";

TEST_F(FormatVectorsTest, TheDocumentedStoreConfigUnlocksWithPassphraseAndRecoveryKey) {
  auto config = ParseStoreConfig(kVectorConfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->store_id, TheStoreId());
  EXPECT_EQ(SerializeStoreConfig(*config), kVectorConfig);

  auto master = UnlockWithPassphrase(*config, "phrfs-test-passphrase");
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_EQ(Hex(*master), Hex(MasterKey()));

  auto recovery_key = ParseRecoveryKey("e0e1e2e3-e4e5e6e7-e8e9eaeb-ecedeeef-f0f1f2f3-f4f5f6f7-f8f9fafb-fcfdfeff");
  ASSERT_TRUE(recovery_key.ok());
  auto recovered = UnlockWithRecoveryKey(*config, *recovery_key);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ(Hex(*recovered), Hex(MasterKey()));
  EXPECT_EQ(FormatRecoveryKey(*recovery_key),
            "e0e1e2e3-e4e5e6e7-e8e9eaeb-ecedeeef-f0f1f2f3-f4f5f6f7-f8f9fafb-fcfdfeff");
}

}  // namespace
}  // namespace phrfs::crypto
