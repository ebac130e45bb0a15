// crypto/recipient_wrap: the fixed vector from tests/crypto/make_wrap_vectors.py, round trips,
// and every way a stanza must fail (wrong recipient, any flipped byte, wrong AAD, bad lengths).
#include "crypto/recipient_wrap.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using testing::AsBytes;
using testing::ArrayFromHex;
using testing::FromHex;
using testing::Hex;
using testing::Sequence;

// tests/crypto/make_wrap_vectors.py: recipient x25519 private seq(0x10), ed25519 private
// seq(0x30), ephemeral private seq(0x50), secret seq(0x00) (32 bytes), this AAD.
constexpr char kVectorAad[] = "phrfs test grant header";
constexpr char kVectorEphemeralPublic[] = "392d174a38b3b1beafaf1fe824870841c5fa531bc6eafdb6402c124664488c1c";
constexpr char kVectorStanza[] =
    "392d174a38b3b1beafaf1fe824870841c5fa531bc6eafdb6402c124664488c1c"
    "d94d5b2c454eb4b70bebe9d2cf865ae1a7466d77d8e8c258a3a905e7b5887c7b"
    "e3c359f684deb7ec699792309e6c938f";

Identity VectorRecipient() {
  auto identity = Identity::FromPrivateKeys(Sequence<32>(0x10), Sequence<32>(0x30));
  EXPECT_TRUE(identity.ok());
  return std::move(identity).value();
}

Identity Fresh() {
  auto identity = Identity::Generate();
  EXPECT_TRUE(identity.ok());
  return std::move(identity).value();
}

TEST(RecipientWrapTest, FixedEphemeralGivesTheScriptsStanza) {
  Identity recipient = VectorRecipient();
  auto secret = Sequence<32>(0x00);
  auto stanza = internal::WrapToRecipientWithEphemeral(secret, recipient.public_identity(), AsBytes(kVectorAad),
                                                       Sequence<32>(0x50));
  ASSERT_TRUE(stanza.ok()) << stanza.status().ToString();
  EXPECT_EQ(stanza->size(), 80u);
  EXPECT_EQ(Hex(std::span<const uint8_t>(*stanza).first(32)), kVectorEphemeralPublic);
  EXPECT_EQ(Hex(*stanza), kVectorStanza);

  auto opened = UnwrapWithIdentity(FromHex(kVectorStanza), recipient, AsBytes(kVectorAad));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Hex(*opened), Hex(secret));
}

