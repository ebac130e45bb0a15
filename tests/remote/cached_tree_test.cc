// CachedTree (remote/cache/cached_tree.h): the CipherTree contract, a randomized differential run
// against ObjectTree with injected store faults and crashes, lazy ranged fetches, Sync and the
// write-back delay, offline work, conflicts, listing TTL, eviction, the cache-dir lock.
// Debugging the differential run: PHRFS_TRACE_DIFF=1 prints every op and the cache's log,
// PHRFS_TRACE_ALL=1 also compares every key after every op.
#include "remote/cache/cached_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "remote/local_store.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "tests/remote/cipher_tree_contract.h"
#include "tests/remote/faulty_store.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {
namespace {

using namespace std::chrono_literals;

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

CachedTreeOptions FastOptions() {
  CachedTreeOptions o;
  o.write_back_delay = 5ms;
  o.retry_min = 1ms;
  o.retry_max = 20ms;
  return o;
}

// Every key of a store: objects map to their bytes, folders to "<folder>".
std::map<std::string, std::string> Dump(ObjectStore& store) {
  std::map<std::string, std::string> out;
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string folder = todo.back();
    todo.pop_back();
    auto listed = store.List(folder);
    EXPECT_TRUE(listed.ok()) << folder << ": " << listed.status().ToString();
    if (!listed.ok()) continue;
    for (const ListEntry& e : *listed) {
      std::string key = folder.empty() ? e.name : folder + "/" + e.name;
      if (e.is_collection) {
        out[key] = "<folder>";
        todo.push_back(key);
        continue;
      }
      auto bytes = store.Read(key, 0, 1 << 30);
      out[key] = bytes.ok() ? std::string(bytes->begin(), bytes->end()) : "<unreadable>";
    }
  }
  return out;
}

std::string StoreGet(ObjectStore& store, const std::string& key) {
  auto bytes = store.Read(key, 0, 1 << 30);
  if (!bytes.ok()) return std::string("<") + CodeName(bytes.status().code()) + ">";
  return std::string(bytes->begin(), bytes->end());
}

std::string TreeGet(CipherTree& tree, const std::string& key) {
  std::string out;
  std::vector<uint8_t> buf(1000);
  for (;;) {
    auto got = tree.Read(key, out.size(), buf);
    if (!got.ok()) return std::string("<") + CodeName(got.status().code()) + ">";
    out.append(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
    if (*got < buf.size()) return out;
  }
}

std::string TreeNames(CipherTree& tree, const std::string& folder) {
  auto listed = tree.List(folder);
  if (!listed.ok()) return std::string("<") + CodeName(listed.status().code()) + ">";
  std::vector<std::string> names;
  for (const TreeEntry& e : *listed) names.push_back(e.name + (e.is_folder ? "/" : ""));
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += n + " ";
  return out;
}

// Short, printable stand-in for object contents in failure messages.
std::string Digest(const std::string& s) {
  if (!s.empty() && s[0] == '<') return s;
  return std::to_string(s.size()) + "b#" + std::to_string(std::hash<std::string>{}(s) % 100000);
}

std::map<std::string, std::string> Digests(std::map<std::string, std::string> m) {
  for (auto& [k, v] : m) v = Digest(v);
  return m;
}

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

}  // namespace

// ----- The contract suite.

class CachedTreeOverMemoryHarness {
 public:
  Status SetUp() {
    if (!dir_.ok()) return Status::IoError("mkdtemp failed");
    auto tree = CachedTree::Open(store_, dir_.path() + "/cache", FastOptions());
    if (!tree.ok()) return tree.status();
    tree_ = std::move(tree).value();
    return Status::Ok();
  }
  CipherTree& tree() { return *tree_; }

 private:
  TempDir dir_;
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  std::unique_ptr<CachedTree> tree_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(CachedOverMemory, CipherTreeContractTest,
                               CachedTreeOverMemoryHarness);

// ----- A fixture with a faulty store in front of a memory store.

class CachedTreeTest : public ::testing::Test {
 protected:
  void Open(CachedTreeOptions options = FastOptions()) {
    options_ = options;
    auto tree = CachedTree::Open(faulty_, dir_.path() + "/cache", options);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    tree_ = std::move(tree).value();
  }
  void Reopen() {
    tree_.reset();
    Open(options_);
  }
  void Crash() {
    tree_->Abandon();
    tree_.reset();
    Open(options_);
  }
  void StorePut(const std::string& key, const std::string& content) {
    ASSERT_TRUE(memory_->Write(key, Bytes(content), Precondition::None()).ok());
  }

