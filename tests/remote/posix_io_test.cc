// Unit tests for remote/local/posix_io.h: positioned I/O, renameat2 flags, listing, atomic whole
// writes, attribute changes on O_PATH descriptors and the errno -> Status mapping.
#include "remote/local/posix_io.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Str(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

class PosixIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    auto fd = OpenAt(AT_FDCWD, dir_.path(), O_PATH | O_DIRECTORY);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    root_ = std::move(fd).value();
  }

  void WriteFile(const std::string& name, const std::string& content) {
    auto fd = OpenAt(root_.get(), name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_TRUE(fd.ok()) << fd.status().ToString();
    ASSERT_TRUE(WriteAt(fd->get(), Bytes(content), 0).ok());
  }
  std::string ReadFile(const std::string& name) {
    auto fd = OpenAt(root_.get(), name, O_RDONLY);
    EXPECT_TRUE(fd.ok()) << name << ": " << fd.status().ToString();
    if (!fd.ok()) return "<error>";
    std::vector<uint8_t> buf(1 << 20);
    auto n = ReadAt(fd->get(), buf, 0);
    EXPECT_TRUE(n.ok());
    buf.resize(n.ok() ? *n : 0);
    return Str(buf);
  }
  std::vector<std::string> Names() {
    auto r = ListDir(root_.get());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> names;
    if (r.ok()) {
      for (const DirEntry& e : *r) names.push_back(e.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  Fd root_;
};

TEST_F(PosixIoTest, WriteAtAndReadAtUseTheGivenOffsets) {
  auto fd = OpenAt(root_.get(), "f", O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  ASSERT_TRUE(WriteAt(fd->get(), Bytes("hello"), 0).ok());
  ASSERT_TRUE(WriteAt(fd->get(), Bytes("world"), 10).ok());  // leaves a hole of zeros
  std::vector<uint8_t> buf(5);
  auto n = ReadAt(fd->get(), buf, 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(Str(buf), "world");
  std::vector<uint8_t> hole(5, 0xff);
  ASSERT_TRUE(ReadAt(fd->get(), hole, 5).ok());
  EXPECT_EQ(hole, std::vector<uint8_t>(5, 0));
}

TEST_F(PosixIoTest, ReadAtIsShortOnlyAtEndOfFile) {
  WriteFile("f", "0123456789");
  auto fd = OpenAt(root_.get(), "f", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  std::vector<uint8_t> buf(8);
  auto n = ReadAt(fd->get(), buf, 6);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + 4), "6789");
  auto past = ReadAt(fd->get(), buf, 100);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, 0u);
}

TEST_F(PosixIoTest, TruncateAndSyncChangeTheSize) {
  WriteFile("f", "0123456789");
  auto fd = OpenAt(root_.get(), "f", O_RDWR);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(Truncate(fd->get(), 3).ok());
  ASSERT_TRUE(Sync(fd->get(), true).ok());
  ASSERT_TRUE(Sync(fd->get(), false).ok());
  EXPECT_EQ(ReadFile("f"), "012");
}

TEST_F(PosixIoTest, RenameNoReplaceRefusesAnExistingTarget) {
  WriteFile("a", "A");
  WriteFile("b", "B");
  Status st = RenameAt(root_.get(), "a", root_.get(), "b", RENAME_NOREPLACE);
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  EXPECT_EQ(ReadFile("a"), "A");
  EXPECT_EQ(ReadFile("b"), "B");
  ASSERT_TRUE(RenameAt(root_.get(), "a", root_.get(), "c", RENAME_NOREPLACE).ok());
  EXPECT_EQ(Names(), (std::vector<std::string>{"b", "c"}));
}

TEST_F(PosixIoTest, RenameExchangeSwapsBothEntries) {
  WriteFile("a", "A");
  WriteFile("b", "B");
  ASSERT_TRUE(RenameAt(root_.get(), "a", root_.get(), "b", RENAME_EXCHANGE).ok());
  EXPECT_EQ(ReadFile("a"), "B");
  EXPECT_EQ(ReadFile("b"), "A");
  // Exchange needs both names to exist.
  EXPECT_EQ(RenameAt(root_.get(), "a", root_.get(), "zzz", RENAME_EXCHANGE).code(),
            Code::kNotFound);
}

TEST_F(PosixIoTest, PlainRenameReplacesTheTarget) {
  WriteFile("a", "A");
  WriteFile("b", "B");
  ASSERT_TRUE(RenameAt(root_.get(), "a", root_.get(), "b", 0).ok());
  EXPECT_EQ(Names(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ReadFile("b"), "A");
}

TEST_F(PosixIoTest, ListDirExcludesDotEntriesAndReportsTypes) {
  WriteFile("file", "x");
  ASSERT_TRUE(MkdirAt(root_.get(), "sub", 0700).ok());
  auto entries = ListDir(root_.get());
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  for (const DirEntry& e : *entries) {
    EXPECT_NE(e.name, ".");
    EXPECT_NE(e.name, "..");
    EXPECT_NE(e.ino, 0u);
    if (e.name == "file") {
      EXPECT_EQ(e.type, DT_REG);
    } else {
      EXPECT_EQ(e.name, "sub");
      EXPECT_EQ(e.type, DT_DIR);
    }
  }
  auto empty = OpenAt(root_.get(), "sub", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(empty.ok());
  auto none = ListDir(empty->get());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(PosixIoTest, ListDirLeavesTheCallersPositionAlone) {
  for (int i = 0; i < 5; ++i) WriteFile("f" + std::to_string(i), "x");
  auto fd = OpenAt(root_.get(), ".", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(fd.ok());
  off_t before = lseek(fd->get(), 0, SEEK_CUR);
  auto first = ListDir(fd->get());
  auto second = ListDir(fd->get());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->size(), 5u);
  EXPECT_EQ(second->size(), 5u);
  EXPECT_EQ(lseek(fd->get(), 0, SEEK_CUR), before);
  // The caller's descriptor is still open and usable.
  EXPECT_TRUE(StatFd(fd->get()).ok());
}

TEST_F(PosixIoTest, StatAtDoesNotFollowSymlinks) {
  WriteFile("target", "t");
  ASSERT_EQ(symlinkat("target", root_.get(), "link"), 0);
  auto st = StatAt(root_.get(), "link");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISLNK(st->st_mode));
  auto link_fd = OpenAt(root_.get(), "link", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(link_fd.ok());
  auto fst = StatFd(link_fd->get());
  ASSERT_TRUE(fst.ok());
  EXPECT_TRUE(S_ISLNK(fst->st_mode));
}

TEST_F(PosixIoTest, LinkAtCreatesASecondNameIncludingFromAnOPathDescriptor) {
  WriteFile("f", "x");
  ASSERT_TRUE(LinkAt(root_.get(), "f", root_.get(), "g").ok());
  auto path_fd = OpenAt(root_.get(), "f", O_PATH);
  ASSERT_TRUE(path_fd.ok());
  ASSERT_TRUE(LinkAt(path_fd->get(), "", root_.get(), "h").ok());
  auto st = StatAt(root_.get(), "h");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_nlink, 3u);
  EXPECT_EQ(LinkAt(root_.get(), "f", root_.get(), "g").code(), Code::kAlreadyExists);
}

TEST_F(PosixIoTest, ErrnoIsMappedToTypedCodes) {
  EXPECT_EQ(OpenAt(root_.get(), "missing", O_RDONLY).status().code(), Code::kNotFound);
  EXPECT_EQ(StatAt(root_.get(), "missing").status().code(), Code::kNotFound);
  EXPECT_EQ(UnlinkAt(root_.get(), "missing").code(), Code::kNotFound);
  ASSERT_TRUE(MkdirAt(root_.get(), "d", 0700).ok());
  EXPECT_EQ(MkdirAt(root_.get(), "d", 0700).code(), Code::kAlreadyExists);
  WriteFile("d_file", "x");
  EXPECT_EQ(OpenAt(root_.get(), "d_file", O_WRONLY | O_CREAT | O_EXCL, 0600).status().code(),
            Code::kAlreadyExists);
  auto d = OpenAt(root_.get(), "d", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(MkdirAt(d->get(), "child", 0700).ok());
  Status rm = RmdirAt(root_.get(), "d");
  EXPECT_EQ(rm.code(), Code::kNotEmpty) << rm.ToString();
  EXPECT_EQ(RmdirAt(root_.get(), "d_file").code(), Code::kNotADirectory);
  EXPECT_EQ(UnlinkAt(root_.get(), "d").code(), Code::kIsADirectory);
  // Messages name only the operation and the store name.
  Status missing = UnlinkAt(root_.get(), "n4m3");
  EXPECT_NE(missing.message().find("n4m3"), std::string::npos);
  EXPECT_EQ(missing.message().find(dir_.path()), std::string::npos);
}

TEST_F(PosixIoTest, StatFsReportsTheFileSystem) {
  auto vfs = StatFs(root_.get());
  ASSERT_TRUE(vfs.ok()) << vfs.status().ToString();
  EXPECT_GT(vfs->f_bsize, 0u);
  EXPECT_GT(vfs->f_blocks, 0u);
}

TEST(FdTest, ClosesOnDestructionAndMovesOwnership) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    Fd a(raw);
    Fd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    Fd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_NE(fcntl(raw, F_GETFD), -1);
  }
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace phrfs::remote::testing
