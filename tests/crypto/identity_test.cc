// crypto/curve25519, crypto/identity and crypto/identity_file: the RFC 7748 and RFC 8032 vectors
// through our code, the public text form (vectors from tests/crypto/make_wrap_vectors.py, typos),
// and the sealed identity file (wrong passphrase, every character altered, swapped lines).
#include "crypto/identity.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/curve25519.h"
#include "crypto/identity_file.h"
#include "crypto/kdf.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using ::testing::HasSubstr;
using testing::AsBytes;
using testing::ArrayFromHex;
using testing::FromHex;
using testing::Hex;
using testing::Sequence;

// ---- RFC 7748 section 6.1 ----
constexpr char kAlicePrivate[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr char kAlicePublic[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr char kBobPrivate[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr char kSharedSecret[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

// ---- RFC 8032 section 7.1, TEST 1 (empty message) ----
constexpr char kEdSecret[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kEdPublic[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kEdSignature[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

// ---- tests/crypto/make_wrap_vectors.py (x25519 private seq(0x10), ed25519 private seq(0x30)) ----
constexpr char kVectorX25519Public[] = "d89e3bad79437dbed9f843418304f460ff05c7fe81fe4a9577a804cb9367ff66";
constexpr char kVectorEd25519Public[] = "8bb04e1c1b83dddf311f5bcddf7c50ede3c0802f47ec796e2a131cf41298d9f3";
constexpr char kVectorText[] =
    "phrfs1ahmj4o5npfbx3pwz7bbudaye6rqp6boh72a74suvo6uajs4tm77wnc5qjyobxa6534yr6w6n356fb3pdycac6r7mpfxcuey46qjjrwptbxrnaxi";
constexpr char kVectorFingerprint[] = "531d250cfd144490a79d1adfb7fb4299";
constexpr char kVectorMessage[] = "phrfs test grant header";
constexpr char kVectorSignature[] =
    "814d1f66c87b5121e733a2a1511dae741184e05ba600757dff85d24f905d28d75843e0aed2cbaebf4692dae3a3ad0b9bf6869b6b3c6b4e4f8be10edc63b8e40c";

// Points of small order (and non-canonical encodings of them) that X25519 must refuse.
const char* const kLowOrderPoints[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

constexpr ScryptParams kFast{1024, 8, 1};
constexpr char kPass[] = "correct horse battery staple";

Identity VectorIdentity() {
  auto x = Sequence<32>(0x10);
  auto ed = Sequence<32>(0x30);
  auto identity = Identity::FromPrivateKeys(x, ed);
  EXPECT_TRUE(identity.ok()) << identity.status().ToString();
  return std::move(identity).value();
}

// The text form of arbitrary payload bytes with a correct checksum: how a forger (or a newer
// phrfs) would write a version or key we must refuse for a reason other than the checksum.
std::string TextWithValidChecksum(uint8_t version, std::span<const uint8_t> x25519, std::span<const uint8_t> ed25519) {
  std::vector<uint8_t> payload{version};
  payload.insert(payload.end(), x25519.begin(), x25519.end());
  payload.insert(payload.end(), ed25519.begin(), ed25519.end());
  auto digest = Sha256(payload);
  EXPECT_TRUE(digest.ok());
  payload.insert(payload.end(), digest->begin(), digest->begin() + 4);
  return "phrfs1" + Base32LowerEncode(payload);
}

// ---- X25519 and Ed25519 known answers ----

TEST(Curve25519Test, X25519MatchesRfc7748Section6_1BothWays) {
  auto alice = FromHex(kAlicePrivate);
  auto bob = FromHex(kBobPrivate);
  auto alice_pub = X25519PublicFromPrivate(alice);
  auto bob_pub = X25519PublicFromPrivate(bob);
  ASSERT_TRUE(alice_pub.ok() && bob_pub.ok());
  EXPECT_EQ(Hex(*alice_pub), kAlicePublic);
  EXPECT_EQ(Hex(*bob_pub), kBobPublic);
  auto k1 = X25519SharedSecret(alice, *bob_pub);
  auto k2 = X25519SharedSecret(bob, *alice_pub);
  ASSERT_TRUE(k1.ok() && k2.ok()) << k1.status().ToString() << k2.status().ToString();
  EXPECT_EQ(Hex(*k1), kSharedSecret);
  EXPECT_EQ(Hex(*k2), kSharedSecret);
}

TEST(Curve25519Test, X25519RefusesEveryLowOrderPeerKey) {
  auto alice = FromHex(kAlicePrivate);
  for (const char* point : kLowOrderPoints) {
    auto key = ArrayFromHex<32>(point);
    auto secret = X25519SharedSecret(alice, key);
    EXPECT_EQ(secret.status().code(), Code::kInvalidArgument) << point;
    EXPECT_EQ(CheckX25519PublicKey(key).code(), Code::kInvalidArgument) << point;
  }
  EXPECT_TRUE(CheckX25519PublicKey(ArrayFromHex<32>(kBobPublic)).ok());
}

TEST(Curve25519Test, X25519RefusesANonCanonicalKeyWithTheTopBitSet) {
  auto key = ArrayFromHex<32>(kBobPublic);
  key[31] |= 0x80;
  Status st = CheckX25519PublicKey(key);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("canonical"));
}

TEST(Curve25519Test, Ed25519MatchesRfc8032Test1ThroughSignAndVerify) {
  auto identity = Identity::FromPrivateKeys(FromHex(kAlicePrivate), FromHex(kEdSecret));
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(Hex(identity->public_identity().ed25519), kEdPublic);
  auto signature = Sign(*identity, {});
  ASSERT_TRUE(signature.ok()) << signature.status().ToString();
  EXPECT_EQ(Hex(*signature), kEdSignature);

  PublicIdentity pub;
  pub.ed25519 = ArrayFromHex<32>(kEdPublic);
  auto sig = FromHex(kEdSignature);
  EXPECT_TRUE(Verify(pub, {}, sig).ok());
  EXPECT_EQ(Verify(pub, AsBytes("x"), sig).code(), Code::kCorrupt);
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    auto bad = sig;
    bad[i] ^= 0x01;
    EXPECT_EQ(Verify(pub, {}, bad).code(), Code::kCorrupt) << i;
  }
  sig.pop_back();
  EXPECT_EQ(Verify(pub, {}, sig).code(), Code::kCorrupt);
}

TEST(Curve25519Test, Ed25519SignatureIsRejectedUnderAnotherKey) {
  auto a = Identity::Generate();
  auto b = Identity::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  auto sig = Sign(*a, AsBytes("grant list root"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Verify(a->public_identity(), AsBytes("grant list root"), *sig).ok());
  EXPECT_EQ(Verify(b->public_identity(), AsBytes("grant list root"), *sig).code(), Code::kCorrupt);
}

// ---- identities and their text form ----

TEST(IdentityTest, FixedKeysGiveTheScriptsPublicTextFingerprintAndSignature) {
  Identity identity = VectorIdentity();
  const PublicIdentity& pub = identity.public_identity();
  EXPECT_EQ(Hex(pub.x25519), kVectorX25519Public);
  EXPECT_EQ(Hex(pub.ed25519), kVectorEd25519Public);
  EXPECT_EQ(FormatPublicIdentity(pub), kVectorText);
  EXPECT_EQ(Fingerprint(pub), kVectorFingerprint);
  auto sig = Sign(identity, AsBytes(kVectorMessage));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(Hex(*sig), kVectorSignature);
  auto parsed = ParsePublicIdentity(kVectorText);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, pub);
}

TEST(IdentityTest, GeneratedIdentitiesAreDistinctAndRoundTripThroughText) {
  auto a = Identity::Generate();
  auto b = Identity::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_identity(), b->public_identity());
  EXPECT_FALSE(a->x25519_private().Equals(b->x25519_private().span()));
  EXPECT_EQ(a->x25519_private().size(), 32u);
  EXPECT_EQ(a->ed25519_private().size(), 32u);
  std::string text = FormatPublicIdentity(a->public_identity());
  EXPECT_EQ(text.size(), kPublicIdentityTextSize);
  EXPECT_EQ(text.rfind("phrfs1", 0), 0u);
  auto parsed = ParsePublicIdentity(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, a->public_identity());
  EXPECT_NE(Fingerprint(a->public_identity()), Fingerprint(b->public_identity()));
  EXPECT_EQ(Fingerprint(a->public_identity()).size(), 32u);
  // The private keys really belong to the public ones.
  auto again = Identity::FromPrivateKeys(a->x25519_private().span(), a->ed25519_private().span());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_identity(), a->public_identity());
}

TEST(IdentityTest, FromPrivateKeysRefusesWrongSizes) {
  auto k = Sequence<32>(1);
  std::span<const uint8_t> short_key(k.data(), 31);
  EXPECT_EQ(Identity::FromPrivateKeys(short_key, k).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Identity::FromPrivateKeys(k, short_key).status().code(), Code::kInvalidArgument);
}

TEST(IdentityTest, ParseIgnoresSurroundingBlanks) {
  auto parsed = ParsePublicIdentity(std::string("  ") + kVectorText + "\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(FormatPublicIdentity(*parsed), kVectorText);
}

void ExpectRejected(std::string_view text, std::string_view why) {
  auto parsed = ParsePublicIdentity(text);
  ASSERT_FALSE(parsed.ok()) << "accepted: " << text;
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr(std::string(why))) << text;
}

TEST(IdentityTest, ParseNamesWrongPrefixLengthAndCharacter) {
  std::string good = kVectorText;
  ExpectRejected("age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq", "start with 'phrfs1'");
  ExpectRejected("phrfs2" + good.substr(6), "start with 'phrfs1'");
  ExpectRejected("", "start with 'phrfs1'");
  ExpectRejected(good.substr(0, good.size() - 1), "117 characters");
  ExpectRejected(good + "a", "117 characters");
  ExpectRejected(good + good, "117 characters");
  std::string upper = good;
  upper[10] = static_cast<char>(upper[10] - 'a' + 'A');
  ExpectRejected(upper, "character 11 is not one of a-z or 2-7");
  for (char bad : {'1', '8', '0', '9', '=', ' ', '-'}) {
    std::string t = good;
    t[50] = bad;
    ExpectRejected(t, "character 51");
  }
}

TEST(IdentityTest, EverySingleCharacterChangeIsCaughtAsATypo) {
  const std::string good = kVectorText;
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  size_t tried = 0;
  for (size_t i = 6; i < good.size(); ++i) {
    for (char c : alphabet) {
      if (c == good[i]) continue;
      std::string t = good;
      t[i] = c;
      ExpectRejected(t, "(typo?)");
      ++tried;
    }
  }
  EXPECT_EQ(tried, 111u * 31u);
}

TEST(IdentityTest, ParseRefusesAnUnknownVersionWithAValidChecksum) {
  auto x = ArrayFromHex<32>(kBobPublic);
  auto ed = ArrayFromHex<32>(kEdPublic);
  ASSERT_TRUE(ParsePublicIdentity(TextWithValidChecksum(1, x, ed)).ok());
  ExpectRejected(TextWithValidChecksum(2, x, ed), "unknown version 2");
  ExpectRejected(TextWithValidChecksum(0, x, ed), "unknown version 0");
}

TEST(IdentityTest, ParseRefusesAllZeroAndLowOrderX25519Keys) {
  auto ed = ArrayFromHex<32>(kEdPublic);
  for (const char* point : kLowOrderPoints) {
    auto x = ArrayFromHex<32>(point);
    auto parsed = ParsePublicIdentity(TextWithValidChecksum(1, x, ed));
    ASSERT_FALSE(parsed.ok()) << point;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
    // The last three have the top bit clear but are >= p; all are refused one way or another.
    EXPECT_THAT(parsed.status().message(), HasSubstr("X25519 public key")) << point;
  }
}

// ---- the identity file ----

class IdentityFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto identity = Identity::Generate();
    ASSERT_TRUE(identity.ok());
    identity_ = new Identity(std::move(identity).value());
    auto sealed = SealIdentity(*identity_, kPass, kFast);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    text_ = new std::string(SerializeIdentityFile(*sealed));
  }
  static void TearDownTestSuite() {
    delete identity_;
    delete text_;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      out.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  }
  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
  static std::string WithLine(size_t n, const std::string& replacement) {
    auto lines = Lines(*text_);
    lines[n - 1] = replacement;
    return Join(lines);
  }
  // Parse then open; the Status of whichever step failed (Ok if both succeeded).
  static Status ParseAndOpen(const std::string& text, std::string_view passphrase = kPass) {
    auto file = ParseIdentityFile(text);
    if (!file.ok()) return file.status();
    auto opened = OpenIdentity(*file, passphrase);
    return opened.ok() ? Status::Ok() : opened.status();
  }
  static void ExpectCorruptAtLine(const std::string& text, size_t line) {
    auto parsed = ParseIdentityFile(text);
    ASSERT_FALSE(parsed.ok()) << "accepted:\n" << text;
    EXPECT_EQ(parsed.status().code(), Code::kCorrupt) << parsed.status().ToString();
    EXPECT_THAT(parsed.status().message(), HasSubstr("line " + std::to_string(line) + ":")) << text;
  }

  static Identity* identity_;
  static std::string* text_;
};
Identity* IdentityFileTest::identity_ = nullptr;
std::string* IdentityFileTest::text_ = nullptr;

TEST_F(IdentityFileTest, HasTheDocumentedLinesAndRoundTripsCanonically) {
  auto lines = Lines(*text_);
  ASSERT_EQ(lines.size(), 5u) << *text_;
  EXPECT_EQ(lines[0], "phrfs-identity 1");
  EXPECT_EQ(lines[1], "kdf scrypt n=1024 r=8 p=1");
  EXPECT_EQ(lines[2].rfind("salt ", 0), 0u);
  EXPECT_EQ(lines[3], "public " + FormatPublicIdentity(identity_->public_identity()));
  EXPECT_EQ(lines[4].rfind("sealed ", 0), 0u);
  auto parsed = ParseIdentityFile(*text_);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeIdentityFile(*parsed), *text_);
  EXPECT_EQ(parsed->sealed.size(), kIdentitySealedSize);
  EXPECT_EQ(parsed->public_identity, identity_->public_identity());
  // No private key in the clear.
  EXPECT_EQ(text_->find(Base64UrlEncode(identity_->x25519_private().span()).substr(0, 20)), std::string::npos);
  EXPECT_EQ(text_->find(Hex(identity_->x25519_private())), std::string::npos);
}

TEST_F(IdentityFileTest, OpensWithThePassphraseToTheSameKeys) {
  auto file = ParseIdentityFile(*text_);
  ASSERT_TRUE(file.ok());
  auto opened = OpenIdentity(*file, kPass);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->public_identity(), identity_->public_identity());
  EXPECT_TRUE(opened->x25519_private().Equals(identity_->x25519_private().span()));
  EXPECT_TRUE(opened->ed25519_private().Equals(identity_->ed25519_private().span()));
}

