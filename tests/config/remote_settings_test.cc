// Tests for resolving the remote settings: defaults, the environment winning over the file
// (per key for WebDAV, as a pair for S3 credentials, like aws-cli), and secret files (owner-only
// permissions, one trailing newline stripped, empty and multi-line files refused).
#include "config/remote_settings.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/secret_file.h"

namespace phrfs::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Text(const SecureBytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// An environment made of a map; empty values count as unset, as in ProcessEnvironment.
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

class SecretDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/phrfs-secret-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    for (const std::string& path : files_) unlink(path.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string path = dir_ + "/" + name;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);  // chmod: not limited by the umask
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

using SecretFileTest = SecretDir;

TEST_F(SecretFileTest, ReadsTheSecretAndStripsOneTrailingNewline) {
  auto plain = ReadSecretFile(Write("a", "hunter2"), "webdav.password_file");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(Text(*plain), "hunter2");
  auto newline = ReadSecretFile(Write("b", "hunter2\n"), "k");
  ASSERT_TRUE(newline.ok());
  EXPECT_EQ(Text(*newline), "hunter2");
  auto crlf = ReadSecretFile(Write("c", "hunter2\r\n"), "k");
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(Text(*crlf), "hunter2");
  auto spaces = ReadSecretFile(Write("d", " pass word \n"), "k");  // spaces are the secret's
  ASSERT_TRUE(spaces.ok());
  EXPECT_EQ(Text(*spaces), " pass word ");
  auto owner_read_only = ReadSecretFile(Write("e", "x\n", 0400), "k");
  EXPECT_TRUE(owner_read_only.ok()) << owner_read_only.status().ToString();
}

TEST_F(SecretFileTest, RefusesAFileGroupOrOthersMayAccess) {
  for (mode_t mode : {0640, 0604, 0644, 0620, 0602, 0610, 0601, 0660, 0666}) {
    std::string path = Write("open", "hunter2\n", mode);
    auto secret = ReadSecretFile(path, "s3.secret_key_file");
    ASSERT_FALSE(secret.ok()) << std::oct << mode;
    EXPECT_EQ(secret.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(secret.status().message(), StartsWith("s3.secret_key_file: " + path + ": "));
    EXPECT_THAT(secret.status().message(), HasSubstr("too open"));
    EXPECT_THAT(secret.status().message(), HasSubstr("chmod 600 " + path));
    EXPECT_THAT(secret.status().message(), Not(HasSubstr("hunter2")));
  }
  auto secret = ReadSecretFile(Write("g", "x", 0640), "k");
  ASSERT_FALSE(secret.ok());
  EXPECT_THAT(secret.status().message(), HasSubstr("permissions 0640"));
}

TEST_F(SecretFileTest, RefusesEmptyMultiLineAndOversizedFiles) {
  EXPECT_THAT(ReadSecretFile(Write("e1", ""), "k").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ReadSecretFile(Write("e2", "\n"), "k").status().message(), HasSubstr("empty"));
  auto two = ReadSecretFile(Write("two", "hunter2\nsecond\n"), "k");
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.status().message(), HasSubstr("more than one line"));
  EXPECT_THAT(two.status().message(), Not(HasSubstr("hunter2")));
  EXPECT_FALSE(ReadSecretFile(Write("two_newlines", "hunter2\n\n"), "k").ok());
  auto big = ReadSecretFile(Write("big", std::string(kMaxSecretFileSize + 1, 'x')), "k");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.status().message(), HasSubstr("too large"));
  auto limit = ReadSecretFile(Write("limit", std::string(kMaxSecretFileSize, 'x')), "k");
  EXPECT_TRUE(limit.ok()) << limit.status().ToString();
}

