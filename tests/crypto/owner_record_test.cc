// Owners' records unlocked by an identity (FORMAT "OWNER RECORDS"): the owner unlocks the master
// key and their name; anyone else gets WrongKey; the text is canonical; a changed byte anywhere,
// or a record re-signed by someone else, does not unlock; a host that knows only the owner's
// public key cannot make a record the owner would accept.
#include "crypto/owner_record.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "crypto/recipient_wrap.h"

namespace phrfs::crypto {
namespace {

Identity NewIdentity() { return std::move(Identity::Generate()).value(); }

bool Same(const SecureBytes& a, const SecureBytes& b) {
  return a.size() == b.size() && std::equal(a.span().begin(), a.span().end(), b.span().begin());
}

TEST(OwnerRecordTest, TheOwnerUnlocksTheMasterKeyAndNameAndTheTextIsCanonical) {
  Identity alice = NewIdentity();
  auto made = CreateOwnerRecord(alice, "alice");
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->master_key.size(), 32u);
  const std::string text = SerializeOwnerRecord(made->record);
  EXPECT_EQ(text.rfind("phrfs-record 2\nstore_id ", 0), 0u) << text;
  EXPECT_NE(text.find("\nowner " + FormatPublicIdentity(alice.public_identity()) + "\n"),
            std::string::npos);
  auto parsed = ParseOwnerRecord(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeOwnerRecord(*parsed), text);
  EXPECT_TRUE(VerifyOwnerRecord(*parsed).ok());
  auto unlocked = UnlockOwnerRecord(*parsed, alice);
  ASSERT_TRUE(unlocked.ok()) << unlocked.status().ToString();
  EXPECT_TRUE(Same(unlocked->master_key, made->master_key));
  EXPECT_EQ(unlocked->name, "alice");
  EXPECT_EQ(OwnerRecordFolder(alice.public_identity()),
            "owners/" + Fingerprint(alice.public_identity()));
  // Two records of one owner differ in store id and key.
  auto again = CreateOwnerRecord(alice, "alice");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->record.store_id, made->record.store_id);
  EXPECT_FALSE(Same(again->master_key, made->master_key));
}

