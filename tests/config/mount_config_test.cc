// Tests for phrfs.yaml parsing: every accepted key, every rejected value with its file:line,
// unknown keys, YAML syntax errors and missing files.
#include "config/mount_config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phrfs::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Status ParseError(const std::string& text) {
  auto result = ParseMountConfig(text, "test.yaml");
  EXPECT_FALSE(result.ok()) << "accepted:\n" << text;
  return result.status();
}

TEST(MountConfigTest, AcceptsEveryKey) {
  auto config = ParseMountConfig(
      "# phrfs settings\n"
      "mount:\n"
      "  read_only: true\n"
      "  attr_timeout: 2.5\n"
      "  entry_timeout: 0\n"
      "  max_threads: 16\n"
      "  log_level: debug\n"
      "  log_file: /var/log/phrfs.log\n"
      "  fuse_options: [allow_other, default_permissions]\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->read_only, true);
  EXPECT_EQ(config->attr_timeout, 2.5);
  EXPECT_EQ(config->entry_timeout, 0.0);
  EXPECT_EQ(config->max_threads, 16u);
  EXPECT_EQ(config->log_level, LogLevel::kDebug);
  EXPECT_EQ(config->log_file, "/var/log/phrfs.log");
  EXPECT_EQ(config->fuse_options, (std::vector<std::string>{"allow_other", "default_permissions"}));
}

TEST(MountConfigTest, AbsentKeysStayUnset) {
  auto config = ParseMountConfig("mount:\n  max_threads: 1\n", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->max_threads, 1u);
  EXPECT_FALSE(config->read_only.has_value());
  EXPECT_FALSE(config->attr_timeout.has_value());
  EXPECT_FALSE(config->entry_timeout.has_value());
  EXPECT_FALSE(config->log_level.has_value());
  EXPECT_FALSE(config->log_file.has_value());
  EXPECT_TRUE(config->fuse_options.empty());
}

TEST(MountConfigTest, EmptyFileAndEmptyMountSectionAreValid) {
  EXPECT_TRUE(ParseMountConfig("", "test.yaml").ok());
  EXPECT_TRUE(ParseMountConfig("# nothing\n", "test.yaml").ok());
  EXPECT_TRUE(ParseMountConfig("mount:\n", "test.yaml").ok());
}

TEST(MountConfigTest, AcceptsBoundaryValues) {
  auto config = ParseMountConfig(
      "mount:\n  attr_timeout: 3600\n  entry_timeout: 0\n  max_threads: 64\n  log_level: error\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->attr_timeout, 3600.0);
  EXPECT_EQ(config->max_threads, 64u);
  EXPECT_EQ(config->log_level, LogLevel::kError);
}

struct BadValue {
  const char* text;
  const char* location;  // expected "file:line: key" prefix
};

class MountConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(MountConfigBadValueTest, NamesFileLineAndKey) {
  Status status = ParseError(GetParam().text);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith(GetParam().location));
}

INSTANTIATE_TEST_SUITE_P(
    EachBadValue, MountConfigBadValueTest,
    ::testing::Values(
        BadValue{"mount:\n  read_only: maybe\n", "test.yaml:2: mount.read_only: "},
        BadValue{"mount:\n  read_only: [true]\n", "test.yaml:2: mount.read_only: "},
        BadValue{"mount:\n\n  attr_timeout: -1\n", "test.yaml:3: mount.attr_timeout: "},
        BadValue{"mount:\n  attr_timeout: 3601\n", "test.yaml:2: mount.attr_timeout: "},
        BadValue{"mount:\n  attr_timeout: .inf\n", "test.yaml:2: mount.attr_timeout: "},
        BadValue{"mount:\n  attr_timeout: soon\n", "test.yaml:2: mount.attr_timeout: "},
        BadValue{"mount:\n  read_only: false\n  entry_timeout: 1e9\n",
                 "test.yaml:3: mount.entry_timeout: "},
        BadValue{"mount:\n  max_threads: 0\n", "test.yaml:2: mount.max_threads: "},
        BadValue{"mount:\n  max_threads: 65\n", "test.yaml:2: mount.max_threads: "},
        BadValue{"mount:\n  max_threads: 2.5\n", "test.yaml:2: mount.max_threads: "},
        BadValue{"mount:\n  max_threads: -4\n", "test.yaml:2: mount.max_threads: "},
        BadValue{"mount:\n  log_level: verbose\n", "test.yaml:2: mount.log_level: "},
        BadValue{"mount:\n  log_level: INFO\n", "test.yaml:2: mount.log_level: "},
        BadValue{"mount:\n  log_file: \"\"\n", "test.yaml:2: mount.log_file: "},
        BadValue{"mount:\n  fuse_options: allow_other\n", "test.yaml:2: mount.fuse_options: "},
        BadValue{"mount:\n  fuse_options:\n    - ro\n    - [x]\n",
                 "test.yaml:4: mount.fuse_options: "},
        BadValue{"mount:\n  fuse_options: [\"a,b\"]\n", "test.yaml:2: mount.fuse_options: "},
        BadValue{"mount: yes\n", "test.yaml:1: mount: "},
        BadValue{"mount:\n  max_threads: 4\n  max_threads: 5\n",
                 "test.yaml:3: mount.max_threads: duplicate"}));

TEST(MountConfigTest, RejectsUnknownKeyInMountWithItsLine) {
  Status status = ParseError("mount:\n  read_only: true\n  readonly: true\n");
  EXPECT_THAT(status.message(), StartsWith("test.yaml:3: mount.readonly: unknown key"));
}

TEST(MountConfigTest, RejectsUnknownTopLevelKey) {
  Status status = ParseError("mount:\n  read_only: true\nshares: {}\n");
  EXPECT_THAT(status.message(), StartsWith("test.yaml:3: shares: unknown key"));
}

TEST(MountConfigTest, RejectsDocumentThatIsNotAMapping) {
  Status status = ParseError("\n- mount\n");
  EXPECT_THAT(status.message(), StartsWith("test.yaml:2: "));
}

TEST(MountConfigTest, SyntaxErrorGivesFileAndLine) {
  Status status = ParseError("mount:\n  read_only: true\n  fuse_options: [a, b\n");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith("test.yaml:"));
  EXPECT_THAT(status.message(), HasSubstr("syntax error"));
  // The line is a real number within the file, not 0.
  int line = std::stoi(status.message().substr(std::string("test.yaml:").size()));
  EXPECT_GE(line, 3);
  EXPECT_LE(line, 4);
}

