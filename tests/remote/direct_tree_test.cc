// DirectTree beyond the shared contract: what is planted in the store is never followed or
// opened as an object, descriptors stay bounded (and survive exhaustion), read-only objects are
// read through a read-only descriptor, and the lease is an flock. Also LruCache itself.
#include "remote/local/direct_tree.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "remote/local/lru_cache.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

#define EXPECT_CODE(expr, code_value) \
  EXPECT_EQ(::phrfs::CodeName((expr).code()), ::phrfs::CodeName(code_value))

// Entries in /proc/self/fd, not counting the descriptor that lists them.
int CountOpenDescriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (struct dirent* de = ::readdir(dir)) {
    if (de->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;
}

// Lowers RLIMIT_NOFILE's soft limit for one test and restores it afterwards.
class DescriptorLimit {
 public:
  explicit DescriptorLimit(rlim_t soft) {
    ok_ = ::getrlimit(RLIMIT_NOFILE, &saved_) == 0;
    struct rlimit lowered = saved_;
    lowered.rlim_cur = soft;
    ok_ = ok_ && ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
  }
  ~DescriptorLimit() {
    if (ok_) (void)::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool ok() const { return ok_; }

 private:
  struct rlimit saved_ {};
  bool ok_ = false;
};

class DirectTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_TRUE(outside_.ok());
    OpenTree({});
  }
  void OpenTree(const DirectTreeOptions& options) {
    tree_.reset();
    auto tree = DirectTree::Open(dir_.path(), options);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    tree_ = std::move(tree).value();
  }
  std::string Raw(const std::string& rel) const { return dir_.path() + "/" + rel; }
  void WriteRaw(const std::string& path, const std::string& content) {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr) << path;
    std::fputs(content.c_str(), f);
    std::fclose(f);
  }
  std::string ReadRaw(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return "<missing>";
    std::string out;
    char buf[256];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
  }
  std::string Get(const std::string& key) {
    std::vector<uint8_t> buf(1 << 16);
    auto got = tree_->Read(key, 0, buf);
    if (!got.ok()) return std::string("<") + CodeName(got.status().code()) + ">";
    return std::string(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*got));
  }
  // Names in a directory as the kernel lists them (temporaries included).
  std::vector<std::string> RawNames(const std::string& rel) {
    std::vector<std::string> names;
    DIR* dir = ::opendir(Raw(rel).c_str());
    if (dir == nullptr) return {"<error>"};
    while (struct dirent* de = ::readdir(dir)) {
      std::string name = de->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  TempDir outside_;  // where planted symlinks point
  std::unique_ptr<DirectTree> tree_;
};

TEST_F(DirectTreeTest, ASymlinkPlantedAsAFolderIsNeverFollowed) {
  WriteRaw(outside_.path() + "/secret", "outside");
  ASSERT_EQ(::symlink(outside_.path().c_str(), Raw("d").c_str()), 0);
  ASSERT_TRUE(tree_->MakeFolder("a").ok());
  ASSERT_EQ(::symlink(outside_.path().c_str(), Raw("a/deeper").c_str()), 0);

  std::vector<uint8_t> buf(16);
  for (const std::string folder : {"d", "a/deeper"}) {
    SCOPED_TRACE(folder);
    EXPECT_CODE(tree_->List(folder).status(), Code::kCorrupt);
    EXPECT_CODE(tree_->Read(folder + "/secret", 0, buf).status(), Code::kCorrupt);
    EXPECT_CODE(tree_->Stat(folder + "/secret").status(), Code::kCorrupt);
    EXPECT_CODE(tree_->Put(folder + "/planted", Bytes("x"), PutMode::kReplace), Code::kCorrupt);
    EXPECT_CODE(tree_->WriteAt(folder + "/secret", 0, Bytes("X")), Code::kCorrupt);
    EXPECT_CODE(tree_->MakeFolder(folder + "/sub"), Code::kCorrupt);
    EXPECT_CODE(tree_->Delete(folder + "/secret"), Code::kCorrupt);
    EXPECT_CODE(tree_->Sync(folder), Code::kCorrupt);
    // The symlink itself, as a leaf, is not what the layout allows either.
    EXPECT_CODE(tree_->Stat(folder).status(), Code::kCorrupt);
  }
  EXPECT_EQ(ReadRaw(outside_.path() + "/secret"), "outside");
  EXPECT_EQ(ReadRaw(outside_.path() + "/planted"), "<missing>");
}

TEST_F(DirectTreeTest, ASymlinkPlantedAsAnObjectIsNeverFollowed) {
  WriteRaw(outside_.path() + "/secret", "outside");
  ASSERT_EQ(::symlink((outside_.path() + "/secret").c_str(), Raw("obj").c_str()), 0);
  std::vector<uint8_t> buf(16);
  EXPECT_CODE(tree_->Read("obj", 0, buf).status(), Code::kCorrupt);
  EXPECT_CODE(tree_->Stat("obj").status(), Code::kCorrupt);
  EXPECT_CODE(tree_->WriteAt("obj", 0, Bytes("X")), Code::kCorrupt);
  EXPECT_CODE(tree_->Truncate("obj", 0), Code::kCorrupt);
  EXPECT_CODE(tree_->Reserve("obj", 100), Code::kCorrupt);
  EXPECT_CODE(tree_->Sync("obj"), Code::kCorrupt);
  EXPECT_CODE(tree_->Move("obj", "moved", MoveMode::kNoReplace), Code::kCorrupt);
  EXPECT_CODE(tree_->Link("obj", "linked"), Code::kCorrupt);
  ASSERT_TRUE(tree_->Put("real", Bytes("r"), PutMode::kReplace).ok());
  EXPECT_CODE(tree_->Exchange("real", "obj"), Code::kCorrupt);
  EXPECT_EQ(ReadRaw(outside_.path() + "/secret"), "outside");
  // Listed as an object, so that the damage shows instead of hiding.
  auto listed = tree_->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  // Deleting the planted entry removes the symlink, not its target.
  EXPECT_TRUE(tree_->Delete("obj").ok());
  EXPECT_EQ(ReadRaw(outside_.path() + "/secret"), "outside");
}

// The child of SpecialFilesPlantedAsObjectsAreCorruptWithoutBlocking: every access to a
// planted entry is Corrupt, and SIGALRM ends the child if any of them blocks.
int SpecialFilesChild(DirectTree& tree, const std::vector<std::string>& planted) {
  ::alarm(10);
  int bad = 0;
  std::vector<uint8_t> buf(16);
  for (const std::string& key : planted) {
    auto check = [&](const char* op, Code code) {
      if (code != Code::kCorrupt) {
        std::fprintf(stderr, "%s %s: %s\n", op, key.c_str(), CodeName(code));
        ++bad;
      }
    };
    check("read", tree.Read(key, 0, buf).status().code());
    check("write", tree.WriteAt(key, 0, Bytes("x")).code());
    check("stat", tree.Stat(key).status().code());
    check("sync", tree.Sync(key).code());
    check("truncate", tree.Truncate(key, 0).code());
  }
  return bad == 0 ? 0 : 1;
}

// Runs in a child process with an alarm: if a FIFO or socket open blocked, SIGALRM kills it.
TEST_F(DirectTreeTest, SpecialFilesPlantedAsObjectsAreCorruptWithoutBlocking) {
  ASSERT_EQ(::mkfifo(Raw("fifo").c_str(), 0600), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string sock_path = Raw("sock");
  ASSERT_LT(sock_path.size(), sizeof(addr.sun_path));
  std::copy(sock_path.begin(), sock_path.end(), addr.sun_path);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::vector<std::string> planted = {"fifo", "sock"};
  // A device node needs CAP_MKNOD; where the container refuses it, FIFO and socket still run.
  if (::mknod(Raw("dev").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0) planted.push_back("dev");

  DirectTree& tree = *tree_;
  EXPECT_EXIT(std::_Exit(SpecialFilesChild(tree, planted)), ::testing::ExitedWithCode(0), "");
  ::close(sock);
}

TEST_F(DirectTreeTest, PutLeavesNoTemporaryBehindWhenItFails) {
  ASSERT_TRUE(tree_->Put("doc", Bytes("old"), PutMode::kReplace).ok());
  EXPECT_CODE(tree_->Put("doc", Bytes("new"), PutMode::kMustNotExist), Code::kAlreadyExists);
  ASSERT_TRUE(tree_->MakeFolder("dir").ok());
  EXPECT_CODE(tree_->Put("dir", Bytes("new"), PutMode::kReplace), Code::kIsADirectory);
  EXPECT_EQ(RawNames(""), (std::vector<std::string>{"dir", "doc"}));
  EXPECT_EQ(ReadRaw(Raw("doc")), "old");
}

TEST_F(DirectTreeTest, LeftoverTemporariesAreHidden) {
  WriteRaw(Raw(".tmp.0123456789abcdef"), "crash");
  ASSERT_TRUE(tree_->Put("real", Bytes("x"), PutMode::kReplace).ok());
  auto listed = tree_->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "real");
}

TEST_F(DirectTreeTest, MissingKeysAreNotFoundForEveryOperation) {
  EXPECT_CODE(tree_->Sync("missing"), Code::kNotFound);
  EXPECT_CODE(tree_->Reserve("missing", 10), Code::kNotFound);
  EXPECT_CODE(tree_->Sync("no/such"), Code::kNotFound);
  EXPECT_CODE(tree_->Move("missing", "x", MoveMode::kReplace), Code::kNotFound);
  EXPECT_CODE(tree_->Link("missing", "x"), Code::kNotFound);
}

TEST_F(DirectTreeTest, HardLinksShareBytesAndCountLinks) {
  ASSERT_TRUE(tree_->Put("a", Bytes("shared"), PutMode::kReplace).ok());
  ASSERT_TRUE(tree_->Link("a", "b").ok());
  auto st = tree_->Stat("b");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->links, 2u);
  ASSERT_TRUE(tree_->Truncate("b", 3).ok());
  EXPECT_EQ(Get("a"), "sha");
  ASSERT_TRUE(tree_->Delete("a").ok());
  st = tree_->Stat("b");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->links, 1u);
}

