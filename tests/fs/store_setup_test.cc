// Tests for creating, unlocking and re-keying a store on disk (fs/store_setup.h), with a cheap
// scrypt cost (N = 2^10) so that they run in milliseconds.
#include "fs/store_setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "crypto/types.h"

namespace phrfs::fs {
namespace {

using ::testing::HasSubstr;

constexpr crypto::ScryptParams kFastScrypt{1024, 8, 1};

// The local-directory forms the command line uses: open the directory's tree, then act on it.
Result<std::string> InitStore(const std::string& dir, std::string_view passphrase,
                              const crypto::ScryptParams& params) {
  PHRFS_ASSIGN_OR_RETURN(auto tree, OpenLocalStoreTree(dir, TreeAccess::kDirect, /*create=*/true));
  return ::phrfs::fs::InitStore(*tree, dir, passphrase, params);
}
Result<UnlockedStore> UnlockStore(const std::string& dir, std::string_view passphrase) {
  PHRFS_ASSIGN_OR_RETURN(auto tree, OpenLocalStoreTree(dir, TreeAccess::kDirect, /*create=*/false));
  return ::phrfs::fs::UnlockStore(std::move(tree), dir, passphrase);
}
Result<UnlockedStore> UnlockStoreWithRecoveryKey(const std::string& dir, std::string_view key) {
  PHRFS_ASSIGN_OR_RETURN(auto tree, OpenLocalStoreTree(dir, TreeAccess::kDirect, /*create=*/false));
  return ::phrfs::fs::UnlockStoreWithRecoveryKey(std::move(tree), dir, key);
}

class StoreSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/phrfs-store-setup-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    tmp_ = templ;
    store_ = tmp_ + "/store";
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }

  std::string Init(const std::string& passphrase = "correct horse") {
    auto key = InitStore(store_, passphrase, kFastScrypt);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : std::string();
  }
  std::string ReadConfigFile() {
    std::ifstream in(store_ + "/phrfs.conf");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void WriteConfigFile(const std::string& text) {
    std::ofstream out(store_ + "/phrfs.conf", std::ios::trunc);
    out << text;
  }

  std::string tmp_;
  std::string store_;
};

TEST_F(StoreSetupTest, InitCreatesConfigAndRootFolder) {
  std::string recovery = Init();
  // 64 hex digits in 8 groups of 8.
  EXPECT_EQ(recovery.size(), 71u);
  EXPECT_EQ(std::count(recovery.begin(), recovery.end(), '-'), 7);

  struct stat st;
  ASSERT_EQ(stat(store_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_EQ(stat((store_ + "/phrfs.conf").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The root's folder is exactly the one the key hierarchy names.
  auto unlocked = UnlockStore(store_, "correct horse");
  ASSERT_TRUE(unlocked.ok()) << unlocked.status().ToString();
  auto keys = crypto::StoreKeys::Derive(unlocked->master_key, unlocked->config.store_id);
  ASSERT_TRUE(keys.ok());
  auto folder = crypto::DirFolderPath(keys->dir_hash, crypto::kRootDirId);
  ASSERT_TRUE(folder.ok());
  ASSERT_EQ(stat((store_ + "/d/" + *folder).c_str(), &st), 0) << *folder;
  EXPECT_TRUE(S_ISDIR(st.st_mode));

  // Nothing else at the top: phrfs.conf and d/, no temporary files left behind.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(store_)) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"d", "phrfs.conf", "root.d", "unlinked"}));
}

TEST_F(StoreSetupTest, InitUsesAnExistingEmptyDirectory) {
  ASSERT_EQ(mkdir(store_.c_str(), 0700), 0);
  Init();
  EXPECT_TRUE(std::filesystem::exists(store_ + "/phrfs.conf"));
}

TEST_F(StoreSetupTest, InitTwiceIsAlreadyExistsAndKeepsTheFirstConfig) {
  Init();
  std::string before = ReadConfigFile();
  auto again = InitStore(store_, "other", kFastScrypt);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("already initialised"));
  EXPECT_EQ(ReadConfigFile(), before);
  EXPECT_TRUE(UnlockStore(store_, "correct horse").ok());
}

TEST_F(StoreSetupTest, InitRefusesNonEmptyDirectory) {
  ASSERT_EQ(mkdir(store_.c_str(), 0700), 0);
  std::ofstream(store_ + "/notes.txt") << "hello";
  auto result = InitStore(store_, "pw", kFastScrypt);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kAlreadyExists);
  EXPECT_THAT(result.status().message(), HasSubstr("not empty"));
  EXPECT_FALSE(std::filesystem::exists(store_ + "/phrfs.conf"));
  EXPECT_FALSE(std::filesystem::exists(store_ + "/d"));
}

TEST_F(StoreSetupTest, InitRefusesAFileInPlaceOfTheDirectory) {
  std::ofstream(store_) << "x";
  auto result = InitStore(store_, "pw", kFastScrypt);
  EXPECT_FALSE(result.ok());
}

TEST_F(StoreSetupTest, UnlockWithRightPassphraseGivesTheMasterKey) {
  Init();
  auto store = UnlockStore(store_, "correct horse");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->master_key.size(), crypto::kMasterKeySize);
  EXPECT_NE(store->tree, nullptr);
  EXPECT_EQ(store->config.kdf, kFastScrypt);
}

TEST_F(StoreSetupTest, UnlockWithWrongPassphraseIsWrongKey) {
  Init();
  auto store = UnlockStore(store_, "correct horse ");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kWrongKey);
  EXPECT_THAT(store.status().message(), HasSubstr("wrong passphrase"));
  EXPECT_THAT(store.status().message(), HasSubstr(store_));
}

TEST_F(StoreSetupTest, UnlockMissingStoreIsNotFound) {
  auto store = UnlockStore(store_, "pw");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kNotFound);
}

