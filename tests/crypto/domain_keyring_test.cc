// Shared folders' keyrings (FORMAT "DOMAIN KEYRING"): the owner opens every epoch and the grant
// table; a grantee opens exactly the epochs wrapped to it and learns its access; a revoked
// grantee holds nothing of the epoch after its revocation; any changed byte is refused.
#include "crypto/domain_keyring.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

SecureBytes RandomKey(size_t n) {
  SecureBytes k(n);
  EXPECT_TRUE(RandomBytes({k.data(), k.size()}).ok());
  return k;
}

bool Same(const SecureBytes& a, const SecureBytes& b) {
  return a.size() == b.size() && std::equal(a.span().begin(), a.span().end(), b.span().begin());
}

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = std::make_unique<Identity>(std::move(Identity::Generate()).value());
    bob_ = std::make_unique<Identity>(std::move(Identity::Generate()).value());
    lab_ = std::make_unique<Identity>(std::move(Identity::Generate()).value());
    eve_ = std::make_unique<Identity>(std::move(Identity::Generate()).value());
    owner_key_ = RandomKey(32);
    d_.id = *NewDomainId();
    ASSERT_TRUE(RandomBytes(d_.root.bytes).ok());
    d_.path = "/labs";
    d_.owner_name = "alice";
    d_.dir_hash = RandomKey(32);
    d_.epochs.emplace(1, std::move(EpochKeys::Generate()).value());
    d_.current = 1;
    d_.grants.push_back(GrantRecord{"dr_bob", FormatPublicIdentity(bob_->public_identity()),
                                    GrantAccess::kRead, "2027-06-30", 1});
    d_.grants.push_back(GrantRecord{"st_mary_lab", FormatPublicIdentity(lab_->public_identity()),
                                    GrantAccess::kWrite, "", 1});
  }

  std::string Seal() {
    auto text = SealKeyring(d_, owner_key_, *owner_);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? *text : "";
  }

  std::unique_ptr<Identity> owner_, bob_, lab_, eve_;
  SecureBytes owner_key_;
  DomainSecrets d_;
};

TEST_F(KeyringTest, TheOwnerOpensEveryEpochAndTheGrantTable) {
  const std::string text = Seal();
  auto opened = OpenKeyringAsOwner(text, owner_key_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->id, d_.id);
  EXPECT_EQ(opened->root, d_.root);
  EXPECT_EQ(opened->path, "/labs");
  EXPECT_EQ(opened->owner_name, "alice");
  EXPECT_EQ(opened->grants, d_.grants);
  EXPECT_EQ(opened->current, 1u);
  ASSERT_EQ(opened->epochs.size(), 1u);
  EXPECT_TRUE(Same(opened->epochs.at(1).names, d_.epochs.at(1).names));
  EXPECT_TRUE(Same(opened->epochs.at(1).content, d_.epochs.at(1).content));
  EXPECT_TRUE(Same(opened->dir_hash, d_.dir_hash));
  // Another store's key opens nothing.
  EXPECT_EQ(OpenKeyringAsOwner(text, RandomKey(32)).status().code(), Code::kWrongKey);
}

TEST_F(KeyringTest, AGranteeOpensItsEpochsAndLearnsItsAccessAndNothingMore) {
  const std::string text = Seal();
  auto bob = OpenKeyringAsGrantee(text, *bob_);
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(bob->access, GrantAccess::kRead);
  EXPECT_EQ(bob->until, "2027-06-30");
  EXPECT_EQ(bob->owner_name, "alice");
  EXPECT_EQ(bob->path, "/labs");
  EXPECT_EQ(bob->owner, owner_->public_identity());
  EXPECT_TRUE(bob->holds_current());
  EXPECT_TRUE(Same(bob->epochs.at(1).content, d_.epochs.at(1).content));
  auto lab = OpenKeyringAsGrantee(text, *lab_);
  ASSERT_TRUE(lab.ok());
  EXPECT_EQ(lab->access, GrantAccess::kWrite);
  EXPECT_EQ(lab->until, "");
  // Someone never granted: NotFound. The keyring names no one in clear.
  EXPECT_EQ(OpenKeyringAsGrantee(text, *eve_).status().code(), Code::kNotFound);
  EXPECT_EQ(text.find("dr_bob"), std::string::npos);
  EXPECT_EQ(text.find(FormatPublicIdentity(bob_->public_identity())), std::string::npos);
  EXPECT_EQ(text.find("/labs"), std::string::npos);
}

TEST_F(KeyringTest, ARevokedGranteeHoldsNothingOfTheEpochsAfterRevocation) {
  // Revoke the lab: epoch 2, wrapped to bob only.
  d_.grants.pop_back();
  d_.epochs.emplace(2, std::move(EpochKeys::Generate()).value());
  d_.current = 2;
  const std::string text = Seal();
  auto lab = OpenKeyringAsGrantee(text, *lab_);
  EXPECT_EQ(lab.status().code(), Code::kNotFound);  // no stanza left for the lab at all
  auto bob = OpenKeyringAsGrantee(text, *bob_);
  ASSERT_TRUE(bob.ok());
  EXPECT_TRUE(bob->holds_current());
  EXPECT_EQ(bob->epochs.size(), 2u);  // granted since epoch 1: both
  // Someone granted after the rotation gets only the new epoch.
  d_.grants.push_back(GrantRecord{"insurer_x", FormatPublicIdentity(eve_->public_identity()),
                                  GrantAccess::kRead, "", 2});
  auto eve = OpenKeyringAsGrantee(Seal(), *eve_);
  ASSERT_TRUE(eve.ok());
  EXPECT_EQ(eve->epochs.size(), 1u);
  EXPECT_EQ(eve->epochs.count(2), 1u);
}

TEST_F(KeyringTest, EveryChangedByteIsRefused) {
  const std::string text = Seal();
  // Flip each byte before the signature line (the signature covers them) and some within it.
  for (size_t i = 0; i < text.size(); i += 7) {
    if (text[i] == '\n') continue;
    std::string bad = text;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    if (bad == text) continue;
    EXPECT_FALSE(OpenKeyringAsOwner(bad, owner_key_).ok()) << "byte " << i;
    EXPECT_FALSE(OpenKeyringAsGrantee(bad, *bob_).ok()) << "byte " << i;
  }
  // A keyring re-signed by someone else (the host swapping in its own) still opens for no one
  // who checks the owner: the signer is reported.
  auto header = ParseKeyringHeader(text);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->owner, owner_->public_identity());
  EXPECT_EQ(header->current, 1u);
  EXPECT_EQ(header->stanzas, 2u);
}

TEST_F(KeyringTest, MalformedKeyringsAreCorrupt) {
  EXPECT_EQ(OpenKeyringAsOwner("", owner_key_).status().code(), Code::kCorrupt);
  EXPECT_EQ(OpenKeyringAsOwner("phrfs-keyring 2\nsig AAAA\n", owner_key_).status().code(),
            Code::kCorrupt);
  const std::string text = Seal();
  EXPECT_EQ(OpenKeyringAsOwner(text.substr(0, text.size() / 2), owner_key_).status().code(),
            Code::kCorrupt);
  // Without its current epoch's keys a keyring cannot be sealed.
  d_.current = 5;
  EXPECT_FALSE(SealKeyring(d_, owner_key_, *owner_).ok());
  d_.current = 1;
  d_.grants[0].public_key = "phrfs1notakey";
  EXPECT_FALSE(SealKeyring(d_, owner_key_, *owner_).ok());
}

}  // namespace
}  // namespace phrfs::crypto
