// The vault without a kernel, over both kinds of CipherTree (the direct local tree and the
// object tree on the in-memory store): names, kinds, metadata that survives a reopen, unlink and
// rename while in use, and writes that fail cleanly under fault injection (model-checked).
#include "fs/vault/vault.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "fs/store_setup.h"
#include "remote/local/direct_tree.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "tests/remote/faulty_tree.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::fs {
namespace {

constexpr crypto::ScryptParams kFastScrypt{1024, 8, 1};
constexpr Caller kAlice{1000, 1000};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct ObjectsHarness {
  static constexpr bool kLinks = false;
  std::shared_ptr<remote::MemoryStore> store = std::make_shared<remote::MemoryStore>();
  std::unique_ptr<remote::CipherTree> NewTree() { return std::make_unique<remote::ObjectTree>(store); }
  // Raw access to a stored object, for tampering.
  std::string Get(const std::string& key) {
    auto r = store->Read(key, 0, 1 << 24);
    return r.ok() ? std::string(r->begin(), r->end()) : std::string();
  }
  void Set(const std::string& key, const std::string& bytes) {
    ASSERT_TRUE(store->Write(key, Bytes(bytes), remote::Precondition::None()).ok());
  }
};

struct DirectHarness {
  static constexpr bool kLinks = true;
  remote::testing::TempDir dir;
  std::unique_ptr<remote::CipherTree> NewTree() {
    remote::DirectTreeOptions options;
    options.folder_descriptors = 4;  // small caches: every path through eviction gets exercised
    options.object_descriptors = 4;
    auto tree = remote::DirectTree::Open(dir.path(), options);
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    return std::move(tree).value();
  }
  std::string Get(const std::string& key) {
    std::string out;
    int fd = open((dir.path() + "/" + key).c_str(), O_RDONLY);
    if (fd < 0) return out;
    char buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
    close(fd);
    return out;
  }
  void Set(const std::string& key, const std::string& bytes) {
    std::string tmp = dir.path() + "/" + key + ".set";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    close(fd);
    ASSERT_EQ(rename(tmp.c_str(), (dir.path() + "/" + key).c_str()), 0);
  }
};

template <class Harness>
class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tree = h_.NewTree();
    auto recovery = InitStore(*tree, "test", "pw", kFastScrypt);
    ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
    auto store = UnlockStore(h_.NewTree(), "test", "pw");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    master_ = std::move(store->master_key);
    store_id_ = store->config.store_id;
    Reopen();
  }

  // Closes the vault and opens it again on a fresh tree over the same store; with `faulty`, the
  // tree fails as the test tells it.
  void Reopen(bool faulty = false) {
    vault_.reset();
    faulty_ = nullptr;
    auto keys = crypto::StoreKeys::Derive(master_, store_id_);
    ASSERT_TRUE(keys.ok());
    std::unique_ptr<remote::CipherTree> tree = h_.NewTree();
    if (faulty) {
      auto wrapper = std::make_unique<remote::testing::FaultyTree>(std::shared_ptr<remote::CipherTree>(std::move(tree)));
      faulty_ = wrapper.get();
      tree = std::move(wrapper);
    }
    auto vault = Vault::Open(std::move(tree), std::move(keys).value(), VaultOptions{});
    ASSERT_TRUE(vault.ok()) << vault.status().ToString();
    vault_ = std::move(vault).value();
  }

  Vault& v() { return *vault_; }

  uint64_t MakeFile(const std::string& name, const std::string& content = "", uint64_t parent = kRootNode) {
    auto e = v().Create(parent, name, 0644, kAlice);
    EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    if (!e.ok()) return 0;
    if (!content.empty()) {
      auto n = v().Write(e->node, 0, Bytes(content), false);
      EXPECT_TRUE(n.ok()) << n.status().ToString();
    }
    return e->node;
  }

  std::string ReadAll(uint64_t node, Status* error = nullptr) {
    auto attr = v().GetAttr(node);
    if (!attr.ok()) {
      if (error) *error = attr.status();
      return "<no attr>";
    }
    std::string out(static_cast<size_t>(attr->st_size) + 100, '\0');
    auto n = v().Read(node, 0, {reinterpret_cast<uint8_t*>(out.data()), out.size()});
    if (!n.ok()) {
      if (error) *error = n.status();
      return "<read failed: " + n.status().ToString() + ">";
    }
    out.resize(*n);
    return out;
  }

  Result<uint64_t> Find(const std::string& name, uint64_t parent = kRootNode) {
    auto e = v().Lookup(parent, name);
    if (!e.ok()) return e.status();
    return e->node;
  }

  // The store key of a name in the root directory (through a listing of the root folder).
  std::vector<std::string> RootFolderNames() {
    auto tree = h_.NewTree();
    auto keys = crypto::StoreKeys::Derive(master_, store_id_);
    auto folder = FolderOf(keys->dir_hash, crypto::kRootDirId);
    auto list = tree->List(*folder);
    std::vector<std::string> names;
    if (list.ok()) {
      for (auto& e : *list) names.push_back(*folder + "/" + e.name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Harness h_;
  SecureBytes master_;
  crypto::StoreId store_id_;
  std::unique_ptr<Vault> vault_;
  remote::testing::FaultyTree* faulty_ = nullptr;
};

using Trees = ::testing::Types<ObjectsHarness, DirectHarness>;
class TreeNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, ObjectsHarness> ? "Objects" : "Direct";
  }
};
TYPED_TEST_SUITE(VaultTest, Trees, TreeNames);

