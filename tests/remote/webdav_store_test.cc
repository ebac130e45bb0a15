// The WebDAV store against a real Apache mod_dav server (LABEL remote). The CTest fixture
// `webdav` starts three servers with scripts/testenv/webdav.sh and passes them in
// PHRFS_WEBDAV_TEST_URLS="<plain url>,<url with user:pass@ of the basic-auth server>,
// <https url>,<CA file for the https server>".
// Each test works in a fresh collection under the server root and removes it afterwards.
#include "remote/webdav/webdav_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "tests/remote/object_store_contract.h"

namespace phrfs::remote::testing {
namespace {

struct ServerEnv {
  std::string url;       // no auth
  std::string auth_url;  // without the userinfo
  std::string user;
  std::string password;
  std::string tls_url;
  std::string ca_file;
};

// The fixture's servers; a clear failure (never a skip) when run outside ctest.
Result<ServerEnv> ReadServerEnv() {
  const char* raw = getenv("PHRFS_WEBDAV_TEST_URLS");
  if (raw == nullptr || *raw == '\0') {
    return Status::InvalidArgument(
        "PHRFS_WEBDAV_TEST_URLS is not set: run these tests through ctest (fixture webdav)");
  }
  std::vector<std::string> parts;
  std::string s = raw;
  for (size_t start = 0;;) {
    size_t comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parts.size() != 4) return Status::InvalidArgument("PHRFS_WEBDAV_TEST_URLS: 4 items wanted");
  ServerEnv env;
  env.url = parts[0];
  env.tls_url = parts[2];
  env.ca_file = parts[3];
  std::string auth = parts[1];
  size_t scheme = auth.find("://") + 3;
  size_t at = auth.find('@', scheme);
  size_t colon = auth.find(':', scheme);
  if (at == std::string::npos || colon > at) {
    return Status::InvalidArgument("PHRFS_WEBDAV_TEST_URLS: the auth URL needs user:pass@");
  }
  env.user = auth.substr(scheme, colon - scheme);
  env.password = auth.substr(colon + 1, at - colon - 1);
  env.auth_url = auth.substr(0, scheme) + auth.substr(at + 1);
  return env;
}

http::ClientOptions TestClientOptions(const std::string& user = "",
                                      const std::string& password = "") {
  http::ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.stall_timeout = std::chrono::milliseconds(20000);
  o.max_attempts = 3;
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  o.max_parallel = 8;
  o.user = user;
  o.password = SecureBytes(reinterpret_cast<const uint8_t*>(password.data()), password.size());
  return o;
}

std::string UniqueName() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "t" + std::to_string(getpid()) + "-" + std::to_string(rd() % 1000000) + "-" +
         std::to_string(counter++);
}

// Creates (and in the destructor deletes, recursively) one collection at the server root.
class ScratchCollection {
 public:
  Status Create(const std::string& server_url, const std::string& user,
                const std::string& password) {
    auto client = http::NewCurlClient(TestClientOptions(user, password));
    if (!client.ok()) return client.status();
    client_ = std::move(client).value();
    url_ = server_url + UniqueName() + "/";
    http::Request mkcol;
    mkcol.method = "MKCOL";
    mkcol.url = url_;
    auto r = client_->Perform(mkcol);
    if (!r.ok()) return r.status();
    if (r->status != 201) return WebDavStatus(r->status, "MKCOL scratch collection");
    return Status::Ok();
  }
  ~ScratchCollection() {
    if (!client_) return;
    http::Request del;
    del.method = "DELETE";
    del.url = url_;
    (void)client_->Perform(del);
  }
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<http::HttpClient> client_;
  std::string url_;
};

}  // namespace

