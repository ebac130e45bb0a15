// The committed v1 store (tests/golden/store-v1, made once by make_golden.sh) must always open
// with its passphrase and decrypt to exactly the entries of tests/golden/expected.txt.
// A copy is mounted read-only, so the committed store is never touched.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fs/cli/exit_codes.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

const std::string kGoldenDir = std::string(PHRFS_SOURCE_DIR) + "/tests/golden";

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// The manifest of a mounted tree, in expected.txt's format, sorted bytewise.
void Describe(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  DIR* d = opendir((root + "/" + rel).c_str());
  if (d == nullptr) {
    out.push_back(rel + "\t<opendir failed: " + strerror(errno) + ">");
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string full = root + "/" + r;
    struct stat st;
    if (lstat(full.c_str(), &st) != 0) {
      out.push_back(r + "\t<lstat failed: " + strerror(errno) + ">");
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t k = readlink(full.c_str(), buf, sizeof buf);
      std::string target = k < 0 ? std::string("<readlink failed>") : std::string(buf, k);
      out.push_back(r + "\tl\t" + std::to_string(st.st_size) + "\t" + target);
    } else if (S_ISDIR(st.st_mode)) {
      out.push_back(r + "\td\t-\t-");
      Describe(root, r, out);
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(full, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string content = ss.str();
      std::string digest = in.bad() ? "<read failed>" : Sha256Hex(content);
      if (content.size() != static_cast<size_t>(st.st_size)) digest += " <size mismatch>";
      out.push_back(r + "\tf\t" + std::to_string(st.st_size) + "\t" + digest);
    } else {
      out.push_back(r + "\t<unexpected type>");
    }
  }
}

std::vector<std::string> ExpectedLines() {
  std::ifstream in(kGoldenDir + "/expected.txt");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class GoldenStoreTest : public ::testing::Test {
 protected:
  GoldenStoreTest() : fx_("golden-passphrase") {}
  void SetUp() override {
    copy_ = fx_.root() + "/store-v1";
    RunResult cp = RunCommand({"cp", "-a", kGoldenDir + "/store-v1", copy_});
    ASSERT_EQ(cp.exit_code, 0) << cp.Describe();
  }
  MountFixture fx_;
  std::string copy_;
};

TEST_F(GoldenStoreTest, DecryptsToExactlyTheManifest) {
  std::vector<std::string> want = ExpectedLines();
  ASSERT_GE(want.size(), 10u) << "tests/golden/expected.txt missing or short";
  MountOptions ro;
  ro.read_only = true;
  RunResult m = fx_.Mount(copy_, ro);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  std::vector<std::string> got;
  Describe(fx_.mnt(), "", got);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  for (const auto& w : want) {
    EXPECT_TRUE(std::binary_search(got.begin(), got.end(), w)) << "missing or different: " << w;
  }
  for (const auto& g : got) {
    EXPECT_TRUE(std::binary_search(want.begin(), want.end(), g)) << "unexpected: " << g;
  }
}

TEST_F(GoldenStoreTest, ReadOnlyMountLeavesTheStoreUntouchedAndWrongPassphraseFails) {
  auto snapshot = [&] {
    std::vector<std::string> files = ListFilesRecursive(copy_);
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) all += f + "\n" + ReadFileOrDie(f) + "\n";
    return all;
  };
  std::string before = snapshot();
  WriteFile(fx_.root() + "/wrong", "golden-passphrasE\n");
  RunResult bad = RunPhrfs({"mount", copy_, fx_.mnt(), "--passfile", fx_.root() + "/wrong"});
  EXPECT_EQ(bad.exit_code, fs::kExitWrongPassphrase) << bad.Describe();
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
  MountOptions ro;
  ro.read_only = true;
  ASSERT_EQ(fx_.Mount(copy_, ro).exit_code, 0);
  std::vector<std::string> got;
  Describe(fx_.mnt(), "", got);
  EXPECT_FALSE(got.empty());
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  EXPECT_TRUE(snapshot() == before) << "a read-only mount changed the store";
}

}  // namespace
}  // namespace phrfs::testing