TYPED_TEST(VaultTest, FilesDirectoriesAndSymlinksSurviveAReopen) {
  auto dir = this->v().MakeDir(kRootNode, "labs", 0750, kAlice);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  this->MakeFile("a.txt", "hello", dir->node);
  ASSERT_TRUE(this->v().MakeSymlink(kRootNode, "link", "labs/a.txt", kAlice).ok());
  const uint64_t dir_ino = dir->node;
  this->Reopen();

  auto labs = this->v().Lookup(kRootNode, "labs");
  ASSERT_TRUE(labs.ok());
  EXPECT_EQ(labs->node, dir_ino) << "inode numbers are stable across remounts";
  EXPECT_TRUE(S_ISDIR(labs->attr.st_mode));
  EXPECT_EQ(labs->attr.st_mode & 07777, 0750u);
  EXPECT_EQ(labs->attr.st_uid, kAlice.uid);
  auto a = this->Find("a.txt", labs->node);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(this->ReadAll(*a), "hello");
  auto link = this->v().Lookup(kRootNode, "link");
  ASSERT_TRUE(link.ok());
  EXPECT_TRUE(S_ISLNK(link->attr.st_mode));
  auto target = this->v().ReadLink(link->node);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "labs/a.txt");
  auto root = this->v().GetAttr(kRootNode);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->st_nlink, 3u) << "a directory's link count counts its subdirectories";
}

TYPED_TEST(VaultTest, ModeOwnerAndTimesLiveInTheStore) {
  const uint64_t f = this->MakeFile("scan.pdf", "x");
  SetAttrRequest r;
  r.mode = 0604;
  r.uid = 4242;
  r.gid = 4343;
  r.mtime = timespec{1234567890, 123456789};
  r.atime = timespec{1000000000, 5};
  ASSERT_TRUE(this->v().SetAttr(f, r).ok());
  this->Reopen();
  auto e = this->v().Lookup(kRootNode, "scan.pdf");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->attr.st_mode, S_IFREG | 0604u);
  EXPECT_EQ(e->attr.st_uid, 4242u);
  EXPECT_EQ(e->attr.st_gid, 4343u);
  EXPECT_EQ(e->attr.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(e->attr.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(e->attr.st_atim.tv_sec, 1000000000);
  EXPECT_EQ(e->attr.st_atim.tv_nsec, 5);
}

TYPED_TEST(VaultTest, FifosAndSocketsAreNodesButDevicesAreRefused) {
  ASSERT_TRUE(this->v().MakeNode(kRootNode, "fifo", S_IFIFO | 0600, kAlice).ok());
  ASSERT_TRUE(this->v().MakeNode(kRootNode, "sock", S_IFSOCK | 0600, kAlice).ok());
  auto dev = this->v().MakeNode(kRootNode, "dev", S_IFCHR | 0600, kAlice);
  EXPECT_EQ(dev.status().code(), Code::kNotPermitted);
  this->Reopen();
  auto fifo = this->v().Lookup(kRootNode, "fifo");
  auto sock = this->v().Lookup(kRootNode, "sock");
  ASSERT_TRUE(fifo.ok() && sock.ok());
  EXPECT_TRUE(S_ISFIFO(fifo->attr.st_mode));
  EXPECT_TRUE(S_ISSOCK(sock->attr.st_mode));
  EXPECT_NE(this->Find("dev").status().code(), Code::kOk);
}

TYPED_TEST(VaultTest, AFilesObjectUnderASymlinksNameFailsAuthentication) {
  this->MakeFile("secret.txt", "the plaintext of a file");
  ASSERT_TRUE(this->v().MakeSymlink(kRootNode, "link", "somewhere", kAlice).ok());
  this->vault_.reset();
  std::string file_key, link_key;
  for (const auto& key : this->RootFolderNames()) {
    if (key.size() > 2 && key.substr(key.size() - 2) == ".l") link_key = key;
    else if (key.find('.', key.rfind('/') + 1) == std::string::npos) file_key = key;
  }
  ASSERT_FALSE(file_key.empty());
  ASSERT_FALSE(link_key.empty());
  this->h_.Set(link_key, this->h_.Get(file_key));
  this->Reopen();
  auto link = this->v().Lookup(kRootNode, "link");
  EXPECT_EQ(link.status().code(), Code::kCorrupt) << "a file's bytes must never read as a symlink";
}

TYPED_TEST(VaultTest, AFileObjectUnderADirectoryNameFailsAuthentication) {
  this->MakeFile("f", "");
  ASSERT_TRUE(this->v().MakeDir(kRootNode, "d", 0700, kAlice).ok());
  this->vault_.reset();
  std::string file_key, dir_key;
  for (const auto& key : this->RootFolderNames()) {
    if (key.size() > 2 && key.substr(key.size() - 2) == ".d") dir_key = key;
    else if (key.find('.', key.rfind('/') + 1) == std::string::npos) file_key = key;
  }
  ASSERT_FALSE(file_key.empty());
  ASSERT_FALSE(dir_key.empty());
  this->h_.Set(dir_key, this->h_.Get(file_key));
  this->Reopen();
  EXPECT_EQ(this->v().Lookup(kRootNode, "d").status().code(), Code::kCorrupt);
}

TYPED_TEST(VaultTest, EveryFlippedHeaderByteIsCaught) {
  this->MakeFile("f", "contents");
  this->vault_.reset();
  std::string file_key;
  for (const auto& key : this->RootFolderNames()) file_key = key;
  const std::string original = this->h_.Get(file_key);
  ASSERT_GT(original.size(), crypto::kNodeHeaderSize);
  for (size_t i = 0; i < crypto::kNodeHeaderSize; i += 7) {
    std::string damaged = original;
    damaged[i] ^= 0x10;
    this->h_.Set(file_key, damaged);
    this->Reopen();
    auto e = this->v().Lookup(kRootNode, "f");
    if (e.ok()) {
      ADD_FAILURE() << "flipped header byte " << i << " was not caught";
    } else {
      EXPECT_EQ(e.status().code(), Code::kCorrupt) << "byte " << i << ": " << e.status().ToString();
    }
  }
  this->h_.Set(file_key, original);
  this->Reopen();
  auto f = this->Find("f");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(this->ReadAll(*f), "contents");
}

TYPED_TEST(VaultTest, AnUnlinkedFileStaysReadableUntilForgotten) {
  const uint64_t f = this->MakeFile("f", "still here");
  ASSERT_TRUE(this->v().Unlink(kRootNode, "f").ok());
  EXPECT_EQ(this->Find("f").status().code(), Code::kNotFound);
  EXPECT_EQ(this->ReadAll(f), "still here");
  ASSERT_TRUE(this->v().Write(f, 10, Bytes("!"), false).ok());
  EXPECT_EQ(this->ReadAll(f), "still here!");
  auto attr = this->v().GetAttr(f);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->st_nlink, 0u);
  this->v().Forget(f, 1);
  auto tree = this->h_.NewTree();
  auto left = tree->List(kUnlinkedFolder);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "forget removes the unlinked object";
  // An empty directory is removable although its file was open when unlinked.
  ASSERT_TRUE(this->v().MakeDir(kRootNode, "d", 0700, kAlice).ok());
  auto d = this->Find("d");
  const uint64_t g = this->MakeFile("g", "x", *d);
  ASSERT_TRUE(this->v().Unlink(*d, "g").ok());
  EXPECT_TRUE(this->v().RemoveDir(kRootNode, "d").ok());
  EXPECT_EQ(this->ReadAll(g), "x");
}

