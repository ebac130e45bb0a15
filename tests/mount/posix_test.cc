// Targeted POSIX behaviour through a real phrfs mount: concurrency, many open files, mmap,
// locks, statfs, xattrs, large directories, O_APPEND, read-only mounts, exact sizes across
// remounts, and that the store never holds plaintext.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/format.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

bool WriteAll(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t k = write(fd, data.data() + done, data.size() - done);
    if (k <= 0) {
      close(fd);
      return false;
    }
    done += static_cast<size_t>(k);
  }
  return close(fd) == 0;
}

uint64_t CipherSize(uint64_t plain) {
  uint64_t blocks = plain == 0 ? 1 : (plain + crypto::kBlockSize - 1) / crypto::kBlockSize;
  return crypto::kNodeHeaderSize + blocks * crypto::kBlockOverhead + plain;
}

class MountedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    umask(022);
    std::string err = fx_.InitAndMount();
    ASSERT_EQ(err, "") << "log:\n" << fx_.ReadLog();
  }
  void RemountOrFail() {
    RunResult r = fx_.Remount();
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    ASSERT_TRUE(IsMountPoint(fx_.mnt()));
  }
  std::string P(const std::string& rel) const { return fx_.InMnt(rel); }

  MountFixture fx_;
};

TEST_F(MountedTest, ConcurrentWritersAndReadersOnDistinctRegionsOfOneFile) {
  constexpr int kThreads = 4;
  constexpr size_t kRegion = 300007;  // not block aligned: neighbours share blocks
  const std::string path = P("shared.bin");
  {
    int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }
  std::vector<std::string> want(kThreads);
  for (int t = 0; t < kThreads; ++t) want[t] = Pattern(kRegion, 100 + t);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        ++errors;
        return;
      }
      size_t off = 0, chunk = 1000 + 517 * t;
      while (off < kRegion) {
        size_t n = std::min(chunk, kRegion - off);
        if (pwrite(fd, want[t].data() + off, n, static_cast<off_t>(t * kRegion + off)) !=
            static_cast<ssize_t>(n)) {
          ++errors;
        }
        // Read back what this thread wrote so far, while the others keep writing.
        std::string back(n, '\0');
        if (pread(fd, back.data(), n, static_cast<off_t>(t * kRegion + off)) !=
                static_cast<ssize_t>(n) ||
            back != want[t].substr(off, n)) {
          ++errors;
        }
        off += n;
        chunk = chunk * 7 % 20011 + 300;
      }
      close(fd);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  std::string all;
  for (const auto& w : want) all += w;
  EXPECT_TRUE(ReadAll(path) == all) << "content differs after concurrent writes";
  RemountOrFail();
  EXPECT_TRUE(ReadAll(path) == all) << "content differs after remount";
}