TEST(RecipientWrapTest, RoundTripsAndUsesAFreshEphemeralKeyEachTime) {
  Identity recipient = Fresh();
  auto secret = Sequence<32>(0xA0);
  auto a = WrapToRecipient(secret, recipient.public_identity(), AsBytes("folder 1 v1 alice"));
  auto b = WrapToRecipient(secret, recipient.public_identity(), AsBytes("folder 1 v1 alice"));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ(a->size(), kWrapStanzaOverhead + 32);
  EXPECT_NE(*a, *b);
  EXPECT_NE(std::vector<uint8_t>(a->begin(), a->begin() + 32), std::vector<uint8_t>(b->begin(), b->begin() + 32));
  for (const auto* stanza : {&*a, &*b}) {
    auto opened = UnwrapWithIdentity(*stanza, recipient, AsBytes("folder 1 v1 alice"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(Hex(*opened), Hex(secret));
  }
}

TEST(RecipientWrapTest, EmptyAadAndSecretsUpTo4KiBRoundTrip) {
  Identity recipient = Fresh();
  for (size_t size : {size_t{1}, size_t{32}, size_t{1000}, kMaxWrappedSecretSize}) {
    std::vector<uint8_t> secret(size);
    for (size_t i = 0; i < size; ++i) secret[i] = static_cast<uint8_t>(i * 7 + 3);
    auto stanza = WrapToRecipient(secret, recipient.public_identity(), {});
    ASSERT_TRUE(stanza.ok()) << size;
    auto opened = UnwrapWithIdentity(*stanza, recipient, {});
    ASSERT_TRUE(opened.ok()) << size;
    EXPECT_TRUE(opened->Equals(secret)) << size;
  }
}

TEST(RecipientWrapTest, RefusesEmptyAndOversizedSecrets) {
  Identity recipient = Fresh();
  std::vector<uint8_t> big(kMaxWrappedSecretSize + 1, 1);
  EXPECT_EQ(WrapToRecipient({}, recipient.public_identity(), {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(WrapToRecipient(big, recipient.public_identity(), {}).status().code(), Code::kInvalidArgument);
}

TEST(RecipientWrapTest, RefusesALowOrderRecipientKey) {
  PublicIdentity bad = Fresh().public_identity();
  bad.x25519 = {};
  EXPECT_EQ(WrapToRecipient(Sequence<32>(0), bad, {}).status().code(), Code::kInvalidArgument);
  bad.x25519 = ArrayFromHex<32>("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
  EXPECT_EQ(WrapToRecipient(Sequence<32>(0), bad, {}).status().code(), Code::kInvalidArgument);
}

TEST(RecipientWrapTest, AnotherIdentityCannotUnwrap) {
  Identity alice = Fresh();
  Identity mallory = Fresh();
  auto stanza = WrapToRecipient(Sequence<32>(0), alice.public_identity(), AsBytes("aad"));
  ASSERT_TRUE(stanza.ok());
  EXPECT_EQ(UnwrapWithIdentity(*stanza, mallory, AsBytes("aad")).status().code(), Code::kWrongKey);
  // Same X25519 key, other Ed25519 key: still Alice's (the wrap is to the X25519 key only).
  auto same_x = Identity::FromPrivateKeys(alice.x25519_private().span(), mallory.ed25519_private().span());
  ASSERT_TRUE(same_x.ok());
  EXPECT_TRUE(UnwrapWithIdentity(*stanza, *same_x, AsBytes("aad")).ok());
}

TEST(RecipientWrapTest, AnyFlippedBitInTheStanzaIsWrongKey) {
  Identity recipient = VectorRecipient();
  const auto stanza = FromHex(kVectorStanza);
  for (size_t i = 0; i < stanza.size(); ++i) {
    for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
      auto bad = stanza;
      bad[i] ^= bit;
      // The epk's top bit is ignored by X25519 itself; the HKDF salt still binds it.
      EXPECT_EQ(UnwrapWithIdentity(bad, recipient, AsBytes(kVectorAad)).status().code(), Code::kWrongKey)
          << "byte " << i << " bit " << int{bit};
    }
  }
}

TEST(RecipientWrapTest, WrongAadIsWrongKey) {
  Identity recipient = VectorRecipient();
  const auto stanza = FromHex(kVectorStanza);
  for (std::string_view aad : {"", "phrfs test grant heade", "phrfs test grant header ", "Phrfs test grant header"}) {
    EXPECT_EQ(UnwrapWithIdentity(stanza, recipient, AsBytes(aad)).status().code(), Code::kWrongKey) << aad;
  }
}

TEST(RecipientWrapTest, LowOrderEphemeralKeyIsWrongKey) {
  Identity recipient = VectorRecipient();
  auto stanza = FromHex(kVectorStanza);
  std::fill(stanza.begin(), stanza.begin() + 32, 0);
  EXPECT_EQ(UnwrapWithIdentity(stanza, recipient, AsBytes(kVectorAad)).status().code(), Code::kWrongKey);
  stanza[0] = 1;
  EXPECT_EQ(UnwrapWithIdentity(stanza, recipient, AsBytes(kVectorAad)).status().code(), Code::kWrongKey);
}

TEST(RecipientWrapTest, ImpossibleLengthsAreCorrupt) {
  Identity recipient = VectorRecipient();
  const auto stanza = FromHex(kVectorStanza);
  std::vector<uint8_t> just_overhead(stanza.begin(), stanza.begin() + kWrapStanzaOverhead);
  std::vector<uint8_t> too_long(kWrapStanzaOverhead + kMaxWrappedSecretSize + 1, 5);
  for (const auto& bad : {std::vector<uint8_t>{}, std::vector<uint8_t>(stanza.begin(), stanza.begin() + 32),
                          just_overhead, too_long}) {
    EXPECT_EQ(UnwrapWithIdentity(bad, recipient, AsBytes(kVectorAad)).status().code(), Code::kCorrupt) << bad.size();
  }
  // A truncated but still possible length fails authentication instead.
  std::vector<uint8_t> shorter(stanza.begin(), stanza.end() - 1);
  EXPECT_EQ(UnwrapWithIdentity(shorter, recipient, AsBytes(kVectorAad)).status().code(), Code::kWrongKey);
}

}  // namespace
}  // namespace phrfs::crypto