TEST_F(StoreSetupTest, UnlockDirectoryWithoutConfigIsNotFound) {
  ASSERT_EQ(mkdir(store_.c_str(), 0700), 0);
  auto store = UnlockStore(store_, "pw");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr("not initialised"));
}

TEST_F(StoreSetupTest, UnlockCorruptConfigIsCorrupt) {
  Init();
  WriteConfigFile("this is not a phrfs store config\n");
  auto store = UnlockStore(store_, "correct horse");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt) << store.status().ToString();
}

TEST_F(StoreSetupTest, UnlockTruncatedConfigIsCorrupt) {
  Init();
  std::string text = ReadConfigFile();
  WriteConfigFile(text.substr(0, text.size() / 2));
  auto store = UnlockStore(store_, "correct horse");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt) << store.status().ToString();
}

TEST_F(StoreSetupTest, UnlockOversizedConfigIsCorrupt) {
  Init();
  WriteConfigFile(std::string(65 * 1024, 'x'));
  auto store = UnlockStore(store_, "correct horse");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kCorrupt) << store.status().ToString();
}

TEST_F(StoreSetupTest, ChangePassphraseRoundTrip) {
  Init("old passphrase");
  auto store = UnlockStore(store_, "old passphrase");
  ASSERT_TRUE(store.ok());
  SecureBytes master = store->master_key.Clone();
  crypto::ScryptParams new_params{2048, 8, 1};
  ASSERT_TRUE(ChangeStorePassphrase(*store, "new passphrase", new_params).ok());

  auto old_unlock = UnlockStore(store_, "old passphrase");
  ASSERT_FALSE(old_unlock.ok());
  EXPECT_EQ(old_unlock.status().code(), Code::kWrongKey);

  auto new_unlock = UnlockStore(store_, "new passphrase");
  ASSERT_TRUE(new_unlock.ok()) << new_unlock.status().ToString();
  EXPECT_TRUE(new_unlock->master_key.Equals(master.span()));
  EXPECT_EQ(new_unlock->config.kdf, new_params);
  EXPECT_EQ(new_unlock->config.store_id, store->config.store_id);
  struct stat st;
  ASSERT_EQ(stat((store_ + "/phrfs.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreSetupTest, RecoveryKeyUnlocksAndSurvivesPassphraseChange) {
  std::string recovery = Init();
  auto by_passphrase = UnlockStore(store_, "correct horse");
  ASSERT_TRUE(by_passphrase.ok());

  auto by_recovery = UnlockStoreWithRecoveryKey(store_, recovery + "\n");
  ASSERT_TRUE(by_recovery.ok()) << by_recovery.status().ToString();
  EXPECT_TRUE(by_recovery->master_key.Equals(by_passphrase->master_key.span()));

  // Forgotten passphrase: reset it through the recovery key.
  ASSERT_TRUE(ChangeStorePassphrase(*by_recovery, "fresh", kFastScrypt).ok());
  auto after = UnlockStore(store_, "fresh");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->master_key.Equals(by_passphrase->master_key.span()));
  EXPECT_TRUE(UnlockStoreWithRecoveryKey(store_, recovery).ok());
}

TEST_F(StoreSetupTest, WrongRecoveryKeyIsWrongKey) {
  std::string recovery = Init();
  // Change one hex digit.
  recovery[0] = recovery[0] == '0' ? '1' : '0';
  auto store = UnlockStoreWithRecoveryKey(store_, recovery);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kWrongKey);

  auto malformed = UnlockStoreWithRecoveryKey(store_, "not-a-key");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), Code::kWrongKey);
}

}  // namespace
}  // namespace phrfs::fs
