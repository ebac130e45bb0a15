// Tests for the remote sections of phrfs.yaml (remote, webdav, s3, cache): every accepted key,
// every rejected value with its file:line and key, inline secrets, and size parsing.
#include "config/mount_config.h"
#include "config/remote_config.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phrfs::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(RemoteConfigTest, AcceptsEveryKey) {
  auto config = ParseMountConfig(
      "mount:\n"
      "  read_only: false\n"
      "remote:\n"
      "  ca_file: /etc/phrfs/ca.pem\n"
      "  connect_timeout: 2.5\n"
      "  stall_timeout: 60\n"
      "  parallel_transfers: 8\n"
      "webdav:\n"
      "  user: ann\n"
      "  password_file: /home/ann/.config/phrfs/dav-password\n"
      "s3:\n"
      "  endpoint: http://127.0.0.1:7480\n"
      "  region: eu-central-1\n"
      "  addressing: virtual\n"
      "  access_key_id: AKIAEXAMPLE\n"
      "  secret_key_file: /home/ann/.config/phrfs/s3-secret\n"
      "cache:\n"
      "  dir: /var/cache/phrfs\n"
      "  size: 10G\n"
      "  write_back_delay: 2\n"
      "  listing_ttl: 0\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->read_only, false);
  EXPECT_EQ(config->remote.ca_file, "/etc/phrfs/ca.pem");
  EXPECT_EQ(config->remote.connect_timeout, 2.5);
  EXPECT_EQ(config->remote.stall_timeout, 60.0);
  EXPECT_EQ(config->remote.parallel_transfers, 8u);
  EXPECT_EQ(config->webdav.user, "ann");
  EXPECT_EQ(config->webdav.password_file, "/home/ann/.config/phrfs/dav-password");
  EXPECT_EQ(config->s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(config->s3.region, "eu-central-1");
  EXPECT_EQ(config->s3.addressing, S3Addressing::kVirtual);
  EXPECT_EQ(config->s3.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(config->s3.secret_key_file, "/home/ann/.config/phrfs/s3-secret");
  EXPECT_EQ(config->cache.dir, "/var/cache/phrfs");
  EXPECT_EQ(config->cache.size, uint64_t{10} << 30);
  EXPECT_EQ(config->cache.write_back_delay, 2.0);
  EXPECT_EQ(config->cache.listing_ttl, 0.0);
}

TEST(RemoteConfigTest, AbsentSectionsAndKeysStayUnset) {
  auto config = ParseMountConfig("s3:\n  addressing: path\nremote:\ncache:\n", "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->s3.addressing, S3Addressing::kPath);
  EXPECT_FALSE(config->s3.endpoint.has_value());
  EXPECT_FALSE(config->s3.region.has_value());
  EXPECT_FALSE(config->s3.access_key_id.has_value());
  EXPECT_FALSE(config->remote.ca_file.has_value());
  EXPECT_FALSE(config->remote.parallel_transfers.has_value());
  EXPECT_FALSE(config->webdav.user.has_value());
  EXPECT_FALSE(config->cache.size.has_value());
  EXPECT_FALSE(config->cache.listing_ttl.has_value());
}

TEST(RemoteConfigTest, AcceptsBoundaryValues) {
  auto config = ParseMountConfig(
      "remote:\n  connect_timeout: 0.1\n  stall_timeout: 3600\n  parallel_transfers: 64\n"
      "cache:\n  size: 16M\n  write_back_delay: 3600\n  listing_ttl: 3600\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->remote.connect_timeout, 0.1);
  EXPECT_EQ(config->remote.stall_timeout, 3600.0);
  EXPECT_EQ(config->remote.parallel_transfers, 64u);
  EXPECT_EQ(config->cache.size, uint64_t{16} << 20);
  EXPECT_EQ(config->cache.listing_ttl, 3600.0);
  auto one = ParseMountConfig("remote:\n  parallel_transfers: 1\n  connect_timeout: 600\n",
                              "test.yaml");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->remote.parallel_transfers, 1u);
  EXPECT_EQ(one->remote.connect_timeout, 600.0);
}

struct BadValue {
  const char* text;
  const char* location;  // expected "file:line: key: " prefix
  const char* expected;  // what the message says was expected
};

class RemoteConfigBadValueTest : public ::testing::TestWithParam<BadValue> {};

TEST_P(RemoteConfigBadValueTest, NamesFileLineKeyAndWhatWasExpected) {
  auto result = ParseMountConfig(GetParam().text, "test.yaml");
  ASSERT_FALSE(result.ok()) << "accepted:\n" << GetParam().text;
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(result.status().message(), StartsWith(GetParam().location));
  EXPECT_THAT(result.status().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    EachBadValue, RemoteConfigBadValueTest,
    ::testing::Values(
        // remote:
        BadValue{"remote: [a]\n", "test.yaml:1: remote: ", "mapping"},
        BadValue{"remote:\n  ca_file: \"\"\n", "test.yaml:2: remote.ca_file: ", "file path"},
        BadValue{"remote:\n  ca_file: [a]\n", "test.yaml:2: remote.ca_file: ", "file path"},
        BadValue{"remote:\n  connect_timeout: 0\n", "test.yaml:2: remote.connect_timeout: ",
                 "from 0.1 to 600"},
        BadValue{"remote:\n  connect_timeout: 601\n", "test.yaml:2: remote.connect_timeout: ",
                 "from 0.1 to 600 (got '601')"},
        BadValue{"remote:\n  stall_timeout: soon\n", "test.yaml:2: remote.stall_timeout: ",
                 "from 0.1 to 3600"},
        BadValue{"remote:\n  stall_timeout: 3601\n", "test.yaml:2: remote.stall_timeout: ",
                 "seconds"},
        BadValue{"remote:\n  parallel_transfers: 0\n",
                 "test.yaml:2: remote.parallel_transfers: ", "from 1 to 64"},
        BadValue{"remote:\n  parallel_transfers: 65\n",
                 "test.yaml:2: remote.parallel_transfers: ", "from 1 to 64"},
        BadValue{"remote:\n  parallel_transfers: 1.5\n",
                 "test.yaml:2: remote.parallel_transfers: ", "whole number"},
        BadValue{"remote:\n  retries: 3\n", "test.yaml:2: remote.retries: ", "unknown key"},
        BadValue{"remote:\n  ca_file: /a\n  ca_file: /b\n", "test.yaml:3: remote.ca_file: ",
                 "duplicate key"},
        // webdav:
        BadValue{"webdav: ann\n", "test.yaml:1: webdav: ", "mapping"},
        BadValue{"webdav:\n  user: \"\"\n", "test.yaml:2: webdav.user: ", "user name"},
        BadValue{"webdav:\n  user: \"a:b\"\n", "test.yaml:2: webdav.user: ", "':'"},
        BadValue{"webdav:\n  password_file: {}\n", "test.yaml:2: webdav.password_file: ",
                 "file path"},
        BadValue{"webdav:\n  user: ann\n  password: hunter2\n", "test.yaml:3: webdav.password: ",
                 "password_file: PATH"},
        BadValue{"webdav:\n  pass: hunter2\n", "test.yaml:2: webdav.pass: ", "password_file"},
        BadValue{"webdav:\n  username: ann\n", "test.yaml:2: webdav.username: ",
                 "unknown key (known: user, password_file)"},
        // s3:
        BadValue{"s3: 1\n", "test.yaml:1: s3: ", "mapping"},
        BadValue{"s3:\n  endpoint: s3.example.org\n", "test.yaml:2: s3.endpoint: ",
                 "http:// or https://"},
        BadValue{"s3:\n  endpoint: https://h/bucket\n", "test.yaml:2: s3.endpoint: ",
                 "no path"},
        BadValue{"s3:\n  endpoint: https://h:99999\n", "test.yaml:2: s3.endpoint: ", "port"},
        BadValue{"s3:\n  endpoint: \"\"\n", "test.yaml:2: s3.endpoint: ", "URL"},
        BadValue{"s3:\n  region: EU Central\n", "test.yaml:2: s3.region: ", "region name"},
        BadValue{"s3:\n  addressing: dns\n", "test.yaml:2: s3.addressing: ",
                 "path or virtual (got 'dns')"},
        BadValue{"s3:\n  access_key_id: \"AK IA\"\n  secret_key_file: /s\n",
                 "test.yaml:2: s3.access_key_id: ", "without spaces"},
        BadValue{"s3:\n  secret_key: abc\n", "test.yaml:2: s3.secret_key: ",
                 "secret_key_file: PATH"},
        BadValue{"s3:\n  secret_access_key: abc\n", "test.yaml:2: s3.secret_access_key: ",
                 "secret_key_file"},
        BadValue{"s3:\n  region: x\n  access_key_id: AKIA\n", "test.yaml:2: s3: ",
                 "secret_key_file is not"},
        BadValue{"s3:\n  secret_key_file: /s\n", "test.yaml:2: s3: ", "access_key_id is not"},
        BadValue{"s3:\n  bucket: b\n", "test.yaml:2: s3.bucket: ", "unknown key"},
        // cache:
        BadValue{"cache: big\n", "test.yaml:1: cache: ", "mapping"},
        BadValue{"cache:\n  dir: \"\"\n", "test.yaml:2: cache.dir: ", "directory path"},
        BadValue{"cache:\n  size: 10X\n", "test.yaml:2: cache.size: ", "such as 512M or 10G"},
        BadValue{"cache:\n  size: 15M\n", "test.yaml:2: cache.size: ", "from 16M to 1P"},
        BadValue{"cache:\n  size: 2P\n", "test.yaml:2: cache.size: ", "from 16M to 1P"},
        BadValue{"cache:\n  size: -1G\n", "test.yaml:2: cache.size: ", "(got '-1G')"},
        BadValue{"cache:\n  size: 1.5G\n", "test.yaml:2: cache.size: ", "size"},
        BadValue{"cache:\n  size: 99999999999999999999999G\n", "test.yaml:2: cache.size: ",
                 "size"},
        BadValue{"cache:\n  write_back_delay: -1\n", "test.yaml:2: cache.write_back_delay: ",
                 "from 0 to 3600"},
        BadValue{"cache:\n  listing_ttl: 3601\n", "test.yaml:2: cache.listing_ttl: ",
                 "from 0 to 3600"},
        BadValue{"cache:\n  listing_ttl: .nan\n", "test.yaml:2: cache.listing_ttl: ",
                 "seconds"},
        BadValue{"cache:\n  max: 1G\n", "test.yaml:2: cache.max: ", "unknown key"},
        // the document
        BadValue{"mount:\n  read_only: true\nstore: {}\n", "test.yaml:3: store: ",
                 "unknown key (known: mount, remote, webdav, s3, cache)"},
        BadValue{"s3:\n  region: a\ns3:\n  region: b\n", "test.yaml:3: s3: ", "duplicate key"}));

TEST(RemoteConfigTest, InlineSecretIsNeverEchoed) {
  auto result = ParseMountConfig("webdav:\n  password: Sup3rSecret\n", "test.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), Not(HasSubstr("Sup3rSecret")));
  auto s3 = ParseMountConfig("s3:\n  secret_key: Sup3rSecret\n", "test.yaml");
  ASSERT_FALSE(s3.ok());
  EXPECT_THAT(s3.status().message(), Not(HasSubstr("Sup3rSecret")));
}

TEST(RemoteConfigTest, EndpointWithCredentialsIsRefusedWithoutEchoingThem) {
  auto result = ParseMountConfig("s3:\n  endpoint: https://AKIA:Sup3rSecret@h\n", "test.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), StartsWith("test.yaml:2: s3.endpoint: credentials"));
  EXPECT_THAT(result.status().message(), Not(HasSubstr("Sup3rSecret")));
}

TEST(ByteSizeTest, ParsesSuffixesAsPowersOf1024) {
  EXPECT_EQ(ParseByteSize("0"), uint64_t{0});
  EXPECT_EQ(ParseByteSize("1048576"), uint64_t{1048576});
  EXPECT_EQ(ParseByteSize("1K"), uint64_t{1024});
  EXPECT_EQ(ParseByteSize("512M"), uint64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("512m"), uint64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("10G"), uint64_t{10} << 30);
  EXPECT_EQ(ParseByteSize("3t"), uint64_t{3} << 40);
  EXPECT_EQ(ParseByteSize("1P"), uint64_t{1} << 50);
  EXPECT_EQ(ParseByteSize("18446744073709551615"), UINT64_MAX);
}

TEST(ByteSizeTest, RefusesEverythingElse) {
  for (const char* bad : {"", "G", "10 G", "10GB", "10GiB", "1.5G", "-1", "+1", "0x10", "10E",
                          "18446744073709551616", "16384P", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseByteSize(bad).has_value()) << bad;
  }
}

// The YAML examples in man/phrfs.yaml.5 (its .EX blocks that are neither shell sessions nor
// messages) must be accepted: a documented example that the parser refuses is a bug in one.
TEST(RemoteConfigTest, ManPageExamplesAreValid) {
  const std::string path = std::string(PHRFS_SOURCE_DIR) + "/man/phrfs.yaml.5";
  std::ifstream man(path);
  ASSERT_TRUE(man.good()) << "cannot read " << path;
  std::vector<std::string> examples;
  std::string line;
  std::string block;
  bool in_example = false;
  bool is_yaml = true;
  while (std::getline(man, line)) {
    if (line == ".EX") {
      in_example = true;
      is_yaml = true;
      block.clear();
    } else if (line == ".EE") {
      in_example = false;
      if (is_yaml) examples.push_back(block);
    } else if (in_example) {
      if (line.starts_with("$ ") || line.starts_with("phrfs: ")) is_yaml = false;
      std::string unescaped;
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-') continue;  // \- is -
        unescaped += line[i];
      }
      block += unescaped + "\n";
    }
  }
  ASSERT_GE(examples.size(), 3u);
  for (const std::string& example : examples) {
    auto config = ParseMountConfig(example, "man-example.yaml");
    EXPECT_TRUE(config.ok()) << config.status().ToString() << "\n" << example;
  }
}

}  // namespace
}  // namespace phrfs::config