TEST_F(DirectTreeTest, ASecondTreeOnTheSameDirectoryCannotLease) {
  auto other = DirectTree::Open(dir_.path());
  ASSERT_TRUE(other.ok());
  auto lease = tree_->AcquireLease();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto refused = (*other)->AcquireLease();
  EXPECT_CODE(refused.status(), Code::kBusy);
  EXPECT_EQ(refused.status().message(), "the store is already mounted by another phrfs process");
  lease->reset();
  EXPECT_TRUE((*other)->AcquireLease().ok());
}

TEST_F(DirectTreeTest, CachesHoldNoMoreThanTheirCapacities) {
  OpenTree(DirectTreeOptions{.folder_descriptors = 2, .object_descriptors = 3});
  for (int f = 0; f < 6; ++f) {
    std::string folder = "f" + std::to_string(f);
    ASSERT_TRUE(tree_->MakeFolder(folder).ok());
    for (int o = 0; o < 6; ++o) {
      std::string key = folder + "/o" + std::to_string(o);
      ASSERT_TRUE(tree_->Put(key, Bytes(key), PutMode::kReplace).ok());
      EXPECT_EQ(Get(key), key);
      EXPECT_LE(tree_->CachedDescriptors(), 5u);
    }
  }
  EXPECT_GT(tree_->CachedDescriptors(), 0u);
  tree_->DropCachedDescriptors();
  EXPECT_EQ(tree_->CachedDescriptors(), 0u);
  EXPECT_EQ(Get("f3/o4"), "f3/o4");
}

