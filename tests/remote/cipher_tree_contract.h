// The contract every CipherTree must pass (remote/cipher_tree.h), as a typed, parameterised
// GoogleTest suite. A tree's test file supplies a harness type and instantiates the suite:
//
//   struct MyHarness {
//     phrfs::Status SetUp();                // create the tree (fresh and empty)
//     phrfs::remote::CipherTree& tree();    // valid after a successful SetUp
//   };                                      // the destructor removes everything SetUp created
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, CipherTreeContractTest, MyHarness);
//
// Single-threaded fixture; the concurrency cases start their own threads.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remote/cipher_tree.h"

namespace phrfs::remote::testing {

inline std::vector<uint8_t> TreeBytes(const std::string& s) { return {s.begin(), s.end()}; }

#define PHRFS_EXPECT_TREE_CODE(expr, code_value) \
  EXPECT_EQ(::phrfs::CodeName((expr).code()), ::phrfs::CodeName(code_value))

template <class Harness>
class CipherTreeContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = harness_.SetUp();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  CipherTree& tree() { return harness_.tree(); }

  void Put(const std::string& key, const std::string& content) {
    Status st = tree().Put(key, TreeBytes(content), PutMode::kReplace);
    EXPECT_TRUE(st.ok()) << key << ": " << st.ToString();
  }
  void MakeFolder(const std::string& key) {
    Status st = tree().MakeFolder(key);
    EXPECT_TRUE(st.ok()) << key << ": " << st.ToString();
  }
  // The whole object, or "<Code>" when it cannot be read.
  std::string Get(const std::string& key) {
    std::string out;
    std::vector<uint8_t> buf(4096);
    for (;;) {
      auto got = tree().Read(key, out.size(), buf);
      if (!got.ok()) return std::string("<") + CodeName(got.status().code()) + ">";
      out.append(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
      if (*got < buf.size()) return out;
    }
  }
  // Sorted names in a folder; folders get a trailing '/'.
  std::vector<std::string> Names(const std::string& folder) {
    auto r = tree().List(folder);
    EXPECT_TRUE(r.ok()) << folder << ": " << r.status().ToString();
    std::vector<std::string> names;
    if (r.ok()) {
      for (const TreeEntry& e : *r) names.push_back(e.name + (e.is_folder ? "/" : ""));
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  uint64_t SizeOf(const std::string& key) {
    auto st = tree().Stat(key);
    EXPECT_TRUE(st.ok()) << key << ": " << st.status().ToString();
    return st.ok() ? st->size : ~uint64_t{0};
  }

  Harness harness_;
};

TYPED_TEST_SUITE_P(CipherTreeContractTest);

using Strings = std::vector<std::string>;

TYPED_TEST_P(CipherTreeContractTest, PutThenReadReturnsTheSameBytes) {
  std::vector<uint8_t> data(70000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  ASSERT_TRUE(this->tree().Put("blob", data, PutMode::kMustNotExist).ok());
  std::vector<uint8_t> back(data.size() + 10);
  auto got = this->tree().Read("blob", 0, back);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(*got, data.size());
  back.resize(*got);
  EXPECT_EQ(back, data);
  auto st = this->tree().Stat("blob");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_FALSE(st->is_folder);
  EXPECT_EQ(st->size, data.size());
  EXPECT_EQ(st->links, 1u);
}

TYPED_TEST_P(CipherTreeContractTest, PutReplacesAWholeObject) {
  this->Put("doc", "a long first version");
  this->Put("doc", "short");
  EXPECT_EQ(this->Get("doc"), "short");
  EXPECT_EQ(this->SizeOf("doc"), 5u);
  ASSERT_TRUE(this->tree().Put("empty", {}, PutMode::kReplace).ok());
  EXPECT_EQ(this->Get("empty"), "");
  EXPECT_EQ(this->SizeOf("empty"), 0u);
}

TYPED_TEST_P(CipherTreeContractTest, PutMustNotExistRefusesAnExistingObject) {
  this->Put("doc", "old");
  PHRFS_EXPECT_TREE_CODE(this->tree().Put("doc", TreeBytes("new"), PutMode::kMustNotExist),
                         Code::kAlreadyExists);
  EXPECT_EQ(this->Get("doc"), "old");
  EXPECT_EQ(this->Names(""), (Strings{"doc"}));  // no temporary left behind
}

TYPED_TEST_P(CipherTreeContractTest, PutNeedsAnExistingFolder) {
  PHRFS_EXPECT_TREE_CODE(this->tree().Put("nope/doc", TreeBytes("x"), PutMode::kReplace),
                         Code::kNotFound);
  this->Put("file", "x");
  PHRFS_EXPECT_TREE_CODE(this->tree().Put("file/doc", TreeBytes("x"), PutMode::kReplace),
                         Code::kNotADirectory);
  EXPECT_EQ(this->Names(""), (Strings{"file"}));
}

TYPED_TEST_P(CipherTreeContractTest, ReadHonoursOffsetsAndStopsAtTheEnd) {
  this->Put("doc", "0123456789");
  std::vector<uint8_t> buf(4);
  auto got = this->tree().Read("doc", 3, buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 4u);
  EXPECT_EQ(std::string(buf.begin(), buf.end()), "3456");
  got = this->tree().Read("doc", 8, buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 2u);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + 2), "89");
  got = this->tree().Read("doc", 10, buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);
  got = this->tree().Read("doc", 1000, buf);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);
}

TYPED_TEST_P(CipherTreeContractTest, ReadAndStatReportMissingObjectsAndFolders) {
  std::vector<uint8_t> buf(4);
  PHRFS_EXPECT_TREE_CODE(this->tree().Read("missing", 0, buf).status(), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Read("no/such", 0, buf).status(), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Stat("missing").status(), Code::kNotFound);
  this->MakeFolder("dir");
  PHRFS_EXPECT_TREE_CODE(this->tree().Read("dir", 0, buf).status(), Code::kIsADirectory);
  auto st = this->tree().Stat("dir");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->is_folder);
  EXPECT_EQ(st->size, 0u);
}