TEST(MountConfigTest, SyntaxErrorOnBadIndentationNamesItsLine) {
  Status status = ParseError("mount:\n  read_only: true\n attr_timeout: 1\n");
  EXPECT_THAT(status.message(), StartsWith("test.yaml:3: "));
}

class MountConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/phrfs-config-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    unlink((dir_ + "/phrfs.yaml").c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& text) {
    std::string path = dir_ + "/phrfs.yaml";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    return path;
  }
  std::string dir_;
};

TEST_F(MountConfigFileTest, LoadsFileFromDisk) {
  std::string path = Write("mount:\n  read_only: true\n  max_threads: 3\n");
  auto config = LoadMountConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->read_only, true);
  EXPECT_EQ(config->max_threads, 3u);
}

TEST_F(MountConfigFileTest, ErrorsFromDiskCarryThePath) {
  std::string path = Write("mount:\n  max_threads: 100\n");
  auto config = LoadMountConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), StartsWith(path + ":2: mount.max_threads: "));
}

TEST_F(MountConfigFileTest, MissingFileIsNotFound) {
  auto config = LoadMountConfig(dir_ + "/absent.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Code::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr(dir_ + "/absent.yaml"));
}

TEST_F(MountConfigFileTest, DirectoryInsteadOfFileIsAnError) {
  auto config = LoadMountConfig(dir_);
  EXPECT_FALSE(config.ok());
}

}  // namespace
}  // namespace phrfs::config
