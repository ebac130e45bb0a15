// Stores of records (fs/owner_records.h): several owners' records in one store, each unlocked by
// its own identity only; a passphrase store or a non-empty one is never turned into one; a record
// that is not in its owner's folder, or is damaged, is left out of the list with a reason; a
// prefix tree reaches one record's objects through the whole store.
#include "fs/owner_records.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/store_config.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "remote/prefix_tree.h"

namespace phrfs::fs {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class OwnerRecordsTest : public ::testing::Test {
 protected:
  std::unique_ptr<remote::CipherTree> Root() { return std::make_unique<remote::ObjectTree>(store_); }
  // As `phrfs init` opens it: the record's folder made first (OpenStore's `create`).
  std::unique_ptr<remote::CipherTree> Record(const crypto::Identity& who) {
    (void)root_->MakeFolder(crypto::OwnerRecordFolder(who.public_identity()));
    return std::make_unique<remote::PrefixTree>(*root_, crypto::OwnerRecordFolder(who.public_identity()));
  }
  static crypto::Identity NewIdentity() { return std::move(crypto::Identity::Generate()).value(); }

  std::shared_ptr<remote::MemoryStore> store_ = std::make_shared<remote::MemoryStore>();
  std::unique_ptr<remote::CipherTree> root_ = Root();
};

TEST_F(OwnerRecordsTest, TwoOwnersShareAStoreAndEachUnlocksOnlyTheirOwn) {
  crypto::Identity alice = NewIdentity(), carol = NewIdentity();
  ASSERT_TRUE(PrepareStoreOfRecords(*root_, "s").ok());
  ASSERT_TRUE(PrepareStoreOfRecords(*root_, "s").ok());  // again: fine, the same store
  auto is = IsStoreOfRecords(*root_);
  ASSERT_TRUE(is.ok() && *is);
  auto id1 = StoreOfRecordsId(*root_);
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  ASSERT_TRUE(PrepareStoreOfRecords(*root_, "s").ok());
  EXPECT_EQ(*StoreOfRecordsId(*root_), *id1);  // the marker is written once

  ASSERT_TRUE(InitOwnerRecord(*Record(alice), "s/a", alice, "alice").ok());
  ASSERT_TRUE(InitOwnerRecord(*Record(carol), "s/c", carol, "carol").ok());
  EXPECT_EQ(InitOwnerRecord(*Record(alice), "s/a", alice, "alice").code(), Code::kAlreadyExists);

  auto a = UnlockOwnerRecord(Record(alice), "s/a", alice);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->owner_name, "alice");
  EXPECT_EQ(a->config.version, crypto::kStoreVersion);
  auto c = UnlockOwnerRecord(Record(carol), "s/c", carol);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->config.store_id, c->config.store_id);
  // Carol's identity does not open alice's record, and owns none of her own in alice's folder.
  EXPECT_EQ(UnlockOwnerRecord(Record(alice), "s/a", carol).status().code(), Code::kWrongKey);
  crypto::Identity eve = NewIdentity();
  EXPECT_EQ(UnlockOwnerRecord(Record(eve), "s/e", eve).status().code(), Code::kNotFound);

  std::vector<std::string> problems;
  auto records = ListOwnerRecords(*root_, &problems);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);
  EXPECT_TRUE(problems.empty());
  // Each record is a laid-out v2 tree of its own.
  EXPECT_TRUE(root_->Stat(crypto::OwnerRecordFolder(alice.public_identity()) + "/root.d").ok());
}

TEST_F(OwnerRecordsTest, APassphraseStoreOrANonEmptyOneIsNotTurnedIntoAStoreOfRecords) {
  ASSERT_TRUE(root_->Put(crypto::kStoreConfigName, Bytes("x\n"), remote::PutMode::kMustNotExist).ok());
  EXPECT_EQ(PrepareStoreOfRecords(*root_, "s").code(), Code::kAlreadyExists);
  auto other = std::make_shared<remote::MemoryStore>();
  remote::ObjectTree tree(other);
  ASSERT_TRUE(tree.Put("holiday.jpg", Bytes("jpeg"), remote::PutMode::kMustNotExist).ok());
  EXPECT_EQ(PrepareStoreOfRecords(tree, "t").code(), Code::kAlreadyExists);
  auto is = IsStoreOfRecords(tree);
  ASSERT_TRUE(is.ok());
  EXPECT_FALSE(*is);
}

TEST_F(OwnerRecordsTest, AMisplacedOrDamagedRecordIsLeftOutWithAReason) {
  crypto::Identity alice = NewIdentity(), carol = NewIdentity();
  ASSERT_TRUE(PrepareStoreOfRecords(*root_, "s").ok());
  ASSERT_TRUE(InitOwnerRecord(*Record(alice), "s/a", alice, "alice").ok());
  ASSERT_TRUE(InitOwnerRecord(*Record(carol), "s/c", carol, "carol").ok());
  const std::string a = crypto::OwnerRecordFolder(alice.public_identity());
  const std::string c = crypto::OwnerRecordFolder(carol.public_identity());
  // The host copies alice's record into carol's folder: it is alice's, not carol's.
  std::string text(4096, '\0');
  auto got = root_->Read(a + "/phrfs.record", 0, {reinterpret_cast<uint8_t*>(text.data()), text.size()});
  ASSERT_TRUE(got.ok());
  text.resize(*got);
  ASSERT_TRUE(root_->Put(c + "/phrfs.record", Bytes(text), remote::PutMode::kReplace).ok());
  std::vector<std::string> problems;
  auto records = ListOwnerRecords(*root_, &problems);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].folder, a);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not in its owner's folder"), std::string::npos) << problems[0];
  // And carol's own unlock refuses it: it names another owner.
  EXPECT_EQ(UnlockOwnerRecord(Record(carol), "s/c", carol).status().code(), Code::kWrongKey);

  // A damaged record: refused with Corrupt, listed as a problem.
  text[text.size() - 5] ^= 1;
  ASSERT_TRUE(root_->Put(a + "/phrfs.record", Bytes(text), remote::PutMode::kReplace).ok());
  problems.clear();
  records = ListOwnerRecords(*root_, &problems);
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(problems.size(), 2u);
  EXPECT_EQ(UnlockOwnerRecord(Record(alice), "s/a", alice).status().code(), Code::kCorrupt);
}

TEST(RecordStoreArgTest, AppendsTheOwnersFolderToEveryKindOfStore) {
  crypto::Identity alice = std::move(crypto::Identity::Generate()).value();
  const std::string fp = crypto::Fingerprint(alice.public_identity());
  EXPECT_EQ(RecordStoreArg("/srv/phr", alice.public_identity()), "/srv/phr/owners/" + fp);
  EXPECT_EQ(RecordStoreArg("/srv/phr/", alice.public_identity()), "/srv/phr/owners/" + fp);
  EXPECT_EQ(RecordStoreArg("webdav://h:8080/dav/phr", alice.public_identity()),
            "webdav://h:8080/dav/phr/owners/" + fp);
  EXPECT_EQ(RecordStoreArg("s3://bucket", alice.public_identity()), "s3://bucket/owners/" + fp);
  EXPECT_EQ(RecordStoreArg("s3://bucket/p/", alice.public_identity()), "s3://bucket/p/owners/" + fp);
}

}  // namespace
}  // namespace phrfs::fs