TEST_F(MountedTest, FiveHundredFilesOpenAtOnce) {
  constexpr int kFiles = 500;
  std::vector<int> fds;
  for (int i = 0; i < kFiles; ++i) {
    int fd = open(P("many-" + std::to_string(i)).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << "file " << i << ": " << strerror(errno);
    fds.push_back(fd);
  }
  for (int i = 0; i < kFiles; ++i) {
    std::string data = Pattern(100 + i * 13, i);
    ASSERT_EQ(write(fds[i], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  for (int i = 0; i < kFiles; ++i) {
    std::string data = Pattern(100 + i * 13, i);
    std::string back(data.size(), '\0');
    ASSERT_EQ(pread(fds[i], back.data(), back.size(), 0), static_cast<ssize_t>(data.size()));
    EXPECT_TRUE(back == data) << "file " << i;
  }
  for (int fd : fds) EXPECT_EQ(close(fd), 0);
  RemountOrFail();
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_TRUE(ReadAll(P("many-" + std::to_string(i))) == Pattern(100 + i * 13, i)) << i;
  }
}

TEST_F(MountedTest, SharedWritableMmapReachesTheFileAndSurvivesRemount) {
  const size_t size = 3 * 4096 + 1234;
  const std::string path = P("mapped.bin");
  ASSERT_TRUE(WriteAll(path, std::string(size, 'a')));
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(map, MAP_FAILED) << "mmap(MAP_SHARED, PROT_WRITE): " << strerror(errno);
  std::string want = Pattern(size, 7);
  memcpy(map, want.data(), size);
  EXPECT_EQ(msync(map, size, MS_SYNC), 0) << strerror(errno);
  EXPECT_EQ(munmap(map, size), 0);
  std::string back(size, '\0');
  EXPECT_EQ(pread(fd, back.data(), size, 0), static_cast<ssize_t>(size));
  EXPECT_TRUE(back == want) << "read() after msync does not see the mapped writes";
  EXPECT_EQ(close(fd), 0);
  RemountOrFail();
  EXPECT_TRUE(ReadAll(path) == want) << "mapped writes lost across remount";
}

TEST_F(MountedTest, PosixAndOfdLocksConflictAcrossOpenFileDescriptions) {
  const std::string path = P("locked");
  ASSERT_TRUE(WriteAll(path, "lock me"));
  int fd1 = open(path.c_str(), O_RDWR | O_CLOEXEC);
  int fd2 = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd1, 0);
  ASSERT_GE(fd2, 0);

  // Open-file-description locks conflict within one process.
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  ASSERT_EQ(fcntl(fd1, F_OFD_SETLK, &fl), 0) << strerror(errno);
  struct flock fl2 = fl;
  errno = 0;
  EXPECT_EQ(fcntl(fd2, F_OFD_SETLK, &fl2), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EACCES) << strerror(errno);
  fl.l_type = F_UNLCK;
  ASSERT_EQ(fcntl(fd1, F_OFD_SETLK, &fl), 0);

  // Classic POSIX record locks conflict between processes.
  fl.l_type = F_WRLCK;
  ASSERT_EQ(fcntl(fd1, F_SETLK, &fl), 0) << strerror(errno);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = open(path.c_str(), O_RDWR);
    struct flock c {};
    c.l_type = F_WRLCK;
    c.l_whence = SEEK_SET;
    int r = fcntl(fd, F_SETLK, &c);
    _exit(r == -1 && (errno == EAGAIN || errno == EACCES) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "a second process got a conflicting F_SETLK";
  fl.l_type = F_UNLCK;
  EXPECT_EQ(fcntl(fd1, F_SETLK, &fl), 0);

  // flock: exclusive locks on two open file descriptions conflict.
  ASSERT_EQ(flock(fd1, LOCK_EX | LOCK_NB), 0) << strerror(errno);
  errno = 0;
  EXPECT_EQ(flock(fd2, LOCK_EX | LOCK_NB), -1);
  EXPECT_EQ(errno, EWOULDBLOCK);
  EXPECT_EQ(flock(fd1, LOCK_UN), 0);
  EXPECT_EQ(flock(fd2, LOCK_EX | LOCK_NB), 0) << "lock not free after LOCK_UN";
  close(fd1);
  close(fd2);
}

TEST_F(MountedTest, StatfsReportsSaneValues) {
  struct statvfs sv {};
  ASSERT_EQ(statvfs(fx_.mnt().c_str(), &sv), 0) << strerror(errno);
  EXPECT_GT(sv.f_bsize, 0u);
  EXPECT_GT(sv.f_blocks, 0u);
  EXPECT_LE(sv.f_bavail, sv.f_blocks);
  EXPECT_GE(sv.f_namemax, 255u) << "255-byte names are accepted, so f_namemax must say so";
}

TEST_F(MountedTest, ExtendedAttributesAreRefusedWithEnotsup) {
  const std::string path = P("x");
  ASSERT_TRUE(WriteAll(path, "x"));
  errno = 0;
  EXPECT_EQ(setxattr(path.c_str(), "user.phr", "v", 1, 0), -1);
  EXPECT_EQ(errno, ENOTSUP) << strerror(errno);
  char buf[64];
  errno = 0;
  EXPECT_EQ(getxattr(path.c_str(), "user.phr", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENOTSUP) << strerror(errno);
  errno = 0;
  ssize_t n = listxattr(path.c_str(), buf, sizeof buf);
  EXPECT_TRUE(n == 0 || (n == -1 && errno == ENOTSUP)) << n << " " << strerror(errno);
  EXPECT_EQ(ReadAll(path), "x");
}

std::map<std::string, int> ListCounts(const std::string& dir) {
  std::map<std::string, int> counts;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return counts;
  while (dirent* e = readdir(d)) counts[e->d_name]++;
  closedir(d);
  return counts;
}

TEST_F(MountedTest, ReaddirOfTwoThousandEntriesListsEachExactlyOnce) {
  ASSERT_EQ(mkdir(P("big").c_str(), 0755), 0);
  std::set<std::string> want;
  for (int i = 0; i < 2000; ++i) {
    std::string name = "entry-" + std::to_string(i);
    if (i % 97 == 0) name += "-" + std::string(180, 'q');  // some long-name entries
    if (i % 89 == 0) name += "-\xc3\xa5\xe2\x82\xac";      // some non-ASCII ones
    want.insert(name);
    if (i % 10 == 0) {
      ASSERT_EQ(mkdir(P("big/" + name).c_str(), 0755), 0) << name;
    } else {
      int fd = open(P("big/" + name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      ASSERT_GE(fd, 0) << name << ": " << strerror(errno);
      close(fd);
    }
  }
  for (int round = 0; round < 2; ++round) {
    auto counts = ListCounts(P("big"));
    EXPECT_EQ(counts["."], 1);
    EXPECT_EQ(counts[".."], 1);
    counts.erase(".");
    counts.erase("..");
    std::set<std::string> got;
    for (const auto& [name, n] : counts) {
      EXPECT_EQ(n, 1) << "listed " << n << " times: " << name;
      got.insert(name);
    }
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "round " << round;
    if (round == 0) RemountOrFail();
  }
}

TEST_F(MountedTest, AppendFromTwoDescriptorsInterleavesWholeWrites) {
  const std::string path = P("log.txt");
  int a = open(path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
  int b = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  std::string want;
  for (int i = 0; i < 200; ++i) {
    std::string line = (i % 2 ? "B" : "A") + std::to_string(i) + std::string(i * 37 % 5000, '.') + "\n";
    ASSERT_EQ(write(i % 2 ? b : a, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    want += line;
  }
  close(a);
  close(b);
  EXPECT_TRUE(ReadAll(path) == want);
  RemountOrFail();
  EXPECT_TRUE(ReadAll(path) == want);
}

TEST_F(MountedTest, TruncateToZeroThenWriteLeavesOnlyTheNewBytes) {
  const std::string path = P("t");
  int fd = open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  std::string big = Pattern(3 * 4096 + 10, 3);
  ASSERT_EQ(write(fd, big.data(), big.size()), static_cast<ssize_t>(big.size()));
  ASSERT_EQ(ftruncate(fd, 0), 0);
  ASSERT_EQ(pwrite(fd, "hello", 5, 0), 5);
  EXPECT_EQ(ReadAll(path), "hello");
  // Through a path and a second descriptor: the old bytes must not come back.
  ASSERT_EQ(truncate(path.c_str(), 0), 0);
  int fd2 = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd2, 0);
  ASSERT_EQ(write(fd2, "abc", 3), 3);
  close(fd2);
  close(fd);
  EXPECT_EQ(ReadAll(path), "abc");
  // Grow again by truncate: the gap reads as zeros, not as the old content.
  ASSERT_EQ(truncate(path.c_str(), 5000), 0);
  EXPECT_TRUE(ReadAll(path) == "abc" + std::string(4997, '\0'));
  RemountOrFail();
  EXPECT_TRUE(ReadAll(path) == "abc" + std::string(4997, '\0'));
}

TEST_F(MountedTest, ReadOnlyMountRefusesEveryWriteWithErofs) {
  ASSERT_EQ(mkdir(P("dir").c_str(), 0755), 0);
  ASSERT_TRUE(WriteAll(P("dir/f"), "content"));
  ASSERT_EQ(symlink("f", P("dir/l").c_str()), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  MountOptions ro;
  ro.read_only = true;
  RunResult r = fx_.Mount(ro);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();

  EXPECT_EQ(ReadAll(P("dir/f")), "content");
  EXPECT_EQ(ReadAll(P("dir/l")), "content");
  auto expect_erofs = [](int ret, const char* what) {
    int e = errno;
    EXPECT_EQ(ret, -1) << what << " succeeded on a read-only mount";
    EXPECT_EQ(e, EROFS) << what << ": " << strerror(e);
  };
  errno = 0;
  expect_erofs(open(P("dir/f").c_str(), O_WRONLY | O_CLOEXEC), "open(O_WRONLY)");
  expect_erofs(open(P("dir/f").c_str(), O_RDWR | O_CLOEXEC), "open(O_RDWR)");
  expect_erofs(open(P("new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), "creat");
  expect_erofs(mkdir(P("d2").c_str(), 0755), "mkdir");
  expect_erofs(unlink(P("dir/f").c_str()), "unlink");
  expect_erofs(rmdir(P("dir").c_str()), "rmdir");
  expect_erofs(rename(P("dir/f").c_str(), P("dir/g").c_str()), "rename");
  expect_erofs(chmod(P("dir/f").c_str(), 0600), "chmod");
  expect_erofs(truncate(P("dir/f").c_str(), 0), "truncate");
  expect_erofs(symlink("x", P("s").c_str()), "symlink");
  expect_erofs(link(P("dir/f").c_str(), P("h").c_str()), "link");
  expect_erofs(utimensat(AT_FDCWD, P("dir/f").c_str(), nullptr, 0), "utimensat");
  EXPECT_EQ(ReadAll(P("dir/f")), "content");
  struct statvfs sv {};
  ASSERT_EQ(statvfs(fx_.mnt().c_str(), &sv), 0);
  EXPECT_TRUE(sv.f_flag & ST_RDONLY) << "statvfs does not report ST_RDONLY";
}

TEST_F(MountedTest, FileSizesAroundBlockEdgesAreExactAfterRemount) {
  const std::vector<uint64_t> sizes = {0, 1, 4095, 4096, 4097, 8192, 12289, (1u << 20) + 3};
  for (uint64_t n : sizes) {
    ASSERT_TRUE(WriteAll(P("size-" + std::to_string(n)), Pattern(n, static_cast<uint32_t>(n))));
  }
  RemountOrFail();
  for (uint64_t n : sizes) {
    std::string path = P("size-" + std::to_string(n));
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), n);
    EXPECT_TRUE(ReadAll(path) == Pattern(n, static_cast<uint32_t>(n))) << "size " << n;
  }
  // And the store holds one object of the documented ciphertext size per file.
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  std::multiset<uint64_t> object_sizes;
  for (const auto& f : ListFilesRecursive(fx_.store() + "/d")) {
    struct stat st;
    if (stat(f.c_str(), &st) == 0) object_sizes.insert(st.st_size);
  }
  for (uint64_t n : sizes) {
    EXPECT_GE(object_sizes.count(CipherSize(n)), 1u)
        << "no store object of " << CipherSize(n) << " bytes for a " << n << "-byte file";
  }
}

TEST_F(MountedTest, NamesUpTo255BytesWorkAndLongerOnesFailWithEnametoolong) {
  std::string name255 = "\xc3\xa9" + std::string(253, 'k');
  ASSERT_EQ(name255.size(), 255u);
  ASSERT_TRUE(WriteAll(P(name255), "long")) << strerror(errno);
  EXPECT_EQ(ReadAll(P(name255)), "long");
  std::string name256 = std::string(256, 'k');
  errno = 0;
  EXPECT_EQ(open(P(name256).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, ENAMETOOLONG) << strerror(errno);
  errno = 0;
  EXPECT_EQ(mkdir(P(name256).c_str(), 0755), -1);
  EXPECT_EQ(errno, ENAMETOOLONG) << strerror(errno);
  RemountOrFail();
  EXPECT_EQ(ReadAll(P(name255)), "long");
  auto counts = ListCounts(fx_.mnt());
  EXPECT_EQ(counts[name255], 1);
}

TEST_F(MountedTest, UnlinkedOpenFileStaysReadableAndLeavesNoObjectBehind) {
  const std::string path = P("ghost");
  std::string data = Pattern(3 * 4096 + 5, 9);
  ASSERT_TRUE(WriteAll(path, data));
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(unlink(path.c_str()), 0);
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
  ASSERT_EQ(pwrite(fd, "XYZ", 3, 4096), 3);
  data.replace(4096, 3, "XYZ");
  std::string back(data.size(), '\0');
  EXPECT_EQ(pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(data.size()));
  EXPECT_TRUE(back == data);
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  close(fd);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  for (const auto& f : ListFilesRecursive(fx_.store() + "/d")) {
    struct stat s2;
    ASSERT_EQ(stat(f.c_str(), &s2), 0);
    EXPECT_NE(static_cast<uint64_t>(s2.st_size), CipherSize(data.size()))
        << "the unlinked file's object is still in the store: " << f;
  }
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST_F(MountedTest, StoreNeverContainsPlaintextNamesContentsOrLinkTargets) {
  const std::string name_marker = "PatientNameMarkerQ7";
  const std::string dir_marker = "DiagnosisFolderMarkerZ3";
  const std::string link_marker = "LinkTargetMarkerK9";
  const std::string content_marker = "KNOWN-PLAINTEXT-MARKER-hiv-positive-0042";
  ASSERT_EQ(mkdir(P(dir_marker).c_str(), 0755), 0);
  std::string content;
  while (content.size() < 50000) content += content_marker + "\n";
  ASSERT_TRUE(WriteAll(P(dir_marker + "/" + name_marker + ".txt"), content));
  ASSERT_TRUE(WriteAll(P(name_marker + "-" + std::string(200, 'w')), content_marker));
  ASSERT_TRUE(WriteAll(P("small"), content_marker));
  ASSERT_EQ(symlink(link_marker.c_str(), P("lnk").c_str()), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  const std::vector<std::string> markers = {name_marker, dir_marker, link_marker, content_marker};
  std::vector<std::string> objects = ListFilesRecursive(fx_.store());
  ASSERT_FALSE(objects.empty());
  for (const auto& path : objects) {
    // The path (folder and object names) and the bytes.
    std::string rel = path.substr(fx_.store().size());
    std::string bytes = ReadFileOrDie(path);
    for (const auto& m : markers) {
      EXPECT_FALSE(Contains(rel, m)) << "store path holds plaintext: " << rel;
      EXPECT_FALSE(Contains(bytes, m)) << path << " holds the plaintext " << m;
    }
  }
  // The daemon's log must not leak names either.
  std::string log = fx_.ReadLog();
  for (const auto& m : markers) {
    EXPECT_FALSE(Contains(log, m)) << "log file holds the plaintext " << m;
  }
}

TEST_F(MountedTest, HardLinksShareContentAndCountLinks) {
  ASSERT_TRUE(WriteAll(P("orig"), "one"));
  ASSERT_EQ(mkdir(P("sub").c_str(), 0755), 0);
  const char* tree = getenv("PHRFS_TEST_TREE");
  if (tree != nullptr && std::string(tree) == "objects") {
    // Object stores have no hard links: link(2) is refused, and nothing is left behind.
    errno = 0;
    EXPECT_EQ(link(P("orig").c_str(), P("sub/alias").c_str()), -1);
    EXPECT_EQ(errno, EPERM) << strerror(errno);
    struct stat st;
    EXPECT_NE(lstat(P("sub/alias").c_str(), &st), 0);
    EXPECT_EQ(ReadAll(P("orig")), "one");
    return;
  }
  ASSERT_EQ(link(P("orig").c_str(), P("sub/alias").c_str()), 0) << strerror(errno);
  struct stat a, b;
  ASSERT_EQ(stat(P("orig").c_str(), &a), 0);
  ASSERT_EQ(stat(P("sub/alias").c_str(), &b), 0);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ASSERT_TRUE(WriteAll(P("sub/alias"), "two, longer"));
  EXPECT_EQ(ReadAll(P("orig")), "two, longer");
  RemountOrFail();
  EXPECT_EQ(ReadAll(P("orig")), "two, longer");
  ASSERT_EQ(stat(P("orig").c_str(), &a), 0);
  EXPECT_EQ(a.st_nlink, 2u);
  ASSERT_EQ(unlink(P("orig").c_str()), 0);
  EXPECT_EQ(ReadAll(P("sub/alias")), "two, longer");
  ASSERT_EQ(stat(P("sub/alias").c_str(), &b), 0);
  EXPECT_EQ(b.st_nlink, 1u);
}

TEST_F(MountedTest, RenamingADirectoryKeepsItsWholeSubtree) {
  ASSERT_EQ(mkdir(P("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(P("a/b").c_str(), 0755), 0);
  ASSERT_TRUE(WriteAll(P("a/b/c"), Pattern(10000, 1)));
  ASSERT_EQ(mkdir(P("z").c_str(), 0755), 0);
  ASSERT_EQ(rename(P("a").c_str(), P("z/moved").c_str()), 0);
  EXPECT_TRUE(ReadAll(P("z/moved/b/c")) == Pattern(10000, 1));
  RemountOrFail();
  EXPECT_TRUE(ReadAll(P("z/moved/b/c")) == Pattern(10000, 1));
  struct stat st;
  EXPECT_NE(stat(P("a").c_str(), &st), 0);
}

}  // namespace
}  // namespace phrfs::testing