TEST_F(SecretFileTest, MissingFileAndDirectoryAreErrorsNamingTheKey) {
  auto missing = ReadSecretFile(dir_ + "/absent", "webdav.password_file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_THAT(missing.status().message(), StartsWith("webdav.password_file: " + dir_ + "/absent"));
  ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
  auto directory = ReadSecretFile(dir_, "k");
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
}

TEST(TransportTest, DefaultsAndFileValues) {
  TransportSettings defaults = ResolveTransport(RemoteConfig{});
  EXPECT_EQ(defaults.ca_file, "");
  EXPECT_EQ(defaults.connect_timeout, std::chrono::milliseconds(10'000));
  EXPECT_EQ(defaults.stall_timeout, std::chrono::milliseconds(30'000));
  EXPECT_EQ(defaults.parallel_transfers, kDefaultParallelTransfers);
  RemoteConfig file;
  file.ca_file = "/ca.pem";
  file.connect_timeout = 0.25;
  file.stall_timeout = 2;
  file.parallel_transfers = 16;
  TransportSettings set = ResolveTransport(file);
  EXPECT_EQ(set.ca_file, "/ca.pem");
  EXPECT_EQ(set.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(set.stall_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(set.parallel_transfers, 16u);
}

using WebDavCredentialsTest = SecretDir;

TEST_F(WebDavCredentialsTest, NoUserMeansNoAuthentication) {
  auto creds = ResolveWebDavCredentials(WebDavConfig{}, Env({}));
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->user, "");
  EXPECT_TRUE(creds->password.empty());
}

TEST_F(WebDavCredentialsTest, FromTheFile) {
  WebDavConfig file;
  file.user = "ann";
  file.password_file = Write("pw", "from-file\n");
  auto creds = ResolveWebDavCredentials(file, Env({}));
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->user, "ann");
  EXPECT_EQ(Text(creds->password), "from-file");
}

TEST_F(WebDavCredentialsTest, EachEnvironmentVariableWinsOverItsKey) {
  WebDavConfig file;
  file.user = "ann";
  file.password_file = Write("pw", "from-file\n");
  auto both = ResolveWebDavCredentials(
      file, Env({{"PHRFS_WEBDAV_USER", "bob"}, {"PHRFS_WEBDAV_PASSWORD", "from-env"}}));
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->user, "bob");
  EXPECT_EQ(Text(both->password), "from-env");
  auto password_only = ResolveWebDavCredentials(file, Env({{"PHRFS_WEBDAV_PASSWORD", "env"}}));
  ASSERT_TRUE(password_only.ok());
  EXPECT_EQ(password_only->user, "ann");
  EXPECT_EQ(Text(password_only->password), "env");
  auto user_only = ResolveWebDavCredentials(file, Env({{"PHRFS_WEBDAV_USER", "bob"}}));
  ASSERT_TRUE(user_only.ok());
  EXPECT_EQ(user_only->user, "bob");
  EXPECT_EQ(Text(user_only->password), "from-file");
}

TEST_F(WebDavCredentialsTest, EnvironmentPasswordMeansTheFileIsNotRead) {
  WebDavConfig file;
  file.user = "ann";
  file.password_file = dir_ + "/absent";
  auto creds = ResolveWebDavCredentials(file, Env({{"PHRFS_WEBDAV_PASSWORD", "env"}}));
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(Text(creds->password), "env");
  // Without the variable the missing file is an error naming the key.
  auto missing = ResolveWebDavCredentials(file, Env({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), StartsWith("webdav.password_file: "));
}

TEST_F(WebDavCredentialsTest, UserWithoutPasswordAndPasswordWithoutUserAreErrors) {
  WebDavConfig user_only;
  user_only.user = "ann";
  auto no_password = ResolveWebDavCredentials(user_only, Env({}));
  ASSERT_FALSE(no_password.ok());
  EXPECT_THAT(no_password.status().message(), HasSubstr("PHRFS_WEBDAV_PASSWORD"));
  auto no_user = ResolveWebDavCredentials(WebDavConfig{}, Env({{"PHRFS_WEBDAV_PASSWORD", "p"}}));
  ASSERT_FALSE(no_user.ok());
  EXPECT_THAT(no_user.status().message(), HasSubstr("PHRFS_WEBDAV_USER"));
  auto colon = ResolveWebDavCredentials(
      WebDavConfig{}, Env({{"PHRFS_WEBDAV_USER", "a:b"}, {"PHRFS_WEBDAV_PASSWORD", "p"}}));
  EXPECT_FALSE(colon.ok());
}

TEST_F(WebDavCredentialsTest, OpenPasswordFileIsRefused) {
  WebDavConfig file;
  file.user = "ann";
  file.password_file = Write("pw", "p\n", 0644);
  auto creds = ResolveWebDavCredentials(file, Env({}));
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.status().message(), HasSubstr("too open"));
}

using S3SettingsTest = SecretDir;

TEST_F(S3SettingsTest, FromTheFileAlone) {
  S3Config file;
  file.endpoint = "http://127.0.0.1:7480/";
  file.region = "eu-central-1";
  file.access_key_id = "AKIAFILE";
  file.secret_key_file = Write("secret", "file-secret\n");
  auto s3 = ResolveS3Settings(file, Env({}));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(s3->endpoint, "http://127.0.0.1:7480");  // trailing '/' dropped
  EXPECT_EQ(s3->region, "eu-central-1");
  EXPECT_EQ(s3->addressing, S3Addressing::kPath);  // an endpoint was given
  EXPECT_EQ(s3->access_key_id, "AKIAFILE");
  EXPECT_EQ(Text(s3->secret_key), "file-secret");
}

TEST_F(S3SettingsTest, EnvironmentWinsOverTheFile) {
  S3Config file;
  file.endpoint = "http://file.example:1";
  file.region = "file-region";
  file.access_key_id = "AKIAFILE";
  file.secret_key_file = dir_ + "/absent";  // not read when the environment has the pair
  auto s3 = ResolveS3Settings(file, Env({{"AWS_ENDPOINT_URL", "https://env.example:9000"},
                                         {"AWS_REGION", "env-region"},
                                         {"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                         {"AWS_SECRET_ACCESS_KEY", "env-secret"}}));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(s3->endpoint, "https://env.example:9000");
  EXPECT_EQ(s3->region, "env-region");
  EXPECT_EQ(s3->access_key_id, "AKIAENV");
  EXPECT_EQ(Text(s3->secret_key), "env-secret");
}

TEST_F(S3SettingsTest, EnvironmentVariablesOverrideInTheirOwnOrder) {
  S3Config file;
  file.access_key_id = "AKIAFILE";
  file.secret_key_file = Write("secret", "s\n");
  auto s3 = ResolveS3Settings(file, Env({{"AWS_ENDPOINT_URL", "https://generic.example"},
                                         {"AWS_ENDPOINT_URL_S3", "https://s3only.example"},
                                         {"AWS_DEFAULT_REGION", "default-region"},
                                         {"AWS_REGION", "region"}}));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(s3->endpoint, "https://s3only.example");
  EXPECT_EQ(s3->region, "region");
  EXPECT_EQ(s3->access_key_id, "AKIAFILE");  // no credentials in the environment
  auto fallback = ResolveS3Settings(file, Env({{"AWS_DEFAULT_REGION", "default-region"}}));
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->region, "default-region");
}

TEST_F(S3SettingsTest, DefaultsToAwsWithVirtualHostAddressing) {
  auto s3 = ResolveS3Settings(S3Config{}, Env({{"AWS_ACCESS_KEY_ID", "AKIA"},
                                              {"AWS_SECRET_ACCESS_KEY", "s"}}));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ(s3->region, "us-east-1");
  EXPECT_EQ(s3->endpoint, "https://s3.us-east-1.amazonaws.com");
  EXPECT_EQ(s3->addressing, S3Addressing::kVirtual);
  S3Config file;
  file.region = "eu-west-3";
  file.addressing = S3Addressing::kPath;
  auto set = ResolveS3Settings(file, Env({{"AWS_ACCESS_KEY_ID", "AKIA"},
                                          {"AWS_SECRET_ACCESS_KEY", "s"}}));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->endpoint, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(set->addressing, S3Addressing::kPath);  // the file's choice wins over the default
}

TEST_F(S3SettingsTest, HalfAPairInTheEnvironmentIsAnError) {
  S3Config file;
  file.access_key_id = "AKIAFILE";
  file.secret_key_file = Write("secret", "s\n");
  auto id_only = ResolveS3Settings(file, Env({{"AWS_ACCESS_KEY_ID", "AKIAENV"}}));
  ASSERT_FALSE(id_only.ok());
  EXPECT_THAT(id_only.status().message(),
              StartsWith("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
  auto secret_only = ResolveS3Settings(file, Env({{"AWS_SECRET_ACCESS_KEY", "Sup3rSecret"}}));
  ASSERT_FALSE(secret_only.ok());
  EXPECT_THAT(secret_only.status().message(), StartsWith("AWS_SECRET_ACCESS_KEY is set"));
  EXPECT_THAT(secret_only.status().message(), Not(HasSubstr("Sup3rSecret")));
}

TEST_F(S3SettingsTest, NoCredentialsAnywhereIsAnError) {
  auto s3 = ResolveS3Settings(S3Config{}, Env({}));
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(s3.status().message(), HasSubstr("no S3 credentials"));
}

TEST_F(S3SettingsTest, BadEnvironmentValuesNameTheVariable) {
  auto creds = std::map<std::string, std::string>{{"AWS_ACCESS_KEY_ID", "AKIA"},
                                                  {"AWS_SECRET_ACCESS_KEY", "s"}};
  auto with = [&](const char* name, const char* value) {
    auto vars = creds;
    vars[name] = value;
    return ResolveS3Settings(S3Config{}, Env(vars)).status();
  };
  EXPECT_THAT(with("AWS_ENDPOINT_URL", "s3.example.org").message(),
              StartsWith("AWS_ENDPOINT_URL: "));
  EXPECT_THAT(with("AWS_ENDPOINT_URL_S3", "https://h/x").message(),
              StartsWith("AWS_ENDPOINT_URL_S3: "));
  EXPECT_THAT(with("AWS_REGION", "EU 1").message(), StartsWith("AWS_REGION: "));
  EXPECT_THAT(with("AWS_ACCESS_KEY_ID", "AK IA").message(), StartsWith("AWS_ACCESS_KEY_ID: "));
}

TEST_F(S3SettingsTest, OpenSecretKeyFileIsRefused) {
  S3Config file;
  file.access_key_id = "AKIA";
  file.secret_key_file = Write("secret", "s\n", 0604);
  auto s3 = ResolveS3Settings(file, Env({}));
  ASSERT_FALSE(s3.ok());
  EXPECT_THAT(s3.status().message(), StartsWith("s3.secret_key_file: "));
  EXPECT_THAT(s3.status().message(), HasSubstr("too open"));
}

TEST(CacheSettingsTest, DefaultsAndDirectoryFallbacks) {
  auto home = ResolveCacheSettings(CacheConfig{}, Env({{"HOME", "/home/ann"}}));
  ASSERT_TRUE(home.ok()) << home.status().ToString();
  EXPECT_EQ(home->dir, "/home/ann/.cache/phrfs");
  EXPECT_EQ(home->size, kDefaultCacheSize);
  EXPECT_EQ(home->write_back_delay, std::chrono::milliseconds(5000));
  EXPECT_EQ(home->listing_ttl, std::chrono::milliseconds(30'000));
  auto xdg = ResolveCacheSettings(CacheConfig{},
                                  Env({{"HOME", "/home/ann"}, {"XDG_CACHE_HOME", "/xdg"}}));
  ASSERT_TRUE(xdg.ok());
  EXPECT_EQ(xdg->dir, "/xdg/phrfs");
  auto relative_xdg = ResolveCacheSettings(
      CacheConfig{}, Env({{"HOME", "/home/ann"}, {"XDG_CACHE_HOME", "rel"}}));
  ASSERT_TRUE(relative_xdg.ok());
  EXPECT_EQ(relative_xdg->dir, "/home/ann/.cache/phrfs");
  EXPECT_FALSE(ResolveCacheSettings(CacheConfig{}, Env({})).ok());
}

TEST(CacheSettingsTest, FileValuesWin) {
  CacheConfig file;
  file.dir = "/var/cache/phrfs";
  file.size = uint64_t{512} << 20;
  file.write_back_delay = 0.5;
  file.listing_ttl = 0;
  auto cache = ResolveCacheSettings(file, Env({{"XDG_CACHE_HOME", "/xdg"}}));
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_EQ(cache->dir, "/var/cache/phrfs");
  EXPECT_EQ(cache->size, uint64_t{512} << 20);
  EXPECT_EQ(cache->write_back_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(cache->listing_ttl, std::chrono::milliseconds(0));
}

TEST(ProcessEnvironmentTest, ReadsTheEnvironmentAndTreatsEmptyAsUnset) {
  ASSERT_EQ(setenv("PHRFS_TEST_ENV_SET", "value", 1), 0);
  ASSERT_EQ(setenv("PHRFS_TEST_ENV_EMPTY", "", 1), 0);
  unsetenv("PHRFS_TEST_ENV_UNSET");
  EnvLookup env = ProcessEnvironment();
  EXPECT_EQ(env("PHRFS_TEST_ENV_SET"), "value");
  EXPECT_FALSE(env("PHRFS_TEST_ENV_EMPTY").has_value());
  EXPECT_FALSE(env("PHRFS_TEST_ENV_UNSET").has_value());
}

}  // namespace
}  // namespace phrfs::config