  TempDir dir_;
  std::shared_ptr<MemoryStore> memory_ = std::make_shared<MemoryStore>();
  std::shared_ptr<FaultyStore> faulty_ = std::make_shared<FaultyStore>(memory_);
  CachedTreeOptions options_;
  std::unique_ptr<CachedTree> tree_;
};

// ----- Differential run against the uncached tree.

class CachedTreeDifferentialTest : public CachedTreeTest,
                                   public ::testing::WithParamInterface<uint32_t> {};

TEST_P(CachedTreeDifferentialTest, MatchesTheObjectTreeDespiteFaultsAndCrashes) {
  const uint32_t seed = GetParam();
  std::mt19937 rng(seed);
  CachedTreeOptions options = FastOptions();
  options.chunk_size = 512;          // many chunks per object
  options.cache_limit_bytes = 6000;  // eviction happens all the time
  options.listing_ttl = 3ms;         // and so do revalidations
  options.write_back_delay = std::chrono::milliseconds(rng() % 4);
  options.upload_threads = 1 + static_cast<int>(rng() % 3);
  options.assume_new_names_offline = false;  // the reference cannot guess: compare like for like
  if (getenv("PHRFS_TRACE_DIFF")) {
    options.log = [](LogLevel, const std::string& m) { std::fprintf(stderr, "  %s\n", m.c_str()); };
  }
  Open(options);
  faulty_->SetRandomFaults(seed, 0.08, 0.04);

  auto reference_store = std::make_shared<MemoryStore>();
  ObjectTree reference(reference_store);

  const std::vector<std::string> folders = {"", "d0", "d1", "d0/e"};
  const std::vector<std::string> leaves = {"a", "b", "c"};
  auto any = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  auto object_key = [&] {
    std::string f = any(folders);
    return f.empty() ? any(leaves) : f + "/" + any(leaves);
  };
  auto folder_key = [&] {
    std::vector<std::string> named = {"d0", "d1", "d0/e", "a"};
    return any(named);
  };
  auto random_bytes = [&](size_t max) {
    std::vector<uint8_t> v(rng() % (max + 1));
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  };

  int compared = 0, skipped = 0, crashes = 0;
  for (int step = 0; step < 600; ++step) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
    const int kind = static_cast<int>(rng() % 100);
    std::string desc;
    Status got, want;
    auto both = [&](auto&& op) {
      got = op(static_cast<CipherTree&>(*tree_));
      if (getenv("PHRFS_TRACE_DIFF")) {
        std::fprintf(stderr, "step %d: %s -> %s\n", step, desc.c_str(), got.ToString().c_str());
      }
      if (got.code() == Code::kUnavailable) {
        ++skipped;
        return;
      }
      want = op(static_cast<CipherTree&>(reference));
      ++compared;
      ASSERT_EQ(std::string(CodeName(got.code())), CodeName(want.code()))
          << desc << ": " << got.ToString() << " vs " << want.ToString();
    };
    if (kind < 18) {
      std::string key = object_key();
      auto data = random_bytes(3000);
      PutMode mode = rng() % 4 == 0 ? PutMode::kMustNotExist : PutMode::kReplace;
      desc = "put " + key;
      both([&](CipherTree& t) { return t.Put(key, data, mode); });
    } else if (kind < 36) {
      std::string key = object_key();
      uint64_t offset = rng() % 3000;
      auto data = random_bytes(1500);
      desc = "write " + key;
      both([&](CipherTree& t) { return t.WriteAt(key, offset, data); });
    } else if (kind < 44) {
      std::string key = object_key();
      uint64_t size = rng() % 4000;
      desc = "truncate " + key;
      both([&](CipherTree& t) { return t.Truncate(key, size); });
    } else if (kind < 54) {
      std::string from = object_key(), to = object_key();
      MoveMode mode = rng() % 2 ? MoveMode::kReplace : MoveMode::kNoReplace;
      desc = "move " + from + " " + to;
      both([&](CipherTree& t) { return t.Move(from, to, mode); });
    } else if (kind < 60) {
      std::string a = object_key(), b = object_key();
      desc = "exchange " + a + " " + b;
      both([&](CipherTree& t) { return t.Exchange(a, b); });
    } else if (kind < 67) {
      std::string key = object_key();
      desc = "delete " + key;
      both([&](CipherTree& t) { return t.Delete(key); });
    } else if (kind < 74) {
      std::string key = folder_key();
      desc = "mkcol " + key;
      both([&](CipherTree& t) { return t.MakeFolder(key); });
    } else if (kind < 79) {
      std::string key = folder_key();
      desc = "rmcol " + key;
      both([&](CipherTree& t) { return t.RemoveFolder(key); });
    } else if (kind < 84) {
      std::string key = rng() % 3 ? object_key() : any(folders);
      Status st = tree_->Sync(key);
      EXPECT_TRUE(st.ok() || st.code() == Code::kUnavailable || st.code() == Code::kNotFound ||
                  st.code() == Code::kNotADirectory)
          << "sync " << key << ": " << st.ToString();
    } else if (kind < 87) {
      ++crashes;
      if (getenv("PHRFS_TRACE_DIFF")) std::fprintf(stderr, "step %d: crash\n", step);
      Crash();
      ASSERT_NE(tree_, nullptr);
    } else if (kind < 89) {
      Reopen();
      ASSERT_NE(tree_, nullptr);
    } else if (kind < 94) {
      std::string folder = any(folders);
      std::vector<std::string> heads;
      for (const std::string& l : leaves) heads.push_back(folder.empty() ? l : folder + "/" + l);
      tree_->Prefetch(heads, 700);  // as the vault does for a listing's node headers
      std::string mine = TreeNames(*tree_, folder);
      if (mine != "<Unavailable>") {
        EXPECT_EQ(mine, TreeNames(reference, folder)) << "list " << folder;
      }
    } else {
      // A short offline spell.
      faulty_->SetOffline(true);
      std::string key = object_key();
      auto data = random_bytes(800);
      desc = "offline put " + key;
      both([&](CipherTree& t) { return t.Put(key, data, PutMode::kReplace); });
      faulty_->SetOffline(false);
    }
    if (::testing::Test::HasFatalFailure()) return;
    if (getenv("PHRFS_TRACE_ALL")) {
      for (const std::string& f : folders) {
        for (const std::string& l : leaves) {
          std::string k = f.empty() ? l : f + "/" + l;
          std::string m = Digest(TreeGet(*tree_, k)), r = Digest(TreeGet(reference, k));
          if (m != r) {
            auto st = tree_->Stat(k);
            std::fprintf(stderr, "   MISMATCH %s: %s vs %s (stat %s %llu, store %s)\n", k.c_str(),
                         m.c_str(), r.c_str(), st.status().ToString().c_str(),
                         st.ok() ? (unsigned long long)st->size : 0ull,
                         Digest(StoreGet(*memory_, k)).c_str());
          }
        }
      }
    }
    // Reads through the cache match the reference at every step.
    std::string key = object_key();
    std::string mine = Digest(TreeGet(*tree_, key));
    if (mine != "<Unavailable>") {
      ASSERT_EQ(mine, Digest(TreeGet(reference, key))) << "read " << key << " after " << desc;
    }
  }
  faulty_->ClearFaults();
  Status flushed = tree_->Flush(20s);
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(Digests(Dump(*memory_)), Digests(Dump(*reference_store)));
  for (const std::string& f : folders) {
    for (const std::string& l : leaves) {
      std::string key = f.empty() ? l : f + "/" + l;
      EXPECT_EQ(Digest(TreeGet(*tree_, key)), Digest(TreeGet(reference, key))) << key;
    }
  }
  CacheStatus status = tree_->GetStatus();
  EXPECT_EQ(status.conflicts, 0u);
  EXPECT_EQ(status.pending_ops + status.pending_uploads + status.failed_uploads, 0u);
  EXPECT_GT(compared, 300);
  RecordProperty("skipped", skipped);
  RecordProperty("crashes", crashes);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CachedTreeDifferentialTest,
                         ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u));