TYPED_TEST_P(CipherTreeContractTest, MalformedAndTemporaryKeysAreRefused) {
  std::vector<uint8_t> buf(4);
  for (const std::string& key : Strings{"", "/a", "a/", "a//b", "./a", "a/..",
                                        std::string("a\0b", 3), ".tmp.0123456789abcdef",
                                        "d/.tmp.x"}) {
    SCOPED_TRACE(key);
    PHRFS_EXPECT_TREE_CODE(this->tree().Put(key, TreeBytes("x"), PutMode::kReplace),
                           Code::kInvalidArgument);
    PHRFS_EXPECT_TREE_CODE(this->tree().Read(key, 0, buf).status(), Code::kInvalidArgument);
    PHRFS_EXPECT_TREE_CODE(this->tree().Stat(key).status(), Code::kInvalidArgument);
    PHRFS_EXPECT_TREE_CODE(this->tree().MakeFolder(key), Code::kInvalidArgument);
  }
  PHRFS_EXPECT_TREE_CODE(this->tree().List("a//b").status(), Code::kInvalidArgument);
  EXPECT_TRUE(this->Names("").empty());
}

TYPED_TEST_P(CipherTreeContractTest, ListShowsDirectChildrenOnly) {
  EXPECT_TRUE(this->Names("").empty());
  this->MakeFolder("a");
  this->MakeFolder("a/b");
  this->Put("a/x", "1");
  this->Put("a/b/y", "2");
  this->Put("top", "3");
  EXPECT_EQ(this->Names(""), (Strings{"a/", "top"}));
  EXPECT_EQ(this->Names("a"), (Strings{"b/", "x"}));
  EXPECT_EQ(this->Names("a/b"), (Strings{"y"}));
  PHRFS_EXPECT_TREE_CODE(this->tree().List("missing").status(), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().List("top").status(), Code::kNotADirectory);
}

TYPED_TEST_P(CipherTreeContractTest, WriteAtPatchesAndExtendsWithZeros) {
  this->Put("doc", "hello world");
  ASSERT_TRUE(this->tree().WriteAt("doc", 6, TreeBytes("WORLD")).ok());
  EXPECT_EQ(this->Get("doc"), "hello WORLD");
  ASSERT_TRUE(this->tree().WriteAt("doc", 9, TreeBytes("LD and more")).ok());
  EXPECT_EQ(this->Get("doc"), "hello WORLD and more");
  ASSERT_TRUE(this->tree().WriteAt("doc", 23, TreeBytes("!")).ok());
  EXPECT_EQ(this->Get("doc"), std::string("hello WORLD and more\0\0\0!", 24));
  EXPECT_EQ(this->SizeOf("doc"), 24u);
  ASSERT_TRUE(this->tree().WriteAt("doc", 0, {}).ok());
  EXPECT_EQ(this->SizeOf("doc"), 24u);
}

