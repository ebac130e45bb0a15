// ObjectTree beyond the shared contract: rewrites are atomic when the store fails, concurrent
// rewrites of one object lose nothing, Exchange undoes itself, and the lease object is taken
// over only from a dead process of this host.
#include "remote/object_tree.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "remote/memory_store.h"

namespace phrfs::remote::testing {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string Str(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

#define EXPECT_CODE(expr, code_value) \
  EXPECT_EQ(::phrfs::CodeName((expr).code()), ::phrfs::CodeName(code_value))

// A MemoryStore whose writes or n-th rename can be made to fail, as a full disk or a dropped
// connection would.
class FailingStore final : public ObjectStore {
 public:
  std::atomic<bool> fail_writes{false};
  std::atomic<int> fail_rename_in{0};  // fail the n-th rename from now; 0 = never

  ObjectStore& inner() { return inner_; }

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& c) override { return inner_.List(c); }
  Result<ObjectInfo> DoStat(const std::string& p) override { return inner_.Stat(p); }
  Result<std::vector<uint8_t>> DoRead(const std::string& p, uint64_t offset,
                                      size_t max_length) override {
    return inner_.Read(p, offset, max_length);
  }
  Result<std::string> DoWrite(const std::string& p, std::span<const uint8_t> data,
                              const Precondition& pre) override {
    if (fail_writes) return Status::Error(Code::kNoSpace, "injected: store is full");
    return inner_.Write(p, data, pre);
  }
  Status DoDelete(const std::string& p, const Precondition& pre) override {
    return inner_.Delete(p, pre);
  }
  Status DoMakeCollection(const std::string& p) override { return inner_.MakeCollection(p); }
  Status DoRemoveCollection(const std::string& p) override { return inner_.RemoveCollection(p); }
  Status DoRename(const std::string& from, const std::string& to, RenameOptions o) override {
    if (fail_rename_in > 0 && --fail_rename_in == 0) {
      return Status::Error(Code::kUnavailable, "injected: connection dropped");
    }
    return inner_.Rename(from, to, o);
  }

 private:
  MemoryStore inner_;
};

class ObjectTreeTest : public ::testing::Test {
 protected:
  std::string Get(const std::string& key) {
    std::vector<uint8_t> buf(1 << 16);
    auto got = tree_.Read(key, 0, buf);
    if (!got.ok()) return std::string("<") + CodeName(got.status().code()) + ">";
    return std::string(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
  }
  // Everything in a store collection, temporaries included.
  std::vector<std::string> StoreNames(const std::string& collection) {
    std::vector<std::string> names;
    auto listed = store_->List(collection);
    if (!listed.ok()) return {"<error>"};
    for (const ListEntry& e : *listed) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::string Host() {
    char name[256] = {};
    EXPECT_EQ(::gethostname(name, sizeof(name) - 1), 0);
    return name;
  }
  // The pid of a process that has exited and been reaped.
  static pid_t DeadPid() {
    pid_t child = ::fork();
    if (child == 0) std::_Exit(0);
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    return child;
  }

  std::shared_ptr<FailingStore> store_ = std::make_shared<FailingStore>();
  ObjectTree tree_{store_};
};

TEST_F(ObjectTreeTest, AWriteAtTheStoreRefusesLeavesTheOldBytes) {
  ASSERT_TRUE(tree_.Put("doc", Bytes("0123456789"), PutMode::kReplace).ok());
  store_->fail_writes = true;
  EXPECT_CODE(tree_.WriteAt("doc", 4, Bytes("abcdefghij")), Code::kNoSpace);
  EXPECT_CODE(tree_.Truncate("doc", 2), Code::kNoSpace);
  EXPECT_CODE(tree_.Truncate("doc", 20), Code::kNoSpace);
  store_->fail_writes = false;
  EXPECT_EQ(Get("doc"), "0123456789");
  EXPECT_EQ(StoreNames(""), (std::vector<std::string>{"doc"}));
}

TEST_F(ObjectTreeTest, ConcurrentWriteAtsOnOneObjectLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  ASSERT_TRUE(tree_.Put("doc", {}, PutMode::kReplace).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::vector<uint8_t> byte(1, static_cast<uint8_t>('a' + t));
        if (!tree_.WriteAt("doc", static_cast<uint64_t>(r * kThreads + t), byte).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::string expected;
  for (int r = 0; r < kRounds; ++r) {
    for (int t = 0; t < kThreads; ++t) expected += static_cast<char>('a' + t);
  }
  EXPECT_EQ(Get("doc"), expected);
}

TEST_F(ObjectTreeTest, AWriterOutsideTheTreeIsNotOverwritten) {
  ASSERT_TRUE(tree_.Put("doc", Bytes("aaaa"), PutMode::kReplace).ok());
  // Another client of the store replaces the object; the next WriteAt patches the new bytes.
  ASSERT_TRUE(store_->inner().Write("doc", Bytes("bbbbbbbb"), Precondition::None()).ok());
  ASSERT_TRUE(tree_.WriteAt("doc", 0, Bytes("X")).ok());
  EXPECT_EQ(Get("doc"), "Xbbbbbbb");
}

TEST_F(ObjectTreeTest, ExchangeUndoesItselfWhenARenameFails) {
  ASSERT_TRUE(tree_.MakeFolder("f").ok());
  ASSERT_TRUE(tree_.Put("f/a", Bytes("first"), PutMode::kReplace).ok());
  ASSERT_TRUE(tree_.Put("f/b", Bytes("second"), PutMode::kReplace).ok());
  for (int failing = 1; failing <= 3; ++failing) {
    SCOPED_TRACE(failing);
    store_->fail_rename_in = failing;
    EXPECT_CODE(tree_.Exchange("f/a", "f/b"), Code::kUnavailable);
    store_->fail_rename_in = 0;
    EXPECT_EQ(Get("f/a"), "first");
    EXPECT_EQ(Get("f/b"), "second");
    EXPECT_EQ(StoreNames("f"), (std::vector<std::string>{"a", "b"}));  // nothing parked
  }
  ASSERT_TRUE(tree_.Exchange("f/a", "f/b").ok());
  EXPECT_EQ(Get("f/a"), "second");
}

TEST_F(ObjectTreeTest, ParkedAndLeftoverTemporariesAreHidden) {
  ASSERT_TRUE(store_->inner().Write(".tmp.0123456789abcdef", Bytes("x"), {}).ok());
  ASSERT_TRUE(tree_.Put("real", Bytes("y"), PutMode::kReplace).ok());
  auto listed = tree_.List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "real");
}

TEST_F(ObjectTreeTest, TheLeaseNamesThisHostAndProcessAndGoesWithIt) {
  auto lease = tree_.AcquireLease();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto content = store_->Read(ObjectTree::kLeaseName, 0, 4096);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(Str(*content), Host() + " " + std::to_string(::getpid()));
  lease->reset();
  EXPECT_CODE(store_->Stat(ObjectTree::kLeaseName).status(), Code::kNotFound);
}

TEST_F(ObjectTreeTest, ALeaseLeftByADeadProcessOfThisHostIsTakenOver) {
  const std::string stale = Host() + " " + std::to_string(DeadPid());
  ASSERT_TRUE(store_->Write(ObjectTree::kLeaseName, Bytes(stale), {}).ok());
  auto lease = tree_.AcquireLease();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto content = store_->Read(ObjectTree::kLeaseName, 0, 4096);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(Str(*content), Host() + " " + std::to_string(::getpid()));
  EXPECT_CODE(tree_.AcquireLease().status(), Code::kBusy);
}

TEST_F(ObjectTreeTest, ALeaseOfALiveProcessOrAnotherHostIsBusy) {
  for (const std::string& holder :
       {Host() + " " + std::to_string(::getppid()),          // alive
        "another-host " + std::to_string(DeadPid()),          // cannot tell: never taken
        Host() + " not-a-pid", Host() + " 0", std::string()}) {  // unreadable: never taken
    SCOPED_TRACE(holder);
    ASSERT_TRUE(store_->Write(ObjectTree::kLeaseName, Bytes(holder), {}).ok());
    auto refused = tree_.AcquireLease();
    EXPECT_CODE(refused.status(), Code::kBusy);
    EXPECT_NE(refused.status().message().find("already mounted by another phrfs process"),
              std::string::npos);
    auto content = store_->Read(ObjectTree::kLeaseName, 0, 4096);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(Str(*content), holder);
  }
}

TEST_F(ObjectTreeTest, ReleasingDoesNotDeleteALeaseSomeoneElseTookOver) {
  auto lease = tree_.AcquireLease();
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store_->Write(ObjectTree::kLeaseName, Bytes("other 1"), {}).ok());
  lease->reset();
  auto content = store_->Read(ObjectTree::kLeaseName, 0, 4096);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(Str(*content), "other 1");
}

}  // namespace
}  // namespace phrfs::remote::testing