TYPED_TEST(VaultTest, RenameOverAnOpenFileKeepsItsContentForItsReader) {
  const uint64_t old_file = this->MakeFile("record", "old version");
  this->MakeFile("record.tmp", "new version");
  ASSERT_TRUE(this->v().Rename(kRootNode, "record.tmp", kRootNode, "record", 0).ok());
  EXPECT_EQ(this->ReadAll(old_file), "old version");
  auto now = this->Find("record");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(this->ReadAll(*now), "new version");
  EXPECT_EQ(this->Find("record.tmp").status().code(), Code::kNotFound);
  this->Reopen();
  auto again = this->Find("record");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(this->ReadAll(*again), "new version");
}

TYPED_TEST(VaultTest, RenameAndExchangeAcrossDirectoriesAndKinds) {
  auto a = this->v().MakeDir(kRootNode, "a", 0700, kAlice);
  auto b = this->v().MakeDir(kRootNode, "b", 0700, kAlice);
  ASSERT_TRUE(a.ok() && b.ok());
  this->MakeFile("x", "file x", a->node);
  ASSERT_TRUE(this->v().MakeDir(b->node, "y", 0700, kAlice).ok());
  // Exchange swaps the two names: a/x is now the directory, b/y the file.
  ASSERT_TRUE(this->v().Rename(a->node, "x", b->node, "y", RENAME_EXCHANGE).ok());
  auto x = this->Find("x", a->node);
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE(S_ISDIR(this->v().GetAttr(*x)->st_mode));
  auto y = this->Find("y", b->node);
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(this->ReadAll(*y), "file x");
  this->Reopen();
  auto a2 = this->Find("a");
  auto b2 = this->Find("b");
  ASSERT_TRUE(a2.ok() && b2.ok());
  auto yb = this->Find("y", *b2);
  ASSERT_TRUE(yb.ok());
  EXPECT_EQ(this->ReadAll(*yb), "file x");
  EXPECT_EQ(this->v().GetAttr(*a2)->st_nlink, 3u);
  EXPECT_EQ(this->v().GetAttr(*b2)->st_nlink, 2u);
  // A whole directory moves with one small object.
  ASSERT_TRUE(this->v().Rename(kRootNode, "a", *b2, "a-moved", 0).ok());
  auto moved = this->Find("a-moved", *b2);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(this->Find("x", *moved).ok());
  EXPECT_EQ(this->v().GetAttr(*b2)->st_nlink, 3u);
  EXPECT_EQ(this->v().GetAttr(kRootNode)->st_nlink, 3u);
  EXPECT_EQ(this->v().Rename(kRootNode, "b", kRootNode, "b2", RENAME_NOREPLACE).code(), Code::kOk);
  {
    auto c = this->v().MakeDir(kRootNode, "c", 0700, kAlice);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(this->v().Rename(kRootNode, "c", kRootNode, "b2", RENAME_NOREPLACE).code(), Code::kAlreadyExists);
    EXPECT_EQ(this->v().Rename(kRootNode, "c", kRootNode, "b2", 0).code(), Code::kNotEmpty);
  }
}

TYPED_TEST(VaultTest, HardLinksWhereTheTreeHasThem) {
  const uint64_t f = this->MakeFile("f", "linked");
  auto l = this->v().Link(f, kRootNode, "g");
  if (!TypeParam::kLinks) {
    EXPECT_EQ(l.status().code(), Code::kNotPermitted);
    return;
  }
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->node, f);
  EXPECT_EQ(l->attr.st_nlink, 2u);
  ASSERT_TRUE(this->v().Unlink(kRootNode, "f").ok());
  auto g = this->Find("g");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(this->ReadAll(*g), "linked");
  EXPECT_EQ(this->v().Rename(kRootNode, "g", kRootNode, "g", 0).code(), Code::kOk);
}

