// The access logger and reader (fs/audit/) over the object tree on the in-memory store:
// aggregation, concurrency, flush timing, a store that fails or is down, the end flag, the
// reader's merging, filters, table and JSON.
#include "fs/audit/access_logger.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/identity.h"
#include "fs/audit/access_log_reader.h"
#include "fs/audit/log_objects.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "tests/remote/faulty_tree.h"

namespace phrfs::fs {
namespace {

using crypto::LogOp;
using crypto::LogProblemKind;
using namespace std::chrono_literals;

// Every Put fails with Unavailable while `down` is set: a store that stays away for a while.
class DownTree final : public remote::CipherTree {
 public:
  explicit DownTree(std::shared_ptr<remote::CipherTree> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> down{false};
  std::atomic<int> puts_refused{0};

  bool SupportsLinks() const override { return false; }
  Result<std::vector<remote::TreeEntry>> List(const std::string& f) override { return inner_->List(f); }
  Result<remote::TreeStat> Stat(const std::string& p) override { return inner_->Stat(p); }
  Result<size_t> Read(const std::string& p, uint64_t o, std::span<uint8_t> out) override {
    return inner_->Read(p, o, out);
  }
  Status Put(const std::string& p, std::span<const uint8_t> d, remote::PutMode m) override {
    if (down) {
      ++puts_refused;
      return Status::Error(Code::kUnavailable, "store down (test)");
    }
    return inner_->Put(p, d, m);
  }
  Status WriteAt(const std::string& p, uint64_t o, std::span<const uint8_t> d) override {
    return inner_->WriteAt(p, o, d);
  }
  Status Truncate(const std::string& p, uint64_t s) override { return inner_->Truncate(p, s); }
  Status Reserve(const std::string& p, uint64_t s) override { return inner_->Reserve(p, s); }
  Status Sync(const std::string& p) override { return inner_->Sync(p); }
  Status Delete(const std::string& p) override { return inner_->Delete(p); }
  Status MakeFolder(const std::string& p) override { return inner_->MakeFolder(p); }
  Status RemoveFolder(const std::string& p) override { return inner_->RemoveFolder(p); }
  Status Move(const std::string& a, const std::string& b, remote::MoveMode m) override {
    return inner_->Move(a, b, m);
  }
  Status Exchange(const std::string& a, const std::string& b) override { return inner_->Exchange(a, b); }
  Status Link(const std::string& a, const std::string& b) override { return inner_->Link(a, b); }
  Result<remote::TreeSpace> Space() override { return inner_->Space(); }
  Result<std::unique_ptr<remote::TreeLease>> AcquireLease() override { return inner_->AcquireLease(); }

 private:
  std::shared_ptr<remote::CipherTree> inner_;
};

SecureBytes MasterKey() {
  SecureBytes k(32);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 3);
  return k;
}

class AccessLoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_id_.bytes.fill(0x42);
    auto sealer = crypto::PassphraseStoreSealer::Create(MasterKey(), store_id_);
    ASSERT_TRUE(sealer.ok());
    sealer_.emplace(std::move(sealer).value());
  }

  AccessLoggerOptions Options(std::string person = "alice") {
    AccessLoggerOptions o;
    o.person = std::move(person);
    o.flush_interval = 1h;  // tests flush on their own unless they test the timer
    return o;
  }

  std::unique_ptr<AccessLogger> StartOn(remote::CipherTree& tree, AccessLoggerOptions o) {
    auto logger = AccessLogger::Start(tree, *sealer_, std::move(o));
    EXPECT_TRUE(logger.ok()) << logger.status().ToString();
    return logger.ok() ? std::move(logger).value() : nullptr;
  }
  std::unique_ptr<AccessLogger> Start(AccessLoggerOptions o) { return StartOn(*tree_, std::move(o)); }

