// The S3 store against a real Ceph RADOS Gateway (strict SigV4), started by the CTest fixture
// scripts/testenv/rgw.sh; the endpoint, bucket and keys come from the environment
// (PHRFS_S3_ENDPOINT, PHRFS_S3_BUCKET, PHRFS_S3_ACCESS_KEY, PHRFS_S3_SECRET_KEY). Every test
// works under a fresh random key prefix and removes it afterwards.
#include "remote/s3/s3_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/remote/object_store_contract.h"

namespace phrfs::remote::testing {
namespace {

using s3::S3Options;
using s3::S3Store;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

SecureBytes SecretOf(const std::string& s) {
  return SecureBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string RandomPrefix() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  char buf[32];
  snprintf(buf, sizeof(buf), "t-%016llx", static_cast<unsigned long long>(dist(rd)));
  return buf;
}

// Options for the fixture's server under a fresh prefix; InvalidArgument when the environment
// does not name one (the test then fails: it never skips).
Result<S3Options> TestOptions() {
  S3Options o;
  o.endpoint = Env("PHRFS_S3_ENDPOINT");
  o.bucket = Env("PHRFS_S3_BUCKET");
  o.access_key = Env("PHRFS_S3_ACCESS_KEY");
  o.secret_key = SecretOf(Env("PHRFS_S3_SECRET_KEY"));
  if (o.endpoint.empty() || o.bucket.empty() || o.access_key.empty() || o.secret_key.empty()) {
    return Status::InvalidArgument(
        "PHRFS_S3_ENDPOINT/BUCKET/ACCESS_KEY/SECRET_KEY not set: run through ctest (fixture rgw)");
  }
  o.key_prefix = RandomPrefix();
  return o;
}

// Removes everything below `collection` through the store itself.
void RemoveAll(ObjectStore& store, const std::string& collection) {
  auto entries = store.List(collection);
  if (!entries.ok()) return;
  for (const ListEntry& e : entries.value()) {
    std::string key = collection.empty() ? e.name : collection + "/" + e.name;
    if (e.is_collection) {
      RemoveAll(store, key);
      (void)store.RemoveCollection(key);
    } else {
      (void)store.Delete(key);
    }
  }
}

class RgwHarness {
 public:
  Status SetUp() {
    PHRFS_ASSIGN_OR_RETURN(S3Options options, TestOptions());
    http::ClientOptions client;
    client.max_parallel = 8;
    PHRFS_ASSIGN_OR_RETURN(store_, S3Store::Open(std::move(options), std::move(client)));
    return Status::Ok();
  }
  ~RgwHarness() {
    if (store_) RemoveAll(*store_, "");
  }
  ObjectStore& store() { return *store_; }

