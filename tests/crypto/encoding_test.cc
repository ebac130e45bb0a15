// base/encoding: RFC 4648 section 10 vectors and rejection of non-canonical input.
#include "base/encoding.h"

#include <gtest/gtest.h>

#include "tests/crypto/test_util.h"

namespace phrfs {
namespace {

using crypto::testing::AsBytes;

struct Vector {
  const char* plain;
  const char* base64url;
  const char* base32;
  const char* hex;
};

// RFC 4648 section 10, without padding and with base32 in lower case.
constexpr Vector kRfc4648[] = {
    {"", "", "", ""},
    {"f", "Zg", "my", "66"},
    {"fo", "Zm8", "mzxq", "666f"},
    {"foo", "Zm9v", "mzxw6", "666f6f"},
    {"foob", "Zm9vYg", "mzxw6yq", "666f6f62"},
    {"fooba", "Zm9vYmE", "mzxw6ytb", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "mzxw6ytboi", "666f6f626172"},
};

TEST(EncodingTest, Base64UrlEncodesTheRfc4648VectorsWithoutPadding) {
  for (const auto& v : kRfc4648) EXPECT_EQ(Base64UrlEncode(AsBytes(v.plain)), v.base64url) << v.plain;
}

TEST(EncodingTest, Base64UrlDecodesTheRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    auto decoded = Base64UrlDecode(v.base64url);
    ASSERT_TRUE(decoded.has_value()) << v.base64url;
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), v.plain);
  }
}

TEST(EncodingTest, Base64UrlUsesTheUrlSafeAlphabet) {
  const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  const uint8_t two[] = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlEncode(two), "-_8");
  auto decoded = Base64UrlDecode("-_-_");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, std::vector<uint8_t>(std::begin(bytes), std::end(bytes)));
}

TEST(EncodingTest, Base64UrlRejectsNonCanonicalInput) {
  for (const char* bad : {
           "Zg==",     // padding
           "Zm8=",     // padding
           "Zh",       // non-zero unused trailing bits
           "Zm9",      // non-zero unused trailing bits
           "Z",        // impossible length
           "Zm9vY",    // impossible length
           "Zm9v+",    // standard alphabet
           "Zm9v/w",   // standard alphabet
           " Zg",      // whitespace
           "Zg\n",     // trailing newline
           "Zm 9v",    // embedded space
       }) {
    EXPECT_FALSE(Base64UrlDecode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm9\0", 4)).has_value());  // NUL
  EXPECT_FALSE(Base64UrlDecode("\xc3\xa9").has_value());
}

TEST(EncodingTest, Base64UrlRoundTripsEveryLengthUpTo100Bytes) {
  std::vector<uint8_t> data;
  for (size_t n = 0; n <= 100; ++n) {
    auto encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.size(), (n * 4 + 2) / 3);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

TEST(EncodingTest, HexEncodesLowercaseAndDecodesTheRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(HexEncode(AsBytes(v.plain)), v.hex);
    auto decoded = HexDecode(v.hex);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), v.plain);
  }
  const uint8_t all[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
  EXPECT_EQ(HexEncode(all), "0001abcdefff");
}

TEST(EncodingTest, HexRejectsOddLengthUppercaseAndOtherCharacters) {
  for (const char* bad : {"0", "abc", "AB", "0A", "0g", "zz", " 00", "00 ", "0x00", "-1"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << bad;
  }
}

TEST(EncodingTest, Base32LowerEncodesTheRfc4648VectorsWithoutPadding) {
  for (const auto& v : kRfc4648) EXPECT_EQ(Base32LowerEncode(AsBytes(v.plain)), v.base32) << v.plain;
  std::vector<uint8_t> twenty(20, 0xff);
  EXPECT_EQ(Base32LowerEncode(twenty), std::string(32, '7'));
}

TEST(EncodingTest, Base32LowerDecodesTheRfc4648VectorsAndRoundTrips) {
  for (const auto& v : kRfc4648) {
    auto decoded = Base32LowerDecode(v.base32);
    ASSERT_TRUE(decoded.has_value()) << v.base32;
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), v.plain);
  }
  std::vector<uint8_t> data;
  for (int n = 0; n < 40; ++n) {
    auto decoded = Base32LowerDecode(Base32LowerEncode(data));
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<uint8_t>(n * 53 + 7));
  }
}

TEST(EncodingTest, Base32LowerRejectsUppercasePaddingBadLengthsAndNonCanonicalTails) {
  // "my" is "f"; "mz" has a non-zero unused bit; 1, 3 and 6 trailing characters are impossible.
  for (const char* bad : {"MY", "my======", "m", "mzxw7", "mzxw6y", "mz", "m1", "m8", "my ", "m-"}) {
    EXPECT_FALSE(Base32LowerDecode(bad).has_value()) << bad;
  }
}

TEST(CanonicalDecimalTest, AcceptsOnlyCanonicalUnsignedDecimals) {
  EXPECT_EQ(ParseCanonicalDecimal("0"), 0u);
  EXPECT_EQ(ParseCanonicalDecimal("17"), 17u);
  EXPECT_EQ(ParseCanonicalDecimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "01", "00", "+1", "-1", " 1", "1 ", "1a", "0x10",
                          "18446744073709551616", "99999999999999999999", "123456789012345678901"}) {
    EXPECT_FALSE(ParseCanonicalDecimal(bad).has_value()) << bad;
  }
}

TEST(SplitTerminatedLinesTest, SplitsOnlyTextWhoseEveryLineEnds) {
  auto lines = SplitTerminatedLines("a\n\nbc\n");
  ASSERT_TRUE(lines.has_value());
  EXPECT_EQ(*lines, (std::vector<std::string_view>{"a", "", "bc"}));
  EXPECT_TRUE(SplitTerminatedLines("")->empty());
  size_t bad = 0;
  EXPECT_FALSE(SplitTerminatedLines("a\nb\nc", &bad).has_value());
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(SplitTerminatedLines("x", &bad).has_value());
  EXPECT_EQ(bad, 1u);
}

}  // namespace
}  // namespace phrfs
