// Replacing a small local file whole (base/file_replace.h): the new text replaces the old one,
// the mode is the one asked for, nothing is left beside it, a symlink at the temporary name is
// not followed, and a failure leaves the old file as it was.
#include "base/file_replace.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace phrfs {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReplaceFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/phrfs-replace-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(ReplaceFileTest, WritesAndReplacesWithTheModeAskedForAndNothingBeside) {
  const std::string path = dir_ + "/f";
  for (Durability d : {Durability::kNone, Durability::kSynced}) {
    ASSERT_TRUE(ReplaceFile(path, "one\n", 0600, d).ok());
    EXPECT_EQ(Slurp(path), "one\n");
    ASSERT_TRUE(ReplaceFile(path, "two, longer\n", 0600, d).ok());
    EXPECT_EQ(Slurp(path), "two, longer\n");
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(access((path + ".new").c_str(), F_OK), 0);
    ASSERT_EQ(unlink(path.c_str()), 0);
  }
}

TEST_F(ReplaceFileTest, ASymlinkAtTheTemporaryNameIsNotFollowedAndTheOldFileStays) {
  const std::string path = dir_ + "/f";
  ASSERT_TRUE(ReplaceFile(path, "old\n").ok());
  const std::string victim = dir_ + "/victim";
  ASSERT_TRUE(ReplaceFile(victim, "victim\n").ok());
  ASSERT_EQ(symlink(victim.c_str(), (path + ".new").c_str()), 0);
  Status st = ReplaceFile(path, "new\n");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path + ".new"), std::string::npos) << st.ToString();
  EXPECT_EQ(Slurp(path), "old\n");
  EXPECT_EQ(Slurp(victim), "victim\n");
  // A folder that does not exist: an error naming the file.
  EXPECT_FALSE(ReplaceFile(dir_ + "/no/such/f", "x").ok());
}

}  // namespace
}  // namespace phrfs
