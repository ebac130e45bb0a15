// The fault-injecting tree that other tests build on: an injected failure changes nothing, a
// short write leaves exactly the first half, and the counters count what they say.
#include "tests/remote/faulty_tree.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "remote/memory_store.h"
#include "remote/object_tree.h"

namespace phrfs::remote::testing {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

class FaultyTreeTest : public ::testing::Test {
 protected:
  std::string Get(const std::string& key) {
    std::vector<uint8_t> buf(4096);
    auto got = faulty_.Read(key, 0, buf);
    if (!got.ok()) return std::string("<") + CodeName(got.status().code()) + ">";
    return std::string(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
  }

  std::shared_ptr<CipherTree> inner_ =
      std::make_shared<ObjectTree>(std::make_shared<MemoryStore>());
  FaultyTree faulty_{inner_};
};

TEST_F(FaultyTreeTest, TheNthWriteFailsWithTheGivenCodeAndChangesNothing) {
  ASSERT_TRUE(faulty_.Put("doc", Bytes("0123456789"), PutMode::kReplace).ok());
  faulty_.FailNthWrite(3, Code::kNoSpace);
  EXPECT_TRUE(faulty_.WriteAt("doc", 0, Bytes("A")).ok());         // 1st
  EXPECT_TRUE(faulty_.Truncate("doc", 9).ok());                     // 2nd
  Status failed = faulty_.WriteAt("doc", 1, Bytes("BBBB"));         // 3rd: fails
  EXPECT_EQ(failed.code(), Code::kNoSpace) << failed.ToString();
  EXPECT_EQ(Get("doc"), "A12345678");
  EXPECT_TRUE(faulty_.WriteAt("doc", 1, Bytes("BBBB")).ok());        // fires once only
  EXPECT_EQ(Get("doc"), "ABBBB5678");

  for (int kind = 0; kind < 3; ++kind) {  // Put, Truncate and Reserve count and fail alike
    faulty_.FailNthWrite(1, Code::kIoError);
    Status st = kind == 0   ? faulty_.Put("doc", Bytes("new"), PutMode::kReplace)
                : kind == 1 ? faulty_.Truncate("doc", 0)
                            : faulty_.Reserve("doc", 1 << 20);
    EXPECT_EQ(st.code(), Code::kIoError) << kind;
    EXPECT_EQ(Get("doc"), "ABBBB5678");
  }
}

TEST_F(FaultyTreeTest, AShortWriteLeavesTheFirstHalfAndReportsNoSpace) {
  ASSERT_TRUE(faulty_.Put("doc", Bytes("........"), PutMode::kReplace).ok());
  faulty_.ShortNthWrite(2);
  EXPECT_TRUE(faulty_.WriteAt("doc", 0, Bytes("a")).ok());
  EXPECT_TRUE(faulty_.Put("other", Bytes("x"), PutMode::kReplace).ok());  // not a WriteAt
  Status st = faulty_.WriteAt("doc", 2, Bytes("bcdefg"));
  EXPECT_EQ(st.code(), Code::kNoSpace) << st.ToString();
  EXPECT_EQ(Get("doc"), "a.bcd...");
  EXPECT_TRUE(faulty_.WriteAt("doc", 2, Bytes("BCDEFG")).ok());
  EXPECT_EQ(Get("doc"), "a.BCDEFG");
}

TEST_F(FaultyTreeTest, CountsWritesAndEveryOtherMutation) {
  ASSERT_TRUE(faulty_.MakeFolder("f").ok());
  ASSERT_TRUE(faulty_.Put("f/a", Bytes("1"), PutMode::kReplace).ok());
  ASSERT_TRUE(faulty_.Put("f/b", Bytes("2"), PutMode::kReplace).ok());
  ASSERT_TRUE(faulty_.WriteAt("f/a", 1, Bytes("x")).ok());
  ASSERT_TRUE(faulty_.Exchange("f/a", "f/b").ok());
  ASSERT_TRUE(faulty_.Move("f/a", "f/c", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(faulty_.Delete("f/c").ok());
  EXPECT_EQ(Get("f/b"), "1x");
  // Reads, listings, stats and syncs change nothing and are not counted.
  (void)faulty_.List("f");
  (void)faulty_.Stat("f/b");
  (void)faulty_.Sync("f/b");
  EXPECT_EQ(faulty_.writes(), 3u);
  EXPECT_EQ(faulty_.mutating_calls(), 7u);
}

}  // namespace
}  // namespace phrfs::remote::testing
