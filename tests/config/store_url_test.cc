// Tests for STORE parsing: each kind, ports and defaults, IPv6, percent escapes, the WebDAV
// base URL, and every malformed form (no host, bad port, credentials, bad bucket names).
#include "config/store_url.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phrfs::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

StoreUrl Parse(const std::string& store) {
  auto url = ParseStoreUrl(store);
  EXPECT_TRUE(url.ok()) << store << ": " << url.status().ToString();
  return url.ok() ? *url : StoreUrl{};
}

Status Error(const std::string& store) {
  auto url = ParseStoreUrl(store);
  EXPECT_FALSE(url.ok()) << "accepted: " << store;
  if (url.ok()) return Status::Ok();
  EXPECT_EQ(url.status().code(), Code::kInvalidArgument);
  return url.status();
}

TEST(StoreUrlTest, PlainPathIsLocalAndKeptAsGiven) {
  StoreUrl url = Parse("/home/ann/health.phrfs");
  EXPECT_EQ(url.kind, StoreKind::kLocal);
  EXPECT_EQ(url.path, "/home/ann/health.phrfs");
  EXPECT_EQ(Parse("relative/dir").path, "relative/dir");
  EXPECT_EQ(Parse("./odd:name").path, "./odd:name");
  EXPECT_EQ(Parse("with space/%20").path, "with space/%20");  // a path is not a URL
}

TEST(StoreUrlTest, FileUrlIsLocalWithDecodedPath) {
  StoreUrl url = Parse("file:///srv/vault%20one");
  EXPECT_EQ(url.kind, StoreKind::kLocal);
  EXPECT_EQ(url.path, "/srv/vault one");
  EXPECT_EQ(Parse("file://localhost/srv/v").path, "/srv/v");
  EXPECT_EQ(Parse("FILE:///srv/v").kind, StoreKind::kLocal);
}

TEST(StoreUrlTest, FileUrlWithAHostOrWithoutPathIsRefused) {
  EXPECT_THAT(Error("file://server/srv/v").message(), HasSubstr("file:///PATH"));
  EXPECT_THAT(Error("file://").message(), HasSubstr("file:///PATH"));
  EXPECT_THAT(Error("file://srv/v").message(), HasSubstr("three slashes"));
}

TEST(StoreUrlTest, WebDavWithDefaultPort) {
  StoreUrl url = Parse("webdav://dav.example.org/remote.php/dav/files/ann/");
  EXPECT_EQ(url.kind, StoreKind::kWebDav);
  EXPECT_EQ(url.host, "dav.example.org");
  EXPECT_EQ(url.port, 80);
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.path, "/remote.php/dav/files/ann");
  EXPECT_TRUE(url.bucket.empty());
  EXPECT_EQ(WebDavBaseUrl(url), "http://dav.example.org/remote.php/dav/files/ann/");
}

TEST(StoreUrlTest, WebDavsWithPortAndTls) {
  StoreUrl url = Parse("webdavs://127.0.0.1:8443/vault");
  EXPECT_EQ(url.kind, StoreKind::kWebDav);
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path, "/vault");
  EXPECT_EQ(WebDavBaseUrl(url), "https://127.0.0.1:8443/vault/");
  EXPECT_EQ(Parse("webdavs://h/").port, 443);
}

TEST(StoreUrlTest, DefaultPortIsLeftOutOfTheBaseUrlButOtherPortsStay) {
  EXPECT_EQ(WebDavBaseUrl(Parse("webdav://h:80/a")), "http://h/a/");
  EXPECT_EQ(WebDavBaseUrl(Parse("webdavs://h:443/a")), "https://h/a/");
  EXPECT_EQ(WebDavBaseUrl(Parse("webdav://h:443/a")), "http://h:443/a/");
  EXPECT_EQ(WebDavBaseUrl(Parse("webdavs://h:80/a")), "https://h:80/a/");
}

TEST(StoreUrlTest, WebDavRootAndEmptyPath) {
  EXPECT_EQ(Parse("webdav://h").path, "/");
  EXPECT_EQ(Parse("webdav://h/").path, "/");
  EXPECT_EQ(WebDavBaseUrl(Parse("webdav://h:8080")), "http://h:8080/");
}