TYPED_TEST(VaultTest, ListingsShowEveryEntryWithLongNames) {
  const std::string long_name(200, 'n');
  this->MakeFile(long_name, "long");
  ASSERT_TRUE(this->v().MakeDir(kRootNode, long_name + "-dir", 0700, kAlice).ok());
  this->MakeFile("short", "s");
  auto handle = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(handle.ok());
  std::vector<std::string> names;
  for (const auto& e : (*handle)->entries) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{long_name, long_name + "-dir", "short"}));
  ASSERT_TRUE(this->v().RemoveDir(kRootNode, long_name + "-dir").ok());
  ASSERT_TRUE(this->v().Unlink(kRootNode, long_name).ok());
  for (const auto& key : this->RootFolderNames()) {
    EXPECT_EQ(key.find(".n"), std::string::npos) << "sidecar left behind: " << key;
  }
}

TYPED_TEST(VaultTest, AFailedCreateLeavesNothingBehind) {
  const std::string long_name(220, 'z');
  this->Reopen(/*faulty=*/true);
  this->faulty_->FailNthWrite(2, Code::kNoSpace);  // the sidecar goes, the entry fails
  auto e = this->v().Create(kRootNode, long_name, 0644, kAlice);
  EXPECT_EQ(e.status().code(), Code::kNoSpace);
  EXPECT_EQ(this->Find(long_name).status().code(), Code::kNotFound);
  EXPECT_TRUE(this->RootFolderNames().empty()) << "a failed create must not leave a sidecar";
  ASSERT_TRUE(this->v().MakeDir(kRootNode, "d", 0700, kAlice).ok());
  EXPECT_TRUE(this->v().RemoveDir(kRootNode, "d").ok());
}

// The model test: random writes and truncates, each failing at a random store call; a failed
// call changes nothing, a later one works, and a reopen sees what the model says.
TYPED_TEST(VaultTest, WritesThatFailLeaveTheFileAsItWas) {
  for (int seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    this->Reopen(/*faulty=*/true);
    const std::string name = "f" + std::to_string(seed);
    uint64_t f = this->MakeFile(name);
    std::string model;
    int failures = 0;
    for (int op = 0; op < 80; ++op) {
      const bool inject = rng() % 2 == 0;
      const bool short_write = rng() % 3 == 0;
      if (inject) {
        const uint64_t n = 1 + rng() % 3;
        if (short_write) this->faulty_->ShortNthWrite(n);
        else this->faulty_->FailNthWrite(n, Code::kNoSpace);
      }
      Status st;
      std::string expect = model;
      if (rng() % 4 == 0) {
        const uint64_t size = rng() % 3 == 0 ? 0 : rng() % (model.size() + 9000);
        SetAttrRequest r;
        r.size = size;
        st = this->v().SetAttr(f, r).status();
        expect.resize(size, '\0');
      } else {
        const uint64_t offset = rng() % (model.size() + 6000);
        std::string data(1 + rng() % 10000, '\0');
        for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
        auto n = this->v().Write(f, offset, Bytes(data), false);
        st = n.status();
        if (expect.size() < offset + data.size()) expect.resize(offset + data.size(), '\0');
        expect.replace(offset, data.size(), data);
      }
      this->faulty_->ClearFaults();
      if (st.ok()) {
        model = expect;
      } else {
        ++failures;
        EXPECT_EQ(st.code(), Code::kNoSpace) << st.ToString();
      }
      Status read_error;
      ASSERT_EQ(this->ReadAll(f, &read_error), model) << "op " << op << " " << read_error.ToString();
      ASSERT_EQ(static_cast<uint64_t>(this->v().GetAttr(f)->st_size), model.size());
    }
    EXPECT_GT(failures, 0);
    this->Reopen();
    auto again = this->Find(name);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(this->ReadAll(*again), model);
  }
}

TYPED_TEST(VaultTest, ManyFilesInOneDirectory) {
  for (int i = 0; i < 2000; ++i) this->MakeFile("file-" + std::to_string(i), std::to_string(i));
  this->Reopen();
  auto handle = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ((*handle)->entries.size(), 2000u);
  for (int i = 0; i < 2000; i += 97) {
    auto f = this->Find("file-" + std::to_string(i));
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(this->ReadAll(*f), std::to_string(i));
  }
}

}  // namespace
}  // namespace phrfs::fs

namespace phrfs::fs {
namespace {

TYPED_TEST(VaultTest, AFileReplacedByASymlinkIsUnlinkedForItsReader) {
  const uint64_t f = this->MakeFile("h0", "open file");
  ASSERT_TRUE(this->v().MakeSymlink(kRootNode, "d1", "target", kAlice).ok());
  ASSERT_TRUE(this->v().Rename(kRootNode, "d1", kRootNode, "h0", 0).ok());
  auto attr = this->v().GetAttr(f);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->st_nlink, 0u);
  EXPECT_EQ(this->ReadAll(f), "open file");
  auto h0 = this->v().Lookup(kRootNode, "h0");
  ASSERT_TRUE(h0.ok());
  EXPECT_TRUE(S_ISLNK(h0->attr.st_mode));
  auto handle = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ((*handle)->entries.size(), 1u);
}

}  // namespace
}  // namespace phrfs::fs

