// The contract every ObjectStore must pass (README.md "Design decisions"), as a typed, parameterised
// GoogleTest suite. A store's test file supplies a harness type and instantiates the suite:
//
//   struct MyHarness {
//     phrfs::Status SetUp();                // create the store (fresh and empty)
//     phrfs::remote::ObjectStore& store();  // valid after a successful SetUp
//   };                                      // the destructor removes everything SetUp created
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, ObjectStoreContractTest, MyHarness);
//
// Single-threaded fixture; the concurrency cases start their own threads.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remote/object_store.h"

namespace phrfs::remote::testing {

inline std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
inline std::string Str(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

#define PHRFS_EXPECT_CODE(expr, code_value) \
  EXPECT_EQ(::phrfs::CodeName((expr).code()), ::phrfs::CodeName(code_value))

template <class Harness>
class ObjectStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = harness_.SetUp();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  ObjectStore& store() { return harness_.store(); }

  // Writes without a precondition and fails the test on error; returns the etag.
  std::string Put(const std::string& key, const std::string& content) {
    auto r = store().Write(key, Bytes(content), Precondition::None());
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    return r.ok() ? r.value() : std::string();
  }
  std::string Get(const std::string& key) {
    auto r = store().Read(key, 0, 1 << 20);
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
    return r.ok() ? Str(r.value()) : std::string("<error>");
  }
  std::vector<std::string> Names(const std::string& collection) {
    auto r = store().List(collection);
    EXPECT_TRUE(r.ok()) << collection << ": " << r.status().ToString();
    std::vector<std::string> names;
    if (r.ok()) {
      for (const ListEntry& e : r.value()) names.push_back(e.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Harness harness_;
};

TYPED_TEST_SUITE_P(ObjectStoreContractTest);

TYPED_TEST_P(ObjectStoreContractTest, WriteThenReadReturnsTheSameBytes) {
  std::vector<uint8_t> data(70000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  auto etag = this->store().Write("blob", data, Precondition::None());
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_FALSE(etag->empty());
  auto back = this->store().Read("blob", 0, data.size() + 10);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value(), data);
  auto info = this->store().Stat("blob");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->is_collection);
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(info->etag, etag.value());
  EXPECT_GT(info->mtime_ns, 0);
}

TYPED_TEST_P(ObjectStoreContractTest, EmptyObjectRoundTrips) {
  ASSERT_TRUE(this->store().Write("empty", {}, Precondition::MustNotExist()).ok());
  auto back = this->store().Read("empty", 0, 100);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->empty());
  auto info = this->store().Stat("empty");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 0u);
}

TYPED_TEST_P(ObjectStoreContractTest, RangedReadsReturnOnlyTheAvailableBytes) {
  this->Put("r", "0123456789");
  auto mid = this->store().Read("r", 3, 4);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(Str(*mid), "3456");
  auto tail = this->store().Read("r", 7, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(Str(*tail), "789");
  auto at_end = this->store().Read("r", 10, 5);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->empty());
  auto past_end = this->store().Read("r", 1000, 5);
  ASSERT_TRUE(past_end.ok());
  EXPECT_TRUE(past_end->empty());
  auto none = this->store().Read("r", 2, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A huge maximum must not be taken as an allocation size.
  auto all = this->store().Read("r", 0, SIZE_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Str(*all), "0123456789");
}

TYPED_TEST_P(ObjectStoreContractTest, OverwriteReplacesContentAndChangesETag) {
  std::string first = this->Put("o", "a long first version");
  std::string second = this->Put("o", "short");
  EXPECT_NE(first, second);
  EXPECT_EQ(this->Get("o"), "short");
  auto info = this->store().Stat("o");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->etag, second);
}

TYPED_TEST_P(ObjectStoreContractTest, MustNotExistFailsOnAnExistingObject) {
  ASSERT_TRUE(this->store().Write("k", Bytes("one"), Precondition::MustNotExist()).ok());
  auto again = this->store().Write("k", Bytes("two"), Precondition::MustNotExist());
  ASSERT_FALSE(again.ok());
  PHRFS_EXPECT_CODE(again.status(), Code::kPreconditionFailed);
  EXPECT_EQ(this->Get("k"), "one");
}

TYPED_TEST_P(ObjectStoreContractTest, ETagPreconditionWritesOnlyOverTheExpectedVersion) {
  std::string v1 = this->Put("e", "v1");
  auto v2 = this->store().Write("e", Bytes("v2"), Precondition::ETagMatches(v1));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(this->Get("e"), "v2");
  // v1 is stale now: the write is refused and nothing changes.
  auto stale = this->store().Write("e", Bytes("v3"), Precondition::ETagMatches(v1));
  ASSERT_FALSE(stale.ok());
  PHRFS_EXPECT_CODE(stale.status(), Code::kPreconditionFailed);
  EXPECT_EQ(this->Get("e"), "v2");
  auto bogus = this->store().Write("e", Bytes("v3"), Precondition::ETagMatches("no-such-etag"));
  PHRFS_EXPECT_CODE(bogus.status(), Code::kPreconditionFailed);
  // An etag precondition on a missing object cannot hold.
  auto missing = this->store().Write("nope", Bytes("x"), Precondition::ETagMatches(v2.value()));
  PHRFS_EXPECT_CODE(missing.status(), Code::kPreconditionFailed);
  PHRFS_EXPECT_CODE(this->store().Stat("nope").status(), Code::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, DeleteRemovesAndHonoursETag) {
  std::string etag = this->Put("d", "x");
  PHRFS_EXPECT_CODE(this->store().Delete("d", Precondition::ETagMatches("wrong")),
                    Code::kPreconditionFailed);
  EXPECT_EQ(this->Get("d"), "x");
  PHRFS_EXPECT_CODE(this->store().Delete("d", Precondition::MustNotExist()),
                    Code::kInvalidArgument);
  Status st = this->store().Delete("d", Precondition::ETagMatches(etag));
  EXPECT_TRUE(st.ok()) << st.ToString();
  PHRFS_EXPECT_CODE(this->store().Stat("d").status(), Code::kNotFound);
  this->Put("d2", "y");
  EXPECT_TRUE(this->store().Delete("d2").ok());
  PHRFS_EXPECT_CODE(this->store().Read("d2", 0, 10).status(), Code::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, ReadIfMatchServesOnlyTheExpectedVersion) {
  std::string first = this->Put("m", "0123456789");
  auto got = this->store().ReadIfMatch("m", 2, 3, first);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(Str(*got), "234");
  auto past = this->store().ReadIfMatch("m", 20, 3, first);
  ASSERT_TRUE(past.ok()) << past.status().ToString();
  EXPECT_TRUE(past->empty());
  std::string second = this->Put("m", "abcdefghij");
  PHRFS_EXPECT_CODE(this->store().ReadIfMatch("m", 2, 3, first).status(),
                    Code::kPreconditionFailed);
  auto now = this->store().ReadIfMatch("m", 2, 3, second);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(Str(*now), "cde");
  PHRFS_EXPECT_CODE(this->store().ReadIfMatch("gone", 0, 3, second).status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().ReadIfMatch("m", 0, 3, "").status(), Code::kInvalidArgument);
}

TYPED_TEST_P(ObjectStoreContractTest, ReadWholeGivesTheBytesAndTheETagToWriteOver) {
  std::string first = this->Put("m", "0123456789");
  auto whole = this->store().ReadWhole("m", 100);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(Str(whole->bytes), "0123456789");
  EXPECT_EQ(whole->etag, first);
  // Written over since: a write conditioned on the etag read is refused.
  std::string second = this->Put("m", "abcdefghij");
  PHRFS_EXPECT_CODE(
      this->store().Write("m", Bytes("lost"), Precondition::ETagMatches(whole->etag)).status(),
      Code::kPreconditionFailed);
  auto again = this->store().ReadWhole("m", 10);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Str(again->bytes), "abcdefghij");
  EXPECT_EQ(again->etag, second);
  EXPECT_TRUE(
      this->store().Write("m", Bytes("kept"), Precondition::ETagMatches(again->etag)).ok());
  PHRFS_EXPECT_CODE(this->store().ReadWhole("m", 3).status(), Code::kFileTooBig);
  this->Put("empty", "");
  auto empty = this->store().ReadWhole("empty", 10);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->bytes.empty());
  EXPECT_FALSE(empty->etag.empty());
  ASSERT_TRUE(this->store().MakeCollection("c").ok());
  PHRFS_EXPECT_CODE(this->store().ReadWhole("c", 10).status(), Code::kIsADirectory);
  PHRFS_EXPECT_CODE(this->store().ReadWhole("gone", 10).status(), Code::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, MissingKeysAreNotFound) {
  PHRFS_EXPECT_CODE(this->store().Delete("missing"), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Stat("missing").status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Read("missing", 0, 1).status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().List("missing").status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().RemoveCollection("missing"), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Stat("no/such/thing").status(), Code::kNotFound);
  // A write needs its parent collection.
  auto orphan = this->store().Write("nodir/x", Bytes("x"), Precondition::None());
  PHRFS_EXPECT_CODE(orphan.status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().MakeCollection("nodir/sub"), Code::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, ListShowsDirectChildrenWithSizes) {
  EXPECT_TRUE(this->Names("").empty());
  ASSERT_TRUE(this->store().MakeCollection("c").ok());
  ASSERT_TRUE(this->store().MakeCollection("c/sub").ok());
  std::string etag_a = this->Put("c/a", "12345");
  this->Put("c/b", "");
  this->Put("c/sub/deep", "not listed in c");
  this->Put("top", "t");
  auto listed = this->store().List("c");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  std::vector<ListEntry> entries = listed.value();
  std::sort(entries.begin(), entries.end(),
            [](const ListEntry& x, const ListEntry& y) { return x.name < y.name; });
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_FALSE(entries[0].is_collection);
  EXPECT_EQ(entries[0].size, 5u);
  EXPECT_EQ(entries[0].etag, etag_a);
  EXPECT_EQ(entries[1].name, "b");
  EXPECT_EQ(entries[1].size, 0u);
  EXPECT_EQ(entries[2].name, "sub");
  EXPECT_TRUE(entries[2].is_collection);
  EXPECT_EQ(entries[2].size, 0u);
  EXPECT_EQ(this->Names(""), (std::vector<std::string>{"c", "top"}));
  EXPECT_EQ(this->Names("c/sub"), (std::vector<std::string>{"deep"}));
  PHRFS_EXPECT_CODE(this->store().List("top").status(), Code::kNotADirectory);
}

TYPED_TEST_P(ObjectStoreContractTest, CollectionsAreCreatedAndRemoved) {
  ASSERT_TRUE(this->store().MakeCollection("col").ok());
  auto info = this->store().Stat("col");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_collection);
  EXPECT_EQ(info->size, 0u);
  PHRFS_EXPECT_CODE(this->store().MakeCollection("col"), Code::kAlreadyExists);
  this->Put("obj", "x");
  PHRFS_EXPECT_CODE(this->store().MakeCollection("obj"), Code::kAlreadyExists);
  PHRFS_EXPECT_CODE(this->store().RemoveCollection("obj"), Code::kNotADirectory);
  PHRFS_EXPECT_CODE(this->store().Read("col", 0, 1).status(), Code::kIsADirectory);
  PHRFS_EXPECT_CODE(this->store().Delete("col"), Code::kIsADirectory);
  PHRFS_EXPECT_CODE(this->store().Write("col", Bytes("x"), Precondition::None()).status(),
                    Code::kIsADirectory);
  PHRFS_EXPECT_CODE(this->store().Write("obj/child", Bytes("x"), Precondition::None()).status(),
                    Code::kNotADirectory);
  EXPECT_TRUE(this->store().RemoveCollection("col").ok());
  PHRFS_EXPECT_CODE(this->store().Stat("col").status(), Code::kNotFound);
}

TYPED_TEST_P(ObjectStoreContractTest, RemoveCollectionRefusesANonEmptyOne) {
  ASSERT_TRUE(this->store().MakeCollection("full").ok());
  this->Put("full/x", "x");
  PHRFS_EXPECT_CODE(this->store().RemoveCollection("full"), Code::kNotEmpty);
  EXPECT_EQ(this->Get("full/x"), "x");
  ASSERT_TRUE(this->store().Delete("full/x").ok());
  EXPECT_TRUE(this->store().RemoveCollection("full").ok());
}

TYPED_TEST_P(ObjectStoreContractTest, RenameMovesWithoutReplacingUnlessAsked) {
  this->Put("src", "source");
  this->Put("dst", "target");
  PHRFS_EXPECT_CODE(this->store().Rename("src", "dst", RenameOptions{}), Code::kAlreadyExists);
  EXPECT_EQ(this->Get("src"), "source");
  EXPECT_EQ(this->Get("dst"), "target");
  ASSERT_TRUE(this->store().Rename("src", "fresh", RenameOptions{}).ok());
  PHRFS_EXPECT_CODE(this->store().Stat("src").status(), Code::kNotFound);
  EXPECT_EQ(this->Get("fresh"), "source");
  ASSERT_TRUE(this->store().Rename("fresh", "dst", RenameOptions{.replace = true}).ok());
  EXPECT_EQ(this->Get("dst"), "source");
  PHRFS_EXPECT_CODE(this->store().Stat("fresh").status(), Code::kNotFound);
  EXPECT_EQ(this->Names(""), (std::vector<std::string>{"dst"}));
}

TYPED_TEST_P(ObjectStoreContractTest, RenameMovesAWholeCollection) {
  ASSERT_TRUE(this->store().MakeCollection("a").ok());
  ASSERT_TRUE(this->store().MakeCollection("a/b").ok());
  this->Put("a/b/f", "deep");
  ASSERT_TRUE(this->store().MakeCollection("z").ok());
  ASSERT_TRUE(this->store().Rename("a", "z/moved", RenameOptions{}).ok());
  EXPECT_EQ(this->Get("z/moved/b/f"), "deep");
  PHRFS_EXPECT_CODE(this->store().Stat("a").status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Stat("a/b/f").status(), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Rename("z", "z/moved/b/inside", RenameOptions{}),
                    Code::kInvalidArgument);
  // Replacing a non-empty collection is refused; an empty one may be replaced.
  ASSERT_TRUE(this->store().MakeCollection("other").ok());
  this->Put("other/keep", "k");
  PHRFS_EXPECT_CODE(this->store().Rename("z/moved", "other", RenameOptions{.replace = true}),
                    Code::kNotEmpty);
  ASSERT_TRUE(this->store().MakeCollection("empty").ok());
  ASSERT_TRUE(this->store().Rename("z/moved", "empty", RenameOptions{.replace = true}).ok());
  EXPECT_EQ(this->Get("empty/b/f"), "deep");
}

TYPED_TEST_P(ObjectStoreContractTest, RenameOfAMissingKeyIsNotFound) {
  PHRFS_EXPECT_CODE(this->store().Rename("ghost", "anything", RenameOptions{}), Code::kNotFound);
  PHRFS_EXPECT_CODE(this->store().Rename("ghost", "anything", RenameOptions{.replace = true}),
                    Code::kNotFound);
  this->Put("real", "r");
  PHRFS_EXPECT_CODE(this->store().Rename("real", "nodir/x", RenameOptions{}), Code::kNotFound);
  EXPECT_EQ(this->Get("real"), "r");
}

TYPED_TEST_P(ObjectStoreContractTest, KeysThatCouldEscapeTheRootAreRejected) {
  const std::vector<std::string> bad = {"", "../x", "a/../../b", "..", ".", "./x", "a//b",
                                        "/abs", "trailing/", std::string("nul\0byte", 8)};
  ASSERT_TRUE(this->store().MakeCollection("a").ok());
  for (const std::string& key : bad) {
    SCOPED_TRACE("key=" + key);
    PHRFS_EXPECT_CODE(this->store().Write(key, Bytes("x"), Precondition::None()).status(),
                      Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().Read(key, 0, 1).status(), Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().Stat(key).status(), Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().Delete(key), Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().MakeCollection(key), Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().RemoveCollection(key), Code::kInvalidArgument);
    PHRFS_EXPECT_CODE(this->store().Rename("a", key, RenameOptions{}), Code::kInvalidArgument);
    if (!key.empty()) {
      PHRFS_EXPECT_CODE(this->store().List(key).status(), Code::kInvalidArgument);
    }
  }
  // Nothing was created anywhere.
  EXPECT_EQ(this->Names(""), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(this->Names("a").empty());
}

TYPED_TEST_P(ObjectStoreContractTest, ConcurrentWritersToDistinctKeysAllLand) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = this->store().Write(key, Bytes(key + "-payload"), Precondition::MustNotExist());
        if (!r.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->Names("").size(), static_cast<size_t>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_EQ(this->Get(key), key + "-payload");
    }
  }
}

TYPED_TEST_P(ObjectStoreContractTest, ConcurrentETagWritersFromOneVersionHaveExactlyOneWinner) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    std::string key = "race" + std::to_string(round);
    std::string base = this->Put(key, "base");
    std::atomic<int> wins{0};
    std::atomic<int> other_errors{0};
    std::atomic<int> winner{-1};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Start together so the check-then-commit windows overlap.
        ready++;
        while (ready.load() < kThreads) std::this_thread::yield();
        auto r = this->store().Write(key, Bytes("writer" + std::to_string(t)),
                                     Precondition::ETagMatches(base));
        if (r.ok()) {
          wins++;
          winner = t;
        } else if (r.status().code() != Code::kPreconditionFailed) {
          other_errors++;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    EXPECT_EQ(other_errors.load(), 0);
    EXPECT_EQ(this->Get(key), "writer" + std::to_string(winner.load()));
  }
}