 private:
  std::unique_ptr<S3Store> store_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Rgw, ObjectStoreContractTest, RgwHarness);

namespace {

class S3StoreTest : public ::testing::Test {
 protected:
  // Opens a store on the fixture's server; `tweak` adjusts the options first.
  std::unique_ptr<S3Store> Open(const std::function<void(S3Options&)>& tweak = {}) {
    auto options = TestOptions();
    EXPECT_TRUE(options.ok()) << options.status().ToString();
    if (!options.ok()) return nullptr;
    if (tweak) tweak(options.value());
    http::ClientOptions client;
    client.max_parallel = 8;
    client.max_attempts = 3;
    auto store = S3Store::Open(std::move(options).value(), std::move(client));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  void TearDown() override {
    for (auto& s : cleanup_) RemoveAll(*s, "");
  }
  S3Store* Keep(std::unique_ptr<S3Store> s) {
    if (!s) return nullptr;
    cleanup_.push_back(std::move(s));
    return cleanup_.back().get();
  }

  std::vector<std::unique_ptr<S3Store>> cleanup_;
};

TEST_F(S3StoreTest, AWrongSecretIsPermissionDeniedBySignatureCheck) {
  auto options = TestOptions();
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  options->secret_key = SecretOf("not-the-secret-key-000000");
  options->verify_bucket = false;
  auto store = S3Store::Open(std::move(options).value());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // A listing is a GET with an error body (a HEAD's 403 carries no code).
  auto w = (*store)->List("");
  ASSERT_FALSE(w.ok());
  PHRFS_EXPECT_CODE(w.status(), Code::kPermissionDenied);
  EXPECT_NE(w.status().message().find("SignatureDoesNotMatch"), std::string::npos)
      << w.status().ToString();
  EXPECT_EQ(w.status().message().find("not-the-secret"), std::string::npos);

  // Opening with the bucket check reports it at once.
  auto checked = TestOptions();
  ASSERT_TRUE(checked.ok());
  checked->secret_key = SecretOf("not-the-secret-key-000000");
  auto refused = S3Store::Open(std::move(checked).value());
  PHRFS_EXPECT_CODE(refused.status(), Code::kPermissionDenied);
}

TEST_F(S3StoreTest, AMissingBucketIsAClearNotFound) {
  auto options = TestOptions();
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  options->bucket = "phrfs-no-such-bucket";
  auto refused = S3Store::Open(std::move(options).value());
  ASSERT_FALSE(refused.ok());
  PHRFS_EXPECT_CODE(refused.status(), Code::kNotFound);
  EXPECT_NE(refused.status().message().find("phrfs-no-such-bucket does not exist"),
            std::string::npos)
      << refused.status().ToString();

  // Without the check at open, the first request says so too (NoSuchBucket).
  auto unchecked = TestOptions();
  ASSERT_TRUE(unchecked.ok());
  unchecked->bucket = "phrfs-no-such-bucket";
  unchecked->verify_bucket = false;
  auto store = S3Store::Open(std::move(unchecked).value());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto r = (*store)->Read("x", 0, 10);
  PHRFS_EXPECT_CODE(r.status(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("bucket phrfs-no-such-bucket does not exist"),
            std::string::npos)
      << r.status().ToString();
  auto l = (*store)->List("");
  PHRFS_EXPECT_CODE(l.status(), Code::kNotFound);
  EXPECT_NE(l.status().message().find("NoSuchBucket"), std::string::npos)
      << l.status().ToString();
}

TEST_F(S3StoreTest, A12MiBObjectRoundTripsThroughMultipartUpload) {
  S3Store* store = Keep(Open([](S3Options& o) {
    o.multipart_threshold = uint64_t{5} << 20;
    o.part_size = uint64_t{8} << 20;
  }));
  ASSERT_NE(store, nullptr);
  std::vector<uint8_t> data(12u << 20);
  std::mt19937_64 rng(12);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  auto etag = store->Write("big", data, Precondition::MustNotExist());
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_TRUE(etag->ends_with("-2")) << *etag;  // two parts: 8 MiB + 4 MiB
  auto info = store->Stat("big");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(info->etag, *etag);
  auto back = store->Read("big", 0, data.size() + 1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back.value() == data) << "content differs";
  // A range across the part boundary.
  auto mid = store->Read("big", (8u << 20) - 3, 6);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid.value(), std::vector<uint8_t>(data.begin() + (8 << 20) - 3,
                                              data.begin() + (8 << 20) + 3));
  // Preconditions hold for multipart writes too.
  PHRFS_EXPECT_CODE(store->Write("big", data, Precondition::MustNotExist()).status(),
                    Code::kPreconditionFailed);
  data[0] ^= 0xFF;
  auto again = store->Write("big", data, Precondition::ETagMatches(*etag));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(*again, *etag);
  PHRFS_EXPECT_CODE(store->Write("big", data, Precondition::ETagMatches(*etag)).status(),
                    Code::kPreconditionFailed);
  auto first = store->Read("big", 0, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->at(0), data[0]);
}

TEST_F(S3StoreTest, ListingPaginatesCompletelyOver1200Keys) {
  S3Store* store = Keep(Open([](S3Options& o) { o.list_page_size = 97; }));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->MakeCollection("many").ok());
  ASSERT_TRUE(store->MakeCollection("many/sub").ok());
  constexpr int kKeys = 1200;
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kKeys; i += kThreads) {
        char name[32];
        snprintf(name, sizeof(name), "many/k%04d", i);
        if (!store->Write(name, Bytes(name), Precondition::MustNotExist()).ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto listed = store->List("many");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> names;
  int collections = 0;
  for (const ListEntry& e : listed.value()) {
    names.insert(e.name);
    if (e.is_collection) {
      ++collections;
      EXPECT_EQ(e.name, "sub");
    } else {
      EXPECT_EQ(e.size, 10u) << e.name;  // "many/kNNNN"
    }
  }
  EXPECT_EQ(listed->size(), static_cast<size_t>(kKeys + 1));  // no duplicates, no marker
  EXPECT_EQ(names.size(), static_cast<size_t>(kKeys + 1));
  EXPECT_EQ(collections, 1);
  EXPECT_TRUE(names.count("k0000") && names.count("k0599") && names.count("k1199"));
  PHRFS_EXPECT_CODE(store->RemoveCollection("many"), Code::kNotEmpty);
}

TEST_F(S3StoreTest, SixteenConcurrentMustNotExistWritersHaveExactlyOneWinner) {
  S3Store* store = Keep(Open([](S3Options&) {}));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16;
  std::atomic<int> wins{0};
  std::atomic<int> refused{0};
  std::atomic<int> winner{-1};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready++;
      while (ready.load() < kThreads) std::this_thread::yield();
      auto r = store->Write("contended", Bytes("writer" + std::to_string(t)),
                            Precondition::MustNotExist());
      if (r.ok()) {
        wins++;
        winner = t;
      } else if (r.status().code() == Code::kPreconditionFailed) {
        refused++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  auto back = store->Read("contended", 0, 100);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Str(*back), "writer" + std::to_string(winner.load()));
}

// Sends every conditional PUT twice and answers with the second response: what a client retry
// looks like when the first attempt landed but its answer was lost.
class DuplicatingClient final : public http::HttpClient {
 public:
  explicit DuplicatingClient(std::unique_ptr<http::HttpClient> inner) : inner_(std::move(inner)) {}
  Result<http::Response> Perform(http::Request request) override {
    bool conditional = request.method == "PUT" &&
                       std::any_of(request.headers.begin(), request.headers.end(),
                                   [](const http::Header& h) {
                                     return h.name == "If-None-Match" || h.name == "If-Match";
                                   });
    if (conditional) {
      auto first = inner_->Perform(request);
      if (!first.ok()) return first;
      if (first->status == 200) duplicated_++;
    }
    return inner_->Perform(std::move(request));
  }
  std::atomic<int> duplicated_{0};

 private:
  std::unique_ptr<http::HttpClient> inner_;
};

TEST_F(S3StoreTest, ARetriedConditionalPutThatLandedIsNotReportedAsAConflict) {
  auto options = TestOptions();
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  DuplicatingClient* client = nullptr;
  auto opened = S3Store::OpenWithClient(
      std::move(options).value(), http::ClientOptions{},
      [&client](http::ClientOptions o) -> Result<std::unique_ptr<http::HttpClient>> {
        PHRFS_ASSIGN_OR_RETURN(auto inner, http::NewCurlClient(std::move(o)));
        auto wrapped = std::make_unique<DuplicatingClient>(std::move(inner));
        client = wrapped.get();
        return std::unique_ptr<http::HttpClient>(std::move(wrapped));
      });
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  S3Store* store = Keep(std::move(opened).value());
  ASSERT_NE(client, nullptr);

  auto created = store->Write("k", Bytes("first"), Precondition::MustNotExist());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto replaced = store->Write("k", Bytes("second"), Precondition::ETagMatches(*created));
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(client->duplicated_.load(), 2);  // both 200s were followed by a 412 answer
  EXPECT_EQ(Str(store->Read("k", 0, 100).value()), "second");
  auto info = store->Stat("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->etag, *replaced);
  // A real conflict is still one: other bytes are there.
  PHRFS_EXPECT_CODE(store->Write("k", Bytes("third"), Precondition::MustNotExist()).status(),
                    Code::kPreconditionFailed);
  PHRFS_EXPECT_CODE(
      store->Write("k", Bytes("third"), Precondition::ETagMatches(*created)).status(),
      Code::kPreconditionFailed);
  EXPECT_EQ(Str(store->Read("k", 0, 100).value()), "second");
}

TEST_F(S3StoreTest, KeysWithReservedCharactersAreSignedAndStoredVerbatim) {
  S3Store* store = Keep(Open([](S3Options&) {}));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->MakeCollection("d ir=+&").ok());
  const std::string key = "d ir=+&/a$b~c%20!'()*";
  ASSERT_TRUE(store->Write(key, Bytes("odd"), Precondition::MustNotExist()).ok());
  EXPECT_EQ(Str(store->Read(key, 0, 10).value()), "odd");
  auto listed = store->List("d ir=+&");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).name, "a$b~c%20!'()*");
}

}  // namespace
}  // namespace phrfs::remote::testing