namespace phrfs::fs {
namespace {

// Writes store their mtime at most once a second; whatever is left is stored at unmount.
TYPED_TEST(VaultTest, WriteTimesReachTheStoreByUnmount) {
  const uint64_t f = this->MakeFile("times", "a");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(this->v().Write(f, 1 + i, Bytes("b"), false).ok());
  const struct timespec written = this->v().GetAttr(f)->st_mtim;
  this->Reopen();  // unmount
  auto again = this->v().Lookup(kRootNode, "times");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attr.st_mtim.tv_sec, written.tv_sec);
  EXPECT_EQ(again->attr.st_mtim.tv_nsec, written.tv_nsec);
  EXPECT_EQ(this->ReadAll(again->node), "abbbbb");
}

}  // namespace
}  // namespace phrfs::fs

namespace phrfs::fs {
namespace {

// Two mounts of one remote store (two vaults over one MemoryStore, each through its own object
// tree; the lease is the write-back cache's business, so each takes a private one here). With
// revalidate_ms, one sees what the other changed once that time has passed.
class SharedStoreTest : public ::testing::Test {
 protected:
  static constexpr int64_t kRevalidateMs = 40;

  void SetUp() override {
    remote::ObjectTree init_tree(store_);
    auto recovery = InitStore(init_tree, "test", "pw", kFastScrypt);
    ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
    auto unlocked = UnlockStore(NewTree(), "test", "pw");
    ASSERT_TRUE(unlocked.ok()) << unlocked.status().ToString();
    a_ = OpenVault(*unlocked);
    b_ = OpenVault(*unlocked);
    ASSERT_TRUE(a_ && b_);
  }

  std::unique_ptr<remote::CipherTree> NewTree() {
    struct NoLease : remote::TreeLease {};
    return std::make_unique<remote::ObjectTree>(
        store_, [] { return Result<std::unique_ptr<remote::TreeLease>>(std::make_unique<NoLease>()); });
  }

  std::unique_ptr<Vault> OpenVault(UnlockedStore& unlocked) {
    auto keys = crypto::StoreKeys::Derive(unlocked.master_key, unlocked.config.store_id);
    EXPECT_TRUE(keys.ok());
    VaultOptions options;
    options.revalidate_ms = kRevalidateMs;
    auto vault = Vault::Open(NewTree(), std::move(keys).value(), options);
    EXPECT_TRUE(vault.ok()) << vault.status().ToString();
    return vault.ok() ? std::move(vault).value() : nullptr;
  }

  static std::string ReadWhole(Vault& v, uint64_t node) {
    EXPECT_TRUE(v.Open(node, O_RDONLY).ok());
    auto attr = v.GetAttr(node);
    std::string out(attr.ok() ? static_cast<size_t>(attr->st_size) + 64 : 64, '\0');
    auto n = v.Read(node, 0, {reinterpret_cast<uint8_t*>(out.data()), out.size()});
    v.Release(node, O_RDONLY);
    if (!n.ok()) return "<" + n.status().ToString() + ">";
    out.resize(*n);
    return out;
  }

  static void Wait() { usleep((kRevalidateMs + 20) * 1000); }

  std::shared_ptr<remote::MemoryStore> store_ = std::make_shared<remote::MemoryStore>();
  std::unique_ptr<Vault> a_, b_;
};

TEST_F(SharedStoreTest, ANameFoundAbsentAppearsOnceTheOtherMountCreatesIt) {
  EXPECT_EQ(b_->Lookup(kRootNode, "new").status().code(), Code::kNotFound);
  auto created = a_->Create(kRootNode, "new", 0644, kAlice);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(a_->Write(created->node, 0, Bytes("from a"), false).ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  Wait();
  auto seen = b_->Lookup(kRootNode, "new");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(ReadWhole(*b_, seen->node), "from a");
}

TEST_F(SharedStoreTest, AChangedFileIsReadInItsNewVersionAfterTheRevalidationTime) {
  auto created = a_->Create(kRootNode, "f", 0644, kAlice);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(a_->Write(created->node, 0, Bytes("version one"), false).ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  auto in_b = b_->Lookup(kRootNode, "f");
  ASSERT_TRUE(in_b.ok());
  EXPECT_EQ(ReadWhole(*b_, in_b->node), "version one");

  // a truncates and rewrites: a new size, and for a truncate to zero a new content id.
  SetAttrRequest cut;
  cut.size = 0;
  ASSERT_TRUE(a_->SetAttr(created->node, cut).ok());
  ASSERT_TRUE(a_->Write(created->node, 0, Bytes("the second, longer version"), false).ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  Wait();
  auto attr = b_->GetAttr(in_b->node);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->st_size, 26);
  EXPECT_EQ(ReadWhole(*b_, in_b->node), "the second, longer version");
}

TEST_F(SharedStoreTest, AFileRemovedByTheOtherMountIsGoneAfterTheRevalidationTime) {
  auto created = a_->Create(kRootNode, "doomed", 0644, kAlice);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  auto in_b = b_->Lookup(kRootNode, "doomed");
  ASSERT_TRUE(in_b.ok());
  ASSERT_TRUE(a_->Unlink(kRootNode, "doomed").ok());
  a_->Forget(created->node, 1);
  Wait();
  EXPECT_EQ(b_->Lookup(kRootNode, "doomed").status().code(), Code::kNotFound);
}

TEST_F(SharedStoreTest, AnOpenFileKeepsItsVersionUntilReleased) {
  auto created = a_->Create(kRootNode, "open", 0644, kAlice);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(a_->Write(created->node, 0, Bytes("first"), false).ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  auto in_b = b_->Lookup(kRootNode, "open");
  ASSERT_TRUE(in_b.ok());
  ASSERT_TRUE(b_->Open(in_b->node, O_RDONLY).ok());
  ASSERT_TRUE(a_->Write(created->node, 0, Bytes("FIRST plus more"), false).ok());
  ASSERT_TRUE(a_->Fsync(created->node).ok());
  Wait();
  // While open, b's view (size and key) stays the one it opened.
  auto attr = b_->GetAttr(in_b->node);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->st_size, 5);
  b_->Release(in_b->node, O_RDONLY);
  Wait();
  EXPECT_EQ(ReadWhole(*b_, in_b->node), "FIRST plus more");
}

}  // namespace
}  // namespace phrfs::fs

namespace phrfs::fs {
namespace {

// A write-back tree that meets another mount's version keeps ours beside it: the vault names
// the copy and gives it a node of its own, with the content blocks unchanged.
TYPED_TEST(VaultTest, AConflictCopyIsAFileOfItsOwnBesideTheOriginal) {
  const uint64_t f = this->MakeFile("report.pdf", "our version of the report");
  ASSERT_TRUE(this->v().Fsync(f).ok());
  std::vector<std::string> keys = this->RootFolderNames();
  ASSERT_EQ(keys.size(), 1u);
  const std::string ours = this->h_.Get(keys[0]);
  ASSERT_GT(ours.size(), crypto::kNodeHeaderSize);

  auto copy = this->v().ConflictCopyFor(
      keys[0], Bytes(ours.substr(0, crypto::kNodeHeaderSize)));
  ASSERT_TRUE(copy.has_value());
  EXPECT_NE(copy->key, keys[0]);
  EXPECT_EQ(copy->key.substr(0, copy->key.rfind('/')), keys[0].substr(0, keys[0].rfind('/')));
  this->h_.Set(copy->key, std::string(copy->header.begin(), copy->header.end()) +
                              ours.substr(crypto::kNodeHeaderSize));

  auto handle = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(handle.ok());
  std::vector<std::string> names;
  for (const auto& e : (*handle)->entries) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[1], "report.pdf");
  EXPECT_EQ(names[0].rfind("report (conflict ", 0), 0u) << names[0];
  EXPECT_EQ(names[0].substr(names[0].size() - 4), ".pdf") << names[0];