class WebDavHarness {
 public:
  Status SetUp() {
    PHRFS_ASSIGN_OR_RETURN(ServerEnv env, ReadServerEnv());
    PHRFS_RETURN_IF_ERROR(scratch_.Create(env.url, "", ""));
    WebDavOptions options;
    options.base_url = scratch_.url();
    options.client = TestClientOptions();
    PHRFS_ASSIGN_OR_RETURN(store_, WebDavStore::Open(std::move(options)));
    return Status::Ok();
  }
  ObjectStore& store() { return *store_; }

 private:
  ScratchCollection scratch_;  // outlives store_
  std::unique_ptr<WebDavStore> store_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(WebDav, ObjectStoreContractTest, WebDavHarness);

namespace {

class WebDavStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(harness_.SetUp().ok()); }
  ObjectStore& store() { return harness_.store(); }
  WebDavHarness harness_;
};

TEST(WebDavAuthTest, BasicAuthWorksAndAWrongPasswordIsPermissionDenied) {
  auto env = ReadServerEnv();
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ScratchCollection scratch;
  Status created = scratch.Create(env->auth_url, env->user, env->password);
  ASSERT_TRUE(created.ok()) << created.ToString();

  WebDavOptions good;
  good.base_url = scratch.url();
  good.client = TestClientOptions(env->user, env->password);
  auto store = WebDavStore::Open(std::move(good));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto etag = (*store)->Write("obj", Bytes("secret bytes"), Precondition::MustNotExist());
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  auto back = (*store)->Read("obj", 0, 100);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Str(*back), "secret bytes");

  WebDavOptions wrong;
  wrong.base_url = scratch.url();
  wrong.client = TestClientOptions(env->user, env->password + "-wrong");
  auto denied = WebDavStore::Open(std::move(wrong));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(CodeName(denied.status().code()), CodeName(Code::kPermissionDenied));
  EXPECT_EQ(denied.status().message().find(env->password), std::string::npos);

  WebDavOptions none;
  none.base_url = scratch.url();
  none.client = TestClientOptions();
  auto anonymous = WebDavStore::Open(std::move(none));
  EXPECT_EQ(CodeName(anonymous.status().code()), CodeName(Code::kPermissionDenied));

  // A store opened with the right password keeps working; a request under a bad one is refused
  // whatever the operation.
  auto wrong_client = http::NewCurlClient(TestClientOptions(env->user, "nope"));
  ASSERT_TRUE(wrong_client.ok());
  http::Request get;
  get.method = "GET";
  get.url = scratch.url() + "obj";
  auto r = (*wrong_client)->Perform(get);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(CodeName(WebDavStatus(r->status, "get").code()), CodeName(Code::kPermissionDenied));
}

TEST(WebDavTlsTest, HttpsWorksWithTheGivenCaAndIsRefusedWithoutIt) {
  auto env = ReadServerEnv();
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  // The scratch collection itself is made over verified TLS.
  auto client_options = TestClientOptions();
  client_options.ca_file = env->ca_file;
  auto client = http::NewCurlClient(std::move(client_options));
  ASSERT_TRUE(client.ok());
  const std::string url = env->tls_url + UniqueName() + "/";
  http::Request mkcol;
  mkcol.method = "MKCOL";
  mkcol.url = url;
  auto made = (*client)->Perform(mkcol);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->status, 201);

  WebDavOptions trusted;
  trusted.base_url = url;
  trusted.client = TestClientOptions();
  trusted.client.ca_file = env->ca_file;
  auto store = WebDavStore::Open(std::move(trusted));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Write("x", Bytes("over tls"), Precondition::MustNotExist()).ok());
  auto back = (*store)->Read("x", 0, 100);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Str(*back), "over tls");

  // The system trust store does not know the test CA: verification fails, never skipped.
  WebDavOptions untrusted;
  untrusted.base_url = url;
  untrusted.client = TestClientOptions();
  auto refused = WebDavStore::Open(std::move(untrusted));
  EXPECT_EQ(CodeName(refused.status().code()), CodeName(Code::kPermissionDenied))
      << refused.status().ToString();
  // The certificate names 127.0.0.1 only: another name for the same server is refused too.
  WebDavOptions wrong_name;
  wrong_name.base_url = "https://localhost:" + url.substr(url.rfind(':') + 1);
  wrong_name.client = TestClientOptions();
  wrong_name.client.ca_file = env->ca_file;
  auto mismatch = WebDavStore::Open(std::move(wrong_name));
  EXPECT_EQ(CodeName(mismatch.status().code()), CodeName(Code::kPermissionDenied))
      << mismatch.status().ToString();

  http::Request del;
  del.method = "DELETE";
  del.url = url;
  (void)(*client)->Perform(del);
}

