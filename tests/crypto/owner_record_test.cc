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