  auto found = this->Find(names[0]);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_NE(*found, f);  // a node of its own
  EXPECT_EQ(this->ReadAll(*found), "our version of the report");
  EXPECT_EQ(this->ReadAll(f), "our version of the report");

  // Not for a directory this mount does not know, nor for a damaged header.
  EXPECT_FALSE(this->v().ConflictCopyFor("d/00/0000000000000000000000000000aa/abc",
                                         Bytes(ours.substr(0, crypto::kNodeHeaderSize))));
  std::string bad = ours.substr(0, crypto::kNodeHeaderSize);
  bad[crypto::kNodeHeaderSize - 1] ^= 1;
  EXPECT_FALSE(this->v().ConflictCopyFor(keys[0], Bytes(bad)));
}

// The access log's paths (Vault::PathOf, PathIn) come from caches of names and of directory
// paths: what they give must be where the node is now, whatever moved since the cache was filled.
std::string PathStr(const Result<std::string>& path) {
  return path.ok() ? *path : "<error: " + path.status().ToString() + ">";
}

TYPED_TEST(VaultTest, PathsFollowRenamesOfAncestorsAndNewDirectoriesOfAnOldName) {
  Vault& v = this->v();
  auto a = v.MakeDir(kRootNode, "a", 0700, kAlice);
  ASSERT_TRUE(a.ok());
  auto b = v.MakeDir(a->node, "b", 0700, kAlice);
  ASSERT_TRUE(b.ok());
  const uint64_t f = this->MakeFile("f", "x", b->node);
  const std::string long_name(200, 'n');
  const uint64_t lf = this->MakeFile(long_name, "y", b->node);
  EXPECT_EQ(PathStr(v.PathOf(f)), "/a/b/f");
  EXPECT_EQ(PathStr(v.PathOf(lf)), "/a/b/" + long_name);
  EXPECT_EQ(PathStr(v.PathOf(b->node)), "/a/b");
  EXPECT_EQ(PathStr(v.PathIn(b->node, "new")), "/a/b/new");
  EXPECT_EQ(PathStr(v.PathOf(kRootNode)), "/");
  EXPECT_EQ(PathStr(v.PathIn(kRootNode, "top")), "/top");

  // An ancestor renamed: every path below it changes.
  ASSERT_TRUE(v.Rename(kRootNode, "a", kRootNode, "c", 0).ok());
  EXPECT_EQ(PathStr(v.PathOf(f)), "/c/b/f");
  EXPECT_EQ(PathStr(v.PathOf(b->node)), "/c/b");
  EXPECT_EQ(PathStr(v.PathIn(b->node, "new")), "/c/b/new");
  // A directory moved up a level, and a file renamed in it.
  ASSERT_TRUE(v.Rename(a->node, "b", kRootNode, "b2", 0).ok());
  EXPECT_EQ(PathStr(v.PathOf(f)), "/b2/f");
  EXPECT_EQ(PathStr(v.PathOf(lf)), "/b2/" + long_name);
  ASSERT_TRUE(v.Rename(b->node, "f", b->node, "g", 0).ok());
  EXPECT_EQ(PathStr(v.PathOf(f)), "/b2/g");
  EXPECT_EQ(PathStr(v.PathOf(a->node)), "/c");

  // A directory exchanged with a file, and one renamed over an empty directory.
  const uint64_t file_x = this->MakeFile("x", "x");
  ASSERT_TRUE(v.Rename(kRootNode, "x", kRootNode, "c", RENAME_EXCHANGE).ok());
  EXPECT_EQ(PathStr(v.PathOf(a->node)), "/x");
  EXPECT_EQ(PathStr(v.PathOf(file_x)), "/c");
  auto empty = v.MakeDir(kRootNode, "empty", 0700, kAlice);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(PathStr(v.PathOf(empty->node)), "/empty");
  ASSERT_TRUE(v.Rename(kRootNode, "b2", kRootNode, "empty", 0).ok());
  EXPECT_EQ(PathStr(v.PathOf(b->node)), "/empty");
  EXPECT_EQ(PathStr(v.PathOf(f)), "/empty/g");

  // rmdir, then mkdir of the same name: the new directory (a new node) has the old path.
  auto d1 = v.MakeDir(kRootNode, "d", 0700, kAlice);
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(PathStr(v.PathIn(d1->node, "inside")), "/d/inside");
  ASSERT_TRUE(v.RemoveDir(kRootNode, "d").ok());
  auto d2 = v.MakeDir(kRootNode, "d", 0700, kAlice);
  ASSERT_TRUE(d2.ok());
  EXPECT_NE(d2->node, d1->node);
  EXPECT_EQ(PathStr(v.PathIn(d2->node, "inside")), "/d/inside");
  auto sub = v.MakeDir(d2->node, "sub", 0700, kAlice);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(PathStr(v.PathOf(sub->node)), "/d/sub");

  // A directory the kernel forgot has no path any more (not the one it had), nor have the
  // nodes below it (the kernel does not forget a directory whose entries it knows; the vault
  // answers as it did without a cache).
  auto h = v.MakeDir(kRootNode, "h", 0700, kAlice);  // counted once
  ASSERT_TRUE(h.ok());
  auto h_sub = v.MakeDir(h->node, "sub", 0700, kAlice);
  ASSERT_TRUE(h_sub.ok());
  EXPECT_EQ(PathStr(v.PathOf(h_sub->node)), "/h/sub");
  EXPECT_EQ(PathStr(v.PathOf(h->node)), "/h");
  v.Forget(h->node, 1);
  EXPECT_EQ(v.PathOf(h->node).status().code(), Code::kNotFound);
  EXPECT_EQ(v.PathOf(h_sub->node).status().code(), Code::kNotFound);

  // An unlinked file has none either.
  ASSERT_TRUE(v.Unlink(b->node, "g").ok());
  EXPECT_EQ(v.PathOf(f).status().code(), Code::kNotFound);
}

TYPED_TEST(VaultTest, PathsOfNodesFoundByListingDecryptTheirNames) {
  // After a reopen the caches are empty, and readdirplus finds nodes without encrypting their
  // names: their paths are decrypted (a long name through its sidecar).
  const std::string long_name(200, 'L');
  auto dir = this->v().MakeDir(kRootNode, long_name, 0700, kAlice);
  ASSERT_TRUE(dir.ok());
  this->MakeFile("inner", "i", dir->node);
  this->Reopen();
  auto root = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(root.ok());
  ASSERT_EQ((*root)->entries.size(), 1u);
  auto listed = this->v().LookupListed(kRootNode, (*root)->entries[0]);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  auto inner_dir = this->v().OpenDir(listed->node);
  ASSERT_TRUE(inner_dir.ok());
  ASSERT_EQ((*inner_dir)->entries.size(), 1u);
  auto inner = this->v().LookupListed(listed->node, (*inner_dir)->entries[0]);
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(PathStr(this->v().PathOf(inner->node)), "/" + long_name + "/inner");
  EXPECT_EQ(PathStr(this->v().PathOf(listed->node)), "/" + long_name);
}

TYPED_TEST(VaultTest, ABatchOfListedEntriesLoadsTheSameNodesAsOneByOne) {
  // Enough unknown entries for the batch to load them on two threads.
  std::map<std::string, std::string> contents;
  for (int i = 0; i < 40; ++i) {
    const std::string name = "file-" + std::to_string(i);
    contents[name] = std::string(static_cast<size_t>(i) * 37 + 1, static_cast<char>('a' + i % 26));
    this->MakeFile(name, contents[name]);
  }
  ASSERT_TRUE(this->v().MakeDir(kRootNode, "folder", 0700, kAlice).ok());
  this->Reopen();  // nothing known: every entry is loaded from the store
  auto root = this->v().OpenDir(kRootNode);
  ASSERT_TRUE(root.ok());
  const auto& entries = (*root)->entries;
  ASSERT_EQ(entries.size(), 41u);
  auto batch = this->v().LookupListedBatch(kRootNode, entries);
  ASSERT_EQ(batch.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_TRUE(batch[i].ok()) << entries[i].name << ": " << batch[i].status().ToString();
    auto one = this->v().Lookup(kRootNode, entries[i].name);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(batch[i]->node, one->node) << entries[i].name;
    if (entries[i].name == "folder") {
      EXPECT_TRUE(S_ISDIR(batch[i]->attr.st_mode));
    } else {
      EXPECT_EQ(static_cast<size_t>(batch[i]->attr.st_size), contents[entries[i].name].size());
      EXPECT_EQ(this->ReadAll(batch[i]->node), contents[entries[i].name]);
    }
  }
  // Known now: a second batch answers from the node table with the same nodes.
  auto again = this->v().LookupListedBatch(kRootNode, entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_TRUE(again[i].ok());
    EXPECT_EQ(again[i]->node, batch[i]->node);
  }
  // Each result counted one lookup: three forgets per node (two batches, one Lookup) let it go.
  const uint64_t first = batch[0]->node;
  for (int k = 0; k < 3; ++k) this->v().Forget(first, 1);
  EXPECT_EQ(this->v().GetAttr(first).status().code(), Code::kNotFound);
}

// Offering a small file's content to the kernel's page cache at open (fs/fuse_ops.cc): the
// whole plaintext, once per node, never while the file is open for writing, and an open for
// writing or a truncation waits until the kernel has taken it.
TYPED_TEST(VaultTest, ASmallFileIsOfferedWholeOnceAndNeverWhileOpenForWriting) {
  const uint64_t f = this->MakeFile("small", "the whole small file");
  std::vector<uint8_t> out(64);
  // Open for writing: nothing offered, until its release.
  ASSERT_TRUE(this->v().Open(f, O_RDWR).ok());
  auto n = this->v().BeginOffer(f, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  this->v().Release(f, O_RDWR);
  n = this->v().BeginOffer(f, out);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 20u);
  EXPECT_EQ(std::string(out.begin(), out.begin() + 20), "the whole small file");
  // While an offer runs, no second one.
  auto second = this->v().BeginOffer(f, out);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0u);
  this->v().EndOffer(f, true);
  // Taken once: later opens offer nothing.
  auto later = this->v().BeginOffer(f, out);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, 0u);