TYPED_TEST_P(CipherTreeContractTest, WriteAtNeedsAnExistingObject) {
  PHRFS_EXPECT_TREE_CODE(this->tree().WriteAt("missing", 0, TreeBytes("x")), Code::kNotFound);
  this->MakeFolder("dir");
  PHRFS_EXPECT_TREE_CODE(this->tree().WriteAt("dir", 0, TreeBytes("x")), Code::kIsADirectory);
  EXPECT_EQ(this->Names(""), (Strings{"dir/"}));
}

TYPED_TEST_P(CipherTreeContractTest, TruncateCutsAndExtendsWithZeros) {
  this->Put("doc", "0123456789");
  ASSERT_TRUE(this->tree().Truncate("doc", 4).ok());
  EXPECT_EQ(this->Get("doc"), "0123");
  ASSERT_TRUE(this->tree().Truncate("doc", 7).ok());
  EXPECT_EQ(this->Get("doc"), std::string("0123\0\0\0", 7));
  ASSERT_TRUE(this->tree().Truncate("doc", 0).ok());
  EXPECT_EQ(this->Get("doc"), "");
  PHRFS_EXPECT_TREE_CODE(this->tree().Truncate("missing", 1), Code::kNotFound);
}

TYPED_TEST_P(CipherTreeContractTest, ReserveAndSyncSucceedOnExistingKeys) {
  this->MakeFolder("dir");
  this->Put("dir/doc", "abc");
  EXPECT_TRUE(this->tree().Reserve("dir/doc", 1 << 20).ok());
  EXPECT_TRUE(this->tree().Reserve("dir/doc", 0).ok());
  EXPECT_EQ(this->Get("dir/doc"), "abc");  // reserving does not change the size
  EXPECT_EQ(this->SizeOf("dir/doc"), 3u);
  EXPECT_TRUE(this->tree().Sync("dir/doc").ok());
  EXPECT_TRUE(this->tree().Sync("dir").ok());
  EXPECT_TRUE(this->tree().Sync("").ok());
}

TYPED_TEST_P(CipherTreeContractTest, DeleteRemovesOnlyObjects) {
  this->Put("doc", "x");
  ASSERT_TRUE(this->tree().Delete("doc").ok());
  PHRFS_EXPECT_TREE_CODE(this->tree().Stat("doc").status(), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Delete("doc"), Code::kNotFound);
  this->MakeFolder("dir");
  PHRFS_EXPECT_TREE_CODE(this->tree().Delete("dir"), Code::kIsADirectory);
  EXPECT_EQ(this->Names(""), (Strings{"dir/"}));
}

TYPED_TEST_P(CipherTreeContractTest, MakeFolderIsOneLevelAndRefusesExisting) {
  this->MakeFolder("a");
  PHRFS_EXPECT_TREE_CODE(this->tree().MakeFolder("a"), Code::kAlreadyExists);
  PHRFS_EXPECT_TREE_CODE(this->tree().MakeFolder("x/y"), Code::kNotFound);
  this->Put("doc", "x");
  PHRFS_EXPECT_TREE_CODE(this->tree().MakeFolder("doc"), Code::kAlreadyExists);
  this->MakeFolder("a/b");
  EXPECT_EQ(this->Names("a"), (Strings{"b/"}));
}

TYPED_TEST_P(CipherTreeContractTest, RemoveFolderOnlyWhenEmpty) {
  this->MakeFolder("a");
  this->Put("a/doc", "x");
  PHRFS_EXPECT_TREE_CODE(this->tree().RemoveFolder("a"), Code::kNotEmpty);
  EXPECT_EQ(this->Get("a/doc"), "x");
  PHRFS_EXPECT_TREE_CODE(this->tree().RemoveFolder("a/doc"), Code::kNotADirectory);
  PHRFS_EXPECT_TREE_CODE(this->tree().RemoveFolder("missing"), Code::kNotFound);
  ASSERT_TRUE(this->tree().Delete("a/doc").ok());
  ASSERT_TRUE(this->tree().RemoveFolder("a").ok());
  EXPECT_TRUE(this->Names("").empty());
}

TYPED_TEST_P(CipherTreeContractTest, MoveRenamesAcrossFolders) {
  this->MakeFolder("a");
  this->MakeFolder("b");
  this->Put("a/doc", "content");
  ASSERT_TRUE(this->tree().Move("a/doc", "b/renamed", MoveMode::kNoReplace).ok());
  EXPECT_TRUE(this->Names("a").empty());
  EXPECT_EQ(this->Get("b/renamed"), "content");
  PHRFS_EXPECT_TREE_CODE(this->tree().Move("a/doc", "b/x", MoveMode::kReplace), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Move("b/renamed", "c/x", MoveMode::kReplace),
                         Code::kNotFound);
  EXPECT_EQ(this->Get("b/renamed"), "content");
}

