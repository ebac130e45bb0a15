// crypto/name_cipher: SIV names bound to their directory, validation, long names.
#include "crypto/name_cipher.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

SecureBytes NameKey(uint8_t seed) {
  SecureBytes key(64);
  for (size_t i = 0; i < 64; ++i) key[i] = static_cast<uint8_t>(seed * 3 + i);
  return key;
}

DirId Dir(uint8_t fill) {
  DirId d;
  d.bytes.fill(fill);
  return d;
}

class NameCipherTest : public ::testing::Test {
 protected:
  NameCipher names_{NameKey(1)};
};

TEST_F(NameCipherTest, EncryptThenDecryptRoundTrips) {
  for (std::string name : std::initializer_list<std::string>{"a", "hello.txt", "with space", "ünïcødé ✓", ".hidden", "...", std::string(175, 'x'),
                           std::string(255, 'y'), std::string("\x01\x7f\xff", 3)}) {
    auto enc = names_.Encrypt(Dir(1), name);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    auto dec = names_.Decrypt(Dir(1), *enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, name);
  }
}

TEST_F(NameCipherTest, EncryptionIsDeterministicWithinADirectory) {
  EXPECT_EQ(*names_.Encrypt(Dir(1), "same"), *names_.Encrypt(Dir(1), "same"));
  EXPECT_NE(*names_.Encrypt(Dir(1), "same"), *names_.Encrypt(Dir(1), "Same"));
}

TEST_F(NameCipherTest, TheSameNameInAnotherDirectoryEncryptsDifferently) {
  EXPECT_NE(*names_.Encrypt(Dir(1), "report.pdf"), *names_.Encrypt(Dir(2), "report.pdf"));
  EXPECT_NE(*names_.Encrypt(kRootDirId, "report.pdf"), *names_.Encrypt(Dir(1), "report.pdf"));
}

TEST_F(NameCipherTest, DecryptingWithTheWrongDirectoryIsCorrupt) {
  auto enc = names_.Encrypt(Dir(1), "moved");
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(names_.Decrypt(Dir(2), *enc).status().code(), Code::kCorrupt);
}

TEST_F(NameCipherTest, DecryptingWithTheWrongKeyIsCorrupt) {
  auto enc = names_.Encrypt(Dir(1), "secret");
  ASSERT_TRUE(enc.ok());
  NameCipher other(NameKey(2));
  EXPECT_EQ(other.Decrypt(Dir(1), *enc).status().code(), Code::kCorrupt);
}

TEST_F(NameCipherTest, TamperedOrNonCanonicalEncodingsAreCorrupt) {
  auto enc = names_.Encrypt(Dir(1), "abcdef");
  ASSERT_TRUE(enc.ok());
  for (size_t i = 0; i < enc->size(); ++i) {
    std::string t = *enc;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(names_.Decrypt(Dir(1), t).status().code(), Code::kCorrupt) << i;
  }
  EXPECT_EQ(names_.Decrypt(Dir(1), *enc + "=").status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), *enc + "A").status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), enc->substr(0, enc->size() - 1)).status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), "").status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), Base64UrlEncode(std::vector<uint8_t>(16, 0))).status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), ".Labc").status().code(), Code::kCorrupt);
  EXPECT_EQ(names_.Decrypt(Dir(1), std::string(400, 'A')).status().code(), Code::kCorrupt);
}

TEST_F(NameCipherTest, InvalidNamesAreRejected) {
  for (std::string_view bad : {std::string_view(""), std::string_view("."), std::string_view(".."),
                               std::string_view("a/b"), std::string_view("/"), std::string_view("a\0b", 3)}) {
    EXPECT_EQ(names_.Encrypt(Dir(1), bad).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(names_.Encrypt(Dir(1), std::string(256, 'z')).status().code(), Code::kNameTooLong);
}

TEST_F(NameCipherTest, AKeyThatIsNot64BytesIsRefused) {
  NameCipher bad(SecureBytes(32));
  EXPECT_EQ(bad.Encrypt(Dir(1), "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.Decrypt(Dir(1), "AAAAAAAAAAAAAAAAAAAAAAAA").status().code(), Code::kInvalidArgument);
}

TEST_F(NameCipherTest, EncodedLengthIsTheBase64OfTagPlusName) {
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{21}, size_t{100}, size_t{255}}) {
    auto enc = names_.Encrypt(Dir(1), std::string(n, 'q'));
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(enc->size(), ((16 + n) * 4 + 2) / 3) << n;
  }
  EXPECT_EQ(names_.Encrypt(Dir(1), std::string(21, 'q'))->size(), 50u);
}

TEST_F(NameCipherTest, A175ByteNameFitsAndA176ByteNameNeedsTheLongForm) {
  auto fits = names_.Encrypt(Dir(1), std::string(175, 'n'));
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->size(), 255u);
  EXPECT_FALSE(IsLongName(*fits));
  auto too_long = names_.Encrypt(Dir(1), std::string(176, 'n'));
  ASSERT_TRUE(too_long.ok());
  EXPECT_EQ(too_long->size(), 256u);
  EXPECT_TRUE(IsLongName(*too_long));
  auto longest = names_.Encrypt(Dir(1), std::string(255, 'n'));
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), 362u);
  EXPECT_TRUE(IsLongName(*longest));
}

TEST(LongNameTest, StemIsDotLPlusBase64UrlOfSha256AndIs45Characters) {
  std::string encoded(300, 'A');
  std::string stem = LongNameStem(encoded);
  EXPECT_EQ(stem.size(), 45u);
  EXPECT_EQ(stem.substr(0, 2), kLongNamePrefix);
  // SHA-256 of "abc" in base64url: the stem is a pure function of the encoded name.
  EXPECT_EQ(LongNameStem("abc"), ".LungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_NE(LongNameStem(encoded), LongNameStem(encoded + "A"));
  EXPECT_FALSE(IsLongName(std::string(255, 'A')));
  EXPECT_TRUE(IsLongName(std::string(256, 'A')));
}

}  // namespace
}  // namespace phrfs::crypto