TYPED_TEST_P(ObjectStoreContractTest, ConcurrentMustNotExistWritersHaveExactlyOneWinner) {
  constexpr int kThreads = 4;
  std::atomic<int> wins{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = this->store().Write("once", Bytes("w" + std::to_string(t)),
                                   Precondition::MustNotExist());
      if (r.ok()) wins++;
      if (!r.ok() && r.status().code() == Code::kPreconditionFailed) refused++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
}

REGISTER_TYPED_TEST_SUITE_P(ObjectStoreContractTest, WriteThenReadReturnsTheSameBytes,
                            EmptyObjectRoundTrips, RangedReadsReturnOnlyTheAvailableBytes,
                            OverwriteReplacesContentAndChangesETag,
                            MustNotExistFailsOnAnExistingObject,
                            ETagPreconditionWritesOnlyOverTheExpectedVersion,
                            DeleteRemovesAndHonoursETag,
                            ReadIfMatchServesOnlyTheExpectedVersion,
                            ReadWholeGivesTheBytesAndTheETagToWriteOver, MissingKeysAreNotFound,
                            ListShowsDirectChildrenWithSizes, CollectionsAreCreatedAndRemoved,
                            RemoveCollectionRefusesANonEmptyOne,
                            RenameMovesWithoutReplacingUnlessAsked, RenameMovesAWholeCollection,
                            RenameOfAMissingKeyIsNotFound,
                            KeysThatCouldEscapeTheRootAreRejected,
                            ConcurrentWritersToDistinctKeysAllLand,
                            ConcurrentETagWritersFromOneVersionHaveExactlyOneWinner,
                            ConcurrentMustNotExistWritersHaveExactlyOneWinner);

}  // namespace phrfs::remote::testing
