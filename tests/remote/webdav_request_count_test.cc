// How many HTTP requests of each method one tree operation costs over WebDAV (real Apache, the
// `webdav` CTest fixture, first URL of PHRFS_WEBDAV_TEST_URLS), written through (ObjectTree) and
// write-back (CachedTree). The counts are deterministic for one client without contention, so
// they are pinned: a change that adds requests fails here and has to say why.
// The store is warmed first (lock root made, digest ETags seen), as it is after the first write.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "remote/cache/cached_tree.h"
#include "remote/object_tree.h"
#include "remote/webdav/webdav_store.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {
namespace {

// Counts the requests a store sends, by method; keeps "METHOD path" lines to show on failure.
class Tally {
 public:
  void Add(const std::string& method, const std::string& url) {
    std::lock_guard lock(mu_);
    ++counts_[method];
    lines_.push_back(method + " " + url);
  }
  // "MKCOL=1 PROPFIND=2 PUT=1" (methods in order), and forgets.
  std::string Take(std::string* lines = nullptr) {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [method, n] : counts_) {
      out += (out.empty() ? "" : " ") + method + "=" + std::to_string(n);
    }
    if (lines) {
      for (const std::string& l : lines_) *lines += "  " + l + "\n";
    }
    counts_.clear();
    lines_.clear();
    return out.empty() ? "none" : out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> counts_;
  std::vector<std::string> lines_;
};

class CountingClient final : public http::HttpClient {
 public:
  CountingClient(std::unique_ptr<http::HttpClient> inner, std::shared_ptr<Tally> tally)
      : inner_(std::move(inner)), tally_(std::move(tally)) {}
  Result<http::Response> Perform(http::Request request) override {
    tally_->Add(request.method, request.url);
    return inner_->Perform(std::move(request));
  }

 private:
  std::unique_ptr<http::HttpClient> inner_;
  std::shared_ptr<Tally> tally_;
};

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

http::ClientOptions Options() {
  http::ClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.stall_timeout = std::chrono::milliseconds(20000);
  o.max_attempts = 3;
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  return o;
}

class WebDavRequestCountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* raw = getenv("PHRFS_WEBDAV_TEST_URLS");
    ASSERT_TRUE(raw != nullptr && *raw != '\0')
        << "PHRFS_WEBDAV_TEST_URLS is not set: run these tests through ctest (fixture webdav)";
    std::string server = raw;
    server = server.substr(0, server.find(','));
    std::random_device rd;
    scratch_url_ = server + "count" + std::to_string(getpid()) + "-" +
                   std::to_string(rd() % 1000000) + "/";
    auto admin = http::NewCurlClient(Options());
    ASSERT_TRUE(admin.ok());
    admin_ = std::move(admin).value();
    http::Request mkcol;
    mkcol.method = "MKCOL";
    mkcol.url = scratch_url_;
    auto r = admin_->Perform(mkcol);
    ASSERT_TRUE(r.ok() && r->status == 201);

    auto inner = http::NewCurlClient(Options());
    ASSERT_TRUE(inner.ok());
    auto store = WebDavStore::OpenWithClient(
        scratch_url_, std::make_unique<CountingClient>(std::move(inner).value(), tally_));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // Warm up: the lock root and the knowledge that ETags are content digests.
    ASSERT_TRUE(store_->Write("warm", Bytes("w"), Precondition::MustNotExist()).ok());
    ASSERT_TRUE(store_->MakeCollection("s").ok());
    ASSERT_TRUE(store_->MakeCollection("s/dom").ok());
    ASSERT_TRUE(store_->MakeCollection("s/dom/d").ok());
    (void)tally_->Take();
  }
  void TearDown() override {
    if (!admin_) return;
    http::Request del;
    del.method = "DELETE";
    del.url = scratch_url_;
    (void)admin_->Perform(del);
  }

  // Runs `op`, expects it to succeed, and returns the requests it sent.
  std::string Count(const std::string& name, const std::function<Status()>& op) {
    (void)tally_->Take();
    Status st = op();
    EXPECT_TRUE(st.ok()) << name << ": " << st.ToString();
    std::string lines;
    std::string counts = tally_->Take(&lines);
    std::printf("[requests] %-40s %s\n", name.c_str(), counts.c_str());
    last_lines_ = lines;
    return counts;
  }
  // Expects the op to fail with `code`.
  std::string CountFailure(const std::string& name, Code code, const std::function<Status()>& op) {
    (void)tally_->Take();
    Status st = op();
    EXPECT_EQ(CodeName(st.code()), CodeName(code)) << name << ": " << st.ToString();
    std::string lines;
    std::string counts = tally_->Take(&lines);
    std::printf("[requests] %-40s %s\n", name.c_str(), counts.c_str());
    last_lines_ = lines;
    return counts;
  }

  std::shared_ptr<Tally> tally_ = std::make_shared<Tally>();
  std::unique_ptr<http::HttpClient> admin_;
  std::string scratch_url_;
  std::shared_ptr<WebDavStore> store_;
  std::string last_lines_;
};

