// WebDavStore against a scripted loopback server, for server behaviour Apache does not show on
// demand: a server that ignores Range, a lost first PUT attempt whose retry meets 412, a mutex
// left behind by a dead writer, statuses that must map to the right codes, odd PROPFIND answers.
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "remote/webdav/webdav_store.h"
#include "tests/remote/loopback_http_server.h"

namespace phrfs::remote {
namespace {

using testing::LoopbackHttpServer;
using testing::ServerAction;

struct DavItem {
  std::string href;
  bool collection = false;
  uint64_t size = 0;
  std::string etag;
  std::string modified = "Tue, 01 Dec 2026 00:09:14 GMT";
};

ServerAction Multistatus(const std::vector<DavItem>& items, const std::string& extra = "") {
  std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:multistatus xmlns:D=\"DAV:\">";
  for (const DavItem& item : items) {
    body += "<D:response xmlns:lp1=\"DAV:\"><D:href>" + item.href +
            "</D:href><D:propstat><D:prop><lp1:resourcetype>" +
            (item.collection ? "<D:collection/>" : "") + "</lp1:resourcetype>";
    if (!item.modified.empty()) {
      body += "<lp1:getlastmodified>" + item.modified + "</lp1:getlastmodified>";
    }
    if (!item.collection && !item.etag.empty()) {
      body += "<lp1:getcontentlength>" + std::to_string(item.size) +
              "</lp1:getcontentlength><lp1:getetag>" + item.etag + "</lp1:getetag>";
    }
    body += "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>";
  }
  body += "</D:multistatus>";
  return ServerAction::Respond(207, body, "Content-Type: application/xml\r\n" + extra);
}

ServerAction RootAnswer() { return Multistatus({{.href = "/dav/", .collection = true}}); }

std::string HttpDateNow() {
  char buf[64];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::unique_ptr<WebDavStore> OpenStore(const LoopbackHttpServer& server) {
  http::ClientOptions o;
  o.max_attempts = 3;
  o.backoff_initial = std::chrono::milliseconds(1);
  o.backoff_max = std::chrono::milliseconds(5);
  o.stall_timeout = std::chrono::milliseconds(2000);
  auto client = http::NewCurlClient(std::move(o));
  EXPECT_TRUE(client.ok());
  auto store = WebDavStore::OpenWithClient(server.url("/dav"), std::move(client).value());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(WebDavLoopbackTest, AServerThatIgnoresRangeStillGivesTheRightSlice) {
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(200, "0123456789"),
                             ServerAction::Respond(200, "0123456789"), ServerAction::Respond(416)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto mid = store->Read("obj", 3, 4);
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  EXPECT_EQ(std::string(mid->begin(), mid->end()), "3456");
  auto past = store->Read("obj", 20, 4);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
  auto unsatisfiable = store->Read("obj", 10, 4);
  ASSERT_TRUE(unsatisfiable.ok());
  EXPECT_TRUE(unsatisfiable->empty());
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].method, "GET");
  EXPECT_EQ(seen[1].target, "/dav/obj");
  EXPECT_EQ(seen[1].headers["range"], "bytes=3-6");
}

TEST(WebDavLoopbackTest, ARangeOtherThanTheOneAskedForIsCorrupt) {
  LoopbackHttpServer server(
      {RootAnswer(), ServerAction::Respond(206, "abcd", "Content-Range: bytes 0-3/10\r\n")});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Read("obj", 3, 4).status().code(), Code::kCorrupt);
}

TEST(WebDavLoopbackTest, A412AfterALostFirstAttemptThatLandedIsSuccess) {
  // base64(SHA-1("payload")): what Apache's FileETag Digest reports for these bytes.
  const std::string digest = "\"8H5agVYTxavt3EtoIkekxC2Kld8=\"";
  LoopbackHttpServer server({RootAnswer(),
                             ServerAction::Respond(201),  // MKCOL of the key mutex
                             ServerAction::Reset(),       // the PUT lands, the answer is lost
                             ServerAction::Respond(412),  // the retry finds it there
                             ServerAction::Respond(204),  // DELETE of the key mutex
                             Multistatus({{.href = "/dav/k", .size = 7, .etag = digest}})});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto etag = store->Write("k", Bytes("payload"), Precondition::MustNotExist());
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag.value(), digest);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[1].method, "MKCOL");
  EXPECT_EQ(seen[1].target.rfind("/dav/.phrfs-locks/", 0), 0u) << seen[1].target;
  EXPECT_EQ(seen[2].method, "PUT");
  EXPECT_EQ(seen[2].headers["if-none-match"], "*");
  EXPECT_EQ(seen[3].body, "payload");
  EXPECT_EQ(seen[4].method, "DELETE");
  EXPECT_EQ(seen[4].target, seen[1].target);
}

