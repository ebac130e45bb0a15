// The committed stores must always open with their passphrase and decrypt to exactly their
// manifests: the v2 store (tests/golden/store-v2, expected-v2.txt: modes and times included)
// directly; the v1 store (store-v1, expected.txt) after `phrfs upgrade`, also when an upgrade
// was interrupted. Copies are used, so the committed stores are never touched.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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

// The manifest of a mounted tree, in expected.txt's format (with `meta`, expected-v2.txt's: the
// mode and the mtime appended), sorted bytewise.
void Describe(const std::string& root, const std::string& rel, std::vector<std::string>& out,
              bool meta = false) {
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
    std::string tail;
    if (meta && lstat(full.c_str(), &st) == 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "\t%o\t%lld.%09ld", st.st_mode & 07777,
                    static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
      tail = buf;
    }
    if (lstat(full.c_str(), &st) != 0) {
      out.push_back(r + "\t<lstat failed: " + strerror(errno) + ">");
    } else if (S_ISFIFO(st.st_mode)) {
      out.push_back(r + "\tp\t-\t-" + tail);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t k = readlink(full.c_str(), buf, sizeof buf);
      std::string target = k < 0 ? std::string("<readlink failed>") : std::string(buf, k);
      out.push_back(r + "\tl\t" + std::to_string(st.st_size) + "\t" + target + tail);
    } else if (S_ISDIR(st.st_mode)) {
      out.push_back(r + "\td\t-\t-" + tail);
      Describe(root, r, out, meta);
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(full, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string content = ss.str();
      std::string digest = in.bad() ? "<read failed>" : Sha256Hex(content);
      if (content.size() != static_cast<size_t>(st.st_size)) digest += " <size mismatch>";
      out.push_back(r + "\tf\t" + std::to_string(st.st_size) + "\t" + digest + tail);
    } else {
      out.push_back(r + "\t<unexpected type>");
    }
  }
}

std::vector<std::string> ExpectedLines(const std::string& manifest = "expected.txt") {
  std::ifstream in(kGoldenDir + "/" + manifest);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Every line of `want` is in `got` and nothing else.
void ExpectSameManifest(std::vector<std::string> want, std::vector<std::string> got) {
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  for (const auto& w : want) {
    EXPECT_TRUE(std::binary_search(got.begin(), got.end(), w)) << "missing or different: " << w;
  }
  for (const auto& g : got) {
    EXPECT_TRUE(std::binary_search(want.begin(), want.end(), g)) << "unexpected: " << g;
  }
}

class GoldenStoreTest : public ::testing::Test {
 protected:
  GoldenStoreTest() : fx_("golden-passphrase") {}
  // A private copy of the committed store `name`.
  std::string Copy(const std::string& name) {
    const std::string copy = fx_.root() + "/" + name;
    RunResult cp = RunCommand({"cp", "-a", kGoldenDir + "/" + name, copy});
    EXPECT_EQ(cp.exit_code, 0) << cp.Describe();
    return copy;
  }
  RunResult Upgrade(const std::string& store, const std::vector<std::string>& env_prefix = {}) {
    std::vector<std::string> argv = env_prefix;
    for (const std::string& a : {PhrfsBinary(), std::string("upgrade"), store, std::string("--passfile"), fx_.passfile()}) {
      argv.push_back(a);
    }
    return RunCommand(argv, std::chrono::seconds(120));
  }
  std::vector<std::string> Manifest(bool meta) {
    std::vector<std::string> got;
    Describe(fx_.mnt(), "", got, meta);
    return got;
  }
  MountFixture fx_;
};

TEST_F(GoldenStoreTest, TheV2StoreDecryptsToExactlyTheManifestWithModesAndTimes) {
  std::vector<std::string> want = ExpectedLines("expected-v2.txt");
  ASSERT_GE(want.size(), 10u) << "tests/golden/expected-v2.txt missing or short";
  const std::string copy = Copy("store-v2");
  MountOptions ro;
  ro.read_only = true;
  RunResult m = fx_.Mount(copy, ro);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  ExpectSameManifest(want, Manifest(/*meta=*/true));
}

// A read-only mount changes nothing of the record; it only adds its session to the access log
// (log/), where its reads are listed.
TEST_F(GoldenStoreTest, AReadOnlyMountLeavesTheStoreUntouchedAndAWrongPassphraseFails) {
  const std::string copy = Copy("store-v2");
  auto snapshot = [&] {
    std::vector<std::string> files = ListFilesRecursive(copy);
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files) {
      if (f.rfind(copy + "/log/", 0) == 0) continue;
      all += f + "\n" + ReadFileOrDie(f) + "\n";
    }
    return all;
  };
  std::string before = snapshot();
  WriteFile(fx_.root() + "/wrong", "golden-passphrasE\n");
  RunResult bad = RunPhrfs({"mount", copy, fx_.mnt(), "--passfile", fx_.root() + "/wrong"});
  EXPECT_EQ(bad.exit_code, fs::kExitWrongPassphrase) << bad.Describe();
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
  MountOptions ro;
  ro.read_only = true;
  ASSERT_EQ(fx_.Mount(copy, ro).exit_code, 0);
  EXPECT_FALSE(Manifest(false).empty());
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  EXPECT_TRUE(snapshot() == before) << "a read-only mount changed the store";
  RunResult audit = RunPhrfs({"audit", copy, "--passfile", fx_.passfile()});
  EXPECT_EQ(audit.exit_code, 0) << audit.Describe();
  EXPECT_NE(audit.out.find("open-read"), std::string::npos) << audit.out;
}