TEST_F(IdentityFileTest, SealingTwiceUsesFreshSaltAndNonce) {
  auto again = SealIdentity(*identity_, kPass, kFast);
  ASSERT_TRUE(again.ok());
  auto first = ParseIdentityFile(*text_);
  ASSERT_TRUE(first.ok());
  EXPECT_NE(again->salt, first->salt);
  EXPECT_NE(again->sealed, first->sealed);
}

TEST_F(IdentityFileTest, WrongPassphraseIsWrongKey) {
  Status st = ParseAndOpen(*text_, "correct horse battery stapler");
  EXPECT_EQ(st.code(), Code::kWrongKey) << st.ToString();
  EXPECT_EQ(ParseAndOpen(*text_, "").code(), Code::kWrongKey);
}

TEST_F(IdentityFileTest, SealRefusesAnEmptyPassphraseAndParametersBeyondTheCaps) {
  EXPECT_EQ(SealIdentity(*identity_, "", kFast).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SealIdentity(*identity_, kPass, ScryptParams{1000, 8, 1}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SealIdentity(*identity_, kPass, ScryptParams{uint64_t{1} << 21, 8, 1}).status().code(),
            Code::kInvalidArgument);
}

TEST_F(IdentityFileTest, EveryAlteredCharacterIsRefused) {
  // Each character (other than line breaks) replaced by another that keeps the line's shape as
  // far as possible: digits by digits, letters by letters.
  size_t tried = 0;
  for (size_t i = 0; i < text_->size(); ++i) {
    char c = (*text_)[i];
    if (c == '\n') continue;
    std::string t = *text_;
    if (c >= '0' && c <= '9') {
      t[i] = c == '1' ? '2' : '1';
    } else if (c >= 'a' && c <= 'z') {
      t[i] = c == 'a' ? 'b' : 'a';
    } else if (c >= 'A' && c <= 'Z') {
      t[i] = c == 'A' ? 'B' : 'A';
    } else {
      t[i] = c == '_' ? '-' : '_';
    }
    Status st = ParseAndOpen(t);
    ASSERT_FALSE(st.ok()) << "accepted a change at offset " << i << ":\n" << t;
    EXPECT_TRUE(st.code() == Code::kWrongKey || st.code() == Code::kCorrupt || st.code() == Code::kNotSupported)
        << st.ToString();
    ++tried;
  }
  EXPECT_GT(tried, 300u);
}

TEST_F(IdentityFileTest, EachBoundFieldChangedValidlyIsWrongKey) {
  // Still well-formed after the change, so only the seal can notice.
  EXPECT_EQ(ParseAndOpen(WithLine(2, "kdf scrypt n=2048 r=8 p=1")).code(), Code::kWrongKey);
  EXPECT_EQ(ParseAndOpen(WithLine(2, "kdf scrypt n=1024 r=8 p=2")).code(), Code::kWrongKey);
  std::array<uint8_t, 32> other_salt{};
  EXPECT_EQ(ParseAndOpen(WithLine(3, "salt " + Base64UrlEncode(other_salt))).code(), Code::kWrongKey);
}

TEST_F(IdentityFileTest, SwappedPublicLineIsRefused) {
  auto other = Identity::Generate();
  ASSERT_TRUE(other.ok());
  std::string swapped = WithLine(4, "public " + FormatPublicIdentity(other->public_identity()));
  ASSERT_TRUE(ParseIdentityFile(swapped).ok());
  EXPECT_EQ(ParseAndOpen(swapped).code(), Code::kWrongKey);
}

TEST_F(IdentityFileTest, SealedLineFromAnotherFileIsRefused) {
  auto other = SealIdentity(*identity_, kPass, kFast);
  ASSERT_TRUE(other.ok());
  std::string mixed = WithLine(5, Lines(SerializeIdentityFile(*other))[4]);
  EXPECT_EQ(ParseAndOpen(mixed).code(), Code::kWrongKey);
}

TEST_F(IdentityFileTest, KeysThatDoNotMatchThePublicLineAreCorrupt) {
  // Sealed correctly (same AAD) but with another identity's private keys: only the check after
  // opening can tell.
  auto file = ParseIdentityFile(*text_);
  ASSERT_TRUE(file.ok());
  auto other = Identity::Generate();
  ASSERT_TRUE(other.ok());
  auto kek = Scrypt(kPass, file->salt, file->kdf, 32);
  ASSERT_TRUE(kek.ok());
  std::vector<uint8_t> keys(other->x25519_private().span().begin(), other->x25519_private().span().end());
  keys.insert(keys.end(), other->ed25519_private().span().begin(), other->ed25519_private().span().end());
  auto lines = Lines(*text_);
  std::string aad = Join({lines[0], lines[1], lines[2], lines[3]});
  auto nonce = Sequence<12>(7);
  auto sealed = internal::GcmSealRaw(kek->span(), nonce, AsBytes(aad), keys);
  ASSERT_TRUE(sealed.ok());
  file->sealed.assign(nonce.begin(), nonce.end());
  file->sealed.insert(file->sealed.end(), sealed->begin(), sealed->end());
  auto opened = OpenIdentity(*file, kPass);
  EXPECT_EQ(opened.status().code(), Code::kCorrupt) << opened.status().ToString();
  SecureWipe(keys);
}

TEST_F(IdentityFileTest, MalformedFilesAreCorruptWithTheLineNumber) {
  auto lines = Lines(*text_);
  ExpectCorruptAtLine(WithLine(1, "phrfs-store 2"), 1);
  ExpectCorruptAtLine(WithLine(1, "phrfs-identity 01"), 1);
  ExpectCorruptAtLine(WithLine(2, "kdf argon2id"), 2);
  ExpectCorruptAtLine(WithLine(2, "kdf scrypt n=1000 r=8 p=1"), 2);          // not a power of two
  ExpectCorruptAtLine(WithLine(2, "kdf scrypt n=2097152 r=8 p=1"), 2);       // beyond the cap
  ExpectCorruptAtLine(WithLine(2, "kdf scrypt n=1024 r=8 p=1 "), 2);
  ExpectCorruptAtLine(WithLine(3, "salt AAAA"), 3);
  ExpectCorruptAtLine(WithLine(3, "salt " + lines[2].substr(5) + "="), 3);
  ExpectCorruptAtLine(WithLine(4, "public " + std::string(kVectorText).substr(0, 100)), 4);
  ExpectCorruptAtLine(WithLine(4, "public  " + lines[3].substr(7)), 4);
  ExpectCorruptAtLine(WithLine(5, "sealed " + lines[4].substr(7, 50)), 5);
  ExpectCorruptAtLine(Join({lines[0], lines[1], lines[2], lines[3]}), 5);
  ExpectCorruptAtLine(*text_ + "extra\n", 6);
  ExpectCorruptAtLine(text_->substr(0, text_->size() - 1), 5);  // no final newline
  ExpectCorruptAtLine("", 1);
  auto version = ParseIdentityFile(WithLine(1, "phrfs-identity 2"));
  EXPECT_EQ(version.status().code(), Code::kNotSupported);
  EXPECT_EQ(ParseIdentityFile(std::string(5000, 'a')).status().code(), Code::kCorrupt);
}

}  // namespace
}  // namespace phrfs::crypto