#define EXPECT_REQUESTS(counts, expected) EXPECT_EQ(counts, expected) << last_lines_

TEST_F(WebDavRequestCountTest, ObjectTreeOperationsSendTheseRequests) {
  ObjectTree tree(store_);
  const std::string f = "s/dom/d/f1";
  auto data = Bytes("first version");
  EXPECT_REQUESTS(Count("put new (must not exist)",
                        [&] { return tree.Put(f, data, PutMode::kMustNotExist); }),
                  "DELETE=1 MKCOL=1 PUT=1");
  EXPECT_REQUESTS(CountFailure("put new onto an existing object", Code::kAlreadyExists,
                               [&] { return tree.Put(f, data, PutMode::kMustNotExist); }),
                  "DELETE=1 MKCOL=1 PUT=1");
  EXPECT_REQUESTS(Count("put replace", [&] { return tree.Put(f, Bytes("v2"), PutMode::kReplace); }),
                  "PUT=1");
  EXPECT_REQUESTS(Count("stat", [&] { return tree.Stat(f).status(); }), "PROPFIND=1");
  EXPECT_REQUESTS(CountFailure("stat of a missing key (3 levels down)", Code::kNotFound,
                               [&] { return tree.Stat("s/dom/d/missing").status(); }),
                  "PROPFIND=1");
  std::vector<uint8_t> buffer(4096);
  EXPECT_REQUESTS(Count("read", [&] { return tree.Read(f, 0, buffer).status(); }), "GET=1");
  EXPECT_REQUESTS(CountFailure("read of a missing key", Code::kNotFound,
                               [&] { return tree.Read("s/dom/d/missing", 0, buffer).status(); }),
                  "GET=1 PROPFIND=1");
  EXPECT_REQUESTS(Count("write at (rewrite)", [&] { return tree.WriteAt(f, 1, Bytes("Z")); }),
                  "DELETE=1 GET=1 MKCOL=1 PUT=1");
  EXPECT_REQUESTS(Count("list", [&] { return tree.List("s/dom/d").status(); }), "PROPFIND=1");
  EXPECT_REQUESTS(Count("move (no replace)",
                        [&] { return tree.Move(f, "s/dom/d/f2", MoveMode::kNoReplace); }),
                  "DELETE=1 MKCOL=1 MOVE=1 PROPFIND=1");
  ASSERT_TRUE(tree.Put("s/dom/d/f3", data, PutMode::kReplace).ok());
  EXPECT_REQUESTS(Count("move (replace an existing object)",
                        [&] { return tree.Move("s/dom/d/f2", "s/dom/d/f3", MoveMode::kReplace); }),
                  "MOVE=1 PROPFIND=3");
  EXPECT_REQUESTS(Count("delete", [&] { return tree.Delete("s/dom/d/f3"); }), "DELETE=1 PROPFIND=1");
  EXPECT_REQUESTS(CountFailure("delete of a missing key", Code::kNotFound,
                               [&] { return tree.Delete("s/dom/d/f3"); }),
                  "PROPFIND=1");
  EXPECT_REQUESTS(Count("make folder", [&] { return tree.MakeFolder("s/dom/d/sub"); }), "MKCOL=1");
  EXPECT_REQUESTS(Count("remove folder", [&] { return tree.RemoveFolder("s/dom/d/sub"); }), "DELETE=1 PROPFIND=1");
}

TEST_F(WebDavRequestCountTest, CachedTreeOperationsSendTheseRequestsOnceFlushed) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  // Objects another client made: the cache knows nothing of them.
  ASSERT_TRUE(store_->MakeCollection("s/x").ok());
  ASSERT_TRUE(store_->Write("s/x/other", Bytes("theirs"), Precondition::None()).ok());
  CachedTreeOptions options;
  options.write_back_delay = std::chrono::hours(1);  // only Sync/Flush upload
  options.store_id = scratch_url_;
  auto opened = CachedTree::Open(store_, dir.path() + "/cache", options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  CachedTree& tree = **opened;
  (void)tally_->Take();
  const std::string f = "s/dom/d/f1";
  auto flushed = [&](Status st) { return st.ok() ? tree.Flush() : st; };
  EXPECT_REQUESTS(Count("put new + flush",
                        [&] { return flushed(tree.Put(f, Bytes("one"), PutMode::kMustNotExist)); }),
                  "DELETE=1 MKCOL=1 PROPFIND=2 PUT=1");
  EXPECT_REQUESTS(Count("put replace + flush",
                        [&] { return flushed(tree.Put(f, Bytes("two"), PutMode::kReplace)); }),
                  "DELETE=1 MKCOL=1 PUT=1");
  EXPECT_REQUESTS(Count("move + flush",
                        [&] { return flushed(tree.Move(f, "s/dom/d/f2", MoveMode::kNoReplace)); }),
                  "DELETE=1 MKCOL=1 MOVE=1 PROPFIND=1");
  EXPECT_REQUESTS(Count("delete + flush", [&] { return flushed(tree.Delete("s/dom/d/f2")); }),
                  "DELETE=2 MKCOL=1");
  EXPECT_REQUESTS(Count("make folder + flush",
                        [&] { return flushed(tree.MakeFolder("s/dom/d/sub")); }),
                  "MKCOL=1");
  EXPECT_REQUESTS(Count("remove folder + flush",
                        [&] { return flushed(tree.RemoveFolder("s/dom/d/sub")); }),
                  "DELETE=1 PROPFIND=1");
  std::vector<uint8_t> buffer(4096);
  EXPECT_REQUESTS(Count("stat of an object made elsewhere", [&] {
                    return tree.Stat("s/x/other").status();
                  }),
                  "PROPFIND=1");
  EXPECT_REQUESTS(Count("read of it (cold)", [&] {
                    return tree.Read("s/x/other", 0, buffer).status();
                  }),
                  "GET=1");
  EXPECT_REQUESTS(Count("list its folder", [&] { return tree.List("s/x").status(); }), "PROPFIND=1");
  EXPECT_REQUESTS(CountFailure("stat of a missing key in a listed folder", Code::kNotFound,
                               [&] { return tree.Stat("s/x/missing").status(); }),
                  "none");
}

