// A daemon under RLIMIT_NOFILE 1,024 with 100,000 files (CTest label "scale"): every listing
// complete, every entry reachable, no descriptor exhaustion. The mount is undone by RAII.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

size_t CountEntries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  size_t n = 0;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
  }
  closedir(d);
  return n;
}

TEST(ScaleTest, AHundredThousandFilesUnderRlimitNofile1024) {
  MountFixture fx;
  ASSERT_EQ(fx.Init().exit_code, 0);
  MountOptions options;
  options.wrapper = {"prlimit", "--nofile=1024:1024", "--"};
  ASSERT_EQ(fx.Mount(fx.store(), options).exit_code, 0);
  constexpr int kDirs = 100;
  constexpr int kPerDir = 1000;
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = fx.InMnt("d" + std::to_string(d));
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << strerror(errno);
    for (int f = 0; f < kPerDir; ++f) {
      const std::string path = dir + "/f" + std::to_string(f);
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
      ASSERT_EQ(write(fd, path.data(), path.size()), static_cast<ssize_t>(path.size()));
      ASSERT_EQ(close(fd), 0);
    }
  }
  // Every listing is complete, every entry stats, and a sample reads back.
  size_t total = 0;
  for (int d = 0; d < kDirs; ++d) {
    const std::string dir = fx.InMnt("d" + std::to_string(d));
    const size_t n = CountEntries(dir);
    EXPECT_EQ(n, static_cast<size_t>(kPerDir)) << dir;
    total += n;
    struct stat st;
    for (int f = 0; f < kPerDir; f += 37) {
      const std::string path = dir + "/f" + std::to_string(f);
      ASSERT_EQ(stat(path.c_str(), &st), 0) << path << ": " << strerror(errno);
      ASSERT_EQ(ReadAll(path), path);
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kDirs * kPerDir));
  RunResult ls = RunCommand({"ls", "-lR", fx.mnt()}, std::chrono::seconds(300));
  EXPECT_EQ(ls.exit_code, 0) << ls.err.substr(0, 500);
  size_t lines = 0;
  for (char c : ls.out) lines += c == '\n';
  EXPECT_GT(lines, static_cast<size_t>(kDirs * kPerDir));
  const std::string log = fx.ReadLog();
  EXPECT_EQ(log.find("Too many open files"), std::string::npos) << log.substr(0, 2000);
}

}  // namespace
}  // namespace phrfs::testing
