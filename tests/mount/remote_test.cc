// Mounted tests of remote stores (the remote tiers of scripts/test-all.sh run them with
// PHRFS_TEST_STORE_BASE naming a WebDAV or S3 store on a server of the project's own): a fresh
// cache reads what another mount wrote, a store made locally and copied to the server object by
// object mounts from there, and the server never holds a plaintext byte or name. They also run
// (over local directories) in the plain mount tier, where they check the same promises of the
// local store.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fs/store_open.h"
#include "remote/local_store.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

bool RemoteTier() {
  const char* base = getenv("PHRFS_TEST_STORE_BASE");
  return base != nullptr && *base != '\0';
}

// Every object under `prefix` of `store` (recursive), as key -> bytes.
void Walk(remote::ObjectStore& store, const std::string& prefix,
          const std::function<void(const std::string&, const std::vector<uint8_t>&)>& visit) {
  auto list = store.List(prefix);
  ASSERT_TRUE(list.ok()) << prefix << ": " << list.status().ToString();
  for (const remote::ListEntry& e : *list) {
    const std::string key = prefix.empty() ? e.name : prefix + "/" + e.name;
    if (e.is_collection) {
      Walk(store, key, visit);
    } else {
      auto bytes = store.Read(key, 0, size_t{1} << 30);
      ASSERT_TRUE(bytes.ok()) << key << ": " << bytes.status().ToString();
      visit(key, *bytes);
    }
  }
}

