// Known-answer tests for the SigV4 signer: the four examples AWS publishes in "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk" (S3 API
// reference), with their canonical requests, strings to sign and signatures, plus the
// canonicalisation rules that libcurl 7.88 gets wrong.
#include "remote/s3/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace phrfs::remote::s3 {
namespace {

constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kHost[] = "https://examplebucket.s3.amazonaws.com";

Credentials ExampleCredentials() {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  Credentials c;
  c.access_key = "AKIAIOSFODNN7EXAMPLE";
  c.secret_key = SecureBytes(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  c.region = "us-east-1";
  c.service = "s3";
  return c;
}

std::chrono::system_clock::time_point ExampleTime() {
  return std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string HeaderValue(const http::Request& r, const std::string& name) {
  std::string found;
  int count = 0;
  for (const http::Header& h : r.headers) {
    std::string lower = h.name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == name) {
      found = h.value;
      ++count;
    }
  }
  EXPECT_LE(count, 1) << "header " << name << " appears " << count << " times";
  return found;
}

std::string AuthorizationFor(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
         "SignedHeaders=" +
         signed_headers + ",Signature=" + signature;
}

TEST(SigV4Test, SignsTheAwsGetObjectExample) {
  http::Request r;
  r.method = "GET";
  r.url = std::string(kHost) + "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmptyHash}};
  Status st = SignRequest(r, ExampleCredentials(), ExampleTime());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(HeaderValue(r, "authorization"),
            AuthorizationFor("host;range;x-amz-content-sha256;x-amz-date",
                             "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  EXPECT_EQ(HeaderValue(r, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderValue(r, "host"), "examplebucket.s3.amazonaws.com");
}

TEST(SigV4Test, BuildsTheAwsGetObjectCanonicalRequestAndStringToSign) {
  auto canonical = BuildCanonicalRequest(
      "GET", "/test.txt", "",
      {{"Host", "examplebucket.s3.amazonaws.com"},
       {"Range", "bytes=0-9"},
       {"x-amz-content-sha256", kEmptyHash},
       {"x-amz-date", "20130524T000000Z"}},
      kEmptyHash);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(canonical->text,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto to_sign = StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                              canonical->text);
  ASSERT_TRUE(to_sign.ok());
  EXPECT_EQ(*to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  auto signature = Signature(ExampleCredentials(), "20130524T000000Z", *to_sign);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(*signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, SignsTheAwsPutObjectExampleWithTheBodyHash) {
  const std::string body = "Welcome to Amazon S3.";
  http::Request r;
  r.method = "PUT";
  r.url = std::string(kHost) + "/test%24file.text";
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r.body = Bytes(body);
  Status st = SignRequest(r, ExampleCredentials(), ExampleTime());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(HeaderValue(r, "x-amz-content-sha256"),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(HeaderValue(r, "authorization"),
            AuthorizationFor("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                             "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

TEST(SigV4Test, BuildsTheAwsPutObjectCanonicalRequestFromARawDollarSign) {
  const std::string hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  auto canonical = BuildCanonicalRequest("PUT", "/test$file.text", "",
                                         {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                          {"Host", "examplebucket.s3.amazonaws.com"},
                                          {"x-amz-content-sha256", hash},
                                          {"x-amz-date", "20130524T000000Z"},
                                          {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                                         hash);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(canonical->text,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto to_sign = StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                              canonical->text);
  ASSERT_TRUE(to_sign.ok());
  EXPECT_TRUE(to_sign->ends_with(
      "\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
}

TEST(SigV4Test, SignsTheAwsGetBucketLifecycleExampleWithAValuelessParameter) {
  http::Request r;
  r.method = "GET";
  r.url = std::string(kHost) + "/?lifecycle";
  Status st = SignRequest(r, ExampleCredentials(), ExampleTime());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(HeaderValue(r, "x-amz-content-sha256"), kEmptyHash);
  EXPECT_EQ(HeaderValue(r, "authorization"),
            AuthorizationFor("host;x-amz-content-sha256;x-amz-date",
                             "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
  auto canonical = BuildCanonicalRequest("GET", "/", "lifecycle",
                                         {{"Host", "examplebucket.s3.amazonaws.com"},
                                          {"x-amz-content-sha256", kEmptyHash},
                                          {"x-amz-date", "20130524T000000Z"}},
                                         kEmptyHash);
  ASSERT_TRUE(canonical.ok());
  EXPECT_TRUE(canonical->text.starts_with("GET\n/\nlifecycle=\n")) << canonical->text;
  auto to_sign = StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                              canonical->text);
  ASSERT_TRUE(to_sign.ok());
  EXPECT_TRUE(to_sign->ends_with(
      "\n9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"));
}

TEST(SigV4Test, SignsTheAwsListObjectsExampleWhateverTheParameterOrder) {
  for (const char* query : {"?max-keys=2&prefix=J", "?prefix=J&max-keys=2", "?prefix=%4A&max-keys=2"}) {
    SCOPED_TRACE(query);
    http::Request r;
    r.method = "GET";
    r.url = std::string(kHost) + "/" + query;
    Status st = SignRequest(r, ExampleCredentials(), ExampleTime());
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(HeaderValue(r, "authorization"),
              AuthorizationFor("host;x-amz-content-sha256;x-amz-date",
                               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
  }
  auto canonical = BuildCanonicalRequest("GET", "/", "prefix=J&max-keys=2",
                                         {{"Host", "examplebucket.s3.amazonaws.com"},
                                          {"x-amz-content-sha256", kEmptyHash},
                                          {"x-amz-date", "20130524T000000Z"}},
                                         kEmptyHash);
  ASSERT_TRUE(canonical.ok());
  auto to_sign = StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                              canonical->text);
  ASSERT_TRUE(to_sign.ok());
  EXPECT_TRUE(to_sign->ends_with(
      "\ndf57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"));
}

TEST(SigV4Test, ADifferentSecretGivesADifferentSignature) {
  Credentials other = ExampleCredentials();
  other.secret_key[0] ^= 1;
  auto a = Signature(ExampleCredentials(), "20130524T000000Z", "x");
  auto b = Signature(other, "20130524T000000Z", "x");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 64u);
}

TEST(SigV4Test, CanonicalQueryIsSortedStrictlyEncodedAndGivesBareNamesAnEqualsSign) {
  EXPECT_EQ(CanonicalQuery("uploads").value(), "uploads=");
  EXPECT_EQ(CanonicalQuery("uploads=").value(), "uploads=");
  EXPECT_EQ(CanonicalQuery("prefix=dir/&list-type=2&delimiter=/").value(),
            "delimiter=%2F&list-type=2&prefix=dir%2F");
  EXPECT_EQ(CanonicalQuery("uploadId=a%2Fb%2Bc%3D%3D&partNumber=2").value(),
            "partNumber=2&uploadId=a%2Fb%2Bc%3D%3D");
  EXPECT_EQ(CanonicalQuery("k=a%20b").value(), "k=a%20b");
  EXPECT_EQ(CanonicalQuery("").value(), "");
  EXPECT_EQ(CanonicalQuery("bad=%4").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(CanonicalQuery("bad=%zz").status().code(), Code::kInvalidArgument);
}

TEST(SigV4Test, CanonicalUriEncodesEachSegmentOnceAndKeepsSlashes) {
  EXPECT_EQ(CanonicalUri("").value(), "/");
  EXPECT_EQ(CanonicalUri("/phrfs/a%20b/c=d").value(), "/phrfs/a%20b/c%3Dd");
  EXPECT_EQ(CanonicalUri("/phrfs/dir/").value(), "/phrfs/dir/");
  EXPECT_EQ(CanonicalUri("/b/%7E~x").value(), "/b/~~x");
  EXPECT_EQ(UriEncode("A-z_0.9~/+", true), "A-z_0.9~/%2B");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
}

TEST(SigV4Test, SigningTwiceReplacesTheEarlierSignatureAndKeepsAnUnsignedPayload) {
  http::Request r;
  r.method = "PUT";
  r.url = "http://127.0.0.1:7480/phrfs/k?uploads";
  r.headers = {{"x-amz-content-sha256", std::string(kUnsignedPayload)}, {"Expect", ""}};
  ASSERT_TRUE(SignRequest(r, ExampleCredentials(), ExampleTime()).ok());
  std::string first = HeaderValue(r, "authorization");
  ASSERT_TRUE(SignRequest(r, ExampleCredentials(), ExampleTime() + std::chrono::seconds(61)).ok());
  std::string second = HeaderValue(r, "authorization");  // counts: exactly one header
  EXPECT_NE(first, second);
  EXPECT_EQ(HeaderValue(r, "x-amz-date"), "20130524T000101Z");
  EXPECT_EQ(HeaderValue(r, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(HeaderValue(r, "host"), "127.0.0.1:7480");
  // The empty Expect is not sent by libcurl, so it must not be signed.
  EXPECT_NE(second.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"), std::string::npos)
      << second;
}

TEST(SigV4Test, TheHostHeaderLeavesOutOnlyTheSchemesDefaultPort) {
  http::Request r;
  r.method = "GET";
  r.url = "https://Bucket.Example.com:443/x";
  ASSERT_TRUE(SignRequest(r, ExampleCredentials(), ExampleTime()).ok());
  EXPECT_EQ(HeaderValue(r, "host"), "bucket.example.com");
  http::Request p;
  p.method = "GET";
  p.url = "http://h:443/x";
  ASSERT_TRUE(SignRequest(p, ExampleCredentials(), ExampleTime()).ok());
  EXPECT_EQ(HeaderValue(p, "host"), "h:443");
  http::Request bad;
  bad.method = "GET";
  bad.url = "no-scheme/x";
  EXPECT_EQ(SignRequest(bad, ExampleCredentials(), ExampleTime()).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace phrfs::remote::s3
