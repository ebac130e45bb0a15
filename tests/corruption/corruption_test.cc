// Damage a store behind an unmounted phrfs, mount it again, and check that every change is
// caught: a flipped, moved, swapped, foreign, zeroed or dropped block reads as EIO (and only
// that block), a damaged name is skipped with a log line, a damaged config refuses to mount.
// Objects are found by their documented ciphertext size (phrfs-format(5) "Sizes").
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/format.h"
#include "fs/cli/exit_codes.h"
#include "tests/corruption/store_bytes.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

using crypto::kBlockOverhead;
using crypto::kBlockSize;
using crypto::kCipherBlockSize;
constexpr size_t kHeaderSize = crypto::kNodeHeaderSize;  // v2 node header
using crypto::kNonceSize;

uint64_t Blocks(uint64_t plain) { return plain == 0 ? 1 : (plain + kBlockSize - 1) / kBlockSize; }
uint64_t CipherSize(uint64_t plain) { return kHeaderSize + kBlockOverhead * Blocks(plain) + plain; }
uint64_t BlockOffset(uint64_t i) { return kHeaderSize + kCipherBlockSize * i; }

std::string Pattern(size_t n, uint32_t tag) {
  std::string s(n, '\0');
  uint32_t x = tag * 2654435761u + 7;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>('a' + (x >> 16) % 26);
  }
  return s;
}

struct ReadOutcome {
  ssize_t ret;
  int err;
  std::string data;
};

// pread of plaintext block `index` through a fresh descriptor.
ReadOutcome ReadBlock(const std::string& path, uint64_t index) {
  ReadOutcome o{-1, 0, ""};
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    o.err = errno;
    return o;
  }
  std::string buf(kBlockSize, '\0');
  o.ret = pread(fd, buf.data(), buf.size(), static_cast<off_t>(index * kBlockSize));
  o.err = o.ret < 0 ? errno : 0;
  if (o.ret > 0) o.data = buf.substr(0, static_cast<size_t>(o.ret));
  close(fd);
  return o;
}

// Whole content through read(2); *err is the errno that stopped it (0 at a clean EOF).
std::string ReadWhole(const std::string& path, int* err) {
  *err = 0;
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    *err = errno;
    return "";
  }
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) *err = errno;
  close(fd);
  return out;
}

std::vector<std::string> ListNames(const std::string& dir, int* err = nullptr) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (err != nullptr) *err = errno;
    return names;
  }
  errno = 0;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  if (err != nullptr) *err = errno;
  closedir(d);
  return names;
}

class CorruptionTest : public ::testing::Test {
 protected:
  // File sizes are distinct so that each object is found by its ciphertext size.
  static constexpr uint64_t kVictimSize = 5 * kBlockSize + 100;  // 6 blocks
  static constexpr uint64_t kOtherSize = 4 * kBlockSize + 7;     // 5 blocks
  static constexpr uint64_t kSmallSize = 333;

  void SetUp() override {
    std::string err = fx_.InitAndMount();
    ASSERT_EQ(err, "");
    victim_ = Pattern(kVictimSize, 1);
    other_ = Pattern(kOtherSize, 2);
    WriteFile(fx_.InMnt("victim-plaintext-name.bin"), victim_);
    WriteFile(fx_.InMnt("other.bin"), other_);
    WriteFile(fx_.InMnt("neighbour-note.txt"), Pattern(kSmallSize, 3));
    ASSERT_EQ(mkdir(fx_.InMnt("subdir").c_str(), 0755), 0);
    WriteFile(fx_.InMnt("subdir/inner.txt"), "inner");
    struct stat st;
    ASSERT_EQ(stat(fx_.InMnt("victim-plaintext-name.bin").c_str(), &st), 0);
    victim_ino_ = st.st_ino;
    ASSERT_EQ(fx_.Unmount().exit_code, 0);
    victim_obj_ = ObjectOfSize(CipherSize(kVictimSize));
    other_obj_ = ObjectOfSize(CipherSize(kOtherSize));
    small_obj_ = ObjectOfSize(CipherSize(kSmallSize));
    ASSERT_FALSE(victim_obj_.empty());
    ASSERT_FALSE(other_obj_.empty());
    ASSERT_FALSE(small_obj_.empty());
  }