// 5,000 objects, far more than the descriptor limit allows open at once, written and read in
// random order from several threads: the tree's descriptors stay within its caches' capacities
// plus those in flight, so it never runs out.
TEST_F(DirectTreeTest, FiveThousandObjectsUnderALowDescriptorLimit) {
  constexpr int kFolders = 50;
  constexpr int kPerFolder = 100;
  constexpr int kThreads = 3;
  const DirectTreeOptions options;  // the defaults: 64 folders, 128 objects
  DescriptorLimit limit(256);
  ASSERT_TRUE(limit.ok());
  tree_.reset();
  const int baseline = CountOpenDescriptors();
  ASSERT_GT(baseline, 0);
  OpenTree(options);
  // The root's descriptor, both caches full, and per thread: a walked folder plus an object or
  // a temporary, plus the descriptor a listing of /proc/self/fd itself takes.
  const int bound = baseline + 1 + static_cast<int>(options.folder_descriptors +
                                                    options.object_descriptors) +
                    3 * kThreads + 1;
  ASSERT_LT(bound, 256);

  std::vector<std::string> keys;
  for (int f = 0; f < kFolders; ++f) {
    ASSERT_TRUE(tree_->MakeFolder("f" + std::to_string(f)).ok());
    for (int o = 0; o < kPerFolder; ++o) {
      keys.push_back("f" + std::to_string(f) + "/o" + std::to_string(o));
      Status st = tree_->Put(keys.back(), Bytes(keys.back()), PutMode::kMustNotExist);
      ASSERT_TRUE(st.ok()) << keys.back() << ": " << st.ToString();
    }
  }
  EXPECT_LE(CountOpenDescriptors(), bound);

  std::atomic<int> failures{0};
  std::atomic<int> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> order = keys;
      std::shuffle(order.begin(), order.end(), std::mt19937(1234 + t));
      std::vector<uint8_t> buf(64);
      for (size_t i = 0; i < order.size(); ++i) {
        const std::string& key = order[i];
        // Each thread writes its own byte range, past the key's own bytes.
        std::vector<uint8_t> mark(4, static_cast<uint8_t>('A' + t));
        if (!tree_->WriteAt(key, 32 + 4 * t, mark).ok()) ++failures;
        auto got = tree_->Read(key, 0, buf);
        if (!got.ok() || std::string(buf.begin(), buf.begin() + key.size()) != key) ++failures;
        if (i % 100 == 0) {
          int now = CountOpenDescriptors();
          int seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(peak.load(), bound);
  EXPECT_LE(tree_->CachedDescriptors(), options.folder_descriptors + options.object_descriptors);
  EXPECT_LE(CountOpenDescriptors(), bound);
  // Every thread's mark landed.
  std::vector<uint8_t> tail(4 * kThreads);
  for (size_t i = 0; i < keys.size(); i += 97) {
    auto got = tree_->Read(keys[i], 32, tail);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(*got, tail.size());
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(tail[4 * t], 'A' + t) << keys[i];
  }
}

TEST_F(DirectTreeTest, RunningOutOfDescriptorsDropsTheCachesAndRetriesOnce) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(tree_->Put("o" + std::to_string(i), Bytes("x"), PutMode::kReplace).ok());
  }
  DescriptorLimit limit(static_cast<rlim_t>(CountOpenDescriptors() + 64));
  ASSERT_TRUE(limit.ok());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Get("o" + std::to_string(i)), "x");
  ASSERT_GE(tree_->CachedDescriptors(), 20u);

  // Take every descriptor that is left.
  std::vector<Fd> hog;
  auto exhaust = [&] {
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      hog.emplace_back(fd);
    }
  };
  exhaust();
  ASSERT_EQ(errno, EMFILE);
  // The tree frees its cache and succeeds.
  EXPECT_EQ(Get("o25"), "x");
  EXPECT_LE(tree_->CachedDescriptors(), 1u);
  ASSERT_TRUE(tree_->Put("made", Bytes("while short"), PutMode::kReplace).ok());

  // With nothing left to free, it says so instead of failing some other way.
  tree_->DropCachedDescriptors();
  exhaust();
  EXPECT_CODE(tree_->Read("o26", 0, std::span<uint8_t>()).status(), Code::kNoResources);
  EXPECT_CODE(tree_->Put("more", Bytes("x"), PutMode::kReplace), Code::kNoResources);
  EXPECT_CODE(tree_->List("").status(), Code::kNoResources);
  hog.clear();
  EXPECT_EQ(Get("o26"), "x");
  EXPECT_EQ(Get("made"), "while short");
}