TEST(StoreUrlTest, WebDavPathIsDecodedAndReEncodedAndEmptySegmentsDropped) {
  StoreUrl url = Parse("webdav://h/my%20files//caf%C3%A9/a+b/");
  EXPECT_EQ(url.path, "/my files/caf\xC3\xA9/a+b");
  EXPECT_EQ(WebDavBaseUrl(url), "http://h/my%20files/caf%C3%A9/a+b/");
  // A raw space (typed unescaped) is encoded too.
  EXPECT_EQ(WebDavBaseUrl(Parse("webdav://h/my files")), "http://h/my%20files/");
}

TEST(StoreUrlTest, WebDavIpv6HostInBrackets) {
  StoreUrl url = Parse("webdav://[::1]:8080/dav");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(WebDavBaseUrl(url), "http://[::1]:8080/dav/");
  EXPECT_EQ(Parse("webdavs://[fe80::1]/x").port, 443);
}

TEST(StoreUrlTest, S3BucketAndPrefix) {
  StoreUrl url = Parse("s3://phrfs-test/ann/health/");
  EXPECT_EQ(url.kind, StoreKind::kS3);
  EXPECT_EQ(url.bucket, "phrfs-test");
  EXPECT_EQ(url.prefix, "ann/health");
  EXPECT_TRUE(url.host.empty());
  EXPECT_EQ(url.port, 0);
}

TEST(StoreUrlTest, S3PrefixMayBeEmpty) {
  EXPECT_EQ(Parse("s3://bucket").prefix, "");
  EXPECT_EQ(Parse("s3://bucket/").prefix, "");
  EXPECT_EQ(Parse("s3://my.bucket.2/a%20b").prefix, "a b");
}

TEST(StoreUrlTest, EmptyStoreIsRefused) {
  EXPECT_THAT(Error("").message(), HasSubstr("STORE is empty"));
}

TEST(StoreUrlTest, UnknownSchemesAreRefusedWithTheKnownForms) {
  Status status = Error("ftp://h/x");
  EXPECT_THAT(status.message(), HasSubstr("unknown scheme 'ftp'"));
  EXPECT_THAT(status.message(), HasSubstr("webdav://"));
  EXPECT_THAT(Error("https://h/dav").message(), HasSubstr("webdavs://"));
  EXPECT_THAT(Error("http://h/dav").message(), HasSubstr("webdav://"));
}

TEST(StoreUrlTest, WebDavWithoutHostIsRefused) {
  EXPECT_THAT(Error("webdav:///dav").message(), HasSubstr("no host"));
  EXPECT_THAT(Error("webdavs://:8080/dav").message(), HasSubstr("no host"));
  EXPECT_THAT(Error("webdav://[]/dav").message(), HasSubstr("no host"));
}

TEST(StoreUrlTest, BadPortsAreRefused) {
  for (const char* store : {"webdav://h:/x", "webdav://h:0/x", "webdav://h:65536/x",
                            "webdav://h:http/x", "webdav://h:-1/x", "webdav://h:123456/x",
                            "webdav://[::1]:x/y"}) {
    EXPECT_THAT(Error(store).message(), HasSubstr("port number from 1 to 65535")) << store;
  }
  EXPECT_EQ(Parse("webdav://h:65535/x").port, 65535);
  EXPECT_EQ(Parse("webdav://h:1/x").port, 1);
}

TEST(StoreUrlTest, UnbracketedIpv6AndBadHostCharactersAreRefused) {
  EXPECT_THAT(Error("webdav://::1/x").message(), HasSubstr("brackets"));
  EXPECT_THAT(Error("webdav://[::1/x").message(), HasSubstr("']'"));
  EXPECT_THAT(Error("webdav://h%41/x").message(), HasSubstr("host name"));
  EXPECT_THAT(Error("webdav://-h/x").message(), HasSubstr("cannot begin"));
}

TEST(StoreUrlTest, CredentialsInTheUrlAreRefusedAndNeverEchoed) {
  Status dav = Error("webdavs://ann:Sup3rSecret@dav.example.org/x");
  EXPECT_THAT(dav.message(), HasSubstr("credentials are never part of a URL"));
  EXPECT_THAT(dav.message(), HasSubstr("webdav.password_file"));
  EXPECT_THAT(dav.message(), Not(HasSubstr("Sup3rSecret")));
  Status s3 = Error("s3://AKIA:Sup3rSecret@bucket/x");
  EXPECT_THAT(s3.message(), HasSubstr("AWS_SECRET_ACCESS_KEY"));
  EXPECT_THAT(s3.message(), Not(HasSubstr("Sup3rSecret")));
  // A password with a '/' ends the authority early; the message must still not show it.
  Status slash = Error("webdav://ann:pa/ss@h/x");
  EXPECT_THAT(slash.message(), Not(HasSubstr("pa/ss")));
  EXPECT_THAT(Error("webdav://ann@h/x").message(), HasSubstr("credentials"));
}