// ----- Lazy ranged fetch.

TEST_F(CachedTreeTest, ReadingOnePageOfALargeObjectFetchesAFewChunks) {
  std::vector<uint8_t> big(64u << 20);
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<uint8_t>(i >> 12);
  ASSERT_TRUE(memory_->Write("big", big, Precondition::None()).ok());
  Open();
  std::vector<uint8_t> page(4096);
  auto got = tree_->Read("big", 0, page);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(*got, page.size());
  EXPECT_TRUE(std::equal(page.begin(), page.end(), big.begin()));
  got = tree_->Read("big", 40u << 20, page);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::equal(page.begin(), page.end(), big.begin() + (40u << 20)));
  EXPECT_LE(faulty_->bytes_read(), 1u << 20);
  EXPECT_GT(faulty_->bytes_read(), 0u);
  // Read again: served from the cache.
  uint64_t before = faulty_->bytes_read();
  got = tree_->Read("big", 100, page);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(faulty_->bytes_read(), before);
}

TEST_F(CachedTreeTest, AChangedObjectNeverYieldsAMixOfTwoVersions) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 1024;
  o.listing_ttl = 0ms;  // every access checks the etag
  Open(o);
  StorePut("doc", std::string(4096, 'a'));
  std::vector<uint8_t> buf(1024);
  ASSERT_TRUE(tree_->Read("doc", 0, buf).ok());  // chunk 0 of version a cached
  StorePut("doc", std::string(4096, 'b'));
  EXPECT_EQ(TreeGet(*tree_, "doc"), std::string(4096, 'b'));
}

TEST_F(CachedTreeTest, ConcurrentReadersOfOneChunkShareOneFetch) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 1024;
  Open(o);
  StorePut("doc", std::string(8192, 'd'));
  ASSERT_TRUE(tree_->Stat("doc").ok());  // the lookup's listing is not what this test counts
  faulty_->ResetCounters();
  faulty_->SetReadDelay(150ms);  // every reader arrives while the first fetch is under way
  constexpr int kReaders = 8;
  std::vector<std::thread> readers;
  std::vector<std::string> seen(kReaders);
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::vector<uint8_t> buf(100);
      auto got = tree_->Read("doc", 10 * static_cast<uint64_t>(r), buf);
      seen[static_cast<size_t>(r)] =
          got.ok() ? std::string(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got))
                   : got.status().ToString();
    });
  }
  for (std::thread& t : readers) t.join();
  for (const std::string& got : seen) EXPECT_EQ(got, std::string(100, 'd'));
  EXPECT_EQ(faulty_->reads(), 1u);
  EXPECT_EQ(faulty_->bytes_read(), 1024u);
}

TEST_F(CachedTreeTest, ASequentialReaderGetsReadAheadInFewLargeRanges) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 1024;
  o.readahead_max_bytes = 16 * 1024;
  o.fetch_parallel = 1;  // one range per window: the count below is the windows'
  Open(o);
  std::string content(64 * 1024, 0);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
  StorePut("movie", content);
  ASSERT_TRUE(tree_->Stat("movie").ok());
  faulty_->ResetCounters();
  faulty_->SetReadDelay(5ms);
  std::string out;
  std::vector<uint8_t> buf(512);
  for (uint64_t off = 0; off < content.size(); off += buf.size()) {
    auto got = tree_->Read("movie", off, buf);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    out.append(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
  }
  EXPECT_EQ(out, content);
  // 64 chunks one at a time would be 64 ranged reads; windows growing to 16 chunks make about
  // 4 + the ramp, and no chunk comes twice.
  EXPECT_LE(faulty_->reads(), 12u);
  EXPECT_EQ(faulty_->bytes_read(), content.size());
}

TEST_F(CachedTreeTest, ReadingTheFirstBytesOfManyObjectsPullsNoReadAhead) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 1024;
  Open(o);
  StorePut("a", std::string(16 * 1024, 'a'));
  ASSERT_TRUE(tree_->Stat("a").ok());
  faulty_->ResetCounters();
  std::vector<uint8_t> head(64), block(512);
  ASSERT_TRUE(tree_->Read("a", 0, head).ok());   // a node header
  ASSERT_TRUE(tree_->Read("a", 64, block).ok());  // the first block after it
  std::this_thread::sleep_for(50ms);              // a read-ahead would have started by now
  EXPECT_EQ(faulty_->bytes_read(), 1024u);
}

TEST_F(CachedTreeTest, ARangeReadOfAChangedObjectRefetchesTheNewVersion) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 1024;
  o.listing_ttl = 1h;  // the row keeps the old etag: only the ranged read sees the change
  Open(o);
  StorePut("doc", std::string(4096, 'a'));
  std::vector<uint8_t> buf(1024);
  ASSERT_TRUE(tree_->Read("doc", 0, buf).ok());
  StorePut("doc", std::string(4096, 'b'));
  auto got = tree_->Read("doc", 2048, buf);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::string(buf.begin(), buf.end()), std::string(1024, 'b'));
  EXPECT_EQ(TreeGet(*tree_, "doc"), std::string(4096, 'b'));
}

