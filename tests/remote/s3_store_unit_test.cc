// The S3 store's bottom edge without a server: a scripted HttpClient records the requests (URL
// per addressing style, signature present, conditional headers) and answers with canned
// statuses, so that the HTTP -> Status mapping is pinned down.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <string>

#include "remote/s3/s3_store.h"

namespace phrfs::remote::s3 {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

class ScriptedClient final : public http::HttpClient {
 public:
  explicit ScriptedClient(http::RequestSigner signer) : signer_(std::move(signer)) {}
  Result<http::Response> Perform(http::Request request) override {
    std::lock_guard lock(mu_);
    if (signer_) PHRFS_RETURN_IF_ERROR(signer_(request));
    requests.push_back(request);
    if (answers.empty()) {
      http::Response r;
      r.status = 404;
      return r;
    }
    http::Response r = std::move(answers.front());
    answers.pop_front();
    return r;
  }
  void Answer(long status, std::string body = "", std::vector<http::Header> headers = {}) {
    http::Response r;
    r.status = status;
    r.body.assign(body.begin(), body.end());
    r.headers = std::move(headers);
    answers.push_back(std::move(r));
  }
  static std::string HeaderOf(const http::Request& r, const std::string& name) {
    for (const http::Header& h : r.headers) {
      if (h.name == name) return h.value;
    }
    return "<none>";
  }

  std::vector<http::Request> requests;
  std::deque<http::Response> answers;

 private:
  std::mutex mu_;
  http::RequestSigner signer_;
};

S3Options TestOptions(Addressing addressing) {
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480/";
  o.bucket = "phrfs";
  o.key_prefix = "vault";
  o.addressing = addressing;
  o.access_key = "AKIDTEST";
  const std::string secret = "secret";
  o.secret_key = SecureBytes(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  o.verify_bucket = false;
  return o;
}

// Opens a store over a ScriptedClient; `client` receives the (store-owned) client.
std::unique_ptr<S3Store> OpenScripted(S3Options options, ScriptedClient** client) {
  auto store = S3Store::OpenWithClient(
      std::move(options), http::ClientOptions{},
      [client](http::ClientOptions o) -> Result<std::unique_ptr<http::HttpClient>> {
        auto c = std::make_unique<ScriptedClient>(std::move(o.signer));
        *client = c.get();
        return std::unique_ptr<http::HttpClient>(std::move(c));
      });
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(S3StoreUnitTest, BuildsPathStyleAndVirtualHostUrlsWithEncodedKeys) {
  ScriptedClient* client = nullptr;
  auto path_style = OpenScripted(TestOptions(Addressing::kPathStyle), &client);
  ASSERT_NE(path_style, nullptr);
  EXPECT_EQ(path_style->Stat("a b/c+d").status().code(), Code::kNotFound);
  ASSERT_EQ(client->requests.size(), 2u);  // the object, then the collection marker
  EXPECT_EQ(client->requests[0].method, "HEAD");
  EXPECT_EQ(client->requests[0].url, "http://127.0.0.1:7480/phrfs/vault/a%20b/c%2Bd");
  EXPECT_EQ(client->requests[1].url, "http://127.0.0.1:7480/phrfs/vault/a%20b/c%2Bd/");
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests[0], "Authorization").rfind(
                "AWS4-HMAC-SHA256 Credential=AKIDTEST/", 0),
            0u);

  auto virtual_host = OpenScripted(TestOptions(Addressing::kVirtualHost), &client);
  ASSERT_NE(virtual_host, nullptr);
  EXPECT_EQ(virtual_host->Stat("k").status().code(), Code::kNotFound);
  ASSERT_FALSE(client->requests.empty());
  EXPECT_EQ(client->requests[0].url, "http://phrfs.127.0.0.1:7480/vault/k");
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests[0], "Host"), "phrfs.127.0.0.1:7480");
}

TEST(S3StoreUnitTest, SendsPreconditionsAsRgwUnderstandsThem) {
  ScriptedClient* client = nullptr;
  auto store = OpenScripted(TestOptions(Addressing::kPathStyle), &client);
  ASSERT_NE(store, nullptr);
  // Root-level key: HEAD of the marker (404), then the PUT.
  client->Answer(404);
  client->Answer(200, "", {{"etag", "\"0cc175b9c0f1b6a831c399e269772661\""}});
  auto etag = store->Write("k", Bytes("a"), Precondition::ETagMatches("\"quoted-etag\""));
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "0cc175b9c0f1b6a831c399e269772661");
  ASSERT_EQ(client->requests.size(), 2u);
  const http::Request& put = client->requests[1];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(ScriptedClient::HeaderOf(put, "If-Match"), "quoted-etag");  // unquoted for RGW 16
  EXPECT_EQ(ScriptedClient::HeaderOf(put, "If-None-Match"), "<none>");

  client->requests.clear();
  client->Answer(404);
  client->Answer(200, "", {{"etag", "\"x\""}});
  ASSERT_TRUE(store->Write("n", Bytes("a"), Precondition::MustNotExist()).ok());
  ASSERT_EQ(client->requests.size(), 2u);
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests[1], "If-None-Match"), "*");
}

