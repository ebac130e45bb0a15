// fs/cli/identity_loader: writing a new identity file (0600, never over an existing one, no
// leftovers) and LoadIdentityFile's failures with the exit codes they map to.
#include "fs/cli/identity_loader.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fs/cli/exit_codes.h"

namespace phrfs::fs {
namespace {

using ::testing::HasSubstr;

constexpr crypto::ScryptParams kFast{1024, 8, 1};
constexpr char kPass[] = "identity passphrase";

void Put(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string Get(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class IdentityLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/phrfs-identity-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/me.identity";
    passfile_ = dir_ + "/pass";
    Put(passfile_, std::string(kPass) + "\n");
    auto identity = crypto::Identity::Generate();
    ASSERT_TRUE(identity.ok());
    public_ = identity->public_identity();
    auto sealed = crypto::SealIdentity(*identity, kPass, kFast);
    ASSERT_TRUE(sealed.ok());
    file_ = std::move(sealed).value();
  }
  void TearDown() override {
    for (const auto& n : Names(dir_)) unlink((dir_ + "/" + n).c_str());
    rmdir(dir_.c_str());
  }

  std::string dir_, path_, passfile_;
  crypto::PublicIdentity public_;
  crypto::IdentityFile file_;
};

TEST_F(IdentityLoaderTest, WritesMode0600EvenUnderAPermissiveUmaskAndLeavesNoTemporaryFile) {
  mode_t old = umask(0);
  Status st = WriteNewIdentityFile(path_, file_);
  umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  struct stat info;
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(Get(path_), crypto::SerializeIdentityFile(file_));
  EXPECT_EQ(Names(dir_), (std::vector<std::string>{"me.identity", "pass"}));
}

TEST_F(IdentityLoaderTest, NeverOverwritesAnExistingFile) {
  Put(path_, "my old identity\n");
  Status st = WriteNewIdentityFile(path_, file_);
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("already exists"));
  EXPECT_EQ(ExitCodeFor(Step::kStore, st), kExitStoreExists);
  EXPECT_EQ(Get(path_), "my old identity\n");
  EXPECT_EQ(Names(dir_), (std::vector<std::string>{"me.identity", "pass"}));
  // A dangling symlink counts as existing too (nothing is written through it).
  std::string link_path = dir_ + "/link.identity";
  ASSERT_EQ(symlink((dir_ + "/nowhere").c_str(), link_path.c_str()), 0);
  EXPECT_EQ(WriteNewIdentityFile(link_path, file_).code(), Code::kAlreadyExists);
  EXPECT_EQ(Names(dir_), (std::vector<std::string>{"link.identity", "me.identity", "pass"}));
}

TEST_F(IdentityLoaderTest, LoadsWithThePassphraseFile) {
  ASSERT_TRUE(WriteNewIdentityFile(path_, file_).ok());
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(path_, passfile_, &step);
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(identity->public_identity(), public_);
}

TEST_F(IdentityLoaderTest, WrongPassphraseIsExit3) {
  ASSERT_TRUE(WriteNewIdentityFile(path_, file_).ok());
  std::string wrong = dir_ + "/wrong";
  Put(wrong, "not it\n");
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(path_, wrong, &step);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), Code::kWrongKey);
  EXPECT_THAT(identity.status().message(), HasSubstr("wrong passphrase"));
  EXPECT_EQ(identity.status().message().find("not it"), std::string::npos);
  EXPECT_EQ(ExitCodeFor(step, identity.status()), kExitWrongPassphrase);
}

TEST_F(IdentityLoaderTest, MissingIdentityFileIsExit4) {
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(path_, passfile_, &step);
  EXPECT_EQ(identity.status().code(), Code::kNotFound);
  EXPECT_EQ(ExitCodeFor(step, identity.status()), kExitNoStore);
}

TEST_F(IdentityLoaderTest, DamagedIdentityFileIsExit5AndNamesTheLine) {
  std::string text = crypto::SerializeIdentityFile(file_);
  text.replace(text.find("kdf scrypt n=1024"), 17, "kdf scrypt n=1000");
  Put(path_, text);
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(path_, passfile_, &step);
  EXPECT_EQ(identity.status().code(), Code::kCorrupt);
  EXPECT_THAT(identity.status().message(), HasSubstr("line 2"));
  EXPECT_EQ(ExitCodeFor(step, identity.status()), kExitCorruptStore);
  auto read = ReadIdentityFile(path_);
  EXPECT_EQ(read.status().code(), Code::kCorrupt);
}

TEST_F(IdentityLoaderTest, UnreadablePassphraseFileIsExit9) {
  ASSERT_TRUE(WriteNewIdentityFile(path_, file_).ok());
  Step step = Step::kOther;
  auto identity = LoadIdentityFile(path_, dir_ + "/no-such-passfile", &step);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(ExitCodeFor(step, identity.status()), kExitPassfile);
  std::string empty = dir_ + "/empty";
  Put(empty, "");
  identity = LoadIdentityFile(path_, empty, &step);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(ExitCodeFor(step, identity.status()), kExitPassfile);
}

TEST_F(IdentityLoaderTest, ReadIdentityFileReturnsThePublicLineWithoutAPassphrase) {
  ASSERT_TRUE(WriteNewIdentityFile(path_, file_).ok());
  auto read = ReadIdentityFile(path_);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->public_identity, public_);
}

}  // namespace
}  // namespace phrfs::fs
