// Known-answer tests: published vectors run through the same EVP sequences production uses
// (crypto/aead.h's GcmContext and SIV functions, crypto/kdf.h).
#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using testing::AsBytes;
using testing::FromHex;
using testing::Hex;

// ---- AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14
// and 16 (the AES-256 cases of the GCM specification that NIST SP 800-38D references). ----

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* aad;
  const char* plain;
  const char* cipher;
  const char* tag;
};

constexpr GcmVector kGcmVectors[] = {
    {"TestCase13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"TestCase14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"TestCase16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(KnownAnswerTest, Aes256GcmSealMatchesTheGcmSpecVectorsIncludingTestCase16WithAad) {
  for (const auto& v : kGcmVectors) {
    auto sealed = internal::GcmSealRaw(FromHex(v.key), FromHex(v.iv), FromHex(v.aad), FromHex(v.plain));
    ASSERT_TRUE(sealed.ok()) << v.name << ": " << sealed.status().ToString();
    EXPECT_EQ(Hex(*sealed), std::string(v.cipher) + v.tag) << v.name;
  }
}

TEST(KnownAnswerTest, Aes256GcmOpenRecoversTheGcmSpecPlaintexts) {
  for (const auto& v : kGcmVectors) {
    auto input = FromHex(std::string(v.cipher) + v.tag);
    auto opened = internal::GcmOpenRaw(FromHex(v.key), FromHex(v.iv), FromHex(v.aad), input);
    ASSERT_TRUE(opened.ok()) << v.name << ": " << opened.status().ToString();
    EXPECT_EQ(Hex(*opened), v.plain) << v.name;
  }
}

TEST(KnownAnswerTest, Aes256GcmOpenRejectsTestCase16WithAnyFlippedBitOrChangedAad) {
  const auto& v = kGcmVectors[2];
  auto input = FromHex(std::string(v.cipher) + v.tag);
  for (size_t bit = 0; bit < input.size() * 8; bit += 7) {
    auto tampered = input;
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto opened = internal::GcmOpenRaw(FromHex(v.key), FromHex(v.iv), FromHex(v.aad), tampered);
    ASSERT_FALSE(opened.ok()) << bit;
    EXPECT_EQ(opened.status().code(), Code::kCorrupt);
  }
  auto aad = FromHex(v.aad);
  aad[0] ^= 1;
  EXPECT_EQ(internal::GcmOpenRaw(FromHex(v.key), FromHex(v.iv), aad, input).status().code(), Code::kCorrupt);
}

// ---- AES-SIV ----

struct SivVector {
  const char* name;
  const char* key;
  std::vector<const char*> ad;
  const char* plain;
  const char* output;  // tag || ciphertext
};

const SivVector kSivVectors[] = {
    // RFC 5297 A.1: deterministic, AES-128-SIV (32-byte key).
    {"Rfc5297A1",
     "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     {"101112131415161718191a1b1c1d1e1f2021222324252627"},
     "112233445566778899aabbccddee",
     "85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c"},
    // RFC 5297 A.2: three AD elements (the last is the nonce), AES-128-SIV.
    {"Rfc5297A2",
     "7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f",
     {"00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
      "102030405060708090a0", "09f911029d74e35bd84156c5635688c0"},
     "7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553",
     "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17"
     "dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d"},
    // AES-SIV-CMAC-512 (AES-256-SIV, 64-byte key) from the dchest/siv Go package, as carried in
    // GNU Nettle's testsuite/siv-cmac-test.c: AD vector [ad, nonce 0x02].
    {"Aes256SivDchest",
     "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f06f6e6d6c6b6a69686766656463626160"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f",
     {"101112131415161718191a1b1c1d1e1f2021222324252627", "02"},
     "112233445566778899aabbccddee",
     "6f740b421e2972d85e76189e99842843ad9e6ff14ea97c32ab315e67464c"},
    // AES-SIV-CMAC-512 from Nettle's siv-cmac-test.c (checked there against libaes_siv).
    {"Aes256SivNettleShort",
     "c27df2fdaec35d4a2a412a50c3e8c47d2d568e91a38e54148abdc0b6e86caf87"
     "695c0a8adf4c5f8eb2c6c8b136529864f3b84b3ae8e3676ce760c461f3a13e83",
     {"101112131415161718191a1b1c1d1e1f2021222324252627", "02"},
     "112233445566778899aabbccddee",
     "c3366ef892911eac3d17f29a37d4ebadddc1219ebbde06d1ee893e55a39f"},
    {"Aes256SivNettleLong",
     "c27df2fdaec35d4a2a412a50c3e8c47d2d568e91a38e54148abdc0b6e86caf87"
     "695c0a8adf4c5f8eb2c6c8b136529864f3b84b3ae8e3676ce760c461f3a13e83",
     {"00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
      "09f911029d74e35bd84156c5635688c0"},
     "7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553",
     "5a979b0da58fde8051621ae6bf96feda50933da8047bc306fabaf0c3d9fa8471"
     "c70a7def39a2f91d68a2021c99ac7e2a24535a134ba23ec15787cebe5c53cc"},
};

struct AdVector {
  std::vector<std::vector<uint8_t>> storage;
  std::vector<std::span<const uint8_t>> spans;
  explicit AdVector(const std::vector<const char*>& hex) {
    for (const char* h : hex) storage.push_back(FromHex(h));
    for (const auto& s : storage) spans.emplace_back(s);
  }
};

TEST(KnownAnswerTest, AesSivSealMatchesRfc5297AndPublishedAes256SivVectors) {
  for (const auto& v : kSivVectors) {
    AdVector ad(v.ad);
    auto sealed = internal::SivSealRaw(FromHex(v.key), ad.spans, FromHex(v.plain));
    ASSERT_TRUE(sealed.ok()) << v.name << ": " << sealed.status().ToString();
    EXPECT_EQ(Hex(*sealed), v.output) << v.name;
  }
}

TEST(KnownAnswerTest, AesSivOpenRecoversThePlaintextAndRejectsTampering) {
  for (const auto& v : kSivVectors) {
    AdVector ad(v.ad);
    auto output = FromHex(v.output);
    auto opened = internal::SivOpenRaw(FromHex(v.key), ad.spans, output);
    ASSERT_TRUE(opened.ok()) << v.name << ": " << opened.status().ToString();
    EXPECT_EQ(Hex(*opened), v.plain) << v.name;

    for (size_t i = 0; i < output.size(); i += 5) {
      auto tampered = output;
      tampered[i] ^= 0x80;
      EXPECT_EQ(internal::SivOpenRaw(FromHex(v.key), ad.spans, tampered).status().code(), Code::kCorrupt)
          << v.name << " byte " << i;
    }
    // The AD vector's boundaries matter: dropping an element must fail.
    auto shorter = ad.spans;
    shorter.pop_back();
    EXPECT_EQ(internal::SivOpenRaw(FromHex(v.key), shorter, output).status().code(), Code::kCorrupt) << v.name;
  }
}

TEST(KnownAnswerTest, AesSivRefusesEmptyMessagesEmptyAdElementsAndBadKeySizes) {
  auto key = FromHex(kSivVectors[2].key);
  const uint8_t one[] = {1};
  std::vector<std::span<const uint8_t>> ad = {std::span<const uint8_t>(one)};
  EXPECT_EQ(internal::SivSealRaw(key, ad, {}).status().code(), Code::kInvalidArgument);
  std::vector<std::span<const uint8_t>> empty_element = {std::span<const uint8_t>()};
  EXPECT_EQ(internal::SivSealRaw(key, empty_element, one).status().code(), Code::kInvalidArgument);
  std::vector<uint8_t> bad_key(40, 1);
  EXPECT_EQ(internal::SivSealRaw(bad_key, ad, one).status().code(), Code::kInvalidArgument);
  // Tag only, no ciphertext: nothing a name could decrypt to.
  EXPECT_EQ(internal::SivOpenRaw(key, ad, std::vector<uint8_t>(16, 0)).status().code(), Code::kCorrupt);
}

// ---- HKDF-SHA256: RFC 5869 appendix A, test cases 1 to 3 ----

TEST(KnownAnswerTest, HkdfSha256MatchesRfc5869TestCase1) {
  auto okm = HkdfSha256(FromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                        FromHex("000102030405060708090a0b0c"),
                        testing::AsString(FromHex("f0f1f2f3f4f5f6f7f8f9")), 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

std::vector<uint8_t> Range(int from, int to) {
  std::vector<uint8_t> out;
  for (int i = from; i < to; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

TEST(KnownAnswerTest, HkdfSha256MatchesRfc5869TestCase2WithLongInputs) {
  auto okm = HkdfSha256(Range(0x00, 0x50), Range(0x60, 0xb0), testing::AsString(Range(0xb0, 0x100)), 82);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(KnownAnswerTest, HkdfSha256MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
  auto okm = HkdfSha256(FromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, "", 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// ---- scrypt: RFC 7914 section 12 (the N=2^20 vector is skipped for time) ----

TEST(KnownAnswerTest, ScryptMatchesRfc7914VectorWithEmptyPasswordAndSalt) {
  auto key = Scrypt("", {}, ScryptParams{16, 1, 1}, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Hex(*key),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
}

TEST(KnownAnswerTest, ScryptMatchesRfc7914VectorPasswordNaClN1024) {
  auto key = Scrypt("password", AsBytes("NaCl"), ScryptParams{1024, 8, 16}, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Hex(*key),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(KnownAnswerTest, ScryptMatchesRfc7914VectorPleaseletmeinN16384) {
  auto key = Scrypt("pleaseletmein", AsBytes("SodiumChloride"), ScryptParams{16384, 8, 1}, 64);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Hex(*key),
            "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
            "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
}

TEST(KnownAnswerTest, ScryptRefusesParametersItCannotComputeWithinTheMemoryCap) {
  EXPECT_EQ(Scrypt("pw", AsBytes("salt"), ScryptParams{1000, 8, 1}, 32).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Scrypt("pw", AsBytes("salt"), ScryptParams{uint64_t{1} << 21, 8, 1}, 32).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Scrypt("pw", AsBytes("salt"), ScryptParams{uint64_t{1} << 20, 16, 1}, 32).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Scrypt("pw", AsBytes("salt"), ScryptParams{1024, 0, 1}, 32).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Scrypt("pw", AsBytes("salt"), ScryptParams{1024, 8, 0}, 32).status().code(), Code::kInvalidArgument);
}

// ---- HMAC-SHA256: RFC 4231 test case 2; SHA-256: FIPS 180-2 "abc" ----

TEST(KnownAnswerTest, HmacSha256MatchesRfc4231TestCase2) {
  auto mac = HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"));
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(Hex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(KnownAnswerTest, Sha256MatchesTheFips180AbcVector) {
  auto digest = Sha256(AsBytes("abc"));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(Hex(*digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = Sha256({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Hex(*empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace phrfs::crypto