TEST(StoreUrlTest, QueryFragmentDotSegmentsAndBadEscapesAreRefused) {
  EXPECT_THAT(Error("webdav://h/x?a=1").message(), HasSubstr("query"));
  EXPECT_THAT(Error("s3://bucket/x#y").message(), HasSubstr("fragment"));
  EXPECT_THAT(Error("webdav://h/a/../b").message(), HasSubstr("'..'"));
  EXPECT_THAT(Error("s3://bucket/./b").message(), HasSubstr("'.'"));
  EXPECT_THAT(Error("webdav://h/a%2Fb").message(), HasSubstr("%2F"));
  EXPECT_THAT(Error("webdav://h/a%2").message(), HasSubstr("two hex digits"));
  EXPECT_THAT(Error("webdav://h/a%zz").message(), HasSubstr("two hex digits"));
  EXPECT_THAT(Error("file:///a%00b").message(), HasSubstr("%00"));
  EXPECT_THAT(Error("webdav://h/a\tb").message(), HasSubstr("control"));
}

TEST(StoreUrlTest, MessagesQuoteTheStore) {
  EXPECT_THAT(Error("webdav://h:99999/x").message(), StartsWith("STORE 'webdav://h:99999/x': "));
}

TEST(StoreUrlTest, S3WithoutBucketOrWithPortIsRefused) {
  EXPECT_THAT(Error("s3:///prefix").message(), HasSubstr("bucket is missing"));
  EXPECT_THAT(Error("s3://bucket:9000/x").message(), HasSubstr("AWS_ENDPOINT_URL"));
}

TEST(StoreUrlTest, BadBucketNamesAreRefusedWithTheRule) {
  struct Case {
    const char* bucket;
    const char* rule;
  };
  for (const Case& c : {Case{"ab", "3 to 63"}, Case{"Upper", "lower-case"},
                        Case{"under_score", "lower-case"}, Case{"-abc", "begin and end"},
                        Case{"abc-", "begin and end"}, Case{"a..b", "two dots"},
                        Case{"192.168.1.1", "IP address"}, Case{"xn--abc", "xn--"},
                        Case{"abc-s3alias", "-s3alias"}, Case{"abc--ol-s3", "--ol-s3"},
                        Case{"sthree-abc", "sthree-"}}) {
    Status status = Error(std::string("s3://") + c.bucket + "/p");
    EXPECT_THAT(status.message(), HasSubstr(c.rule)) << c.bucket;
    EXPECT_THAT(status.message(), HasSubstr("bad bucket name")) << c.bucket;
  }
  EXPECT_THAT(Error("s3://" + std::string(64, 'a')).message(), HasSubstr("3 to 63"));
  EXPECT_EQ(Parse("s3://" + std::string(63, 'a')).bucket, std::string(63, 'a'));
  EXPECT_EQ(Parse("s3://abc").bucket, "abc");
  EXPECT_EQ(Parse("s3://1.2.3.bucket").bucket, "1.2.3.bucket");
}

TEST(StoreUrlTest, EndpointUrlsAreChecked) {
  EXPECT_TRUE(CheckEndpointUrl("https://s3.example.org").ok());
  EXPECT_TRUE(CheckEndpointUrl("http://127.0.0.1:7480/").ok());
  EXPECT_TRUE(CheckEndpointUrl("HTTPS://[::1]:9000").ok());
  for (const char* bad : {"s3.example.org", "ftp://h", "https://", "https://h:0",
                          "https://h/path", "https://h?x=1", "https://a:b@h", "https://h :1"}) {
    EXPECT_FALSE(CheckEndpointUrl(bad).ok()) << bad;
  }
  Status creds = CheckEndpointUrl("https://ak:Sup3rSecret@h");
  EXPECT_THAT(creds.message(), HasSubstr("credentials"));
  EXPECT_THAT(creds.message(), Not(HasSubstr("Sup3rSecret")));
}

}  // namespace
}  // namespace phrfs::config
