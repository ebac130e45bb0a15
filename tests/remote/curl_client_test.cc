// The libcurl HttpClient against a scripted loopback server (no real server, no network):
// retries and their limits, backoff, Retry-After, stall timeout, non-idempotent requests after a
// reset, signing per attempt, header handling, connection reuse; and percent-encoding vectors.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "remote/http/http_client.h"
#include "tests/remote/loopback_http_server.h"

namespace phrfs::remote::http {
namespace {

using std::chrono::milliseconds;
using testing::LoopbackHttpServer;
using testing::ServerAction;

ClientOptions FastOptions() {
  ClientOptions o;
  o.connect_timeout = milliseconds(2000);
  o.stall_timeout = milliseconds(1000);
  o.max_attempts = 5;
  o.backoff_initial = milliseconds(1);
  o.backoff_max = milliseconds(20);
  return o;
}

std::unique_ptr<HttpClient> Client(ClientOptions o = FastOptions()) {
  auto c = NewCurlClient(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

Request Get(const std::string& url) {
  Request r;
  r.method = "GET";
  r.url = url;
  return r;
}

std::string BodyOf(const Response& r) { return {r.body.begin(), r.body.end()}; }

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(CurlClientTest, RetriesTwo503sThenReturnsThe200) {
  LoopbackHttpServer server({ServerAction::Respond(503), ServerAction::Respond(503),
                             ServerAction::Respond(200, "hello", "X-Mixed-Case: Yes\r\n")});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  auto r = client->Perform(Get(server.url("/a")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(BodyOf(*r), "hello");
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);
  // Names arrive lower-cased; Find is case-insensitive.
  bool lower = false;
  for (const Header& h : r->headers) lower |= h.name == "x-mixed-case";
  EXPECT_TRUE(lower);
  EXPECT_EQ(r->Find("X-MIXED-CASE").value_or(""), "Yes");
  EXPECT_FALSE(r->Find("absent").has_value());
}

TEST(CurlClientTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  LoopbackHttpServer server({}, ServerAction::Respond(502));
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.max_attempts = 3;
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("502"), std::string::npos) << r.status().message();
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(CurlClientTest, NonRetryableStatusesAreResponsesNotErrors) {
  LoopbackHttpServer server({ServerAction::Respond(404, "nope"), ServerAction::Respond(412)});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  auto r = client->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(BodyOf(*r), "nope");
  auto p = client->Perform(Get(server.url()));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 412);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(CurlClientTest, BackoffGrowsExponentiallyUpToTheCap) {
  // With full jitter the sleeps are random, but never above min(cap, initial * 2^k):
  // 4 retries from 100 ms capped at 150 ms sleep at most 100+150+150+150 = 550 ms.
  LoopbackHttpServer server({}, ServerAction::Respond(500));
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.max_attempts = 5;
  o.backoff_initial = milliseconds(100);
  o.backoff_max = milliseconds(150);
  auto start = std::chrono::steady_clock::now();
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  double took = Seconds(start);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_LT(took, 2.0);
}

TEST(CurlClientTest, RetryAfterIsHonoured) {
  LoopbackHttpServer server({ServerAction::Respond(503, "", "Retry-After: 1\r\n")});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.backoff_max = milliseconds(5000);
  auto start = std::chrono::steady_clock::now();
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(Seconds(start), 0.95);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(CurlClientTest, RetryAfterIsCappedAtBackoffMax) {
  LoopbackHttpServer server({ServerAction::Respond(429, "", "Retry-After: 3600\r\n")});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.backoff_max = milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(Seconds(start), 2.0);
}

TEST(CurlClientTest, AStalledTransferIsAbandonedAfterTheStallTimeout) {
  LoopbackHttpServer server({}, ServerAction::Stall(milliseconds(10000)));
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.stall_timeout = milliseconds(1000);
  o.max_attempts = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  double took = Seconds(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 5.0);
}

TEST(CurlClientTest, AttemptTimeoutBoundsAnAttempt) {
  LoopbackHttpServer server({ServerAction::Stall(milliseconds(5000))});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.stall_timeout = milliseconds(30000);
  o.attempt_timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // the second attempt gets the fallback 200
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(Seconds(start), 3.0);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(CurlClientTest, APostIsNotRetriedAfterAResetButAPutIs) {
  std::string payload(10000, 'p');
  {
    LoopbackHttpServer server({ServerAction::Reset()});
    ASSERT_TRUE(server.ok());
    Request post;
    post.method = "POST";
    post.url = server.url("/upload");
    post.body = {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()};
    post.idempotent = false;
    auto r = Client()->Perform(post);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].body, payload);
  }
  {
    LoopbackHttpServer server({ServerAction::Reset()}, ServerAction::Respond(201));
    ASSERT_TRUE(server.ok());
    Request put;
    put.method = "PUT";
    put.url = server.url("/upload");
    put.body = {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()};
    auto r = Client()->Perform(put);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 201);
    ASSERT_EQ(server.requests().size(), 2u);
    EXPECT_EQ(server.requests()[1].body, payload);  // the whole body again, from the start
  }
}

TEST(CurlClientTest, ANonIdempotentRequestIsRetriedOn503ButNotOn500) {
  LoopbackHttpServer server({ServerAction::Respond(503), ServerAction::Respond(500)});
  ASSERT_TRUE(server.ok());
  Request post;
  post.method = "POST";
  post.url = server.url();
  post.idempotent = false;
  auto r = Client()->Perform(post);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(CurlClientTest, ConnectionRefusedIsUnavailableAndNamesNoCredentials) {
  int port;
  {
    LoopbackHttpServer closed({});
    ASSERT_TRUE(closed.ok());
    port = closed.port();
  }  // now nothing listens there
  ClientOptions o = FastOptions();
  o.max_attempts = 2;
  o.user = "alice";
  const std::string secret = "hunter2-secret";
  o.password = SecureBytes(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  auto r = Client(std::move(o))
               ->Perform(Get("http://bob:urlpass@127.0.0.1:" + std::to_string(port) +
                             "/x?X-Amz-Signature=abc"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("127.0.0.1"), std::string::npos) << m;
  EXPECT_EQ(m.find("urlpass"), std::string::npos) << m;
  EXPECT_EQ(m.find("bob"), std::string::npos) << m;
  EXPECT_EQ(m.find(secret), std::string::npos) << m;
  EXPECT_EQ(m.find("abc"), std::string::npos) << m;
}

TEST(CurlClientTest, BasicAuthIsSentFromTheOptions) {
  LoopbackHttpServer server({});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.user = "alice";
  const std::string secret = "s3cret";
  o.password = SecureBytes(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers["authorization"], "Basic YWxpY2U6czNjcmV0");
}

TEST(CurlClientTest, TheSignerRunsBeforeEveryAttempt) {
  LoopbackHttpServer server({ServerAction::Respond(503), ServerAction::Respond(503)});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  auto calls = std::make_shared<std::atomic<int>>(0);
  o.signer = [calls](Request& r) {
    int n = ++*calls;
    r.headers.push_back({"X-Attempt", std::to_string(n)});
    return Status::Ok();
  };
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  ASSERT_TRUE(r.ok());
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].headers["x-attempt"], std::to_string(i + 1));  // one header, fresh each time
  }
}

TEST(CurlClientTest, ASignerErrorStopsTheRequest) {
  LoopbackHttpServer server({});
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.signer = [](Request&) { return Status::InvalidArgument("no credentials"); };
  auto r = Client(std::move(o))->Perform(Get(server.url()));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlClientTest, ALargePutGoesOutWithoutExpectAndWithItsHeaders) {
  LoopbackHttpServer server({ServerAction::Respond(201, "", "ETag: \"x\"\r\n")});
  ASSERT_TRUE(server.ok());
  std::vector<uint8_t> big(3 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
  Request put;
  put.method = "PUT";
  put.url = server.url("/dir/obj%20name");
  put.headers = {{"If-None-Match", "*"}, {"X-Empty", ""}};
  put.body = big;
  auto r = Client()->Perform(put);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Find("etag").value_or(""), "\"x\"");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/dir/obj%20name");
  EXPECT_EQ(seen[0].headers.count("expect"), 0u);
  EXPECT_EQ(seen[0].headers["if-none-match"], "*");
  EXPECT_EQ(seen[0].headers.count("x-empty"), 1u);
  EXPECT_EQ(seen[0].headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(seen[0].body, std::string(big.begin(), big.end()));
}

TEST(CurlClientTest, AnEmptyPutSendsContentLengthZero) {
  LoopbackHttpServer server({ServerAction::Respond(201)});
  ASSERT_TRUE(server.ok());
  Request put;
  put.method = "PUT";
  put.url = server.url("/empty");
  auto r = Client()->Perform(put);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].headers["content-length"], "0");
}

TEST(CurlClientTest, CustomMethodsAndHeadWork) {
  LoopbackHttpServer server({ServerAction::Respond(207, "<x/>"),
                             ServerAction::Respond(200, "", "Content-Type: text/plain\r\n")});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  Request propfind;
  propfind.method = "PROPFIND";
  propfind.url = server.url("/c/");
  propfind.headers = {{"Depth", "1"}};
  std::string body = "<propfind/>";
  propfind.body = {reinterpret_cast<const uint8_t*>(body.data()), body.size()};
  auto r = client->Perform(propfind);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 207);
  EXPECT_EQ(BodyOf(*r), "<x/>");
  Request head;
  head.method = "HEAD";
  head.url = server.url("/c/f");
  auto h = client->Perform(head);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200);
  EXPECT_TRUE(h->body.empty());
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "PROPFIND");
  EXPECT_EQ(seen[0].headers["depth"], "1");
  EXPECT_EQ(seen[0].body, body);
  EXPECT_EQ(seen[1].method, "HEAD");
}