TEST(WebDavLoopbackTest, A412AfterARetryWithSomeoneElsesBytesIsAConflict) {
  LoopbackHttpServer server(
      {RootAnswer(), ServerAction::Respond(201), ServerAction::Reset(), ServerAction::Respond(412),
       ServerAction::Respond(204),
       Multistatus({{.href = "/dav/k", .size = 7, .etag = "\"c29tZW9uZSBlbHNlJ3MgZGlnZXN0\""}})});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto etag = store->Write("k", Bytes("payload"), Precondition::ETagMatches("\"old\""));
  EXPECT_EQ(etag.status().code(), Code::kPreconditionFailed);
  auto seen = server.requests();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[2].headers["if-match"], "\"old\"");
}

TEST(WebDavLoopbackTest, ADeleteWhoseLostFirstAttemptLandedSucceeds) {
  LoopbackHttpServer server({RootAnswer(),
                             Multistatus({{.href = "/dav/k", .size = 1, .etag = "\"e\""}}),
                             ServerAction::Reset(),       // the DELETE lands, the answer is lost
                             ServerAction::Respond(412),  // If-Match on nothing
                             ServerAction::Respond(404)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  Status st = store->Delete("k");
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[2].method, "DELETE");
  EXPECT_EQ(seen[2].headers["if-match"], "\"e\"");  // never a collection swapped in meanwhile
  EXPECT_EQ(seen[4].method, "PROPFIND");
}

TEST(WebDavLoopbackTest, ADeleteWithAnETagSendsNoPropFind) {
  // The mutex, the DELETE guarded by If-Match, the mutex again: three requests, no look first.
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(201), ServerAction::Respond(204),
                             ServerAction::Respond(204)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  Status st = store->Delete("k", Precondition::ETagMatches("\"e\""));
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].method, "MKCOL");
  EXPECT_EQ(seen[2].method, "DELETE");
  EXPECT_EQ(seen[2].target, "/dav/k");
  EXPECT_EQ(seen[2].headers["if-match"], "\"e\"");
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_NE(seen[3].target, "/dav/k");
}

TEST(WebDavLoopbackTest, ADeleteWithAnETagThatMeetsACollectionIsIsADirectory) {
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(201), ServerAction::Respond(412),
                             Multistatus({{.href = "/dav/k/", .collection = true}}),
                             ServerAction::Respond(204)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  Status st = store->Delete("k", Precondition::ETagMatches("\"e\""));
  EXPECT_EQ(st.code(), Code::kIsADirectory) << st.ToString();
}

TEST(WebDavLoopbackTest, ARenameOntoANewNameIsTheMoveUnderTheTargetsMutex) {
  // The target's mutex, the MOVE (Overwrite: F), the mutex again: nothing looked at first.
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(201), ServerAction::Respond(201),
                             ServerAction::Respond(204)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  Status st = store->Rename("d/a", "d/b", {});
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].method, "MKCOL");
  EXPECT_EQ(seen[2].method, "MOVE");
  EXPECT_EQ(seen[2].target, "/dav/d/a");
  EXPECT_EQ(seen[2].headers["overwrite"], "F");
  EXPECT_EQ(seen[3].method, "DELETE");
}

TEST(WebDavLoopbackTest, ARenameOntoAnExistingNameWithoutReplaceIsAlreadyExists) {
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(201), ServerAction::Respond(412),
                             ServerAction::Respond(204)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Rename("a", "b", {}).code(), Code::kAlreadyExists);
}

TEST(WebDavLoopbackTest, AReplacingRenameLooksAtTheTargetFirst) {
  // PROPFIND of the target (missing), the mutex, MOVE with Overwrite: F, the mutex again.
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(404), ServerAction::Respond(201),
                             ServerAction::Respond(201), ServerAction::Respond(204)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  Status st = store->Rename("d/a", "d/b", RenameOptions{.replace = true});
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1].method, "PROPFIND");
  EXPECT_EQ(seen[1].target, "/dav/d/b");
  EXPECT_EQ(seen[3].method, "MOVE");
  EXPECT_EQ(seen[3].headers["overwrite"], "F");
}

TEST(WebDavLoopbackTest, ARenameOfAMissingSourceIsNotFound) {
  // The mutex, MOVE 404, the mutex again, then the source is looked for: missing.
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(201), ServerAction::Respond(404),
                             ServerAction::Respond(204), ServerAction::Respond(404)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Rename("a", "b", {}).code(), Code::kNotFound);
}