TYPED_TEST_P(CipherTreeContractTest, MoveReplacesOnlyWhenAllowed) {
  this->Put("src", "new");
  this->Put("dst", "old");
  PHRFS_EXPECT_TREE_CODE(this->tree().Move("src", "dst", MoveMode::kNoReplace),
                         Code::kAlreadyExists);
  EXPECT_EQ(this->Get("src"), "new");
  EXPECT_EQ(this->Get("dst"), "old");
  ASSERT_TRUE(this->tree().Move("src", "dst", MoveMode::kReplace).ok());
  EXPECT_EQ(this->Get("dst"), "new");
  EXPECT_EQ(this->Names(""), (Strings{"dst"}));
}

TYPED_TEST_P(CipherTreeContractTest, MoveRefusesFolders) {
  this->MakeFolder("dir");
  this->Put("doc", "x");
  PHRFS_EXPECT_TREE_CODE(this->tree().Move("dir", "other", MoveMode::kNoReplace),
                         Code::kIsADirectory);
  PHRFS_EXPECT_TREE_CODE(this->tree().Move("doc", "dir", MoveMode::kReplace),
                         Code::kIsADirectory);
  EXPECT_EQ(this->Names(""), (Strings{"dir/", "doc"}));
}

TYPED_TEST_P(CipherTreeContractTest, ExchangeSwapsTwoObjects) {
  this->MakeFolder("f");
  this->Put("a", "first");
  this->Put("f/b", "second, longer");
  ASSERT_TRUE(this->tree().Exchange("a", "f/b").ok());
  EXPECT_EQ(this->Get("a"), "second, longer");
  EXPECT_EQ(this->Get("f/b"), "first");
  EXPECT_EQ(this->Names(""), (Strings{"a", "f/"}));
  EXPECT_EQ(this->Names("f"), (Strings{"b"}));
}

TYPED_TEST_P(CipherTreeContractTest, ExchangeNeedsTwoExistingObjects) {
  this->Put("a", "first");
  this->MakeFolder("dir");
  PHRFS_EXPECT_TREE_CODE(this->tree().Exchange("a", "missing"), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Exchange("missing", "a"), Code::kNotFound);
  PHRFS_EXPECT_TREE_CODE(this->tree().Exchange("a", "dir"), Code::kIsADirectory);
  EXPECT_EQ(this->Get("a"), "first");
  EXPECT_EQ(this->Names(""), (Strings{"a", "dir/"}));
}

TYPED_TEST_P(CipherTreeContractTest, LinkGivesASecondNameOrIsNotSupported) {
  this->MakeFolder("f");
  this->Put("a", "shared");
  Status st = this->tree().Link("a", "f/b");
  if (!this->tree().SupportsLinks()) {
    PHRFS_EXPECT_TREE_CODE(st, Code::kNotSupported);
    EXPECT_TRUE(this->Names("f").empty());
    return;
  }
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(this->tree().WriteAt("f/b", 0, TreeBytes("SH")).ok());
  EXPECT_EQ(this->Get("a"), "SHared");
  auto stat = this->tree().Stat("a");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->links, 2u);
  PHRFS_EXPECT_TREE_CODE(this->tree().Link("a", "f/b"), Code::kAlreadyExists);
  PHRFS_EXPECT_TREE_CODE(this->tree().Link("missing", "c"), Code::kNotFound);
}

TYPED_TEST_P(CipherTreeContractTest, SpaceReportsSomething) {
  auto space = this->tree().Space();
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_GT(space->block_size, 0u);
  EXPECT_GT(space->blocks, 0u);
  EXPECT_LE(space->blocks_free, space->blocks);
  EXPECT_LE(space->blocks_available, space->blocks_free);
}