  std::string ObjectOfSize(uint64_t size) {
    std::vector<std::string> found;
    for (const auto& f : ListFilesRecursive(fx_.store() + "/d")) {
      struct stat st;
      if (stat(f.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size) found.push_back(f);
    }
    EXPECT_EQ(found.size(), 1u) << "objects of " << size << " bytes in the store";
    return found.size() == 1 ? found[0] : "";
  }

  void MountAgain() {
    RunResult r = fx_.Mount();
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }

  std::string Victim() const { return fx_.InMnt("victim-plaintext-name.bin"); }

  // Every block of the victim except `bad` reads its original bytes; `bad` gives EIO.
  void ExpectOnlyBlocksFail(const std::set<uint64_t>& bad) {
    for (uint64_t i = 0; i < Blocks(kVictimSize); ++i) {
      ReadOutcome o = ReadBlock(Victim(), i);
      if (bad.count(i) != 0) {
        EXPECT_EQ(o.ret, -1) << "damaged block " << i << " was returned";
        EXPECT_EQ(o.err, EIO) << "block " << i << ": " << strerror(o.err);
      } else {
        std::string want = victim_.substr(i * kBlockSize, kBlockSize);
        EXPECT_EQ(o.ret, static_cast<ssize_t>(want.size()))
            << "intact block " << i << ": " << strerror(o.err);
        EXPECT_TRUE(o.data == want) << "intact block " << i << " content";
      }
    }
  }

  void ExpectOtherFilesFine() {
    std::string got = ReadFileOrDie(fx_.InMnt("other.bin"));
    EXPECT_TRUE(got == other_) << "other.bin damaged too";
    EXPECT_EQ(ReadFileOrDie(fx_.InMnt("subdir/inner.txt")), "inner");
  }

  // A log line names the inode number and block index and never the plaintext name.
  void ExpectLogNamesBlock(uint64_t block) {
    std::string log = fx_.ReadLog();
    EXPECT_EQ(log.find("victim-plaintext-name"), std::string::npos) << "log leaks the name:\n"
                                                                    << log;
    std::regex ino_re("\\b" + std::to_string(victim_ino_) + "\\b");
    std::regex block_re("block[^0-9]{0,12}" + std::to_string(block) + "\\b");
    bool found = false;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, ino_re) && std::regex_search(line, block_re)) found = true;
    }
    EXPECT_TRUE(found) << "no log line names inode " << victim_ino_ << " and block " << block
                       << ":\n"
                       << log;
  }

  MountFixture fx_;
  std::string victim_, other_;
  std::string victim_obj_, other_obj_, small_obj_;
  ino_t victim_ino_ = 0;
};

