// The points of phrfs(1) "FILE SYSTEM SEMANTICS" and "SECURITY" that a program can observe:
// one mount per store, special files refused, fallocate, chown, durability of every write
// (even when the daemon is killed), big writes, O_DIRECT, exec from the mount, rewinddir.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

// pid of the daemon serving `mnt`: the phrfs process whose command line holds it.
pid_t DaemonPid(const std::string& mnt) {
  DIR* proc = opendir("/proc");
  pid_t found = -1;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(std::string("\0", 1) + mnt + std::string("\0", 1)) != std::string::npos &&
        cmd.find("mount") != std::string::npos && cmd.find("phrfs") != std::string::npos) {
      found = static_cast<pid_t>(pid);
    }
  }
  closedir(proc);
  return found;
}

class SemanticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    umask(022);
    ASSERT_EQ(fx_.InitAndMount(), "");
  }
  void RemountOrFail() {
    RunResult r = fx_.Remount();
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
  }
  std::string P(const std::string& rel) const { return fx_.InMnt(rel); }
  MountFixture fx_;
};

TEST_F(SemanticsTest, SecondMountOfTheSameStoreFailsAndLeavesTheFirstWorking) {
  WriteFile(P("f"), "first");
  const std::string other = fx_.root() + "/mnt2";
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  RunResult r = RunPhrfs({"mount", fx_.store(), other, "--passfile", fx_.passfile()});
  bool mounted = IsMountPoint(other);
  if (mounted) ForceUnmount(other);
  EXPECT_NE(r.exit_code, 0) << "a second mount of one store succeeded";
  EXPECT_FALSE(mounted);
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(ReadAll(P("f")), "first");
}