TEST_F(CachedTreeTest, PrefetchedHeadersAreReadableOffline) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 4096;
  Open(o);
  std::vector<std::string> keys;
  for (int i = 0; i < 6; ++i) {
    keys.push_back("n" + std::to_string(i));
    StorePut(keys.back(), std::string(10000, static_cast<char>('a' + i)));
  }
  tree_->Prefetch(keys, 100);
  EXPECT_TRUE(Eventually([&] { return tree_->GetStatus().cached_bytes >= 6 * 4096; }));
  const uint64_t fetched = faulty_->bytes_read();
  EXPECT_LE(fetched, 6u * 4096);
  faulty_->SetOffline(true);
  std::vector<uint8_t> head(100);
  for (int i = 0; i < 6; ++i) {
    auto got = tree_->Read(keys[static_cast<size_t>(i)], 0, head);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(head, std::vector<uint8_t>(100, static_cast<uint8_t>('a' + i)));
  }
}

// ----- Sync and the write-back delay.

TEST_F(CachedTreeTest, SyncReturnsOnlyOnceTheStoreHasTheBytes) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->Put("doc", Bytes("hello"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->WriteAt("doc", 5, Bytes(" world")).ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(StoreGet(*memory_, "doc"), "<NotFound>");  // held back by the delay
  ASSERT_TRUE(tree_->Sync("doc").ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "hello world");
  EXPECT_EQ(tree_->GetStatus().pending_uploads, 0u);
  EXPECT_EQ(faulty_->writes(), 1u);  // the put and the write went up as one upload
}

TEST_F(CachedTreeTest, ANeverUploadedObjectMovedTwiceIsUploadedOnceUnderItsLastName) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->MakeFolder("f").ok());
  ASSERT_TRUE(tree_->Put("a", Bytes("payload"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->Move("a", "f/b", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Move("f/b", "c", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(Dump(*memory_),
            (std::map<std::string, std::string>{{"c", "payload"}, {"f", "<folder>"}}));
  EXPECT_EQ(faulty_->writes(), 1u);
}

TEST_F(CachedTreeTest, AnUploadedObjectMovedBeforeItsChangeIsUploadedIsRenamedThenUpdated) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->Put("a", Bytes("version 1"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->Sync("a").ok());
  ASSERT_TRUE(tree_->WriteAt("a", 8, Bytes("2")).ok());
  ASSERT_TRUE(tree_->Move("a", "b", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Put("a", Bytes("a new a"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(Dump(*memory_),
            (std::map<std::string, std::string>{{"a", "a new a"}, {"b", "version 2"}}));
  EXPECT_EQ(tree_->GetStatus().conflicts, 0u);
}

TEST_F(CachedTreeTest, AnUploadIntoAFolderAnotherClientRemovedIsParked) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->MakeFolder("f").ok());
  ASSERT_TRUE(tree_->Sync("f").ok());
  ASSERT_TRUE(tree_->Put("f/doc", Bytes("orphan"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(memory_->RemoveCollection("f").ok());
  ASSERT_TRUE(tree_->Flush(10s).ok());
  auto parked = memory_->List("conflicts");
  ASSERT_TRUE(parked.ok());
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ(StoreGet(*memory_, "conflicts/" + parked->at(0).name), "orphan");
  EXPECT_EQ(tree_->GetStatus().conflicts, 1u);
}

TEST_F(CachedTreeTest, SyncOfAFolderReturnsOnceItsNewEntriesAreInTheStore) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->MakeFolder("f").ok());
  ASSERT_TRUE(tree_->Put("f/new", Bytes("entry"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->Put("elsewhere", Bytes("not asked"), PutMode::kMustNotExist).ok());
  ASSERT_TRUE(tree_->Sync("f").ok());
  EXPECT_EQ(StoreGet(*memory_, "f/new"), "entry");
  EXPECT_EQ(StoreGet(*memory_, "elsewhere"), "<NotFound>");
}

TEST_F(CachedTreeTest, AnUnsyncedWriteIsUploadedAfterTheDelay) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = 1000ms;  // long enough for a loaded machine to check the store first
  Open(o);
  ASSERT_TRUE(tree_->Put("doc", Bytes("later"), PutMode::kReplace).ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "<NotFound>");
  CacheStatus s = tree_->GetStatus();
  EXPECT_EQ(s.pending_uploads, 1u);
  EXPECT_EQ(s.bytes_queued, 5u);
  EXPECT_TRUE(Eventually([&] { return StoreGet(*memory_, "doc") == "later"; }));
  EXPECT_TRUE(Eventually([&] { return tree_->GetStatus().pending_uploads == 0; }));
}

TEST_F(CachedTreeTest, SyncOfAnUnreachableStoreIsUnavailableAndTheWriteStaysQueued) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->Put("doc", Bytes("x"), PutMode::kReplace).ok());
  faulty_->SetOffline(true);
  EXPECT_EQ(std::string(CodeName(tree_->Sync("doc").code())), CodeName(Code::kUnavailable));
  EXPECT_FALSE(tree_->GetStatus().store_reachable);
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Sync("doc").ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "x");
  EXPECT_TRUE(tree_->GetStatus().store_reachable);
}

// ----- Offline.

TEST_F(CachedTreeTest, OfflineWritesLandWhenTheStoreIsBack) {
  StorePut("cached", "old bytes");
  StorePut("cold", "never read");
  Open();
  EXPECT_EQ(TreeGet(*tree_, "cached"), "old bytes");
  EXPECT_EQ(TreeNames(*tree_, ""), "cached cold ");
  faulty_->SetOffline(true);
  EXPECT_TRUE(tree_->WriteAt("cached", 0, Bytes("new")).ok());
  EXPECT_TRUE(tree_->MakeFolder("dir").ok());
  EXPECT_TRUE(tree_->Put("dir/fresh", Bytes("made offline"), PutMode::kMustNotExist).ok());
  EXPECT_TRUE(tree_->Move("dir/fresh", "dir/renamed", MoveMode::kNoReplace).ok());
  EXPECT_EQ(TreeGet(*tree_, "cached"), "new bytes");
  EXPECT_EQ(TreeGet(*tree_, "dir/renamed"), "made offline");
  EXPECT_EQ(TreeGet(*tree_, "cold"), "<Unavailable>");
  EXPECT_EQ(TreeNames(*tree_, "dir"), "renamed ");
  EXPECT_EQ(TreeNames(*tree_, ""), "cached cold dir/ ");  // the last listing, plus ours
  EXPECT_EQ(std::string(CodeName(tree_->Flush(100ms).code())), CodeName(Code::kUnavailable));
  CacheStatus s = tree_->GetStatus();
  EXPECT_FALSE(s.store_reachable);
  EXPECT_EQ(s.pending_ops, 1u);  // the folder
  EXPECT_EQ(s.pending_uploads, 2u);
  EXPECT_FALSE(s.last_error.empty());
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "cached"), "new bytes");
  EXPECT_EQ(StoreGet(*memory_, "dir/renamed"), "made offline");
  EXPECT_EQ(StoreGet(*memory_, "dir/fresh"), "<NotFound>");
  EXPECT_EQ(TreeGet(*tree_, "cold"), "never read");
}

// ----- Crash resume.

TEST_F(CachedTreeTest, AKilledMountResumesEveryPendingUpload) {
  StorePut("existing", "v1");
  Open();
  EXPECT_EQ(TreeGet(*tree_, "existing"), "v1");
  faulty_->SetOffline(true);
  ASSERT_TRUE(tree_->MakeFolder("f").ok());
  ASSERT_TRUE(tree_->Put("f/x", Bytes("x bytes"), PutMode::kReplace).ok());
  ASSERT_TRUE(tree_->WriteAt("existing", 2, Bytes("+more")).ok());
  ASSERT_TRUE(tree_->Move("existing", "f/moved", MoveMode::kReplace).ok());
  tree_->Abandon();
  tree_.reset();
  faulty_->SetOffline(false);
  Open();
  EXPECT_EQ(TreeGet(*tree_, "f/moved"), "v1+more");
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "f/x"), "x bytes");
  EXPECT_EQ(StoreGet(*memory_, "f/moved"), "v1+more");
  EXPECT_EQ(StoreGet(*memory_, "existing"), "<NotFound>");
  EXPECT_EQ(tree_->GetStatus().conflicts, 0u);
}

// The real thing: a process killed with SIGKILL while its work is queued (the store offline for
// it), and a new process-local tree on the same cache dir over the same on-disk store.
TEST(CachedTreeKillTest, AProcessKilledWithQueuedWorkLosesNothingItAcknowledged) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string store_dir = dir.path() + "/store";
  const std::string cache_dir = dir.path() + "/cache";
  ASSERT_EQ(::mkdir(store_dir.c_str(), 0700), 0);
  const std::string big(300 * 1024, 'B');
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    bool ok = false;
    auto local = LocalStore::Open(store_dir);
    if (local.ok()) {
      auto faulty = std::make_shared<FaultyStore>(std::shared_ptr<ObjectStore>(std::move(*local)));
      faulty->SetOffline(true);
      CachedTreeOptions o = FastOptions();
      auto tree = CachedTree::Open(faulty, cache_dir, o);
      ok = tree.ok() && (*tree)->MakeFolder("f").ok() &&
           (*tree)->Put("f/x", Bytes("small"), PutMode::kMustNotExist).ok() &&
           (*tree)->Put("big", Bytes(big), PutMode::kMustNotExist).ok() &&
           (*tree)->WriteAt("big", 10, Bytes("patched")).ok() &&
           (*tree)->Move("f/x", "f/y", MoveMode::kNoReplace).ok();
      char c = ok ? '1' : '0';
      if (::write(ready[1], &c, 1) != 1) ::_exit(2);
      ::pause();  // killed here, the tree still open
    }
    ::_exit(ok ? 0 : 1);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_EQ(c, '1');

  auto local = LocalStore::Open(store_dir);
  ASSERT_TRUE(local.ok());
  std::shared_ptr<ObjectStore> store(std::move(*local));
  EXPECT_EQ(Dump(*store).size(), 0u);  // nothing reached the store before the kill
  auto tree = CachedTree::Open(store, cache_dir, FastOptions());  // the flock went with it
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  ASSERT_TRUE((*tree)->Flush(10s).ok());
  std::string patched = big;
  patched.replace(10, 7, "patched");
  EXPECT_EQ(Dump(*store), (std::map<std::string, std::string>{
                              {"big", patched}, {"f", "<folder>"}, {"f/y", "small"}}));
}