TEST_F(GoldenStoreTest, AV1StoreIsRefusedWithAMessageThatNamesUpgrade) {
  const std::string copy = Copy("store-v1");
  RunResult m = fx_.Mount(copy, {});
  EXPECT_EQ(m.exit_code, fs::kExitCorruptStore) << m.Describe();
  EXPECT_NE(m.err.find("phrfs upgrade"), std::string::npos) << m.err;
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
}

TEST_F(GoldenStoreTest, TheV1StoreUpgradesAndThenDecryptsToExactlyItsManifest) {
  std::vector<std::string> want = ExpectedLines();
  ASSERT_GE(want.size(), 10u) << "tests/golden/expected.txt missing or short";
  const std::string copy = Copy("store-v1");
  RunResult up = Upgrade(copy);
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  EXPECT_NE(up.out.find("upgraded to format v2"), std::string::npos) << up.out;
  RunResult again = Upgrade(copy);
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_NE(again.out.find("already format v2"), std::string::npos) << again.out;
  ASSERT_EQ(fx_.Mount(copy, {}).exit_code, 0) << fx_.ReadLog();
  ExpectSameManifest(want, Manifest(false));
  // The upgraded store is an ordinary v2 store: it takes writes and keeps them.
  WriteFile(fx_.InMnt("records/new.txt"), "after the upgrade");
  ASSERT_EQ(fx_.Remount().exit_code, 0);
  EXPECT_EQ(ReadAll(fx_.InMnt("records/new.txt")), "after the upgrade");
  EXPECT_EQ(ReadAll(fx_.InMnt("records/labs.txt")), "glucose 5.4 mmol/l\n");
}

TEST_F(GoldenStoreTest, AnInterruptedUpgradeIsFinishedByTheNextOne) {
  std::vector<std::string> want = ExpectedLines();
  const std::string copy = Copy("store-v1");
  RunResult cut = Upgrade(copy, {"env", "PHRFS_TEST_UPGRADE_STOP_AFTER=6"});
  ASSERT_EQ(cut.exit_code, 137) << cut.Describe();
  // Half converted: still a v1 store by its config, so a mount refuses and says what to do.
  RunResult m = fx_.Mount(copy, {});
  EXPECT_EQ(m.exit_code, fs::kExitCorruptStore) << m.Describe();
  EXPECT_NE(m.err.find("phrfs upgrade"), std::string::npos) << m.err;
  RunResult up = Upgrade(copy);
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  ASSERT_EQ(fx_.Mount(copy, {}).exit_code, 0) << fx_.ReadLog();
  ExpectSameManifest(want, Manifest(false));
}

// A damaged v1 object does not stop the upgrade: it stays as it was (and reads as EIO, as it
// did in v1), and everything else is converted.
TEST_F(GoldenStoreTest, AnUpgradeLeavesADamagedObjectAsItIsAndConvertsTheRest) {
  const std::string copy = Copy("store-v1");
  // "one-byte" is the only v1 object of 32 + 28 + 1 bytes: cut it to nothing.
  std::string victim;
  for (const auto& f : ListFilesRecursive(copy + "/d")) {
    struct stat st;
    if (stat(f.c_str(), &st) == 0 && st.st_size == 61) victim = f;
  }
  ASSERT_FALSE(victim.empty());
  ASSERT_EQ(truncate(victim.c_str(), 0), 0);
  RunResult up = Upgrade(copy);
  ASSERT_EQ(up.exit_code, 0) << up.Describe();
  ASSERT_EQ(fx_.Mount(copy, {}).exit_code, 0) << fx_.ReadLog();
  int err = 0;
  ReadAll(fx_.InMnt("one-byte"), &err);
  EXPECT_EQ(err, EIO) << strerror(err);
  EXPECT_EQ(ReadAll(fx_.InMnt("records/labs.txt")), "glucose 5.4 mmol/l\n");
  EXPECT_EQ(ReadAll(fx_.InMnt("nested/deeper/deep.txt")), "deep content\n");
}

}  // namespace
}  // namespace phrfs::testing