TEST_F(SemanticsTest, FifosAndSocketsAreNodesButDeviceNodesAreRefusedWithEperm) {
  ASSERT_EQ(mkfifo(P("fifo").c_str(), 0640), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(lstat(P("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // A FIFO in the mount is a real FIFO: the kernel carries the bytes, the daemon never sees them.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int w = open(P("fifo").c_str(), O_WRONLY);
    if (w < 0 || write(w, "through", 7) != 7) _exit(1);
    close(w);
    _exit(0);
  }
  int r = open(P("fifo").c_str(), O_RDONLY);
  ASSERT_GE(r, 0) << strerror(errno);
  char buf[16] = {};
  EXPECT_EQ(read(r, buf, sizeof buf), 7);
  close(r);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(std::string(buf), "through");

  // bind() of a Unix socket creates a socket node.
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  const std::string sock = P("sock");
  if (sock.size() < sizeof(addr.sun_path)) {
    std::strcpy(addr.sun_path, sock.c_str());
    EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    ASSERT_EQ(lstat(sock.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
  }
  close(s);

  errno = 0;
  EXPECT_EQ(mknod(P("null").c_str(), S_IFCHR | 0644, makedev(1, 3)), -1);
  EXPECT_EQ(errno, EPERM) << strerror(errno);
  EXPECT_NE(lstat(P("null").c_str(), &st), 0) << "a refused device node left an entry";
  // mknod of a regular file is just a create.
  EXPECT_EQ(mknod(P("regular").c_str(), S_IFREG | 0644, 0), 0) << strerror(errno);

  // All of it survives a remount.
  ASSERT_EQ(fx_.Remount().exit_code, 0);
  ASSERT_EQ(lstat(P("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  if (sock.size() < sizeof(addr.sun_path)) {
    ASSERT_EQ(lstat(sock.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
  }
}

TEST_F(SemanticsTest, FallocateExtendsWithZerosAndRefusesPunchingHoles) {
  WriteFile(P("fa"), "abc");
  int fd = open(P("fa").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fallocate(fd, 0, 0, 10000), 0) << strerror(errno);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 10000);
  errno = 0;
  EXPECT_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), -1);
  EXPECT_EQ(errno, EOPNOTSUPP) << strerror(errno);
  close(fd);
  EXPECT_TRUE(ReadAll(P("fa")) == "abc" + std::string(9997, '\0'));
  RemountOrFail();
  EXPECT_TRUE(ReadAll(P("fa")) == "abc" + std::string(9997, '\0'));
}

TEST_F(SemanticsTest, ChownWorksAsRootAndPersists) {
  WriteFile(P("owned"), "x");
  ASSERT_EQ(symlink("owned", P("owned-link").c_str()), 0);
  ASSERT_EQ(chown(P("owned").c_str(), 1234, 5678), 0) << strerror(errno);
  ASSERT_EQ(lchown(P("owned-link").c_str(), 4321, 8765), 0) << strerror(errno);
  RemountOrFail();
  struct stat st;
  ASSERT_EQ(stat(P("owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ASSERT_EQ(lstat(P("owned-link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 8765u);
}

TEST_F(SemanticsTest, WritesSurviveTheDaemonBeingKilled) {
  // phrfs(1): every write reaches the store before it returns, so kill -9 loses nothing that
  // a write(2) already acknowledged, fsync or not.
  std::string data = Pattern(200000, 5);
  int fd = open(P("durable").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(mkdir(P("made-dir").c_str(), 0755), 0);
  ASSERT_EQ(rename(P("durable").c_str(), P("made-dir/renamed").c_str()), 0);
  pid_t daemon = DaemonPid(fx_.mnt());
  ASSERT_GT(daemon, 0) << "daemon not found";
  ASSERT_EQ(kill(daemon, SIGKILL), 0);  // the daemon this test started
  for (int i = 0; i < 100 && kill(daemon, 0) == 0; ++i) {
    std::ifstream st("/proc/" + std::to_string(daemon) + "/stat");
    std::string s;
    std::getline(st, s);
    if (s.find(") Z") != std::string::npos) break;
    usleep(20000);
  }
  close(fd);
  ForceUnmount(fx_.mnt());
  ASSERT_FALSE(IsMountPoint(fx_.mnt()));
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, 0) << "mount after a crash: " << m.Describe();
  int err = 0;
  std::string back = ReadAll(P("made-dir/renamed"), &err);
  EXPECT_EQ(err, 0) << strerror(err);
  EXPECT_TRUE(back == data) << "acknowledged writes lost when the daemon died (" << back.size()
                            << " of " << data.size() << " bytes)";
}

TEST_F(SemanticsTest, WritesLargerThanMaxWriteAndFarSparseOffsets) {
  std::string big = Pattern(3 * 1024 * 1024 + 17, 8);
  int fd = open(P("big").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, big.data(), big.size()), static_cast<ssize_t>(big.size()));
  const off_t far = 40L * 1024 * 1024 + 123;
  ASSERT_EQ(pwrite(fd, "Z", 1, far), 1);
  close(fd);
  RemountOrFail();
  struct stat st;
  ASSERT_EQ(stat(P("big").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, far + 1);
  std::string back = ReadAll(P("big"));
  ASSERT_EQ(back.size(), static_cast<size_t>(far + 1));
  EXPECT_TRUE(back.compare(0, big.size(), big) == 0);
  EXPECT_EQ(back.find_first_not_of('\0', big.size()), static_cast<size_t>(far));
  EXPECT_EQ(back.back(), 'Z');
}

// Pages of `path` the kernel's page cache holds, through mmap + mincore (which faults nothing in).
size_t ResidentPages(const std::string& path, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size == 0) return 0;
  void* map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    ADD_FAILURE() << "mmap " << path << ": " << strerror(errno);
    return 0;
  }
  const size_t pages = (static_cast<size_t>(st.st_size) + 4095) / 4096;
  std::vector<unsigned char> in_core(pages);
  EXPECT_EQ(mincore(map, static_cast<size_t>(st.st_size), in_core.data()), 0) << strerror(errno);
  munmap(map, static_cast<size_t>(st.st_size));
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

// With the access log on, every open is an OPEN request; a small file opened for reading
// gets its content into the page cache with that OPEN (fs/fuse_ops.cc OfferContent), so that
// reading it needs no READ. What that must never change: the bytes and sizes read back, at
// every page boundary, through read(2) and mmap, after a remount and after writes.
TEST_F(SemanticsTest, SmallFilesReadBackWholeAtEveryPageBoundaryWhenOfferedAtOpen) {
  const std::vector<size_t> sizes = {1, 100, 4095, 4096, 4097, 8192, 65535,
                                     128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 300000};
  for (size_t i = 0; i < sizes.size(); ++i) WriteFile(P("f" + std::to_string(i)), Pattern(sizes[i], i));
  RemountOrFail();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string path = P("f" + std::to_string(i));
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << strerror(errno);
    // Opened, not read yet: a file up to 128 KiB is in the page cache whole, a larger one not.
    const size_t pages = (sizes[i] + 4095) / 4096;
    EXPECT_EQ(ResidentPages(path, fd), sizes[i] <= 128 * 1024 ? pages : 0) << sizes[i];
    std::string back(sizes[i] + 10, '\0');
    EXPECT_EQ(pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(sizes[i]));
    back.resize(sizes[i]);
    EXPECT_TRUE(back == Pattern(sizes[i], i)) << sizes[i];
    void* map = mmap(nullptr, sizes[i], PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_NE(map, MAP_FAILED);
    EXPECT_EQ(memcmp(map, back.data(), sizes[i]), 0) << sizes[i];
    munmap(map, sizes[i]);
    close(fd);
  }
  // Written through the mount after the offer: what the kernel holds follows the writes.
  ASSERT_EQ(truncate(P("f2").c_str(), 10), 0);
  std::string f4 = Pattern(4097, 4) + "appended";
  {
    int fd = open(P("f4").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "appended", 8), 8);
    close(fd);
  }
  EXPECT_TRUE(ReadAll(P("f2")) == Pattern(4095, 2).substr(0, 10));
  EXPECT_TRUE(ReadAll(P("f4")) == f4);
  RemountOrFail();
  EXPECT_TRUE(ReadAll(P("f2")) == Pattern(4095, 2).substr(0, 10));
  EXPECT_TRUE(ReadAll(P("f4")) == f4);
}

// A reader's open offers the content while a writer opens the same file for writing or
// truncates it by path: the writer waits for the offer, so the kernel never keeps the older
// content after the write (the vault's side is VaultTest.AnOpenForWritingAndATruncateWaitFor...).
TEST_F(SemanticsTest, AReaderOpeningWhileAWriterRewritesNeverLeavesTheOldContentCached) {
  constexpr int kFiles = 60;
  for (int i = 0; i < kFiles; ++i) WriteFile(P("r" + std::to_string(i)), Pattern(6000, 1000 + i));
  RemountOrFail();  // every file unknown to the kernel: each first open offers
  for (int i = 0; i < kFiles; ++i) {
    const std::string path = P("r" + std::to_string(i));
    const std::string next = Pattern(3000 + i, 2000 + i);
    std::thread reader([&] { (void)ReadAll(path); });
    std::thread writer([&] {
      if (i % 2 == 0) {
        WriteFile(path, next);  // open O_TRUNC, write, close
      } else {
        EXPECT_EQ(truncate(path.c_str(), 0), 0);
        int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(write(fd, next.data(), next.size()), static_cast<ssize_t>(next.size()));
        close(fd);
      }
    });
    reader.join();
    writer.join();
    EXPECT_TRUE(ReadAll(path) == next) << path;
  }
}

TEST_F(SemanticsTest, DirectIoReadsAndWritesAlignedBlocks) {
  int fd = open(P("direct").c_str(), O_CREAT | O_RDWR | O_DIRECT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << "O_DIRECT open: " << strerror(errno);
  void* buf = nullptr;
  ASSERT_EQ(posix_memalign(&buf, 4096, 3 * 4096), 0);
  std::string data = Pattern(3 * 4096, 4);
  memcpy(buf, data.data(), data.size());
  EXPECT_EQ(pwrite(fd, buf, 3 * 4096, 4096), 3 * 4096) << strerror(errno);
  memset(buf, 0, 3 * 4096);
  EXPECT_EQ(pread(fd, buf, 3 * 4096, 4096), 3 * 4096) << strerror(errno);
  EXPECT_EQ(memcmp(buf, data.data(), data.size()), 0);
  free(buf);
  close(fd);
  EXPECT_TRUE(ReadAll(P("direct")) == std::string(4096, '\0') + data);
}

TEST_F(SemanticsTest, ProgramsAndScriptsRunFromTheMount) {
  std::string bin = ReadAll("/bin/true");
  ASSERT_FALSE(bin.empty());
  WriteFile(P("true"), bin);
  ASSERT_EQ(chmod(P("true").c_str(), 0755), 0);
  WriteFile(P("script.sh"), "#!/bin/sh\nexit 7\n");
  ASSERT_EQ(chmod(P("script.sh").c_str(), 0755), 0);
  RunResult t = RunCommand({P("true")});
  EXPECT_EQ(t.exit_code, 0) << t.Describe();
  RunResult s = RunCommand({P("script.sh")});
  EXPECT_EQ(s.exit_code, 7) << s.Describe();
}

TEST_F(SemanticsTest, RewinddirSeesEntriesCreatedWhileTheDirectoryWasOpen) {
  for (int i = 0; i < 50; ++i) WriteFile(P("e" + std::to_string(i)), "x");
  DIR* d = opendir(fx_.mnt().c_str());
  ASSERT_NE(d, nullptr);
  int n = 0;
  while (readdir(d) != nullptr) ++n;
  EXPECT_EQ(n, 52);
  WriteFile(P("late"), "x");
  ASSERT_EQ(unlink(P("e0").c_str()), 0);
  rewinddir(d);
  std::set<std::string> names;
  while (dirent* e = readdir(d)) names.insert(e->d_name);
  closedir(d);
  EXPECT_EQ(names.count("late"), 1u);
  EXPECT_EQ(names.count("e0"), 0u);
  EXPECT_EQ(names.size(), 52u);
}

TEST_F(SemanticsTest, StBlocksCoverTheFileSoDuAndSparseDetectionWork) {
  WriteFile(P("dense"), Pattern(100000, 1));
  struct stat st;
  ASSERT_EQ(stat(P("dense").c_str(), &st), 0);
  EXPECT_GE(st.st_blocks * 512, st.st_size) << "st_blocks " << st.st_blocks;
}

TEST_F(SemanticsTest, ConcurrentCreateRenameUnlinkAndListingStayConsistent) {
  constexpr int kWorkers = 4, kRounds = 150;
  for (int w = 0; w < kWorkers; ++w) ASSERT_EQ(mkdir(P("w" + std::to_string(w)).c_str(), 0755), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::string> messages(kWorkers + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      std::string dir = P("w" + std::to_string(w));
      for (int i = 0; i < kRounds; ++i) {
        std::string a = dir + "/f" + std::to_string(i % 7);
        std::string b = P("w" + std::to_string((w + 1) % kWorkers)) + "/moved-" +
                        std::to_string(w) + "-" + std::to_string(i);
        std::string content = Pattern(100 + i, w * 1000 + i);
        int fd = open(a.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, content.data(), content.size()) != (ssize_t)content.size()) {
          ++errors;
          messages[w] = "create " + a + ": " + strerror(errno);
        }
        if (fd >= 0) close(fd);
        if (rename(a.c_str(), b.c_str()) != 0) {
          ++errors;
          messages[w] = "rename: " + std::string(strerror(errno));
        }
        int err = 0;
        if (ReadAll(b, &err) != content || err != 0) {
          ++errors;
          messages[w] = "content after rename of " + b;
        }
        if (i % 3 == 0 && unlink(b.c_str()) != 0) {
          ++errors;
          messages[w] = "unlink: " + std::string(strerror(errno));
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      for (int w = 0; w < kWorkers; ++w) {
        DIR* d = opendir(P("w" + std::to_string(w)).c_str());
        if (d == nullptr) {
          ++errors;
          messages[kWorkers] = "opendir failed";
          continue;
        }
        errno = 0;
        while (readdir(d) != nullptr) {
        }
        if (errno != 0) {
          ++errors;
          messages[kWorkers] = std::string("readdir: ") + strerror(errno);
        }
        closedir(d);
      }
    }
  });
  for (int w = 0; w < kWorkers; ++w) threads[w].join();
  stop = true;
  threads.back().join();
  EXPECT_EQ(errors.load(), 0) << [&] {
    std::string s;
    for (const auto& m : messages) s += m + "; ";
    return s;
  }();
  // Each worker's surviving moved files are exactly those not unlinked.
  RemountOrFail();
  for (int w = 0; w < kWorkers; ++w) {
    int target = (w + 1) % kWorkers;
    std::set<std::string> names;
    DIR* d = opendir(P("w" + std::to_string(target)).c_str());
    ASSERT_NE(d, nullptr);
    while (dirent* e = readdir(d)) names.insert(e->d_name);
    closedir(d);
    for (int i = 0; i < kRounds; ++i) {
      std::string n = "moved-" + std::to_string(w) + "-" + std::to_string(i);
      EXPECT_EQ(names.count(n), i % 3 == 0 ? 0u : 1u) << n;
      if (i % 3 != 0) {
        EXPECT_TRUE(ReadAll(P("w" + std::to_string(target) + "/" + n)) == Pattern(100 + i, w * 1000 + i))
            << n;
      }
    }
  }
}

TEST_F(SemanticsTest, SymlinkTargetsUpToPathMaxRoundTrip) {
  std::string target(4095, 'p');
  for (size_t i = 100; i < target.size(); i += 100) target[i] = '/';
  ASSERT_EQ(symlink(target.c_str(), P("longlink").c_str()), 0) << strerror(errno);
  RemountOrFail();
  std::string buf(5000, '\0');
  ssize_t n = readlink(P("longlink").c_str(), buf.data(), buf.size());
  ASSERT_EQ(n, 4095) << strerror(errno);
  EXPECT_TRUE(buf.substr(0, 4095) == target);
  struct stat st;
  ASSERT_EQ(lstat(P("longlink").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4095);
}

TEST_F(SemanticsTest, WritesTruncatesAndEntryChangesUpdateTimes) {
  const time_t old_time = 1000000000;  // 2001
  WriteFile(P("timed"), "x");
  ASSERT_EQ(mkdir(P("tdir").c_str(), 0755), 0);
  struct timespec ts[2] = {{old_time, 0}, {old_time, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, P("timed").c_str(), ts, 0), 0);
  ASSERT_EQ(utimensat(AT_FDCWD, P("tdir").c_str(), ts, 0), 0);
  time_t now = time(nullptr);
  auto mtime = [&](const std::string& rel) {
    struct stat st {};
    stat(P(rel).c_str(), &st);
    return st.st_mtim.tv_sec;
  };
  // A write through a descriptor moves mtime to now.
  int fd = open(P("timed").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "y", 1), 1);
  close(fd);
  EXPECT_GE(mtime("timed"), now - 5) << "write did not update mtime";
  ASSERT_EQ(utimensat(AT_FDCWD, P("timed").c_str(), ts, 0), 0);
  ASSERT_EQ(truncate(P("timed").c_str(), 1), 0);
  EXPECT_GE(mtime("timed"), now - 5) << "truncate did not update mtime";
  // Creating an entry updates the directory's mtime.
  WriteFile(P("tdir/new"), "n");
  EXPECT_GE(mtime("tdir"), now - 5) << "create in a directory did not update its mtime";
  ASSERT_EQ(utimensat(AT_FDCWD, P("tdir").c_str(), ts, 0), 0);
  ASSERT_EQ(unlink(P("tdir/new").c_str()), 0);
  EXPECT_GE(mtime("tdir"), now - 5) << "unlink in a directory did not update its mtime";
  // A set time survives a remount exactly, and UTIME_NOW means now.
  struct timespec exact[2] = {{old_time, 123456789}, {old_time + 5, 987654321}};
  ASSERT_EQ(utimensat(AT_FDCWD, P("timed").c_str(), exact, 0), 0);
  RemountOrFail();
  struct stat st;
  ASSERT_EQ(stat(P("timed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, old_time + 5);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  struct timespec nowts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  ASSERT_EQ(utimensat(AT_FDCWD, P("timed").c_str(), nowts, 0), 0);
  EXPECT_GE(mtime("timed"), now - 5);
}

// Runs `fn` in a child process as uid/gid 65534 (nobody); returns its exit status.
template <class F>
int AsNobody(F fn) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(fn());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST(SemanticsPermissionsTest, AllowOtherMountEnforcesModesAndOwnsNewFilesByTheCaller) {
  MountFixture fx;
  ASSERT_EQ(fx.Init().exit_code, 0);
  ASSERT_EQ(chmod(fx.root().c_str(), 0755), 0);  // let nobody reach the mount point
  MountOptions opts;
  opts.extra_args = {"-o", "allow_other"};
  RunResult m = fx.Mount(opts);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  ASSERT_EQ(chmod(fx.mnt().c_str(), 0755), 0);
  WriteFile(fx.InMnt("secret"), "diagnosis");
  ASSERT_EQ(chmod(fx.InMnt("secret").c_str(), 0600), 0);
  WriteFile(fx.InMnt("public"), "leaflet");
  ASSERT_EQ(chmod(fx.InMnt("public").c_str(), 0644), 0);
  ASSERT_EQ(mkdir(fx.InMnt("drop").c_str(), 0777), 0);
  ASSERT_EQ(chmod(fx.InMnt("drop").c_str(), 0777), 0);
  const std::string secret = fx.InMnt("secret"), pub = fx.InMnt("public"),
                    mine = fx.InMnt("drop/mine"), root_new = fx.InMnt("by-nobody");
  int status = AsNobody([&] {
    if (open(pub.c_str(), O_RDONLY) < 0) return 1;                       // readable by all
    if (open(secret.c_str(), O_RDONLY) >= 0 || errno != EACCES) return 2;  // owner only
    if (open(pub.c_str(), O_WRONLY) >= 0 || errno != EACCES) return 3;
    if (open(root_new.c_str(), O_CREAT | O_WRONLY, 0644) >= 0 || errno != EACCES) return 4;
    int fd = open(mine.c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd < 0) return 5;
    close(fd);
    if (unlink(pub.c_str()) == 0 || errno != EACCES) return 6;
    return 0;
  });
  EXPECT_EQ(status, 0) << "1: world-readable file unreadable; 2: 0600 file readable by another "
                          "user; 3: 0644 file writable by another user; 4: create in a 0755 root "
                          "dir allowed; 5: create in a 0777 dir refused; 6: unlink in a 0755 dir "
                          "allowed; 100: setuid failed";
  struct stat st;
  ASSERT_EQ(stat(mine.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u) << "a new file does not belong to the calling user";
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST(SemanticsCliTest, CrLfPassfileAndDashORoAndConfigMode) {
  MountFixture fx("crlf passphrase");
  ASSERT_EQ(fx.Init().exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat((fx.store() + "/phrfs.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "phrfs.conf must be mode 0600";
  WriteFile(fx.root() + "/crlf", "crlf passphrase\r\n");
  RunResult m = RunPhrfs({"mount", fx.store(), fx.mnt(), "--passfile", fx.root() + "/crlf",
                          "-o", "ro"});
  ASSERT_EQ(m.exit_code, 0) << "CRLF passfile or -o ro: " << m.Describe();
  errno = 0;
  EXPECT_EQ(open(fx.InMnt("x").c_str(), O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EROFS) << "-o ro did not mount read-only: " << strerror(errno);
  EXPECT_EQ(fx.Unmount().exit_code, 0);
}

}  // namespace
}  // namespace phrfs::testing

namespace phrfs::testing {
namespace {

// Format v2 keeps modes, owners and times inside the store's objects, so a store copied by a
// tool that copies only bytes (cp -r: new owner, new times, umask-filtered modes) mounts with
// the original permissions, owners and times.
TEST(StoreCopyTest, AStoreCopiedWithCpRKeepsModesOwnersAndTimes) {
  MountFixture fx;
  ASSERT_EQ(fx.InitAndMount(), "");
  WriteFile(fx.InMnt("lab.pdf"), "lab results");
  ASSERT_EQ(mkdir(fx.InMnt("imaging").c_str(), 0750), 0);
  ASSERT_EQ(mkfifo(fx.InMnt("imaging/pipe").c_str(), 0604), 0);
  ASSERT_EQ(chown(fx.InMnt("lab.pdf").c_str(), 1234, 5678), 0);
  ASSERT_EQ(chmod(fx.InMnt("lab.pdf").c_str(), 0640), 0);
  struct timespec times[2] = {{1600000000, 111}, {1600000001, 222}};
  ASSERT_EQ(utimensat(AT_FDCWD, fx.InMnt("lab.pdf").c_str(), times, 0), 0);
  struct stat before_file, before_dir, before_pipe;
  ASSERT_EQ(stat(fx.InMnt("lab.pdf").c_str(), &before_file), 0);
  ASSERT_EQ(stat(fx.InMnt("imaging").c_str(), &before_dir), 0);
  ASSERT_EQ(lstat(fx.InMnt("imaging/pipe").c_str(), &before_pipe), 0);
  ASSERT_EQ(fx.Unmount().exit_code, 0);

  const std::string copy = fx.root() + "/copied-store";
  RunResult cp = RunCommand({"cp", "-r", fx.store(), copy});
  ASSERT_EQ(cp.exit_code, 0) << cp.Describe();
  ASSERT_EQ(fx.Mount(copy, {}).exit_code, 0) << fx.ReadLog();
  struct stat after;
  ASSERT_EQ(stat(fx.InMnt("lab.pdf").c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before_file.st_mode);
  EXPECT_EQ(after.st_uid, 1234u);
  EXPECT_EQ(after.st_gid, 5678u);
  EXPECT_EQ(after.st_mtim.tv_sec, 1600000001);
  EXPECT_EQ(after.st_mtim.tv_nsec, 222);
  EXPECT_EQ(after.st_atim.tv_sec, 1600000000);
  EXPECT_EQ(after.st_ino, before_file.st_ino) << "inode numbers come from the store's node ids";
  EXPECT_EQ(ReadAll(fx.InMnt("lab.pdf")), "lab results");
  ASSERT_EQ(stat(fx.InMnt("imaging").c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before_dir.st_mode);
  EXPECT_EQ(after.st_mtim.tv_sec, before_dir.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before_dir.st_mtim.tv_nsec);
  ASSERT_EQ(lstat(fx.InMnt("imaging/pipe").c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before_pipe.st_mode);
}

}  // namespace
}  // namespace phrfs::testing

namespace phrfs::testing {
namespace {

// phrfs(1): `phrfs umount` returns once the daemon has ended (it writes the last second of
// times after the kernel lets go), so nothing writes to the store after umount returns.
TEST(UmountTest, ReturnsOnlyAfterTheDaemonHasEnded) {
  MountFixture fx;
  ASSERT_EQ(fx.InitAndMount(), "");
  for (int i = 0; i < 20; ++i) WriteFile(fx.InMnt("f" + std::to_string(i)), std::string(i + 1, 'x'));
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line, source;
  while (std::getline(mounts, line)) {
    if (line.find(" " + fx.mnt() + " ") != std::string::npos) source = line.substr(line.find(" - ") + 3);
  }
  const size_t colon = source.find("phrfs:");
  ASSERT_NE(colon, std::string::npos) << "mount source: " << source;
  const pid_t daemon = static_cast<pid_t>(std::stol(source.substr(colon + 6)));
  ASSERT_GT(daemon, 0);
  RunResult r = fx.Unmount();
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::ifstream stat("/proc/" + std::to_string(daemon) + "/stat");
  std::string state;
  std::getline(stat, state);
  EXPECT_TRUE(state.empty() || state.find(") Z") != std::string::npos)
      << "the daemon still runs after umount returned: " << state;
}

}  // namespace
}  // namespace phrfs::testing