TEST_F(WebDavStoreTest, AwkwardNamesRoundTrip) {
  const std::vector<std::string> names = {
      "with space", "100%",  "a=b",           "%41%42",    "plus+and&",
      "semi;colon", "q?x#y", "\xc3\xbc-utf8", "trailing.", std::string(250, 'n')};
  ASSERT_TRUE(store().MakeCollection("dir with space%").ok());
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    std::string key = "dir with space%/" + name;
    auto etag = store().Write(key, Bytes("content of " + name), Precondition::MustNotExist());
    ASSERT_TRUE(etag.ok()) << etag.status().ToString();
    auto info = store().Stat(key);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->etag, etag.value());
    auto back = store().Read(key, 0, 1000);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(Str(*back), "content of " + name);
  }
  auto listed = store().List("dir with space%");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> got;
  for (const ListEntry& e : *listed) got.insert(e.name);
  EXPECT_EQ(got, std::set<std::string>(names.begin(), names.end()));
  EXPECT_EQ(listed->size(), names.size());
  // Renames keep the bytes under awkward names too.
  ASSERT_TRUE(store().Rename("dir with space%/a=b", "dir with space%/c=d %25", {}).ok());
  auto moved = store().Read("dir with space%/c=d %25", 0, 100);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(Str(*moved), "content of a=b");
  EXPECT_EQ(CodeName(store().Stat("dir with space%/a=b").status().code()),
            CodeName(Code::kNotFound));
}

TEST_F(WebDavStoreTest, AListingOf1500EntriesIsComplete) {
  constexpr int kEntries = 1500;
  constexpr int kThreads = 6;
  ASSERT_TRUE(store().MakeCollection("many").ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kEntries; i += kThreads) {
        std::string name = "entry-" + std::to_string(i);
        if (!store().Write("many/" + name, Bytes(name), Precondition::None()).ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto listed = store().List("many");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), static_cast<size_t>(kEntries));
  std::set<std::string> names;
  for (const ListEntry& e : *listed) {
    names.insert(e.name);
    EXPECT_EQ(e.size, e.name.size()) << e.name;
    EXPECT_FALSE(e.etag.empty()) << e.name;
  }
  for (int i = 0; i < kEntries; ++i) {
    EXPECT_EQ(names.count("entry-" + std::to_string(i)), 1u) << i;
  }
}

TEST_F(WebDavStoreTest, ConcurrentMustNotExistPutsHaveExactlyOneWinnerEachRound) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 15;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = "once-" + std::to_string(round);
    std::atomic<int> wins{0}, refused{0}, ready{0}, winner{-1};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        auto r =
            store().Write(key, Bytes("writer-" + std::to_string(t)), Precondition::MustNotExist());
        if (r.ok()) {
          wins++;
          winner = t;
        } else if (r.status().code() == Code::kPreconditionFailed) {
          refused++;
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), kThreads - 1);
    auto back = store().Read(key, 0, 100);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(Str(*back), "writer-" + std::to_string(winner.load()));
  }
}