std::vector<uint8_t> Seq(uint8_t first, size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

// FORMAT "TEST VECTORS": the record computed by tests/crypto/make_wrap_vectors.py from the man
// page with Python's cryptography package.
TEST(OwnerRecordTest, KnownAnswer) {
  auto owner = Identity::FromPrivateKeys(Seq(0x10, 32), Seq(0x30, 32));
  ASSERT_TRUE(owner.ok());
  StoreId id;
  const auto id_bytes = Seq(0x70, 16);
  std::copy(id_bytes.begin(), id_bytes.end(), id.bytes.begin());
  const auto master_bytes = Seq(0x80, 32);
  SecureBytes master(master_bytes.data(), master_bytes.size());
  auto record = internal::SealOwnerRecord(*owner, "alice", id, master, Seq(0x90, 32));
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const std::string expected =
      "phrfs-record 2\n"
      "store_id 707172737475767778797a7b7c7d7e7f\n"
      "owner phrfs1ahmj4o5npfbx3pwz7bbudaye6rqp6boh72a74suvo6uajs4tm77wnc5qjyobxa6534yr6w6n356fb3pdycac6r7mpfxcuey46qjjrwptbxrnaxi\n"
      "wrapped_owner n9etbc_0KY3T-W1bGyr5EKBTWxSI1_j6uzSamCiAthUdVlVgj1DF5wxNJJ-dS9K4rXNQaXEsHIy53VkA7QAuhvW4eRmfGafNM5KgqWrGMP6671QjWg\n"
      "signature kGweTMIkLYuRa357IbZK1KJZP3gNhzHTAexRQZqYdAi2ZMIS1j-af9aDJsxmHIIzk18Uuo_fT0g6IaE8G-0xBg\n";
  EXPECT_EQ(SerializeOwnerRecord(*record), expected);
  // And the pinned text opens: the master key and the name come back.
  auto parsed = ParseOwnerRecord(expected);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto unlocked = UnlockOwnerRecord(*parsed, *owner);
  ASSERT_TRUE(unlocked.ok()) << unlocked.status().ToString();
  EXPECT_TRUE(Same(unlocked->master_key, master));
  EXPECT_EQ(unlocked->name, "alice");
}

TEST(OwnerRecordTest, AnotherIdentityGetsWrongKey) {
  Identity alice = NewIdentity(), eve = NewIdentity();
  auto made = CreateOwnerRecord(alice, "alice");
  ASSERT_TRUE(made.ok());
  auto by_eve = UnlockOwnerRecord(made->record, eve);
  EXPECT_EQ(by_eve.status().code(), Code::kWrongKey) << by_eve.status().ToString();
}

TEST(OwnerRecordTest, NamesOutsideTheRulesAreRefused) {
  Identity alice = NewIdentity();
  for (std::string bad : {std::string(), std::string(65, 'a'), std::string("a/b"),
                          std::string("a\0b", 3), std::string("."), std::string("..")}) {
    EXPECT_EQ(CreateOwnerRecord(alice, bad).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(CreateOwnerRecord(alice, std::string(64, 'a')).ok());
}

TEST(OwnerRecordTest, EveryChangedByteIsRefused) {
  Identity alice = NewIdentity();
  auto made = CreateOwnerRecord(alice, "alice");
  ASSERT_TRUE(made.ok());
  const std::string text = SerializeOwnerRecord(made->record);
  for (size_t i = 0; i < text.size(); ++i) {
    for (char flip : {'\x01', '\x20'}) {
      std::string changed = text;
      changed[i] = static_cast<char>(changed[i] ^ flip);
      auto parsed = ParseOwnerRecord(changed);
      if (!parsed.ok()) continue;  // refused when read: fine
      auto unlocked = UnlockOwnerRecord(*parsed, alice);
      EXPECT_FALSE(unlocked.ok()) << "byte " << i << " flipped with " << int(flip)
                                  << " still unlocks";
    }
  }
  EXPECT_EQ(ParseOwnerRecord(text + "extra\n").status().code(), Code::kCorrupt);
  EXPECT_EQ(ParseOwnerRecord(text.substr(0, text.size() - 1)).status().code(), Code::kCorrupt);
  std::string v3 = text;
  v3.replace(0, std::string("phrfs-record 2").size(), "phrfs-record 3");
  EXPECT_EQ(ParseOwnerRecord(v3).status().code(), Code::kNotSupported);
}

// The host knows the owner's public key: it can wrap a master key of its choosing to it, but it
// cannot sign the record, so the owner never writes under a key the host knows.
TEST(OwnerRecordTest, ARecordWrappedToTheOwnerButSignedByAnotherIsRefused) {
  Identity alice = NewIdentity(), host = NewIdentity();
  auto made = CreateOwnerRecord(host, "alice");  // the host's own, well-formed record...
  ASSERT_TRUE(made.ok());
  OwnerRecord forged = made->record;
  forged.owner = alice.public_identity();  // ...claimed to be alice's,
  SecureBytes payload(32 + 5);
  std::copy(made->master_key.span().begin(), made->master_key.span().end(), payload.data());
  std::memcpy(payload.data() + 32, "alice", 5);
  // ...with the key wrapped to alice under the same binding a real record uses: unlocking
  // would succeed if the signature were not checked.
  const std::string bound = SerializeOwnerRecord(forged);
  const std::string lines = bound.substr(0, bound.find("wrapped_owner "));
  const std::string owner_aad = lines + "purpose owner\n";
  auto wrapped = WrapToRecipient(payload.span(), alice.public_identity(),
                                 {reinterpret_cast<const uint8_t*>(owner_aad.data()), owner_aad.size()});
  ASSERT_TRUE(wrapped.ok());
  forged.wrapped_owner = *wrapped;
  auto parsed = ParseOwnerRecord(SerializeOwnerRecord(forged));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(VerifyOwnerRecord(*parsed).code(), Code::kCorrupt);
  auto unlocked = UnlockOwnerRecord(*parsed, alice);
  EXPECT_EQ(unlocked.status().code(), Code::kCorrupt) << unlocked.status().ToString();
}

}  // namespace
}  // namespace phrfs::crypto