TEST(S3StoreUnitTest, MapsS3ErrorsToStatusCodes) {
  ScriptedClient* client = nullptr;
  auto store = OpenScripted(TestOptions(Addressing::kPathStyle), &client);
  ASSERT_NE(store, nullptr);
  struct Case {
    long status;
    std::string body;
    Code expected;
    std::string in_message;
  };
  const std::vector<Case> cases = {
      {403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", Code::kPermissionDenied,
       "SignatureDoesNotMatch"},
      {403, "<Error><Code>InvalidAccessKeyId</Code></Error>", Code::kPermissionDenied,
       "InvalidAccessKeyId"},
      {403, "<Error><Code>AccessDenied</Code></Error>", Code::kPermissionDenied, "AccessDenied"},
      {404, "<Error><Code>NoSuchBucket</Code></Error>", Code::kNotFound,
       "bucket phrfs does not exist"},
      {503, "<Error><Code>SlowDown</Code></Error>", Code::kUnavailable, "SlowDown"},
      {500, "", Code::kUnavailable, "HTTP 500"},
      {400, "<Error><Code>InvalidArgument</Code></Error>", Code::kIoError, "InvalidArgument"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in_message);
    client->Answer(c.status, c.body);  // the listing GET of the root
    auto listed = store->List("");
    ASSERT_FALSE(listed.ok());
    EXPECT_EQ(CodeName(listed.status().code()), CodeName(c.expected));
    EXPECT_NE(listed.status().message().find(c.in_message), std::string::npos)
        << listed.status().ToString();
    EXPECT_EQ(listed.status().message().find("secret"), std::string::npos);
  }
  // 412 on a conditional PUT whose stored bytes are not ours is a real conflict.
  client->Answer(404);  // HEAD marker
  client->Answer(412, "<Error><Code>PreconditionFailed</Code></Error>");
  client->Answer(200, "", {{"content-length", "5"}, {"etag", "\"other\""}});  // HEAD object
  EXPECT_EQ(store->Write("k", Bytes("a"), Precondition::MustNotExist()).status().code(),
            Code::kPreconditionFailed);
}

TEST(S3StoreUnitTest, ReadsPastTheEndAsEmptyAndCutsAnIgnoredRange) {
  ScriptedClient* client = nullptr;
  auto store = OpenScripted(TestOptions(Addressing::kPathStyle), &client);
  ASSERT_NE(store, nullptr);
  client->Answer(416, "<Error><Code>InvalidRange</Code></Error>");
  auto past = store->Read("k", 100, 10);
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_TRUE(past->empty());
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests.back(), "Range"), "bytes=100-109");

  client->Answer(200, "0123456789");  // a server that ignores Range sends everything
  auto cut = store->Read("k", 3, 4);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(std::string(cut->begin(), cut->end()), "3456");

  client->Answer(206, "789");
  auto open_ended = store->Read("k", 7, SIZE_MAX);
  ASSERT_TRUE(open_ended.ok());
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests.back(), "Range"), "bytes=7-");
}

// A read checked against a version is one GET with If-Match: 412 means it changed, and bytes
// served under another ETag (a server that ignores If-Match) are refused too. Before, it was a
// GET and a HEAD.
TEST(S3StoreUnitTest, ReadIfMatchIsOneConditionalGet) {
  ScriptedClient* client = nullptr;
  auto store = OpenScripted(TestOptions(Addressing::kPathStyle), &client);
  ASSERT_NE(store, nullptr);
  client->Answer(206, "3456", {{"etag", "\"e1\""}});
  auto got = store->ReadIfMatch("k", 3, 4, "e1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::string(got->begin(), got->end()), "3456");
  ASSERT_EQ(client->requests.size(), 1u);
  EXPECT_EQ(client->requests.back().method, "GET");
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests.back(), "If-Match"), "e1");
  EXPECT_EQ(ScriptedClient::HeaderOf(client->requests.back(), "Range"), "bytes=3-6");

  client->Answer(412, "<Error><Code>PreconditionFailed</Code></Error>");
  EXPECT_EQ(store->ReadIfMatch("k", 3, 4, "e1").status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(client->requests.size(), 2u);

  client->Answer(206, "zzzz", {{"etag", "\"e2\""}});  // If-Match ignored: another version
  EXPECT_EQ(store->ReadIfMatch("k", 3, 4, "e1").status().code(), Code::kPreconditionFailed);

  // Nothing at the offset (416, no ETag): a HEAD says which version is there.
  client->Answer(416, "<Error><Code>InvalidRange</Code></Error>");
  client->Answer(200, "", {{"etag", "\"e1\""}, {"content-length", "7"}});
  auto past = store->ReadIfMatch("k", 100, 4, "e1");
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_TRUE(past->empty());
  EXPECT_EQ(client->requests.back().method, "HEAD");
}

TEST(S3StoreUnitTest, RejectsBadOptions) {
  auto bad = [](const std::function<void(S3Options&)>& tweak) {
    S3Options o = TestOptions(Addressing::kPathStyle);
    tweak(o);
    return S3Store::Open(std::move(o)).status().code();
  };
  EXPECT_EQ(bad([](S3Options& o) { o.endpoint = "127.0.0.1:7480"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.bucket = "b1"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.key_prefix = "/v"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.key_prefix = "a/../b"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.secret_key = SecureBytes(); }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.part_size = 1 << 20; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](S3Options& o) { o.list_page_size = 0; }), Code::kInvalidArgument);
}

}  // namespace
}  // namespace phrfs::remote::s3