TEST_F(CachedTreeTest, AnUploadWhoseReplyWasLostIsNotAConflict) {
  Open();
  faulty_->SetRandomFaults(7, 0.0, 1.0);  // every change reaches the store, no reply does
  ASSERT_TRUE(tree_->Put("doc", Bytes("first"), PutMode::kReplace).ok());
  (void)tree_->Flush(100ms);
  ASSERT_TRUE(tree_->WriteAt("doc", 0, Bytes("FIRST, then more")).ok());
  (void)tree_->Flush(100ms);
  faulty_->ClearFaults();
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "FIRST, then more");
  EXPECT_EQ(tree_->GetStatus().conflicts, 0u);
  EXPECT_EQ(Dump(*memory_).size(), 1u);
}

// ----- Conflicts.

TEST_F(CachedTreeTest, AWriteOnceUploadWhoseReplyWasLostDuringAReadStallLandsAfterIt) {
  // The access log's objects: put once with MustNotExist. The first attempt lands but its reply
  // is lost; the retry meets 412 and must read the store's bytes to recognise them as its own,
  // while the server answers no reads. Once reads work it is adopted: no conflict, no loop.
  CachedTreeOptions o = FastOptions();
  o.retry_min = 5ms;
  o.retry_max = 5ms;
  Open(o);
  ASSERT_TRUE(tree_->MakeFolder("log").ok());
  ASSERT_TRUE(tree_->Sync("log").ok());
  faulty_->SetReadsUnavailable(true);
  faulty_->LoseNextWriteReply();
  const std::string batch = "sealed batch 1";
  ASSERT_TRUE(tree_->Put("log/1", Bytes(batch), PutMode::kMustNotExist).ok());
  EXPECT_EQ(tree_->Sync("log/1").code(), Code::kUnavailable);  // the lost reply
  EXPECT_EQ(StoreGet(*memory_, "log/1"), batch);                  // ... of a write that landed
  EXPECT_EQ(tree_->Flush(200ms).code(), Code::kUnavailable);    // retries meet 412, cannot read
  CacheStatus during = tree_->GetStatus();
  EXPECT_EQ(during.pending_uploads, 1u);
  EXPECT_EQ(during.failed_uploads, 0u);
  EXPECT_EQ(during.conflicts, 0u);
  faulty_->SetReadsUnavailable(false);
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  CacheStatus after = tree_->GetStatus();
  EXPECT_EQ(after.pending_uploads + after.pending_ops + after.failed_uploads, 0u);
  EXPECT_EQ(after.conflicts, 0u);
  EXPECT_EQ(Dump(*memory_), (std::map<std::string, std::string>{{"log", "<folder>"},
                                                                 {"log/1", batch}}));
  EXPECT_EQ(TreeGet(*tree_, "log/1"), batch);
}