TEST_F(CorruptionTest, FlippedByteInOneBlockFailsThatBlockOnlyAndIsLogged) {
  FlipByte(victim_obj_, BlockOffset(2) + kNonceSize + 100);
  MountAgain();
  ExpectOnlyBlocksFail({2});
  ExpectOtherFilesFine();
  // A whole-file read stops with EIO rather than returning the damaged block.
  int fd = open(Victim().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::string buf(kVictimSize, '\0');
  ssize_t total = 0, n;
  while ((n = read(fd, buf.data() + total, buf.size() - total)) > 0) total += n;
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_LE(total, static_cast<ssize_t>(2 * kBlockSize));
  close(fd);
  ExpectLogNamesBlock(2);
}

TEST_F(CorruptionTest, FlippedNonceOrTagFailsTheBlock) {
  FlipByte(victim_obj_, BlockOffset(1));                       // nonce
  FlipByte(victim_obj_, BlockOffset(4) + kCipherBlockSize - 1);  // tag
  FlipByte(victim_obj_, BlockOffset(5) + kNonceSize + 3);       // short last block
  MountAgain();
  ExpectOnlyBlocksFail({1, 4, 5});
}

TEST_F(CorruptionTest, SwappedBlocksWithinAFileFail) {
  std::string b1 = ReadRange(victim_obj_, BlockOffset(1), kCipherBlockSize);
  std::string b3 = ReadRange(victim_obj_, BlockOffset(3), kCipherBlockSize);
  WriteRange(victim_obj_, BlockOffset(1), b3);
  WriteRange(victim_obj_, BlockOffset(3), b1);
  MountAgain();
  ExpectOnlyBlocksFail({1, 3});
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, BlockCopiedFromAnotherFileFails) {
  std::string foreign = ReadRange(other_obj_, BlockOffset(1), kCipherBlockSize);
  WriteRange(victim_obj_, BlockOffset(1), foreign);
  MountAgain();
  ExpectOnlyBlocksFail({1});
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, ZeroedBlockFails) {
  WriteRange(victim_obj_, BlockOffset(3), std::string(kCipherBlockSize, '\0'));
  MountAgain();
  ExpectOnlyBlocksFail({3});
}

TEST_F(CorruptionTest, DroppedLastBlockIsDetected) {
  // Cut the object at a block boundary: 5 full blocks remain, none flagged "last".
  ASSERT_EQ(truncate(victim_obj_.c_str(), static_cast<off_t>(BlockOffset(5))), 0);
  MountAgain();
  struct stat st;
  int r = stat(Victim().c_str(), &st);
  if (r == 0) {
    EXPECT_EQ(st.st_size, static_cast<off_t>(5 * kBlockSize)) << "size from the cut object";
    ReadOutcome o = ReadBlock(Victim(), 4);
    EXPECT_EQ(o.ret, -1) << "the new last block (not flagged last) was returned";
    EXPECT_EQ(o.err, EIO);
  } else {
    EXPECT_EQ(errno, EIO);
  }
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, ObjectCutToNothingIsDetected) {
  // Even an empty file is a header and a sealed block: zero bytes is never a valid object.
  ASSERT_EQ(truncate(victim_obj_.c_str(), 0), 0);
  MountAgain();
  int err = 0;
  std::string data = ReadWhole(Victim(), &err);
  EXPECT_EQ(err, EIO) << "a file cut to nothing read as " << data.size() << " bytes";
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, ObjectCutInsideABlockIsDetected) {
  // A remainder of 1..27 bytes maps to no plaintext size: corrupt.
  ASSERT_EQ(truncate(victim_obj_.c_str(), static_cast<off_t>(BlockOffset(5) + 10)), 0);
  MountAgain();
  struct stat st;
  int r = stat(Victim().c_str(), &st);
  if (r == 0) {
    // Caught at open or at the read of the cut block.
    int err = 0;
    std::string data = ReadWhole(Victim(), &err);
    EXPECT_EQ(err, EIO) << "a cut object read to the end without EIO (size " << st.st_size
                        << ", read " << data.size() << "): " << strerror(err);
    EXPECT_LE(data.size(), 5 * kBlockSize);
  } else {
    EXPECT_EQ(errno, EIO) << "stat of a cut object: " << strerror(errno);
  }
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, AppendedBlockIsDetected) {
  std::string extra = ReadRange(victim_obj_, BlockOffset(0), kCipherBlockSize);
  std::string last = ReadRange(victim_obj_, BlockOffset(5), 100 + kBlockOverhead);
  // Replace the short last block by a full block 0 copy followed by the old last block.
  ASSERT_EQ(truncate(victim_obj_.c_str(), static_cast<off_t>(BlockOffset(5))), 0);
  {
    int fd = open(victim_obj_.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, extra.data(), extra.size()), static_cast<ssize_t>(extra.size()));
    ASSERT_EQ(write(fd, last.data(), last.size()), static_cast<ssize_t>(last.size()));
    close(fd);
  }
  MountAgain();
  ExpectOnlyBlocksFail({5});
  // Block 6 (the old last block, now at the wrong index) must fail too.
  ReadOutcome o = ReadBlock(Victim(), 6);
  EXPECT_EQ(o.ret, -1);
  EXPECT_EQ(o.err, EIO);
}