// The store remembers collections it saw, to explain a 404 below one without asking for every
// ancestor. That memo must never turn a real problem into another answer: a collection removed
// or moved (by this store or another), or replaced by an object, is reported as it is now.
TEST_F(WebDavRequestCountTest, CollectionsKnownToExistNeverHideWhatChangedSince) {
  auto inner = http::NewCurlClient(Options());
  ASSERT_TRUE(inner.ok());
  auto other = WebDavStore::OpenWithClient(scratch_url_, std::move(inner).value());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(store_->MakeCollection("s/dom/d/k").ok());
  EXPECT_EQ(CodeName(store_->Stat("s/dom/d/k/x").status().code()), CodeName(Code::kNotFound));

  // Removed here, an object in its place: below it is NotADirectory, writes too.
  ASSERT_TRUE(store_->RemoveCollection("s/dom/d/k").ok());
  ASSERT_TRUE(store_->Write("s/dom/d/k", Bytes("obj"), Precondition::None()).ok());
  EXPECT_EQ(CodeName(store_->Stat("s/dom/d/k/x").status().code()), CodeName(Code::kNotADirectory));
  EXPECT_EQ(CodeName(store_->Write("s/dom/d/k/x", Bytes("v"), Precondition::None()).status().code()),
            CodeName(Code::kNotADirectory));
  EXPECT_EQ(CodeName(store_->MakeCollection("s/dom/d/k/x").code()),
            CodeName(Code::kNotADirectory));

  // Removed by another client, an object in its place.
  ASSERT_TRUE(store_->MakeCollection("s/dom/d/m").ok());
  ASSERT_TRUE(store_->List("s/dom/d/m").ok());
  ASSERT_TRUE((*other)->RemoveCollection("s/dom/d/m").ok());
  EXPECT_EQ(CodeName(store_->Write("s/dom/d/m/x", Bytes("v"), Precondition::None()).status().code()),
            CodeName(Code::kNotFound));
  EXPECT_EQ(CodeName(store_->MakeCollection("s/dom/d/m/x").code()), CodeName(Code::kNotFound));
  ASSERT_TRUE((*other)->Write("s/dom/d/m", Bytes("obj"), Precondition::None()).ok());
  EXPECT_EQ(CodeName(store_->Stat("s/dom/d/m/x").status().code()), CodeName(Code::kNotADirectory));
  EXPECT_EQ(CodeName(store_->Write("s/dom/d/m/x", Bytes("v"), Precondition::None()).status().code()),
            CodeName(Code::kNotADirectory));

  // Moved away here: the old place is gone, and below the new one everything works.
  ASSERT_TRUE(store_->MakeCollection("s/dom/d/n").ok());
  ASSERT_TRUE(store_->MakeCollection("s/dom/d/n/deep").ok());
  ASSERT_TRUE(store_->Rename("s/dom/d/n", "s/dom/d/n2", RenameOptions{}).ok());
  EXPECT_EQ(CodeName(store_->Write("s/dom/d/n/deep/x", Bytes("v"), Precondition::None())
                         .status()
                         .code()),
            CodeName(Code::kNotFound));
  EXPECT_EQ(CodeName(store_->MakeCollection("s/dom/d/n/deep/y").code()),
            CodeName(Code::kNotFound));
  EXPECT_TRUE(store_->Write("s/dom/d/n2/deep/x", Bytes("v"), Precondition::MustNotExist()).ok());

  // A missing key below a missing folder below a known one: still NotFound.
  EXPECT_EQ(CodeName(store_->Stat("s/dom/d/nothing/x").status().code()), CodeName(Code::kNotFound));
  EXPECT_EQ(CodeName(store_->Delete("s/dom/d/nothing/x").code()), CodeName(Code::kNotFound));
}

}  // namespace
}  // namespace phrfs::remote::testing