TEST_F(WebDavStoreTest, ConcurrentRenamesOntoOneNewNameHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 10; ++round) {
    std::string target = "target-" + std::to_string(round);
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_TRUE(store()
                      .Write("src-" + std::to_string(round) + "-" + std::to_string(t),
                             Bytes("from " + std::to_string(t)), Precondition::None())
                      .ok());
    }
    std::atomic<int> wins{0}, exists{0}, ready{0}, winner{-1};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        Status st = store().Rename("src-" + std::to_string(round) + "-" + std::to_string(t), target,
                                   RenameOptions{});
        if (st.ok()) {
          wins++;
          winner = t;
        } else if (st.code() == Code::kAlreadyExists) {
          exists++;
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(exists.load(), kThreads - 1);
    auto back = store().Read(target, 0, 100);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(Str(*back), "from " + std::to_string(winner.load()));
  }
}

TEST_F(WebDavStoreTest, ETagsAreTheServersContentDigests) {
  // With FileETag Digest, the etag a write returns is what PROPFIND and HEAD say, at once.
  auto first = store().Write("d", Bytes("abc"), Precondition::None());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), "\"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\"");  // base64(SHA-1("abc"))
  for (int i = 0; i < 5; ++i) {
    std::string content = "v" + std::to_string(i);
    auto next = store().Write("d", Bytes(content), Precondition::ETagMatches(first.value()));
    ASSERT_TRUE(next.ok()) << i << ": " << next.status().ToString();
    auto listed = store().List("");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].etag, next.value());
    first = next;
  }
}

TEST_F(WebDavStoreTest, DeleteNeverRemovesACollectionTree) {
  ASSERT_TRUE(store().MakeCollection("tree").ok());
  ASSERT_TRUE(store().Write("tree/leaf", Bytes("x"), Precondition::None()).ok());
  EXPECT_EQ(CodeName(store().Delete("tree").code()), CodeName(Code::kIsADirectory));
  EXPECT_EQ(CodeName(store().RemoveCollection("tree").code()), CodeName(Code::kNotEmpty));
  auto back = store().Read("tree/leaf", 0, 10);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Str(*back), "x");
}

TEST_F(WebDavStoreTest, ObjectsBelowAnObjectAreNotADirectory) {
  ASSERT_TRUE(store().Write("file", Bytes("x"), Precondition::None()).ok());
  EXPECT_EQ(CodeName(store().Stat("file/below").status().code()), CodeName(Code::kNotADirectory));
  EXPECT_EQ(CodeName(store().MakeCollection("file/below").code()), CodeName(Code::kNotADirectory));
  EXPECT_EQ(CodeName(store().Rename("file", "file2", {}).code()), CodeName(Code::kOk));
  EXPECT_EQ(CodeName(store().Write("x", Bytes("y"), Precondition::None()).status().code()),
            CodeName(Code::kOk));
  EXPECT_EQ(CodeName(store().Rename("x", "file2/x", {}).code()), CodeName(Code::kNotADirectory));
}

TEST(WebDavOpenTest, AMissingRootIsNotFoundAndAnUnreachableServerUnavailable) {
  auto env = ReadServerEnv();
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  WebDavOptions missing;
  missing.base_url = env->url + UniqueName() + "/";
  missing.client = TestClientOptions();
  EXPECT_EQ(CodeName(WebDavStore::Open(std::move(missing)).status().code()),
            CodeName(Code::kNotFound));
  WebDavOptions creds_in_url;
  creds_in_url.base_url = "http://u:p@127.0.0.1:1/";
  EXPECT_EQ(CodeName(WebDavStore::Open(std::move(creds_in_url)).status().code()),
            CodeName(Code::kInvalidArgument));
  WebDavOptions refused;
  refused.base_url = "http://127.0.0.1:1/";
  refused.client = TestClientOptions();
  refused.client.max_attempts = 1;
  EXPECT_EQ(CodeName(WebDavStore::Open(std::move(refused)).status().code()),
            CodeName(Code::kUnavailable));
}

}  // namespace
}  // namespace phrfs::remote::testing