TEST_F(CorruptionTest, DamagedHeaderFailsEveryBlock) {
  FlipByte(victim_obj_, 28 + 3);  // inside the content id
  MountAgain();
  for (uint64_t i = 0; i < Blocks(kVictimSize); ++i) {
    ReadOutcome o = ReadBlock(Victim(), i);
    EXPECT_EQ(o.ret, -1) << "block " << i;
    EXPECT_EQ(o.err, EIO) << "block " << i;
  }
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, DamagedMagicOrVersionGivesEio) {
  FlipByte(victim_obj_, 0);                      // magic
  FlipByte(other_obj_, 4);                       // version
  MountAgain();
  ReadOutcome a = ReadBlock(Victim(), 0);
  EXPECT_EQ(a.ret, -1);
  EXPECT_EQ(a.err, EIO) << strerror(a.err);
  ReadOutcome b = ReadBlock(fx_.InMnt("other.bin"), 0);
  EXPECT_EQ(b.ret, -1);
  // A header version this build cannot read is EIO to programs (the log says "unsupported").
  EXPECT_EQ(b.err, EIO) << strerror(b.err);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("subdir/inner.txt")), "inner");
}

TEST_F(CorruptionTest, SwappedContentObjectsOfTwoFilesAreNotDetectedYet) {
  // Names are not bound to contents in format v2 either (per-directory manifests come later),
  // so this documents what happens rather than demanding EIO: no crash, the mount keeps
  // working, and whatever is returned authenticates as one of the two original contents.
  std::string tmp = victim_obj_ + ".swap";
  ASSERT_EQ(rename(victim_obj_.c_str(), tmp.c_str()), 0);
  ASSERT_EQ(rename(other_obj_.c_str(), victim_obj_.c_str()), 0);
  ASSERT_EQ(rename(tmp.c_str(), other_obj_.c_str()), 0);
  MountAgain();
  int err_a = 0, err_b = 0;
  std::string a = ReadWhole(Victim(), &err_a);
  std::string b = ReadWhole(fx_.InMnt("other.bin"), &err_b);
  std::cout << "[ INFO ] swapped objects: victim errno " << err_a << ", reads " << a.size()
            << " bytes ("
            << (a == other_ ? "other's content" : a == victim_ ? "own content" : "other") << "), "
            << "other reads " << b.size() << " bytes ("
            << (b == victim_ ? "victim's content" : b == other_ ? "own content" : "other")
            << "), errno " << err_b
            << std::endl;
  EXPECT_TRUE(err_a != 0 || a == other_ || a == victim_);
  EXPECT_TRUE(err_b != 0 || b == victim_ || b == other_);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("subdir/inner.txt")), "inner");
  EXPECT_TRUE(IsMountPoint(fx_.mnt()));
}

// Changes one base64url character of an object's name, staying inside the alphabet.
std::string DamageName(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = path.substr(0, slash), name = path.substr(slash + 1);
  size_t pos = name.size() / 2;
  name[pos] = name[pos] == 'A' ? 'B' : 'A';
  std::string out = dir + "/" + name;
  EXPECT_EQ(rename(path.c_str(), out.c_str()), 0);
  return out;
}

TEST_F(CorruptionTest, DamagedNameIsSkippedInListingsAndLogged) {
  DamageName(small_obj_);
  MountAgain();
  int err = 0;
  auto names = ListNames(fx_.mnt(), &err);
  EXPECT_EQ(err, 0) << "listing failed: " << strerror(err);
  std::set<std::string> got(names.begin(), names.end());
  EXPECT_EQ(got, (std::set<std::string>{"victim-plaintext-name.bin", "other.bin", "subdir"}));
  std::string log = fx_.ReadLog();
  EXPECT_TRUE(std::regex_search(log, std::regex("name", std::regex::icase)))
      << "no log line about the undecryptable name:\n"
      << log;
  EXPECT_EQ(log.find("neighbour-note"), std::string::npos);
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, NameMovedToAnotherDirectoryFolderIsSkipped) {
  // Names are encrypted with their directory id: moved into subdir's folder, it must not decrypt.
  std::string inner_obj = ObjectOfSize(CipherSize(5));
  ASSERT_FALSE(inner_obj.empty());
  std::string subdir_folder = inner_obj.substr(0, inner_obj.rfind('/'));
  std::string moved = subdir_folder + "/" + small_obj_.substr(small_obj_.rfind('/') + 1);
  ASSERT_EQ(rename(small_obj_.c_str(), moved.c_str()), 0);
  MountAgain();
  auto names = ListNames(fx_.InMnt("subdir"));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), std::set<std::string>{"inner.txt"});
  auto root = ListNames(fx_.mnt());
  EXPECT_EQ(std::count(root.begin(), root.end(), "neighbour-note.txt"), 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("subdir/inner.txt")), "inner");
}