// The store the fixture mounts, opened directly (no cache): the server's view.
std::shared_ptr<remote::ObjectStore> OpenServerView(const std::string& store) {
  fs::StoreOpenOptions options;
  auto opened = fs::OpenStore(store, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  if (opened->remote) return opened->remote;
  auto local = remote::LocalStore::Open(opened->url.path);
  EXPECT_TRUE(local.ok());
  return local.ok() ? std::shared_ptr<remote::ObjectStore>(std::move(local).value()) : nullptr;
}

bool Contains(const std::vector<uint8_t>& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST(RemoteStoreTest, AFreshCacheReadsWhatAnotherMountWrote) {
  MountFixture fx;
  ASSERT_EQ(fx.InitAndMount(), "");
  ASSERT_EQ(mkdir(fx.InMnt("labs").c_str(), 0750), 0);
  const std::string big = Pattern(3 * 1024 * 1024 + 17, 7);
  WriteFile(fx.InMnt("labs/panel.pdf"), big);
  WriteFile(fx.InMnt("note.txt"), "blood pressure 120/80\n");
  ASSERT_EQ(symlink("labs/panel.pdf", fx.InMnt("latest").c_str()), 0);
  RunResult u = fx.Unmount();
  ASSERT_EQ(u.exit_code, 0) << u.Describe();

  // Another machine: the same store, a cache of its own.
  MountOptions other;
  if (RemoteTier()) other.extra_args = {"--cache-dir", fx.root() + "/other-cache"};
  RunResult m = fx.Mount(other);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  EXPECT_EQ(ReadFileOrDie(fx.InMnt("labs/panel.pdf")), big);
  EXPECT_EQ(ReadFileOrDie(fx.InMnt("note.txt")), "blood pressure 120/80\n");
  char target[64] = {};
  ASSERT_GT(readlink(fx.InMnt("latest").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "labs/panel.pdf");
  struct stat st;
  ASSERT_EQ(stat(fx.InMnt("labs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST(RemoteStoreTest, TheStoreHoldsNoPlaintextContentOrName) {
  MountFixture fx;
  ASSERT_EQ(fx.InitAndMount(), "");
  const std::string name = "diagnosis-of-jane-doe-QX7";
  const std::string secret = "PLAINTEXT-MARKER: hemoglobin a1c 9.1 percent, QX7";
  ASSERT_EQ(mkdir(fx.InMnt("cardiology-QX7").c_str(), 0700), 0);
  WriteFile(fx.InMnt("cardiology-QX7/" + name), secret);
  ASSERT_EQ(symlink("target-path-QX7", fx.InMnt("link-QX7").c_str()), 0);
  RunResult u = fx.Unmount();
  ASSERT_EQ(u.exit_code, 0) << u.Describe();

  auto server = OpenServerView(fx.store());
  ASSERT_NE(server, nullptr);
  int objects = 0;
  Walk(*server, "", [&](const std::string& key, const std::vector<uint8_t>& bytes) {
    ++objects;
    EXPECT_EQ(key.find("QX7"), std::string::npos) << key;
    EXPECT_FALSE(Contains(bytes, "QX7")) << key << " holds plaintext";
    EXPECT_FALSE(Contains(bytes, "hemoglobin")) << key << " holds plaintext";
  });
  EXPECT_GE(objects, 4);  // config, root, the folder, the file, the link
}

TEST(RemoteStoreTest, AStoreMadeLocallyAndCopiedObjectByObjectMountsFromTheServer) {
  // Made locally: a fixture without a server.
  const char* base_env = getenv("PHRFS_TEST_STORE_BASE");
  const std::string base = base_env != nullptr ? base_env : "";
  unsetenv("PHRFS_TEST_STORE_BASE");
  MountFixture local;
  if (!base.empty()) setenv("PHRFS_TEST_STORE_BASE", base.c_str(), 1);
  ASSERT_EQ(local.InitAndMount(), "");
  ASSERT_EQ(mkdir(local.InMnt("imaging").c_str(), 0700), 0);
  const std::string scan = Pattern(700 * 1024, 3);
  WriteFile(local.InMnt("imaging/ct.dcm"), scan);
  ASSERT_EQ(local.Unmount().exit_code, 0);

  // Copied object by object with the store interface, as `aws s3 sync` or `rclone copy` would
  // (in the local tier: into another directory).
  MountFixture fx;
  auto from = remote::LocalStore::Open(local.store());
  ASSERT_TRUE(from.ok());
  std::shared_ptr<remote::ObjectStore> to;
  if (RemoteTier()) {
    fs::StoreOpenOptions create;
    create.create = true;
    auto opened = fs::OpenStore(fx.store(), create);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    to = opened->remote;
  } else {
    ASSERT_EQ(mkdir(fx.store().c_str(), 0700), 0);
    auto dir = remote::LocalStore::Open(fx.store());
    ASSERT_TRUE(dir.ok());
    to = std::move(dir).value();
  }
  std::function<void(const std::string&)> copy = [&](const std::string& prefix) {
    auto list = (*from)->List(prefix);
    ASSERT_TRUE(list.ok());
    for (const remote::ListEntry& e : *list) {
      const std::string key = prefix.empty() ? e.name : prefix + "/" + e.name;
      if (e.is_collection) {
        ASSERT_TRUE(to->MakeCollection(key).ok()) << key;
        copy(key);
      } else {
        auto bytes = (*from)->Read(key, 0, size_t{1} << 30);
        ASSERT_TRUE(bytes.ok());
        ASSERT_TRUE(to->Write(key, *bytes, remote::Precondition::None()).ok()) << key;
      }
    }
  };
  copy("");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  RunResult m = fx.Mount();
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  EXPECT_EQ(ReadFileOrDie(fx.InMnt("imaging/ct.dcm")), scan);
}

TEST(RemoteStoreTest, TheDaemonsEnvironmentNoLongerShowsTheSecretItWasGiven) {
  // The S3 tier's real secret, or (for stores that do not read it) a stand-in.
  const char* given = getenv("AWS_SECRET_ACCESS_KEY");
  const std::string secret = given != nullptr ? given : "stand-in-secret-Zq81";
  if (given == nullptr) setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  MountFixture fx;
  const std::string err = fx.InitAndMount();
  if (given == nullptr) unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_EQ(err, "");
  RunResult s = RunPhrfs({"status", fx.mnt()}, std::chrono::seconds(30));
  const size_t at = s.out.find("daemon pid: ");
  ASSERT_NE(at, std::string::npos) << s.Describe();
  const std::string environ_path = "/proc/" + std::to_string(std::atoi(s.out.c_str() + at + 12)) + "/environ";
  std::string environ = ReadAll(environ_path);
  ASSERT_FALSE(environ.empty()) << environ_path;
  // (The variable's name may stay in the process's first environment block; its value is wiped.)
  EXPECT_EQ(environ.find(secret), std::string::npos) << "the daemon's environment holds the secret";
}

}  // namespace
}  // namespace phrfs::testing
