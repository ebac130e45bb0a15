// The S3 response parsers on literal bodies, shaped as RGW 16 and AWS send them.
#include "remote/s3/s3_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace phrfs::remote::s3 {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(S3XmlTest, ParsesAListPageWithObjectsPrefixesAndAContinuationToken) {
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>phrfs</Name>)"
      R"(<Prefix>v/dir/</Prefix><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>)"
      R"(<IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>v/dir/</Key><LastModified>2026-12-01T00:06:11.874Z</LastModified>)"
      R"(<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size></Contents>)"
      R"(<Contents><Key>v/dir/a&amp;b</Key><ETag>"764efa883dda1e11db47671c4a3bbd9e"</ETag>)"
      R"(<Size>12345678901</Size><StorageClass>STANDARD</StorageClass></Contents>)"
      R"(<CommonPrefixes><Prefix>v/dir/sub/</Prefix></CommonPrefixes>)"
      R"(<NextContinuationToken>v/dir/a&amp;b</NextContinuationToken><KeyCount>3</KeyCount>)"
      R"(</ListBucketResult>)";
  auto page = ParseListObjectsV2(Bytes(xml));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "v/dir/");
  EXPECT_EQ(page->objects[0].size, 0u);
  EXPECT_EQ(page->objects[0].etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(page->objects[1].key, "v/dir/a&b");
  EXPECT_EQ(page->objects[1].size, 12345678901u);
  EXPECT_EQ(page->objects[1].etag, "764efa883dda1e11db47671c4a3bbd9e");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "v/dir/sub/");
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "v/dir/a&b");
}

TEST(S3XmlTest, ParsesTheLastPageAndAnEmptyListingWithoutANamespace) {
  auto last = ParseListObjectsV2(Bytes(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<Contents><Key>k</Key><Size>3</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>"));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->is_truncated);
  ASSERT_EQ(last->objects.size(), 1u);
  EXPECT_EQ(last->objects[0].size, 3u);
  auto empty = ParseListObjectsV2(
      Bytes("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_TRUE(empty->common_prefixes.empty());
}

TEST(S3XmlTest, RejectsListingsThatCannotBeTrusted) {
  // A truncated page without a token would end the listing early: silently losing names.
  EXPECT_EQ(ParseListObjectsV2(Bytes("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                     "</ListBucketResult>"))
                .status()
                .code(),
            Code::kCorrupt);
  EXPECT_EQ(ParseListObjectsV2(Bytes("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                     "<Contents><Key>k</Key><Size>-1</Size></Contents>"
                                     "</ListBucketResult>"))
                .status()
                .code(),
            Code::kCorrupt);
  EXPECT_EQ(ParseListObjectsV2(Bytes("<ListBucketResult>")).status().code(), Code::kCorrupt);
  EXPECT_EQ(ParseListObjectsV2(Bytes("<Error><Code>AccessDenied</Code></Error>")).status().code(),
            Code::kCorrupt);
  EXPECT_EQ(ParseListObjectsV2(Bytes("<ListBucketResult></ListBucketResult>")).status().code(),
            Code::kCorrupt);
}

TEST(S3XmlTest, ParsesTheUploadIdOfAnInitiatedMultipartUpload) {
  auto id = ParseInitiateMultipartUpload(Bytes(
      R"(<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult )"
      R"(xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>phrfs</Bucket><Key>v/big</Key>)"
      R"(<UploadId>2~Lx9qA7-ybZ1DUkvcDUVbcNt3Pq0h6A0</UploadId></InitiateMultipartUploadResult>)"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "2~Lx9qA7-ybZ1DUkvcDUVbcNt3Pq0h6A0");
  EXPECT_EQ(ParseInitiateMultipartUpload(Bytes("<InitiateMultipartUploadResult/>")).status().code(),
            Code::kCorrupt);
}

TEST(S3XmlTest, ParsesACompletedUploadAndAnErrorHiddenInA200) {
  auto etag = ParseCompleteMultipartUpload(Bytes(
      R"(<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Location>http://127.0.0.1/phrfs/v/big</Location><Bucket>phrfs</Bucket><Key>v/big</Key>)"
      R"(<ETag>&quot;3858f62230ac3c915f300c664312c11f-2&quot;</ETag>)"
      R"(</CompleteMultipartUploadResult>)"));
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-2");
  // RGW 16 leaves the element empty.
  auto rgw = ParseCompleteMultipartUpload(Bytes(
      "<CompleteMultipartUploadResult><Key>v/big</Key><ETag></ETag>"
      "</CompleteMultipartUploadResult>"));
  ASSERT_TRUE(rgw.ok()) << rgw.status().ToString();
  EXPECT_EQ(*rgw, "");
  EXPECT_EQ(ParseCopyObject(Bytes("<CopyObjectResult><ETag></ETag></CopyObjectResult>"))
                .status()
                .code(),
            Code::kCorrupt);
  auto hidden = ParseCompleteMultipartUpload(
      Bytes("<Error><Code>InternalError</Code><Message>We encountered an internal error."
            "</Message></Error>"));
  EXPECT_EQ(hidden.status().code(), Code::kUnavailable);
  EXPECT_NE(hidden.status().message().find("InternalError"), std::string::npos);
  EXPECT_EQ(ParseCompleteMultipartUpload(Bytes("<Error><Code>InvalidPart</Code></Error>"))
                .status()
                .code(),
            Code::kIoError);
  auto copied = ParseCopyObject(
      Bytes("<CopyObjectResult><LastModified>2026-12-01T00:00:00.000Z</LastModified>"
            "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>"));
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, "9b2cf535f27731c974343645a3985328");
}

TEST(S3XmlTest, ParsesAnErrorBodyAndIgnoresEverythingElse) {
  auto e = ParseError(Bytes(
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>)"
      R"(<Message></Message><BucketName>nope</BucketName><RequestId>tx0</RequestId></Error>)"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "NoSuchBucket");
  EXPECT_EQ(e->message, "");
  auto sig = ParseError(Bytes("<Error><Code>SignatureDoesNotMatch</Code>"
                              "<Message>bad signature</Message></Error>"));
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(sig->message, "bad signature");
  EXPECT_FALSE(ParseError(Bytes("")).has_value());
  EXPECT_FALSE(ParseError(Bytes("not xml")).has_value());
  EXPECT_FALSE(ParseError(Bytes("<ListBucketResult/>")).has_value());
}

TEST(S3XmlTest, UnquotesETagsOnce) {
  EXPECT_EQ(UnquoteETag("\"abc\""), "abc");
  EXPECT_EQ(UnquoteETag("abc"), "abc");
  EXPECT_EQ(UnquoteETag("W/\"abc\""), "abc");
  EXPECT_EQ(UnquoteETag("\"\""), "");
  EXPECT_EQ(UnquoteETag("\""), "\"");
}

}  // namespace
}  // namespace phrfs::remote::s3