TEST_F(CorruptionTest, DamagedLongNameSidecarIsSkipped) {
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  const std::string long_name(220, 'n');
  WriteFile(fx_.InMnt(long_name), "long");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  std::string sidecar;
  for (const auto& f : ListFilesRecursive(fx_.store() + "/d")) {
    if (f.size() > 2 && f.substr(f.size() - 2) == ".n") sidecar = f;
  }
  ASSERT_FALSE(sidecar.empty()) << "no .n sidecar for a 220-byte name";
  std::string text = ReadFileOrDie(sidecar);
  ASSERT_GT(text.size(), 10u);
  text[text.size() / 2] = text[text.size() / 2] == 'A' ? 'B' : 'A';
  WriteFile(sidecar, text);
  MountAgain();
  auto names = ListNames(fx_.mnt());
  std::set<std::string> got(names.begin(), names.end());
  EXPECT_EQ(got.count(long_name), 0u);
  EXPECT_EQ(got.count("other.bin"), 1u);
  // A lookup by name does not need the sidecar (the stem is computed from the name), so it
  // may still find the object; what it returns must be the authenticated content.
  int err = 0;
  std::string content = ReadWhole(fx_.InMnt(long_name), &err);
  EXPECT_TRUE((err == 0 && content == "long") || err == ENOENT || err == EIO)
      << strerror(err) << " [" << content << "]";
  std::cout << "[ INFO ] lookup of a long name whose sidecar is damaged: "
            << (err == 0 ? "found" : strerror(err)) << std::endl;
  ExpectOtherFilesFine();
}

TEST_F(CorruptionTest, DamagedDirectoryAndSymlinkObjectsGiveEio) {
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  ASSERT_EQ(symlink(std::string(300, 't').c_str(), fx_.InMnt("link").c_str()), 0);
  ASSERT_EQ(mkdir(fx_.InMnt("dir2").c_str(), 0755), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  // The symlink object holds 300 bytes of target; directory objects are a node header only
  // (several: subdir and dir2), so damage every .d object's sealed metadata.
  std::string link_obj = ObjectOfSize(CipherSize(300));
  ASSERT_FALSE(link_obj.empty());
  FlipByte(link_obj, BlockOffset(0) + kNonceSize + 5);
  int dirs = 0;
  for (const auto& f : ListFilesRecursive(fx_.store() + "/d")) {
    if (f.size() > 2 && f.substr(f.size() - 2) == ".d") {
      FlipByte(f, crypto::kNodeMetaOffset + kNonceSize + 1);
      ++dirs;
    }
  }
  EXPECT_EQ(dirs, 2);
  MountAgain();
  char buf[512];
  errno = 0;
  EXPECT_EQ(readlink(fx_.InMnt("link").c_str(), buf, sizeof buf), -1);
  EXPECT_EQ(errno, EIO) << strerror(errno);
  struct stat st;
  errno = 0;
  int r = stat(fx_.InMnt("subdir/inner.txt").c_str(), &st);
  EXPECT_EQ(r, -1) << "a file inside a directory whose id object is damaged was found";
  EXPECT_TRUE(errno == EIO || errno == ENOENT) << strerror(errno);
  // Files in the root are not affected.
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("other.bin")), other_);
}

TEST_F(CorruptionTest, DamagedConfigRefusesToMountAndMountsNothing) {
  const std::string conf = fx_.store() + "/phrfs.conf";
  std::string text = ReadFileOrDie(conf);
  auto pos = text.find("n=");
  ASSERT_NE(pos, std::string::npos);
  std::string lowered = text;
  lowered.replace(pos, text.find(' ', pos) - pos, "n=2048");  // a KDF downgrade/upgrade
  WriteFile(conf, lowered);
  RunResult r = fx_.Mount();
  EXPECT_TRUE(r.exit_code == fs::kExitCorruptStore || r.exit_code == fs::kExitWrongPassphrase)
      << r.Describe();
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
  WriteFile(conf, text.substr(0, text.size() / 3));
  r = fx_.Mount();
  EXPECT_EQ(r.exit_code, fs::kExitCorruptStore) << r.Describe();
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
  WriteFile(conf, text);
  MountAgain();
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("other.bin")), other_);
}

}  // namespace
}  // namespace phrfs::testing