TEST_F(CachedTreeTest, AConcurrentChangeIsNeverOverwrittenAndBothVersionsAreKept) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->Put("doc", Bytes("base version"), PutMode::kReplace).ok());
  ASSERT_TRUE(tree_->Sync("doc").ok());
  StorePut("doc", "their version");  // another mount, directly in the store
  ASSERT_TRUE(tree_->WriteAt("doc", 0, Bytes("MINE")).ok());
  ASSERT_TRUE(tree_->Sync("doc").ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "their version");
  auto parked = memory_->List("conflicts");
  ASSERT_TRUE(parked.ok()) << parked.status().ToString();
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_EQ(parked->at(0).name.rfind("doc.conflict-", 0), 0u) << parked->at(0).name;
  EXPECT_EQ(StoreGet(*memory_, "conflicts/" + parked->at(0).name), "MINE version");
  CacheStatus s = tree_->GetStatus();
  EXPECT_EQ(s.conflicts, 1u);
  ASSERT_EQ(s.recent_conflicts.size(), 1u);
  EXPECT_EQ(s.recent_conflicts[0].key, "doc");
  EXPECT_EQ(s.recent_conflicts[0].conflict_key, "conflicts/" + parked->at(0).name);
  EXPECT_EQ(TreeGet(*tree_, "doc"), "their version");
  Reopen();  // the conflict is in the journal
  EXPECT_EQ(tree_->GetStatus().conflicts, 1u);
}

TEST_F(CachedTreeTest, ANewObjectCreatedElsewhereMeanwhileIsAConflictToo) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  o.conflict_key = [](const std::string& key) { return "parked/" + key + ".mine"; };
  Open(o);
  ASSERT_TRUE(tree_->MakeFolder("f").ok());
  ASSERT_TRUE(tree_->Sync("f").ok());
  ASSERT_TRUE(tree_->Put("f/new", Bytes("ours"), PutMode::kMustNotExist).ok());
  StorePut("f/new", "theirs");
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "f/new"), "theirs");
  EXPECT_EQ(StoreGet(*memory_, "parked/f/new.mine"), "ours");
  EXPECT_EQ(tree_->GetStatus().conflicts, 1u);
}

TEST_F(CachedTreeTest, ADeleteOfAnObjectChangedElsewhereKeepsTheirVersion) {
  Open();
  ASSERT_TRUE(tree_->Put("doc", Bytes("mine"), PutMode::kReplace).ok());
  ASSERT_TRUE(tree_->Sync("doc").ok());
  faulty_->SetOffline(true);
  ASSERT_TRUE(tree_->Delete("doc").ok());
  StorePut("doc", "theirs");
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "theirs");
  EXPECT_EQ(tree_->GetStatus().conflicts, 1u);
}

// ----- Other clients: listing TTL.