TEST(WebDavLoopbackTest, ReadIfMatchIsOneConditionalGet) {
  LoopbackHttpServer server(
      {RootAnswer(),
       ServerAction::Respond(206, "3456", "Content-Range: bytes 3-6/10\r\nETag: \"e\"\r\n"),
       ServerAction::Respond(412)});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto got = store->ReadIfMatch("obj", 3, 4, "\"e\"");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::string(got->begin(), got->end()), "3456");
  auto changed = store->ReadIfMatch("obj", 3, 4, "\"e\"");
  EXPECT_EQ(changed.status().code(), Code::kPreconditionFailed);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].method, "GET");
  EXPECT_EQ(seen[1].headers["if-match"], "\"e\"");
  EXPECT_EQ(seen[1].headers["range"], "bytes=3-6");
}

TEST(WebDavLoopbackTest, ReadIfMatchRefusesBytesServedUnderAnotherETag) {
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(
                                               206, "3456",
                                               "Content-Range: bytes 3-6/10\r\nETag: \"f\"\r\n")});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto got = store->ReadIfMatch("obj", 3, 4, "\"e\"");
  EXPECT_EQ(got.status().code(), Code::kPreconditionFailed);
}

TEST(WebDavLoopbackTest, AMutexLeftByADeadWriterIsBrokenAfterItsLease) {
  const std::string now = HttpDateNow();
  LoopbackHttpServer server({RootAnswer(),
                             ServerAction::Respond(405),  // the mutex is held...
                             // ...since long ago by the server's own clock
                             Multistatus({{.href = "/dav/.phrfs-locks/x/",
                                           .collection = true,
                                           .modified = "Mon, 30 Nov 2026 23:00:00 GMT"}},
                                         "Date: " + now + "\r\n"),
                             ServerAction::Respond(204),   // DELETE of the stale mutex
                             ServerAction::Respond(201),   // MKCOL: ours now
                             ServerAction::Respond(201),   // PUT
                             ServerAction::Respond(204)},  // DELETE of our mutex
                            ServerAction::Respond(200, "", "ETag: \"whatever\"\r\n"));
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto start = std::chrono::steady_clock::now();
  auto etag = store->Write("k", Bytes("x"), Precondition::MustNotExist());
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  auto seen = server.requests();
  ASSERT_GE(seen.size(), 7u);
  EXPECT_EQ(seen[2].method, "PROPFIND");
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_EQ(seen[3].target, seen[1].target);
  EXPECT_EQ(seen[4].method, "MKCOL");
  EXPECT_EQ(seen[5].method, "PUT");
}

TEST(WebDavLoopbackTest, StatusesMapToStoreCodes) {
  LoopbackHttpServer server({RootAnswer(), ServerAction::Respond(507), ServerAction::Respond(403),
                             ServerAction::Respond(423)},
                            ServerAction::Respond(503));
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Write("a", Bytes("x"), Precondition::None()).status().code(), Code::kNoSpace);
  EXPECT_EQ(store->Write("a", Bytes("x"), Precondition::None()).status().code(),
            Code::kPermissionDenied);
  // 423 is waited out; then the server is down for good: Unavailable after the retries.
  auto down = store->Read("a", 0, 1);
  EXPECT_EQ(down.status().code(), Code::kUnavailable) << down.status().ToString();
}

TEST(WebDavLoopbackTest, ListingsDecodeHrefsAndSkipLockNullEntries) {
  LoopbackHttpServer server(
      {RootAnswer(), Multistatus({{.href = "http://127.0.0.1:1/dav/c%20d/", .collection = true},
                                  {.href = "/dav/c%20d/a%25b%3Dc", .size = 3, .etag = "\"e1\""},
                                  {.href = "/dav/c%20d/sub/", .collection = true},
                                  {.href = "/dav/c%20d/locknull", .modified = ""}})});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  auto listed = store->List("c d");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "a%b=c");
  EXPECT_EQ((*listed)[0].size, 3u);
  EXPECT_EQ((*listed)[0].etag, "\"e1\"");
  EXPECT_EQ((*listed)[1].name, "sub");
  EXPECT_TRUE((*listed)[1].is_collection);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].method, "PROPFIND");
  EXPECT_EQ(seen[1].target, "/dav/c%20d");
  EXPECT_EQ(seen[1].headers["depth"], "1");
}

TEST(WebDavLoopbackTest, AnHrefOutsideTheRootIsCorrupt) {
  LoopbackHttpServer server(
      {RootAnswer(), Multistatus({{.href = "/elsewhere/x", .size = 1, .etag = "\"e\""}})});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Stat("x").status().code(), Code::kCorrupt);
}

TEST(WebDavLoopbackTest, TheMutexRootNameIsReserved) {
  LoopbackHttpServer server({RootAnswer()});
  ASSERT_TRUE(server.ok());
  auto store = OpenStore(server);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Stat(".phrfs-locks").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->Write(".phrfs-locks/x", Bytes("x"), Precondition::None()).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(store->Rename(".phrfs-locks", "y", {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(server.requests().size(), 1u);  // nothing reached the server
}

}  // namespace
}  // namespace phrfs::remote