// The child of AReadOnlyObjectIsReadThroughAReadOnlyDescriptor; returns its exit status.
int ReadOnlyFallbackChild(const std::string& root) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return 10;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) data[0].effective &= ~(1u << cap);
  if (::syscall(SYS_capset, &header, data) != 0) return 11;
  // The precondition of the test: a read-write open is refused now.
  int probe = ::open((root + "/ro").c_str(), O_RDWR);
  if (probe >= 0 || errno != EACCES) {
    std::fprintf(stderr, "O_RDWR was not refused; the fallback is not exercised\n");
    return 12;
  }
  auto tree = DirectTree::Open(root);
  if (!tree.ok()) return 13;
  std::vector<uint8_t> buf(16);
  auto got = (*tree)->Read("ro", 0, buf);
  if (!got.ok() || std::string(buf.begin(), buf.begin() + *got) != "content") {
    std::fprintf(stderr, "read: %s\n", got.status().ToString().c_str());
    return 14;
  }
  Status write = (*tree)->WriteAt("ro", 0, Bytes("X"));
  if (write.code() != Code::kPermissionDenied) {
    std::fprintf(stderr, "write: %s\n", write.ToString().c_str());
    return 15;
  }
  if ((*tree)->Truncate("ro", 0).code() != Code::kPermissionDenied) return 16;
  if (!(*tree)->Sync("ro").ok()) return 17;
  // Still readable after the refusals, through the same cached descriptor.
  got = (*tree)->Read("ro", 0, buf);
  if (!got.ok() || *got != 7) return 18;
  return 0;
}