TEST_F(CachedTreeTest, ADeleteRightAfterARenameDeletesTheSourceWithoutRenaming) {
  CachedTreeOptions o = FastOptions();
  o.retry_min = 300ms;  // the queued ops wait in backoff while the delete comes
  o.retry_max = 300ms;
  Open(o);
  StorePut("a", "parked then gone");
  StorePut("keep", "k");
  StorePut("x", "deleted first");
  ASSERT_TRUE(tree_->Stat("a").ok());
  ASSERT_TRUE(tree_->Stat("x").ok());
  faulty_->SetOffline(true);
  // Ops run one at a time in order: the rename queued behind this delete is never sent.
  ASSERT_TRUE(tree_->Delete("x").ok());
  ASSERT_TRUE(tree_->Move("a", "unlinked-a", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Delete("unlinked-a").ok());
  EXPECT_EQ(TreeGet(*tree_, "a"), "<NotFound>");
  EXPECT_EQ(TreeGet(*tree_, "unlinked-a"), "<NotFound>");
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(faulty_->renames(), 0u);
  EXPECT_EQ(Dump(*memory_), (std::map<std::string, std::string>{{"keep", "k"}}));
  // After a restart nothing is left to replay either.
  Reopen();
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(faulty_->renames(), 0u);
  EXPECT_EQ(TreeNames(*tree_, ""), "keep ");
}

TEST_F(CachedTreeTest, ADeleteOfARenamedObjectChangedElsewhereKeepsTheirVersion) {
  CachedTreeOptions o = FastOptions();
  o.retry_min = 300ms;
  o.retry_max = 300ms;
  Open(o);
  StorePut("a", "ours");
  StorePut("x", "deleted first");
  ASSERT_TRUE(tree_->Stat("a").ok());
  ASSERT_TRUE(tree_->Stat("x").ok());
  faulty_->SetOffline(true);
  ASSERT_TRUE(tree_->Delete("x").ok());  // keeps the rename below unsent: it gets folded
  ASSERT_TRUE(tree_->Move("a", "b", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Delete("b").ok());
  StorePut("a", "theirs");  // another client rewrites the source meanwhile
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(StoreGet(*memory_, "a"), "theirs");
  EXPECT_EQ(faulty_->renames(), 0u);
}

TEST_F(CachedTreeTest, ADeleteAfterARenameWhoseReplyWasLostDeletesTheRenamedObject) {
  CachedTreeOptions o = FastOptions();
  o.retry_min = 60s;  // the failed rename waits for the Flush below
  o.retry_max = 60s;
  Open(o);
  StorePut("a", "renamed, then deleted");
  StorePut("keep", "k");
  ASSERT_TRUE(tree_->Stat("a").ok());
  faulty_->LoseNextRenameReply();
  ASSERT_TRUE(tree_->Move("a", "b", MoveMode::kNoReplace).ok());
  // The rename took effect, but the tree heard Unavailable: it stays queued, in backoff.
  ASSERT_TRUE(Eventually([&] { return !tree_->GetStatus().store_reachable; }));
  ASSERT_EQ(StoreGet(*memory_, "b"), "renamed, then deleted");
  ASSERT_EQ(tree_->GetStatus().pending_ops, 1u);
  // Folding the rename into a delete of "a" would find nothing there and leave "b" behind.
  ASSERT_TRUE(tree_->Delete("b").ok());
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(Dump(*memory_), (std::map<std::string, std::string>{{"keep", "k"}}));
  EXPECT_EQ(TreeNames(*tree_, ""), "keep ");
  EXPECT_EQ(TreeGet(*tree_, "b"), "<NotFound>");
  EXPECT_EQ(tree_->GetStatus().conflicts, 0u);
}

TEST_F(CachedTreeTest, AReaderWaitingForARenameOfAnObjectDeletedMeanwhileGetsNotFound) {
  // The reader waits for the queued rename while its row goes away (the delete's tombstone is
  // erased once the delete is done); it must not touch that row afterwards (ASan sees it).
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 512;
  Open(o);
  std::string content(4096, 0);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 19);
  StorePut("a", content);
  std::vector<uint8_t> buf(512);
  ASSERT_TRUE(tree_->Read("a", 0, buf).ok());  // chunk 0, and a sequential stream begins
  faulty_->rename_gate().Close();
  ASSERT_TRUE(tree_->Move("a", "b", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(faulty_->rename_gate().AwaitWaiting(1));  // the rename is under way
  std::string seen;
  std::thread reader([&] {
    std::vector<uint8_t> next(512);
    auto got = tree_->Read("b", 512, next);  // chunk 1 is not cached: waits for the rename
    seen = got.ok() ? "bytes" : CodeName(got.status().code());
  });
  std::this_thread::sleep_for(50ms);  // the reader is waiting by now (if not, it sees NotFound)
  ASSERT_TRUE(tree_->Delete("b").ok());
  faulty_->rename_gate().Open();
  reader.join();
  EXPECT_EQ(seen, "NotFound");
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(Dump(*memory_), (std::map<std::string, std::string>{}));
}

TEST_F(CachedTreeTest, AFetchAnsweredBeforeADeleteInstallsNothingAfterIt) {
  CachedTreeOptions o = FastOptions();
  o.listing_ttl = 0ms;  // the reader looks at the store again after its fetch
  Open(o);
  StorePut("a", "old bytes");
  faulty_->read_reply_gate().Close();
  std::string seen;
  std::thread reader([&] { seen = TreeGet(*tree_, "a"); });
  ASSERT_TRUE(faulty_->read_reply_gate().AwaitWaiting(1));  // the old bytes are on their way
  ASSERT_TRUE(tree_->Delete("a").ok());
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(StoreGet(*memory_, "a"), "<NotFound>");
  StorePut("a", "another client's");  // a new object under the same key
  faulty_->read_reply_gate().Open();
  reader.join();
  EXPECT_EQ(seen, "another client's");
  EXPECT_EQ(TreeGet(*tree_, "a"), "another client's");
}

TEST_F(CachedTreeTest, AFetchAnsweredBeforeARenameAndARewriteInstallsNothingAfterThem) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 512;
  o.write_back_delay = 1h;  // the rewrite stays local
  Open(o);
  StorePut("a", std::string(2048, 'o'));
  ASSERT_TRUE(tree_->Stat("a").ok());
  faulty_->read_reply_gate().Close();
  std::string seen;
  std::thread reader([&] {
    std::vector<uint8_t> buf(512);
    auto got = tree_->Read("a", 1024, buf);
    seen = got.ok() ? std::string(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got))
                    : CodeName(got.status().code());
  });
  ASSERT_TRUE(faulty_->read_reply_gate().AwaitWaiting(1));
  // Meanwhile "a" moves to "b" and a new "a" is written here.
  ASSERT_TRUE(tree_->Move("a", "b", MoveMode::kNoReplace).ok());
  ASSERT_TRUE(tree_->Put("a", Bytes(std::string(2048, 'n')), PutMode::kMustNotExist).ok());
  faulty_->read_reply_gate().Open();
  reader.join();
  EXPECT_EQ(seen, std::string(512, 'n'));
  EXPECT_EQ(TreeGet(*tree_, "a"), std::string(2048, 'n'));
  EXPECT_EQ(TreeGet(*tree_, "b"), std::string(2048, 'o'));
  ASSERT_TRUE(tree_->Flush(5000ms).ok());
  EXPECT_EQ(StoreGet(*memory_, "a"), std::string(2048, 'n'));
  EXPECT_EQ(StoreGet(*memory_, "b"), std::string(2048, 'o'));
}

TEST_F(CachedTreeTest, ListingsAndCachedObjectsAreRefreshedAfterTheTtl) {
  CachedTreeOptions o = FastOptions();
  o.listing_ttl = 1000ms;  // long enough for a loaded machine to look twice within it
  Open(o);
  StorePut("doc", "v1");
  EXPECT_EQ(TreeNames(*tree_, ""), "doc ");
  EXPECT_EQ(TreeGet(*tree_, "doc"), "v1");
  StorePut("doc", "version 2");
  StorePut("other", "o");
  EXPECT_EQ(TreeNames(*tree_, ""), "doc ");  // within the TTL: the cached listing
  EXPECT_EQ(TreeGet(*tree_, "doc"), "v1");
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(TreeNames(*tree_, ""), "doc other ");
  EXPECT_EQ(TreeGet(*tree_, "doc"), "version 2");
  auto st = tree_->Stat("doc");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 9u);
  ASSERT_TRUE(memory_->Delete("doc").ok());  // and another client deletes it
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(TreeGet(*tree_, "doc"), "<NotFound>");
  EXPECT_EQ(TreeNames(*tree_, ""), "other ");
}