  // A file larger than the buffer, an empty one, one whose offer the kernel refused.
  const uint64_t big = this->MakeFile("big", std::string(65, 'b'));
  const uint64_t empty = this->MakeFile("empty");
  const uint64_t refused = this->MakeFile("refused", "again");
  EXPECT_EQ(*this->v().BeginOffer(big, out), 0u);
  EXPECT_EQ(*this->v().BeginOffer(empty, out), 0u);
  ASSERT_EQ(*this->v().BeginOffer(refused, out), 5u);
  this->v().EndOffer(refused, false);
  EXPECT_EQ(*this->v().BeginOffer(refused, out), 5u);  // not taken: offered again
  this->v().EndOffer(refused, true);
}

TYPED_TEST(VaultTest, AFileJustCreatedIsNotOfferedUntilItsCreatorReleasesIt) {
  auto created = this->v().Create(kRootNode, "new", 0644, kAlice);
  ASSERT_TRUE(created.ok());
  const uint64_t f = created->node;
  this->v().CountCreatedOpen(f, O_WRONLY | O_CREAT | O_EXCL);
  ASSERT_TRUE(this->v().Write(f, 0, Bytes("being written"), false).ok());
  std::vector<uint8_t> out(64);
  EXPECT_EQ(*this->v().BeginOffer(f, out), 0u);
  this->v().Release(f, O_WRONLY | O_CREAT | O_EXCL);
  EXPECT_EQ(*this->v().BeginOffer(f, out), 13u);
  this->v().EndOffer(f, true);
}

TYPED_TEST(VaultTest, AnOpenForWritingAndATruncateWaitForAnOfferToEnd) {
  const uint64_t f = this->MakeFile("offered", "content the kernel takes");
  std::vector<uint8_t> out(64);
  ASSERT_EQ(*this->v().BeginOffer(f, out), 24u);
  std::atomic<int> done{0};
  std::thread writer([&] {
    EXPECT_TRUE(this->v().Open(f, O_WRONLY).ok());
    done++;
  });
  std::thread truncater([&] {
    SetAttrRequest r;
    r.size = 7;
    EXPECT_TRUE(this->v().SetAttr(f, r).ok());
    done++;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(done.load(), 0);  // both wait while the kernel copies
  EXPECT_EQ(this->ReadAll(f), "content the kernel takes");  // reads do not wait
  this->v().EndOffer(f, true);
  writer.join();
  truncater.join();
  EXPECT_EQ(done.load(), 2);
  EXPECT_EQ(this->ReadAll(f), "content");
  this->v().Release(f, O_WRONLY);
}

TYPED_TEST(VaultTest, NamesRecallWhatTheyEncodedOrDecodedInThatDirectoryOnly) {
  auto keys = crypto::StoreKeys::Derive(this->master_, this->store_id_);
  ASSERT_TRUE(keys.ok());
  crypto::DirId dir = crypto::kRootDirId;
  crypto::DirId other = dir;
  other.bytes[0] ^= 1;
  Names names(keys->names.Clone());
  auto stored = names.Encode(dir, "report.pdf");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(names.Recall(dir, stored->stem).value_or("<none>"), "report.pdf");
  EXPECT_FALSE(names.Recall(other, stored->stem).has_value());
  EXPECT_FALSE(names.Recall(dir, stored->stem + "x").has_value());
  auto long_stored = names.Encode(dir, std::string(220, 'q'));
  ASSERT_TRUE(long_stored.ok());
  ASSERT_TRUE(long_stored->is_long());
  EXPECT_EQ(names.Recall(dir, long_stored->stem).value_or("<none>"), std::string(220, 'q'));

  // Another Names (another mount) has not seen them until it decodes one.
  Names fresh(keys->names.Clone());
  EXPECT_FALSE(fresh.Recall(dir, stored->stem).has_value());
  auto decoded = fresh.DecodeAndRemember(dir, stored->stem, stored->encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "report.pdf");
  EXPECT_EQ(fresh.Recall(dir, stored->stem).value_or("<none>"), "report.pdf");
  // A name that fails authentication is not remembered.
  EXPECT_FALSE(fresh.DecodeAndRemember(other, "bogus", stored->encoded).ok());
  EXPECT_FALSE(fresh.Recall(other, "bogus").has_value());
  // Past the cache's size the old entries go, the new ones stay.
  for (int i = 0; i < 1100; ++i) ASSERT_TRUE(fresh.Encode(dir, "n" + std::to_string(i)).ok());
  auto last = fresh.Encode(dir, "n1099");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(fresh.Recall(dir, last->stem).value_or("<none>"), "n1099");
}

}  // namespace
}  // namespace phrfs::fs