// Root ignores file modes (CAP_DAC_OVERRIDE), so the child drops that capability first: then a
// 0400 object really cannot be opened read-write, and the tree must fall back to read-only.
TEST_F(DirectTreeTest, AReadOnlyObjectIsReadThroughAReadOnlyDescriptor) {
  ASSERT_TRUE(tree_->Put("ro", Bytes("content"), PutMode::kReplace).ok());
  ASSERT_EQ(::chmod(Raw("ro").c_str(), 0400), 0);
  const std::string root = dir_.path();
  tree_.reset();
  EXPECT_EXIT(std::_Exit(ReadOnlyFallbackChild(root)), ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(ReadRaw(Raw("ro")), "content");
}

TEST(LruCacheTest, EvictsTheLeastRecentlyUsed) {
  LruCache<int> cache(2);
  cache.Insert("a", std::make_shared<int>(1), cache.Find("a").generation);
  cache.Insert("b", std::make_shared<int>(2), cache.Find("b").generation);
  ASSERT_NE(cache.Find("a").value, nullptr);  // "b" is now the least recently used
  cache.Insert("c", std::make_shared<int>(3), cache.Find("c").generation);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Find("b").value, nullptr);
  EXPECT_NE(cache.Find("a").value, nullptr);
  EXPECT_NE(cache.Find("c").value, nullptr);
}

TEST(LruCacheTest, AnEvictedValueStaysAliveForItsHolder) {
  LruCache<int> cache(1);
  cache.Insert("a", std::make_shared<int>(1), 0);
  std::shared_ptr<int> held = cache.Find("a").value;
  cache.Insert("b", std::make_shared<int>(2), cache.Find("b").generation);
  EXPECT_EQ(cache.Find("a").value, nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(*held, 1);
}

TEST(LruCacheTest, AValueOpenedBeforeAnInvalidationIsNotCached) {
  LruCache<int> cache(4);
  auto miss = cache.Find("a");
  cache.Erase("a");  // e.g. a Put replaced the object while the caller was opening it
  cache.Insert("a", std::make_shared<int>(1), miss.generation);
  EXPECT_EQ(cache.Find("a").value, nullptr);
}

TEST(LruCacheTest, EraseTreeRemovesAKeyAndEverythingBelowIt) {
  LruCache<int> cache(8);
  for (const char* key : {"a", "a/b", "a/b/c", "ab", "b"}) {
    cache.Insert(key, std::make_shared<int>(0), cache.Find(key).generation);
  }
  cache.EraseTree("a");
  EXPECT_EQ(cache.Find("a").value, nullptr);
  EXPECT_EQ(cache.Find("a/b").value, nullptr);
  EXPECT_EQ(cache.Find("a/b/c").value, nullptr);
  EXPECT_NE(cache.Find("ab").value, nullptr);
  EXPECT_NE(cache.Find("b").value, nullptr);
}

}  // namespace
}  // namespace phrfs::remote::testing
