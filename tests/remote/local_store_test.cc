// LocalStore behaviour beyond the shared contract: the on-disk layout, hidden temporaries,
// symlinks that must not lead out of the root, and etags that notice outside changes.
#include "remote/local_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto store = LocalStore::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto root = OpenAt(AT_FDCWD, dir_.path(), O_PATH | O_DIRECTORY);
    ASSERT_TRUE(root.ok());
    root_ = std::move(root).value();
  }
  // The store's directory, opened on its own, to look at what the store wrote.
  int root_fd() const { return root_.get(); }
  // A file put into the store's directory behind the store's back.
  void Plant(const std::string& name, const std::string& content) {
    auto fd = OpenAt(root_fd(), name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    ASSERT_TRUE(WriteAt(fd->get(), Bytes(content), 0).ok());
  }
  std::string OnDisk(const std::string& name) {
    auto fd = OpenAt(root_fd(), name, O_RDONLY);
    if (!fd.ok()) return "<" + fd.status().ToString() + ">";
    std::vector<uint8_t> buf(4096);
    auto n = ReadAt(fd->get(), buf, 0);
    return n.ok() ? std::string(buf.begin(), buf.begin() + *n) : "<read error>";
  }
  // Every name in a directory of the tree, temporaries included.
  std::vector<std::string> RawNames(const std::string& rel) {
    auto fd = OpenAt(root_fd(), rel.empty() ? "." : rel, O_PATH | O_DIRECTORY);
    EXPECT_TRUE(fd.ok());
    std::vector<std::string> names;
    if (!fd.ok()) return names;
    auto entries = ListDir(fd->get());
    EXPECT_TRUE(entries.ok());
    if (entries.ok()) {
      for (const DirEntry& e : *entries) names.push_back(e.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  TempDir outside_;
  std::unique_ptr<LocalStore> store_;
  Fd root_;
};

TEST_F(LocalStoreTest, OpenOfAMissingDirectoryIsNotFound) {
  auto store = LocalStore::Open(dir_.path() + "/does-not-exist");
  EXPECT_EQ(store.status().code(), Code::kNotFound);
  Plant("file", "x");
  EXPECT_EQ(LocalStore::Open(dir_.path() + "/file").status().code(), Code::kNotADirectory);
}

TEST_F(LocalStoreTest, ObjectsArePlainFilesUnderTheRoot) {
  ASSERT_TRUE(store_->MakeCollection("c").ok());
  ASSERT_TRUE(store_->Write("c/obj", Bytes("bytes"), Precondition::None()).ok());
  EXPECT_EQ(OnDisk("c/obj"), "bytes");
  auto st = StatAt(root_fd(), "c/obj");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode & 0777, 0600u);  // ciphertext, but still nobody else's business
}

TEST_F(LocalStoreTest, WritesLeaveNoTemporaries) {
  ASSERT_TRUE(store_->Write("a", Bytes("1"), Precondition::None()).ok());
  ASSERT_TRUE(store_->Write("a", Bytes("2"), Precondition::None()).ok());
  EXPECT_FALSE(store_->Write("a", Bytes("3"), Precondition::MustNotExist()).ok());
  EXPECT_FALSE(store_->Write("a", Bytes("4"), Precondition::ETagMatches("0-0-0")).ok());
  EXPECT_EQ(RawNames(""), (std::vector<std::string>{"a"}));
}

TEST_F(LocalStoreTest, LeftoverTemporariesAreHiddenAndReserved) {
  Plant(".tmp.0123456789abcdef", "crash");
  ASSERT_TRUE(store_->Write("real", Bytes("x"), Precondition::None()).ok());
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "real");
  EXPECT_EQ(store_->Write(".tmp.x", Bytes("x"), Precondition::None()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store_->Read(".tmp.0123456789abcdef", 0, 10).status().code(),
            Code::kInvalidArgument);
}

// ObjectTree::Exchange parks one object under a temporary name for a moment.
TEST_F(LocalStoreTest, ARenameMayParkAnObjectUnderATemporaryName) {
  ASSERT_TRUE(store_->Write("a", Bytes("parked"), Precondition::None()).ok());
  ASSERT_TRUE(store_->Rename("a", ".tmp.0123456789abcdef", RenameOptions{}).ok());
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(store_->Read(".tmp.0123456789abcdef", 0, 10).status().code(),
            Code::kInvalidArgument);
  ASSERT_TRUE(store_->Rename(".tmp.0123456789abcdef", "b", RenameOptions{}).ok());
  auto back = store_->Read("b", 0, 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Bytes("parked"));
  // Only as a Rename's last component: a temporary name is never a folder on the way.
  EXPECT_EQ(store_->Rename("b", ".tmp.x/b", RenameOptions{}).code(), Code::kInvalidArgument);
}

TEST_F(LocalStoreTest, SymlinksInsideTheTreeAreNotFollowed) {
  ASSERT_TRUE(outside_.ok());
  ASSERT_EQ(symlink(outside_.path().c_str(), (dir_.path() + "/escape").c_str()), 0);
  auto write = store_->Write("escape/planted", Bytes("x"), Precondition::None());
  EXPECT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Code::kNotADirectory) << write.status().ToString();
  EXPECT_FALSE(store_->List("escape").ok());
  EXPECT_FALSE(store_->MakeCollection("escape/sub").ok());
  // Nothing appeared outside the root.
  auto outside_fd = OpenAt(AT_FDCWD, outside_.path(), O_PATH | O_DIRECTORY);
  ASSERT_TRUE(outside_fd.ok());
  auto outside_entries = ListDir(outside_fd->get());
  ASSERT_TRUE(outside_entries.ok());
  EXPECT_TRUE(outside_entries->empty());
  // A symlink is neither object nor collection: not listed, not readable as one.
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE(store_->Read("escape", 0, 10).ok());
}

TEST_F(LocalStoreTest, ETagNoticesAChangeMadeOutsideTheStore) {
  auto etag = store_->Write("doc", Bytes("mine"), Precondition::None());
  ASSERT_TRUE(etag.ok());
  // Another program replaces the file behind our back (a different size and inode).
  // Another writer replaces the object (a new inode, as a rename into place would make).
  ASSERT_EQ(unlink((dir_.path() + "/doc").c_str()), 0);
  Plant("doc", "theirs!");
  auto refused = store_->Write("doc", Bytes("mine2"), Precondition::ETagMatches(*etag));
  EXPECT_EQ(refused.status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(store_->Delete("doc", Precondition::ETagMatches(*etag)).code(),
            Code::kPreconditionFailed);
  auto content = store_->Read("doc", 0, 100);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, Bytes("theirs!"));
}

TEST_F(LocalStoreTest, ETagIsDerivedFromMtimeSizeAndInode) {
  auto etag = store_->Write("f", Bytes("12345"), Precondition::None());
  ASSERT_TRUE(etag.ok());
  auto st = StatAt(root_fd(), "f");
  ASSERT_TRUE(st.ok());
  char expected[64];
  snprintf(expected, sizeof(expected), "%llx-%llx-%llx",
           static_cast<unsigned long long>(st->st_mtim.tv_sec * 1000000000LL +
                                           st->st_mtim.tv_nsec),
           static_cast<unsigned long long>(st->st_size),
           static_cast<unsigned long long>(st->st_ino));
  EXPECT_EQ(*etag, expected);
}

TEST_F(LocalStoreTest, RootFdIsAnOpenDirectoryForTheFastPath) {
  auto st = StatFd(root_fd());
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISDIR(st->st_mode));
  ASSERT_TRUE(store_->Write("x", Bytes("via store"), Precondition::None()).ok());
  auto fd = OpenAt(root_fd(), "x", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(3);
  ASSERT_TRUE(ReadAt(fd->get(), buf, 4).ok());
  EXPECT_EQ(buf, Bytes("sto"));
}

}  // namespace
}  // namespace phrfs::remote::testing