TYPED_TEST_P(CipherTreeContractTest, OneLeaseAtATime) {
  auto first = this->tree().AcquireLease();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = this->tree().AcquireLease();
  PHRFS_EXPECT_TREE_CODE(second.status(), Code::kBusy);
  first->reset();  // released
  auto third = this->tree().AcquireLease();
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

// The descriptor cache of the direct tree must never serve what a name used to be.
TYPED_TEST_P(CipherTreeContractTest, ReadsFollowReplacementsOfAName) {
  this->MakeFolder("f");
  this->Put("f/a", "a1");
  this->Put("f/b", "b1");
  EXPECT_EQ(this->Get("f/a"), "a1");
  EXPECT_EQ(this->Get("f/b"), "b1");
  this->Put("f/a", "a2");
  EXPECT_EQ(this->Get("f/a"), "a2");
  ASSERT_TRUE(this->tree().Exchange("f/a", "f/b").ok());
  EXPECT_EQ(this->Get("f/a"), "b1");
  EXPECT_EQ(this->Get("f/b"), "a2");
  ASSERT_TRUE(this->tree().Move("f/b", "f/a", MoveMode::kReplace).ok());
  EXPECT_EQ(this->Get("f/a"), "a2");
  EXPECT_EQ(this->Get("f/b"), "<NotFound>");
  ASSERT_TRUE(this->tree().Delete("f/a").ok());
  EXPECT_EQ(this->Get("f/a"), "<NotFound>");
  ASSERT_TRUE(this->tree().RemoveFolder("f").ok());
  this->MakeFolder("f");
  this->Put("f/a", "fresh");
  ASSERT_TRUE(this->tree().WriteAt("f/a", 0, TreeBytes("F")).ok());
  EXPECT_EQ(this->Get("f/a"), "Fresh");
  EXPECT_EQ(this->Names("f"), (Strings{"a"}));
}

TYPED_TEST_P(CipherTreeContractTest, ConcurrentWritesAndReadsOnDifferentObjects) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 40;
  this->MakeFolder("t");
  for (int t = 0; t < kThreads; ++t) this->Put("t/obj" + std::to_string(t), "");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "t/obj" + std::to_string(t);
      std::vector<uint8_t> chunk(512, static_cast<uint8_t>('a' + t));
      std::vector<uint8_t> back(chunk.size());
      for (int r = 0; r < kRounds; ++r) {
        uint64_t offset = static_cast<uint64_t>(r) * chunk.size();
        if (!this->tree().WriteAt(key, offset, chunk).ok()) ++failures;
        auto got = this->tree().Read(key, offset, back);
        if (!got.ok() || *got != back.size() || back != chunk) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(this->SizeOf("t/obj" + std::to_string(t)), 512u * kRounds);
  }
}

TYPED_TEST_P(CipherTreeContractTest, ReadersSeeTheOldOrTheNewObjectNeverAMix) {
  const std::string a(8192, 'a');
  const std::string b(8192, 'b');
  this->Put("doc", a);
  std::atomic<bool> done{false};
  std::atomic<int> mixed{0};
  std::thread reader([&] {
    std::vector<uint8_t> buf(a.size() + 1);
    while (!done) {
      auto got = this->tree().Read("doc", 0, buf);  // one call: one version of the object
      std::string seen = got.ok() ? std::string(buf.begin(), buf.begin() + *got) : "";
      if (seen != a && seen != b) ++mixed;
    }
  });
  for (int i = 0; i < 100; ++i) this->Put("doc", i % 2 ? a : b);
  done = true;
  reader.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_EQ(this->Names(""), (Strings{"doc"}));
}

REGISTER_TYPED_TEST_SUITE_P(CipherTreeContractTest, PutThenReadReturnsTheSameBytes,
                            PutReplacesAWholeObject, PutMustNotExistRefusesAnExistingObject,
                            PutNeedsAnExistingFolder, ReadHonoursOffsetsAndStopsAtTheEnd,
                            ReadAndStatReportMissingObjectsAndFolders,
                            MalformedAndTemporaryKeysAreRefused, ListShowsDirectChildrenOnly,
                            WriteAtPatchesAndExtendsWithZeros, WriteAtNeedsAnExistingObject,
                            TruncateCutsAndExtendsWithZeros, ReserveAndSyncSucceedOnExistingKeys,
                            DeleteRemovesOnlyObjects, MakeFolderIsOneLevelAndRefusesExisting,
                            RemoveFolderOnlyWhenEmpty, MoveRenamesAcrossFolders,
                            MoveReplacesOnlyWhenAllowed, MoveRefusesFolders,
                            ExchangeSwapsTwoObjects, ExchangeNeedsTwoExistingObjects,
                            LinkGivesASecondNameOrIsNotSupported, SpaceReportsSomething,
                            OneLeaseAtATime, ReadsFollowReplacementsOfAName,
                            ConcurrentWritesAndReadsOnDifferentObjects,
                            ReadersSeeTheOldOrTheNewObjectNeverAMix);

}  // namespace phrfs::remote::testing