TEST(CurlClientTest, SequentialRequestsReuseOneConnection) {
  LoopbackHttpServer server({});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  for (int i = 0; i < 5; ++i) {
    auto r = client->Perform(Get(server.url("/" + std::to_string(i))));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(CurlClientTest, AttemptsCountCurlsOwnResendOnADeadReusedConnection) {
  // The second request goes out on the kept-alive connection, which the server then resets:
  // curl re-sends on a new connection by itself, and the response must say it took two.
  LoopbackHttpServer server({ServerAction::Respond(200, "first"), ServerAction::Reset()});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  auto first = client->Perform(Get(server.url("/1")));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->attempts, 1);
  auto second = client->Perform(Get(server.url("/2")));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->attempts, 2);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(CurlClientTest, ANonIdempotentRequestIsNeverResentByCurlOnAReusedConnection) {
  LoopbackHttpServer server({ServerAction::Respond(200, "first"), ServerAction::Reset()});
  ASSERT_TRUE(server.ok());
  auto client = Client();
  ASSERT_TRUE(client->Perform(Get(server.url("/1"))).ok());
  Request post;
  post.method = "POST";
  post.url = server.url("/2");
  post.idempotent = false;
  auto r = client->Perform(post);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(server.requests().size(), 2u);  // sent exactly once
}

TEST(CurlClientTest, AtMostMaxParallelTransfersRunAtOnce) {
  LoopbackHttpServer server({}, ServerAction::RespondAfter(milliseconds(100), 200));
  ASSERT_TRUE(server.ok());
  ClientOptions o = FastOptions();
  o.max_parallel = 2;
  auto client = Client(std::move(o));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (client->Perform(Get(server.url("/" + std::to_string(i)))).ok()) ok++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_EQ(server.max_in_flight(), 2);
}

TEST(CurlClientTest, MalformedRequestsAreInvalidArgument) {
  auto client = Client();
  EXPECT_EQ(client->Perform(Get("ftp://127.0.0.1/x")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client->Perform(Get("http://127.0.0.1/a b")).status().code(), Code::kInvalidArgument);
  Request bad = Get("http://127.0.0.1/x");
  bad.headers = {{"X-Injected", "a\r\nEvil: 1"}};
  EXPECT_EQ(client->Perform(bad).status().code(), Code::kInvalidArgument);
  Request method = Get("http://127.0.0.1/x");
  method.method = "GET /";
  EXPECT_EQ(client->Perform(method).status().code(), Code::kInvalidArgument);
}

TEST(CurlClientTest, OptionsAreChecked) {
  ClientOptions o;
  o.max_parallel = 0;
  EXPECT_EQ(NewCurlClient(std::move(o)).status().code(), Code::kInvalidArgument);
  ClientOptions a;
  a.max_attempts = 0;
  EXPECT_EQ(NewCurlClient(std::move(a)).status().code(), Code::kInvalidArgument);
}

TEST(PercentEncodingTest, EncodesEverythingOutsideTheUnreservedSet) {
  EXPECT_EQ(PercentEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(PercentEncode("100%=x+y&z?#", true), "100%25%3Dx%2By%26z%3F%23");
  EXPECT_EQ(PercentEncode("\xc3\xa9\xff", false), "%C3%A9%FF");
  EXPECT_EQ(PercentEncode(std::string("\0a", 2), false), "%00a");
  EXPECT_EQ(PercentEncode("", true), "");
}

TEST(PercentEncodingTest, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2fc%2F").value(), "a b/c/");
  EXPECT_EQ(PercentDecode("%C3%a9+x").value(), "\xc3\xa9+x");  // '+' is not a space in a path
  EXPECT_EQ(PercentDecode("%00").value(), std::string("\0", 1));
  EXPECT_EQ(PercentDecode("").value(), "");
  EXPECT_EQ(PercentDecode("%").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PercentDecode("ab%2").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PercentDecode("%zz").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PercentDecode("%g0").status().code(), Code::kInvalidArgument);
}

TEST(PercentEncodingTest, EveryByteRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (bool keep_slash : {false, true}) {
    auto back = PercentDecode(PercentEncode(all, keep_slash));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), all);
  }
}

}  // namespace
}  // namespace phrfs::remote::http