// ----- Eviction, status, the cache-dir lock.

TEST_F(CachedTreeTest, EvictionKeepsDirtyObjectsAndRespectsTheLimit) {
  CachedTreeOptions o = FastOptions();
  o.chunk_size = 64 * 1024;
  o.cache_limit_bytes = 1 << 20;
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  // In the store before the tree looks (a lookup lists the folder, and that listing is
  // trusted for the TTL).
  for (int i = 0; i < 4; ++i) StorePut("clean" + std::to_string(i), std::string(512 * 1024, 'c'));
  const std::string dirty(600 * 1024, 'd');
  ASSERT_TRUE(tree_->Put("dirty", Bytes(dirty), PutMode::kReplace).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(TreeGet(*tree_, "clean" + std::to_string(i)).size(), 512u * 1024);
    EXPECT_LE(tree_->GetStatus().cached_bytes, o.cache_limit_bytes);
  }
  CacheStatus s = tree_->GetStatus();
  EXPECT_EQ(s.pending_uploads, 1u);
  EXPECT_GE(s.cached_bytes, dirty.size());
  faulty_->SetOffline(true);
  EXPECT_EQ(TreeGet(*tree_, "dirty"), dirty);             // still local
  EXPECT_EQ(TreeGet(*tree_, "clean0"), "<Unavailable>");  // evicted
  faulty_->SetOffline(false);
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "dirty"), dirty);
}

TEST_F(CachedTreeTest, ASecondTreeOnTheSameCacheDirIsBusy) {
  Open();
  auto second = CachedTree::Open(faulty_, dir_.path() + "/cache", FastOptions());
  EXPECT_EQ(std::string(CodeName(second.status().code())), CodeName(Code::kBusy));
  tree_.reset();
  auto third = CachedTree::Open(faulty_, dir_.path() + "/cache", FastOptions());
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(CachedTreeTest, AnUploadTheStoreRefusesIsReportedAndKeptForTheNextMount) {
  Open();
  faulty_->FailNthWrite(1, Code::kPermissionDenied);
  ASSERT_TRUE(tree_->Put("doc", Bytes("keep me"), PutMode::kReplace).ok());
  EXPECT_EQ(std::string(CodeName(tree_->Flush(10s).code())), CodeName(Code::kIoError));
  CacheStatus s = tree_->GetStatus();
  EXPECT_EQ(s.failed_uploads, 1u);
  EXPECT_NE(s.last_error.find("PermissionDenied"), std::string::npos) << s.last_error;
  EXPECT_EQ(TreeGet(*tree_, "doc"), "keep me");
  Reopen();  // retried once more by the next mount
  ASSERT_TRUE(tree_->Flush(10s).ok());
  EXPECT_EQ(StoreGet(*memory_, "doc"), "keep me");
}

TEST_F(CachedTreeTest, ACacheDirOfAnotherStoreIsRefused) {
  CachedTreeOptions o = FastOptions();
  o.store_id = "webdav://one/";
  Open(o);
  tree_.reset();
  o.store_id = "webdav://two/";
  auto other = CachedTree::Open(faulty_, dir_.path() + "/cache", o);
  EXPECT_EQ(std::string(CodeName(other.status().code())), CodeName(Code::kInvalidArgument));
  o.store_id = "webdav://one/";
  EXPECT_TRUE(CachedTree::Open(faulty_, dir_.path() + "/cache", o).ok());
}

TEST_F(CachedTreeTest, CacheFilesAreNotNamedAfterKeys) {
  CachedTreeOptions o = FastOptions();
  o.write_back_delay = std::chrono::hours(1);
  Open(o);
  ASSERT_TRUE(tree_->Put("VerySpecificKeyName", Bytes("x"), PutMode::kReplace).ok());
  std::string listing;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
    listing += e.path().string() + "\n";
  }
  EXPECT_EQ(listing.find("VerySpecificKeyName"), std::string::npos) << listing;
}

}  // namespace phrfs::remote::testing