  AuditLog Read() {
    auto log = ReadAccessLog(*tree_, *sealer_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : AuditLog{};
  }

  static std::string Problems(const AuditLog& log) { return FormatAuditProblems(log.problems); }
  static bool Has(const AuditLog& log, LogProblemKind kind) {
    for (const auto& p : log.problems) {
      if (p.kind == kind) return true;
    }
    return false;
  }
  static uint64_t CountOf(const AuditLog& log, LogOp op, const std::string& path) {
    uint64_t n = 0;
    for (const auto& e : log.entries) {
      if (e.record.op == op && e.record.path == path) n += e.record.count;
    }
    return n;
  }

  crypto::StoreId store_id_;
  std::optional<crypto::PassphraseStoreSealer> sealer_;
  std::shared_ptr<remote::MemoryStore> memory_ = std::make_shared<remote::MemoryStore>();
  std::shared_ptr<remote::ObjectTree> tree_ = std::make_shared<remote::ObjectTree>(memory_);
};

TEST_F(AccessLoggerTest, ThousandOpensOfOneFileAreOneRecord) {
  auto logger = Start(Options());
  ASSERT_NE(logger, nullptr);
  for (int i = 0; i < 1000; ++i) logger->Record(LogOp::kOpenRead, "/labs/2026.pdf", 0);
  ASSERT_TRUE(logger->Close().ok());
  AuditLog log = Read();
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  ASSERT_EQ(log.entries.size(), 1u);
  EXPECT_EQ(log.entries[0].record.count, 1000u);
  EXPECT_EQ(log.entries[0].record.path, "/labs/2026.pdf");
  EXPECT_EQ(log.entries[0].person, "alice");
  EXPECT_EQ(log.entries[0].writer, kOwnerPassphraseWriter);
}

TEST_F(AccessLoggerTest, SameFileOverManyBatchesIsStillOneEntryPerSession) {
  auto logger = Start(Options());
  ASSERT_NE(logger, nullptr);
  for (int batch = 0; batch < 5; ++batch) {
    for (int i = 0; i < 3; ++i) logger->Record(LogOp::kOpenRead, "/a", 0);
    ASSERT_TRUE(logger->Flush().ok());
  }
  ASSERT_TRUE(logger->Close().ok());
  EXPECT_EQ(logger->Stats().objects_written, 7u);  // header, 5 batches, the end
  AuditLog log = Read();
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  ASSERT_EQ(log.entries.size(), 1u);
  EXPECT_EQ(log.entries[0].record.count, 15u);
}

TEST_F(AccessLoggerTest, ConcurrentRecordsFromEightThreadsAddUpExactly) {
  AccessLoggerOptions o = Options();
  o.flush_interval = 2ms;  // flushes run while the threads record
  auto logger = Start(o);
  ASSERT_NE(logger, nullptr);
  constexpr int kThreads = 8, kPerThread = 5000, kPaths = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        logger->Record(i % 2 ? LogOp::kOpenRead : LogOp::kOpenWrite,
                       "/f" + std::to_string((i + t) % kPaths), 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(logger->Close().ok());
  AuditLog log = Read();
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  uint64_t total = 0;
  for (int p = 0; p < kPaths; ++p) {
    const std::string path = "/f" + std::to_string(p);
    EXPECT_EQ(CountOf(log, LogOp::kOpenRead, path) + CountOf(log, LogOp::kOpenWrite, path),
              uint64_t{kThreads} * kPerThread / kPaths)
        << path;
    total += CountOf(log, LogOp::kOpenRead, path) + CountOf(log, LogOp::kOpenWrite, path);
  }
  EXPECT_EQ(total, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(log.entries.size(), 2u * kPaths);  // one entry per (op, path) in the session
}

TEST_F(AccessLoggerTest, TimerFlushesWithinTheInterval) {
  AccessLoggerOptions o = Options();
  o.flush_interval = 50ms;
  auto logger = Start(o);
  ASSERT_NE(logger, nullptr);
  logger->Record(LogOp::kCreate, "/new", 0);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (logger->Stats().objects_written < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(logger->Stats().objects_written, 2u);
  auto objects = ReadLogSession(*tree_, logger->session());
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 2u);
  // Still mounted: the log says the session is open, and the record is already readable.
  AuditLog log = Read();
  EXPECT_TRUE(Has(log, LogProblemKind::kNotClosed)) << Problems(log);
  EXPECT_EQ(CountOf(log, LogOp::kCreate, "/new"), 1u);
}

TEST_F(AccessLoggerTest, NothingIsWrittenBeforeTheIntervalOrTheBound) {
  AccessLoggerOptions o = Options();
  o.flush_at = 10;
  o.max_pending = 100;
  auto logger = Start(o);  // interval 1 h
  ASSERT_NE(logger, nullptr);
  for (int i = 0; i < 9; ++i) logger->Record(LogOp::kOpenRead, "/p" + std::to_string(i), 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(logger->Stats().objects_written, 1u);  // the header only
  EXPECT_EQ(logger->Stats().pending, 9u);
  logger->Record(LogOp::kOpenRead, "/p9", 0);  // the tenth distinct record: flush now
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (logger->Stats().objects_written < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(logger->Stats().objects_written, 2u);
  EXPECT_EQ(logger->Stats().pending, 0u);
}

TEST_F(AccessLoggerTest, FailedPutIsRetriedAndLosesNoRecord) {
  auto faulty = std::make_shared<remote::testing::FaultyTree>(tree_);
  auto logger = StartOn(*faulty, Options());
  ASSERT_NE(logger, nullptr);
  faulty->FailNthWrite(1, Code::kUnavailable);  // the next put: batch 1
  logger->Record(LogOp::kOpenRead, "/a", 0);
  EXPECT_EQ(logger->Flush().code(), Code::kUnavailable);
  EXPECT_TRUE(logger->Stats().behind);
  logger->Record(LogOp::kOpenRead, "/a", 0);
  logger->Record(LogOp::kDelete, "/b", 2);
  ASSERT_TRUE(logger->Flush().ok());  // batch 1 again, then batch 2
  EXPECT_FALSE(logger->Stats().behind);
  EXPECT_EQ(logger->Stats().failed_puts, 1u);
  ASSERT_TRUE(logger->Close().ok());
  AuditLog log = Read();
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/a"), 2u);
  EXPECT_EQ(CountOf(log, LogOp::kDelete, "/b"), 1u);
}

TEST_F(AccessLoggerTest, StartFailsWhenTheHeaderCannotBeWrittenAndLeavesNoBatch) {
  auto faulty = std::make_shared<remote::testing::FaultyTree>(tree_);
  faulty->FailNthWrite(1, Code::kUnavailable);  // the header's put
  auto logger = AccessLogger::Start(*faulty, *sealer_, Options());
  EXPECT_EQ(logger.status().code(), Code::kUnavailable);
  EXPECT_EQ(faulty->writes(), 1u);  // nothing was written after the failure
  auto sessions = ListLogSessions(*tree_);
  ASSERT_TRUE(sessions.ok());
  EXPECT_TRUE(sessions->empty());  // its folder went again

  // An empty session folder left behind (the removal failed too) is no damage, and the next
  // session does not name it.
  ASSERT_TRUE(tree_->MakeFolder(std::string(crypto::kLogFolder) + "/" + std::string(32, 'a')).ok());
  EXPECT_TRUE(Read().problems.empty()) << Problems(Read());
  auto next = Start(Options());
  ASSERT_NE(next, nullptr);
  ASSERT_TRUE(next->Close().ok());
  AuditLog log = Read();
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  EXPECT_EQ(log.sessions, 2u);
}

TEST_F(AccessLoggerTest, LongOutageKeepsCountingAndReportsWhatItDropped) {
  auto down = std::make_shared<DownTree>(tree_);
  AccessLoggerOptions o = Options();
  o.flush_at = 4;
  o.max_pending = 4;
  auto logger = StartOn(*down, o);
  ASSERT_NE(logger, nullptr);
  down->down = true;
  for (int i = 0; i < 4; ++i) logger->Record(LogOp::kOpenRead, "/x" + std::to_string(i), 0);
  EXPECT_FALSE(logger->Flush().ok());  // batch 1 sealed and kept
  for (int i = 0; i < 4; ++i) logger->Record(LogOp::kOpenRead, "/y" + std::to_string(i), 0);
  for (int i = 0; i < 100; ++i) logger->Record(LogOp::kOpenRead, "/y0", 0);  // counted, not new
  for (int i = 0; i < 3; ++i) logger->Record(LogOp::kOpenRead, "/z" + std::to_string(i), 0);
  EXPECT_FALSE(logger->Flush().ok());
  EXPECT_EQ(logger->Stats().pending, 4u);  // bounded: nothing new sealed while behind
  EXPECT_EQ(logger->Stats().dropped, 3u);
  EXPECT_FALSE(logger->Close().ok());  // still down: not closed yet
  down->down = false;
  ASSERT_TRUE(logger->Close().ok());
  AuditLog log = Read();
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/x0"), 1u);
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/y0"), 101u);
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/z0"), 0u);
  EXPECT_EQ(CountOf(log, LogOp::kDropped, ""), 3u);
  ASSERT_EQ(log.problems.size(), 1u) << Problems(log);
  EXPECT_EQ(log.problems[0].kind, LogProblemKind::kDropped);
  EXPECT_NE(log.problems[0].Describe().find("3 accesses"), std::string::npos);
  EXPECT_GT(down->puts_refused.load(), 2);
}

TEST_F(AccessLoggerTest, CloseWritesTheEndFlag) {
  auto logger = Start(Options());
  ASSERT_NE(logger, nullptr);
  logger->Record(LogOp::kOpenRead, "/a", 0);
  ASSERT_TRUE(logger->Flush().ok());
  {
    auto objects = ReadLogSession(*tree_, logger->session());
    ASSERT_TRUE(objects.ok());
    auto v = crypto::VerifySession(logger->session(), *objects, *sealer_);
    EXPECT_FALSE(v.closed);
  }
  ASSERT_TRUE(logger->Close().ok());
  ASSERT_TRUE(logger->Close().ok());  // again: nothing more to write
  auto objects = ReadLogSession(*tree_, logger->session());
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 3u);  // header, batch, end (empty)
  auto v = crypto::VerifySession(logger->session(), *objects, *sealer_);
  EXPECT_TRUE(v.closed);
  EXPECT_TRUE(v.problems.empty());
  logger->Record(LogOp::kOpenRead, "/after", 0);  // a no-op after Close
  EXPECT_EQ(logger->Stats().pending, 0u);
}

TEST_F(AccessLoggerTest, DeletedEarlierSessionIsReported) {
  crypto::LogSessionId first, second;
  for (auto* id : {&first, &second}) {
    auto logger = Start(Options());
    ASSERT_NE(logger, nullptr);
    logger->Record(LogOp::kOpenRead, "/a", 0);
    ASSERT_TRUE(logger->Close().ok());
    *id = logger->session();
  }
  auto third = Start(Options());
  ASSERT_NE(third, nullptr);
  ASSERT_TRUE(third->Close().ok());
  auto refs = ReadSessionReferences(*tree_);
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(refs->at(second), std::vector<crypto::LogSessionId>{first});
  EXPECT_EQ(refs->at(third->session()), std::vector<crypto::LogSessionId>{second});
  EXPECT_TRUE(Read().problems.empty());

  const std::string folder = crypto::LogSessionFolder(second);
  auto objects = tree_->List(folder);
  ASSERT_TRUE(objects.ok());
  for (const auto& e : *objects) ASSERT_TRUE(tree_->Delete(folder + "/" + e.name).ok());
  ASSERT_TRUE(tree_->RemoveFolder(folder).ok());
  AuditLog log = Read();
  ASSERT_EQ(log.problems.size(), 1u) << Problems(log);
  EXPECT_EQ(log.problems[0].kind, LogProblemKind::kMissingSession);
  EXPECT_EQ(log.problems[0].session, second);
}

TEST_F(AccessLoggerTest, ReaderFiltersByPersonTimeAndPathComponent) {
  std::atomic<int64_t> clock{1'796'083'200'000'000'000};  // 2026-12-01 00:00:00Z
  for (const char* person : {"alice", "bob"}) {
    clock = 1'796'083'200'000'000'000;
    AccessLoggerOptions o = Options(person);
    o.now_ns = [&] { return clock.load(); };
    auto logger = Start(o);
    ASSERT_NE(logger, nullptr);
    logger->Record(LogOp::kOpenRead, "/x/a", 0);
    logger->Record(LogOp::kOpenRead, "/x/ab", 0);
    clock += 3600'000'000'000;  // one hour later
    logger->Record(LogOp::kRename, "/y", "/x/c", 0);
    logger->Record(LogOp::kOpenWrite, "/y2", EACCES);
    ASSERT_TRUE(logger->Close().ok());
  }
  AuditLog log = Read();
  ASSERT_TRUE(log.problems.empty()) << Problems(log);
  ASSERT_EQ(log.entries.size(), 8u);

  AuditFilter by_person{.person = "bob"};
  auto bob = FilterAuditEntries(log.entries, by_person);
  ASSERT_EQ(bob.size(), 4u);
  for (const auto& e : bob) EXPECT_EQ(e.person, "bob");

  AuditFilter by_path{.path = "/x"};
  auto under_x = FilterAuditEntries(log.entries, by_path);
  EXPECT_EQ(under_x.size(), 6u);  // /x/a, /x/ab, rename to /x/c; twice
  AuditFilter by_file{.path = "x/a/"};
  auto exact = FilterAuditEntries(log.entries, by_file);
  ASSERT_EQ(exact.size(), 2u);  // not /x/ab
  EXPECT_EQ(exact[0].record.path, "/x/a");

  auto since = ParseAuditTime("2026-12-01T00:30");
  ASSERT_TRUE(since.ok());
  AuditFilter later{.since_ns = *since};
  auto after = FilterAuditEntries(log.entries, later);
  EXPECT_EQ(after.size(), 4u);  // the renames and the failed writes
  for (const auto& e : after) EXPECT_GE(e.record.first_ns, *since);
}

TEST_F(AccessLoggerTest, TableIsAlignedAndJsonIsOneObjectPerLine) {
  AccessLoggerOptions o = Options();
  o.now_ns = [] { return int64_t{1'796'120'430'000'000'000}; };  // 2026-12-01 10:20:30Z
  auto logger = Start(o);
  ASSERT_NE(logger, nullptr);
  for (int i = 0; i < 3; ++i) logger->Record(LogOp::kOpenRead, "/a \"quoted\"\nname", 0);
  logger->Record(LogOp::kOpenWrite, "/a-much-longer-path/file", EACCES);
  ASSERT_TRUE(logger->Close().ok());
  AuditLog log = Read();
  ASSERT_TRUE(log.problems.empty()) << Problems(log);

  const std::string table = FormatAuditTable(log.entries);
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = table.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(table.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 3u) << table;  // the newline in the name is escaped
  const size_t op_col = lines[0].find("OP");
  const size_t result_col = lines[0].find("RESULT");
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find("open-"), op_col) << table;
    EXPECT_EQ(lines[i].size(), lines[0].size()) << table;
  }
  EXPECT_NE(table.find("2026-12-01 10:20:30Z"), std::string::npos) << table;
  EXPECT_NE(table.find("\\x0a"), std::string::npos) << table;
  bool ok_row = false, eacces_row = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    ok_row = ok_row || lines[i].compare(result_col, 3, "ok ") == 0;
    eacces_row = eacces_row || lines[i].compare(result_col, 6, "EACCES") == 0;
  }
  EXPECT_TRUE(ok_row && eacces_row) << table;
  EXPECT_NE(table.find("EACCES"), std::string::npos) << table;

  const std::string json = FormatAuditJson(log.entries);
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 2) << json;
  EXPECT_NE(json.find(R"("path":"/a \"quoted\"\nname")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("count":3)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("result":13,"result_name":"EACCES")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("person":"alice")"), std::string::npos) << json;
}

TEST_F(AccessLoggerTest, ProblemsAreSaidLoudly) {
  auto logger = Start(Options());
  ASSERT_NE(logger, nullptr);
  for (int i = 0; i < 3; ++i) {
    logger->Record(LogOp::kOpenRead, "/a" + std::to_string(i), 0);
    ASSERT_TRUE(logger->Flush().ok());
  }
  ASSERT_TRUE(logger->Close().ok());
  ASSERT_TRUE(tree_->Delete(crypto::LogObjectPath(logger->session(), 2)).ok());
  AuditLog log = Read();
  ASSERT_EQ(log.problems.size(), 1u) << Problems(log);
  const std::string text = FormatAuditProblems(log.problems);
  EXPECT_EQ(text, "WARNING: access log damaged: session " +
                      crypto::LogSessionHex(logger->session()).substr(0, 12) +
                      " object 2 missing\n");
  const std::string json = FormatAuditProblemsJson(log.problems);
  EXPECT_NE(json.find(R"("problem":"missing-object")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("object":2)"), std::string::npos) << json;
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/a0"), 1u);  // the rest still reads
  EXPECT_EQ(CountOf(log, LogOp::kOpenRead, "/a2"), 1u);
}

TEST(AuditTimeTest, ParsesUtcDatesAndDateTimes) {
  EXPECT_EQ(ParseAuditTime("2026-12-01").value(), int64_t{1'796'083'200} * 1'000'000'000);
  EXPECT_EQ(ParseAuditTime("2026-12-01T10:20:30Z").value(), int64_t{1'796'120'430} * 1'000'000'000);
  EXPECT_EQ(ParseAuditTime("2026-12-01 10:20:30").value(), int64_t{1'796'120'430} * 1'000'000'000);
  EXPECT_EQ(ParseAuditTime("2026-12-01T10:20").value(), int64_t{1'796'120'400} * 1'000'000'000);
  for (const char* bad : {"", "2026-12", "2026-13-01", "2026-02-31", "2026-12-01T25:00",
                          "2026-12-01T10", "2026-12-01T10:20:3", "yesterday", "2999-01-01",
                          "1969-12-31", "2026-12-01+01:00"}) {
    EXPECT_EQ(ParseAuditTime(bad).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatAuditTime(int64_t{1'796'120'430} * 1'000'000'000 + 5), "2026-12-01 10:20:30Z");
}

// A store whose log holds sessions sealed three ways: with the store passphrase (the owner's
// own mount), to the owner's identity (a grantee's mount) and to another owner's identity.
class MixedSealersTest : public AccessLoggerTest {
 protected:
  void SetUp() override {
    AccessLoggerTest::SetUp();
    auto owner = crypto::Identity::Generate();
    auto other = crypto::Identity::Generate();
    auto grantee = crypto::Identity::Generate();
    ASSERT_TRUE(owner.ok() && other.ok() && grantee.ok());
    owner_public_ = owner->public_identity();
    other_public_ = other->public_identity();
    grantee_fingerprint_ = crypto::Fingerprint(grantee->public_identity());
    owner_.emplace(crypto::IdentitySealer::ForOpening(std::move(owner).value()));
    other_.emplace(crypto::IdentitySealer::ForOpening(std::move(other).value()));

    passphrase_session_ = Write(*sealer_, kOwnerPassphraseWriter, "alice", "/own/notes.txt");
    // What a grantee's mount does: it knows only the owner's public identity.
    crypto::IdentitySealer to_owner = crypto::IdentitySealer::ForSealing(owner_public_);
    grantee_session_ = Write(to_owner, grantee_fingerprint_, "bob", "/alice/shared/plan.pdf");
    crypto::IdentitySealer to_other = crypto::IdentitySealer::ForSealing(other_public_);
    other_session_ = Write(to_other, "somebody", "carol", "/carol/secret.txt");
    last_session_ = Write(*sealer_, kOwnerPassphraseWriter, "alice", "/own/last.txt");
  }

  crypto::LogSessionId Write(crypto::SessionKeySealer& sealer, const std::string& writer,
                             const std::string& person, const std::string& path) {
    AccessLoggerOptions o = Options(person);
    o.writer = writer;
    auto logger = AccessLogger::Start(*tree_, sealer, std::move(o));
    EXPECT_TRUE(logger.ok()) << logger.status().ToString();
    if (!logger.ok()) return {};
    (*logger)->Record(LogOp::kOpenRead, path, 0);
    EXPECT_TRUE((*logger)->Close().ok());
    return (*logger)->session();
  }

  AuditLog ReadWith(std::vector<crypto::SessionKeySealer*> sealers) {
    auto log = ReadAccessLog(*tree_, sealers);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : AuditLog{};
  }

  static std::vector<std::string> People(const AuditLog& log) {
    std::vector<std::string> out;
    for (const auto& e : log.entries) out.push_back(e.person + " " + e.record.path);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Rewrites object `seq` of `session` with `change` applied.
  void Change(const crypto::LogSessionId& session, uint64_t seq,
              const std::function<void(std::vector<uint8_t>&)>& change) {
    const std::string path = crypto::LogObjectPath(session, seq);
    auto bytes = ReadLogObject(*tree_, path);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    change(*bytes);
    ASSERT_TRUE(tree_->Put(path, *bytes, remote::PutMode::kReplace).ok());
  }
  // Where the sealed session key sits in a header object.
  static size_t WrappedKeyAt(const std::vector<uint8_t>& header) {
    auto pub = crypto::ParseLogHeaderPublic(header);
    EXPECT_TRUE(pub.ok());
    if (!pub.ok()) return 0;
    auto at = std::search(header.begin(), header.end(), pub->wrapped_key.begin(),
                          pub->wrapped_key.end());
    EXPECT_NE(at, header.end());
    return static_cast<size_t>(at - header.begin());
  }

  crypto::PublicIdentity owner_public_, other_public_;
  std::string grantee_fingerprint_;
  std::optional<crypto::IdentitySealer> owner_, other_;
  crypto::LogSessionId passphrase_session_, grantee_session_, other_session_, last_session_;
};

TEST_F(MixedSealersTest, PassphraseAndIdentityTogetherReadTheOwnersSessionsAndCountTheOthers) {
  AuditLog log = ReadWith({&*sealer_, &*owner_});
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  EXPECT_EQ(log.sessions, 4u);
  EXPECT_EQ(People(log), (std::vector<std::string>{"alice /own/last.txt", "alice /own/notes.txt",
                                                   "bob /alice/shared/plan.pdf"}));
  for (const auto& e : log.entries) {
    if (e.person == "bob") {
      EXPECT_EQ(e.writer, grantee_fingerprint_);  // as the writer gave it
    }
  }
  EXPECT_EQ(log.other_owner_sessions,
            (std::map<std::string, size_t>{{crypto::Fingerprint(other_public_), 1}}));
  EXPECT_TRUE(log.need_identity_sessions.empty());
  EXPECT_EQ(log.need_passphrase_sessions, 0u);
  EXPECT_EQ(FormatAuditSkipped(log), "sessions of other owners: 1 (sealed to " +
                                         crypto::Fingerprint(other_public_) + "; not read)\n");
  EXPECT_EQ(FormatAuditSkippedJson(log), R"({"skipped":"other-owner","sessions":1,"owner":")" +
                                             crypto::Fingerprint(other_public_) + "\"}\n");
  // The sealer order does not matter: each session goes to the sealer its key names.
  EXPECT_EQ(People(ReadWith({&*owner_, &*sealer_})), People(log));

  // The other owner, with only their identity, sees only their own session.
  AuditLog theirs = ReadWith({&*other_});
  EXPECT_TRUE(theirs.problems.empty()) << Problems(theirs);
  EXPECT_EQ(People(theirs), std::vector<std::string>{"carol /carol/secret.txt"});
  EXPECT_EQ(theirs.need_passphrase_sessions, 2u);
  EXPECT_EQ(theirs.other_owner_sessions,
            (std::map<std::string, size_t>{{crypto::Fingerprint(owner_public_), 1}}));
}

// A grantee's mount signs its session with its identity: the owner then sees the name the
// keyrings give that key, whatever name the writer gave; an unsigned session of someone else,
// or one signed by a key no grant names, says so.
TEST_F(MixedSealersTest, SignedSessionsAreNamedByTheOwnersGrantsAndOthersAreMarked) {
  auto bob = crypto::Identity::Generate();
  auto stranger = crypto::Identity::Generate();
  ASSERT_TRUE(bob.ok() && stranger.ok());
  const std::string bob_fp = crypto::Fingerprint(bob->public_identity());
  auto write_signed = [&](crypto::Identity identity, const std::string& person, const std::string& path) {
    crypto::IdentitySealer to_owner = crypto::IdentitySealer::ForSealing(owner_public_);
    AccessLoggerOptions o = Options(person);
    o.writer = crypto::Fingerprint(identity.public_identity());
    o.signer = std::make_shared<const crypto::Identity>(std::move(identity));
    auto logger = AccessLogger::Start(*tree_, to_owner, std::move(o));
    ASSERT_TRUE(logger.ok()) << logger.status().ToString();
    (*logger)->Record(LogOp::kOpenRead, path, 0);
    ASSERT_TRUE((*logger)->Close().ok());
  };
  write_signed(std::move(bob).value(), "bob-says", "/labs/a.txt");
  write_signed(std::move(stranger).value(), "dr_bob", "/labs/b.txt");
  // A signer whose fingerprint is not the writer is refused before anything is written.
  {
    crypto::IdentitySealer to_owner = crypto::IdentitySealer::ForSealing(owner_public_);
    AccessLoggerOptions o = Options("x");
    o.writer = bob_fp;
    o.signer = std::make_shared<const crypto::Identity>(std::move(crypto::Identity::Generate()).value());
    EXPECT_EQ(AccessLogger::Start(*tree_, to_owner, std::move(o)).status().code(), Code::kInvalidArgument);
  }
  AuditLog log = ReadWith({&*sealer_, &*owner_});
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  size_t signed_entries = 0;
  for (const auto& e : log.entries) signed_entries += e.signed_by ? 1 : 0;
  EXPECT_EQ(signed_entries, 2u);
  NameWriters(log.entries, {{bob_fp, "dr_bob"}});
  std::vector<std::string> people = People(log);
  ASSERT_EQ(people.size(), 5u);
  EXPECT_EQ(people[0], "alice /own/last.txt");  // the owner's own sessions: unchanged
  EXPECT_EQ(people[1], "alice /own/notes.txt");
  EXPECT_EQ(people[2], "bob (unsigned) /alice/shared/plan.pdf");
  EXPECT_EQ(people[3].rfind("dr_bob (key ", 0), 0u) << people[3];  // claims dr_bob, not the key
  EXPECT_NE(people[3].find(", no grant) /labs/b.txt"), std::string::npos) << people[3];
  EXPECT_EQ(people[4], "dr_bob /labs/a.txt");  // the grant's name, not "bob-says"
}

TEST_F(MixedSealersTest, WithoutTheIdentityItsSessionsAreCountedNotDamage) {
  AuditLog log = ReadWith({&*sealer_});
  EXPECT_TRUE(log.problems.empty()) << Problems(log);
  EXPECT_EQ(People(log),
            (std::vector<std::string>{"alice /own/last.txt", "alice /own/notes.txt"}));
  EXPECT_TRUE(log.other_owner_sessions.empty());  // no identity given: cannot tell whose
  EXPECT_EQ(log.need_identity_sessions,
            (std::map<std::string, size_t>{{crypto::Fingerprint(owner_public_), 1},
                                           {crypto::Fingerprint(other_public_), 1}}));
  const std::string summary = FormatAuditSkipped(log);
  EXPECT_NE(summary.find("2 sessions need --identity (sealed to "), std::string::npos) << summary;
  EXPECT_NE(summary.find(crypto::Fingerprint(owner_public_) + ": 1"), std::string::npos) << summary;

  // Identity only: the passphrase sessions are the ones counted.
  AuditLog identity_only = ReadWith({&*owner_});
  EXPECT_TRUE(identity_only.problems.empty()) << Problems(identity_only);
  EXPECT_EQ(People(identity_only), std::vector<std::string>{"bob /alice/shared/plan.pdf"});
  EXPECT_EQ(identity_only.need_passphrase_sessions, 2u);
  EXPECT_NE(FormatAuditSkipped(identity_only).find("2 sessions need the store passphrase"),
            std::string::npos)
      << FormatAuditSkipped(identity_only);
}

TEST_F(MixedSealersTest, UnreadSessionsStillCountInTheChain) {
  // Deleting another owner's session (which this owner cannot read) is still seen: the session
  // after it names it. (Sessions were written in order: passphrase, grantee, other, last.)
  const std::string folder = crypto::LogSessionFolder(other_session_);
  auto objects = tree_->List(folder);
  ASSERT_TRUE(objects.ok());
  for (const auto& e : *objects) ASSERT_TRUE(tree_->Delete(folder + "/" + e.name).ok());
  ASSERT_TRUE(tree_->RemoveFolder(folder).ok());
  AuditLog log = ReadWith({&*sealer_, &*owner_});
  ASSERT_EQ(log.problems.size(), 1u) << Problems(log);
  EXPECT_EQ(log.problems[0].kind, LogProblemKind::kMissingSession);
  EXPECT_EQ(log.problems[0].session, other_session_);
  EXPECT_TRUE(log.other_owner_sessions.empty());
}

TEST_F(MixedSealersTest, UnreadSessionsReferencesCountToo) {
  // The grantee's session deleted while reading without the identity: the only session that
  // names it is the other owner's, unread, whose header's public part still counts.
  const std::string grantee_folder = crypto::LogSessionFolder(grantee_session_);
  auto grantee_objects = tree_->List(grantee_folder);
  ASSERT_TRUE(grantee_objects.ok());
  for (const auto& e : *grantee_objects) {
    ASSERT_TRUE(tree_->Delete(grantee_folder + "/" + e.name).ok());
  }
  ASSERT_TRUE(tree_->RemoveFolder(grantee_folder).ok());
  AuditLog without = ReadWith({&*sealer_});
  ASSERT_EQ(without.problems.size(), 1u) << Problems(without);
  EXPECT_EQ(without.problems[0].kind, LogProblemKind::kMissingSession);
  EXPECT_EQ(without.problems[0].session, grantee_session_);
}

TEST_F(MixedSealersTest, DamagedIdentitySealedSessionIsAProblem) {
  // The grantee's session's only batch (its end) altered.
  Change(grantee_session_, 1, [](std::vector<uint8_t>& b) { b[b.size() - 5] ^= 0x01; });
  AuditLog log = ReadWith({&*sealer_, &*owner_});
  EXPECT_TRUE(Has(log, LogProblemKind::kAltered)) << Problems(log);
  EXPECT_TRUE(Has(log, LogProblemKind::kNotClosed)) << Problems(log);
  for (const auto& p : log.problems) EXPECT_EQ(p.session, grantee_session_) << p.Describe();
  EXPECT_EQ(People(log), (std::vector<std::string>{"alice /own/last.txt", "alice /own/notes.txt"}));
}

TEST_F(MixedSealersTest, DamagedSealedKeyIsAProblemNotAnotherOwner) {
  // The stanza of the grantee's session key altered (its address still names the owner).
  Change(grantee_session_, 0, [](std::vector<uint8_t>& b) {
    size_t at = WrappedKeyAt(b);
    b[at + 40] ^= 0x01;
  });
  AuditLog log = ReadWith({&*sealer_, &*owner_});
  ASSERT_EQ(log.problems.size(), 1u) << Problems(log);
  EXPECT_EQ(log.problems[0].kind, LogProblemKind::kKeyUnreadable);
  EXPECT_EQ(log.problems[0].session, grantee_session_);
  EXPECT_TRUE(log.other_owner_sessions.count(crypto::Fingerprint(other_public_)) == 1);

  // A kind byte this build does not know is damage too, with or without an identity.
  Change(passphrase_session_, 0, [](std::vector<uint8_t>& b) { b[WrappedKeyAt(b)] = 0x07; });
  for (auto sealers : {std::vector<crypto::SessionKeySealer*>{&*sealer_},
                       std::vector<crypto::SessionKeySealer*>{&*sealer_, &*owner_}}) {
    AuditLog again = ReadWith(sealers);
    bool named = false;
    for (const auto& p : again.problems) {
      named |= p.kind == LogProblemKind::kKeyUnreadable && p.session == passphrase_session_;
    }
    EXPECT_TRUE(named) << Problems(again);
  }

  // A passphrase-sealed key relabelled as identity-sealed has the wrong size: damage, not an
  // unread session.
  Change(last_session_, 0, [](std::vector<uint8_t>& b) { b[WrappedKeyAt(b)] = crypto::kSealedToIdentity; });
  AuditLog relabelled = ReadWith({&*sealer_});
  bool named = false;
  for (const auto& p : relabelled.problems) {
    named |= p.kind == LogProblemKind::kKeyUnreadable && p.session == last_session_;
  }
  EXPECT_TRUE(named) << Problems(relabelled);
  EXPECT_EQ(relabelled.need_identity_sessions.size(), 2u);  // the two real ones only
}

}  // namespace
}  // namespace phrfs::fs
