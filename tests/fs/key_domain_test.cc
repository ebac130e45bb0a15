// Key domains in the vault (FORMAT "KEY DOMAINS"): a shared folder's entries are sealed under
// the folder's own keys and stored under its own prefix; a mount without those keys sees
// nothing of them; epochs: new and rewritten objects take the current epoch, old ones keep
// theirs; nothing moves between domains by rename or link (EXDEV).
#include <linux/fs.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "crypto/keys.h"
#include "crypto/node_format.h"
#include "crypto/random.h"
#include "fs/store_setup.h"
#include "fs/vault/key_domain.h"
#include "fs/vault/vault.h"
#include "remote/local/direct_tree.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::fs {
namespace {

constexpr crypto::ScryptParams kFastScrypt{1024, 8, 1};
constexpr Caller kAlice{1000, 1000};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A result's value, or its error as text (so a failure shows what happened).
std::string Str(const Result<std::string>& r) {
  return r.ok() ? *r : "<error: " + r.status().ToString() + ">";
}

SecureBytes RandomKey(size_t n) {
  SecureBytes k(n);
  EXPECT_TRUE(crypto::RandomBytes({k.data(), k.size()}).ok());
  return k;
}

// The secrets of one shared domain, from which a test builds the KeyDomain a mount holds
// (all epochs, or only some: a person who lacks an epoch).
struct DomainSecrets {
  std::string prefix = "s/" + HexEncode(RandomKey(16).span()) + "/";
  SecureBytes names = RandomKey(64);
  SecureBytes dir_hash = RandomKey(32);
  std::map<uint32_t, SecureBytes> contents;

  std::shared_ptr<const KeyDomain> Domain(std::vector<uint32_t> epochs, uint32_t current) {
    std::map<uint32_t, SecureBytes> held;
    for (uint32_t e : epochs) {
      if (!contents.count(e)) contents.emplace(e, RandomKey(32));
      held.emplace(e, contents.at(e).Clone());
    }
    auto d = KeyDomain::Shared(prefix, names.Clone(), dir_hash.Clone(), std::move(held), current);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : nullptr;
  }
};

class KeyDomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto recovery = InitStore(*NewTree(), "test", "pw", kFastScrypt);
    ASSERT_TRUE(recovery.ok()) << recovery.status().ToString();
    auto store = UnlockStore(NewTree(), "test", "pw");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    master_ = std::move(store->master_key);
    store_id_ = store->config.store_id;
    Open({});
    auto labs = v().MakeDir(kRootNode, "labs", 0700, kAlice);
    ASSERT_TRUE(labs.ok()) << labs.status().ToString();
    auto id = v().DirIdOf(labs->node);
    ASSERT_TRUE(id.ok());
    labs_id_ = *id;
  }

  std::unique_ptr<remote::CipherTree> NewTree() {
    remote::DirectTreeOptions options;
    auto tree = remote::DirectTree::Open(dir_.path(), options);
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    return std::move(tree).value();
  }

  // (Re)opens the vault holding `labs` as a shared domain (or as an ordinary folder: nullptr).
  void Open(std::shared_ptr<const KeyDomain> labs) {
    vault_.reset();
    auto keys = crypto::StoreKeys::Derive(master_, store_id_);
    ASSERT_TRUE(keys.ok());
    VaultOptions options;
    if (labs) {
      ASSERT_TRUE(MakeDomainFolders(*NewTree(), *labs, labs_id_).ok());
      options.shared_domains.emplace(DomainRootKey(labs_id_), labs);
    }
    auto vault = Vault::Open(NewTree(), std::move(keys).value(), options);
    ASSERT_TRUE(vault.ok()) << vault.status().ToString();
    vault_ = std::move(vault).value();
  }

  Vault& v() { return *vault_; }

  uint64_t Labs() {
    auto e = v().Lookup(kRootNode, "labs");
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? e->node : 0;
  }

  uint64_t MakeFile(uint64_t parent, const std::string& name, const std::string& content) {
    auto e = v().Create(parent, name, 0644, kAlice);
    EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
    if (!e.ok()) return 0;
    auto n = v().Write(e->node, 0, Bytes(content), false);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return e->node;
  }

  Result<std::string> ReadAll(uint64_t parent, const std::string& name) {
    PHRFS_ASSIGN_OR_RETURN(Entry e, v().Lookup(parent, name));
    std::string out(static_cast<size_t>(e.attr.st_size) + 16, '\0');
    PHRFS_ASSIGN_OR_RETURN(size_t n,
                           v().Read(e.node, 0, {reinterpret_cast<uint8_t*>(out.data()), out.size()}));
    out.resize(n);
    return out;
  }

  std::vector<std::string> List(uint64_t dir) {
    auto h = v().OpenDir(dir);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    std::vector<std::string> names;
    if (!h.ok()) return names;
    for (const auto& e : (*h)->entries) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    return names;
  }

  // Every object key in the store under `prefix`, recursively.
  std::vector<std::string> KeysUnder(const std::string& prefix) {
    std::vector<std::string> keys;
    auto tree = NewTree();
    std::vector<std::string> folders{prefix};
    while (!folders.empty()) {
      std::string folder = folders.back();
      folders.pop_back();
      auto list = tree->List(folder);
      if (!list.ok()) continue;
      for (const auto& e : *list) {
        std::string key = folder.empty() ? e.name : folder + "/" + e.name;
        if (e.is_folder) folders.push_back(key);
        else keys.push_back(key);
      }
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // The key epoch in the node header of the one object under `folder` named like `name`.
  uint32_t EpochOf(const std::shared_ptr<const KeyDomain>& domain, const crypto::DirId& dir,
                   const std::string& name) {
    auto folder = domain->FolderOf(dir);
    auto stored = domain->names().Encode(dir, name);
    EXPECT_TRUE(folder.ok() && stored.ok());
    uint8_t raw[crypto::kNodeHeaderSize];
    auto got = NewTree()->Read(*folder + "/" + stored->stem, 0, raw);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return ~0u;
    auto fields = crypto::ParseNodeHeaderFields({raw, *got});
    EXPECT_TRUE(fields.ok());
    return fields.ok() ? fields->key_epoch : ~0u;
  }

  remote::testing::TempDir dir_;
  SecureBytes master_;
  crypto::StoreId store_id_;
  crypto::DirId labs_id_;
  std::unique_ptr<Vault> vault_;
  DomainSecrets secrets_;
};

TEST_F(KeyDomainTest, ASharedFoldersEntriesLiveUnderItsPrefixSealedWithItsKeys) {
  auto domain = secrets_.Domain({0}, 0);
  Open(domain);
  const uint64_t labs = Labs();
  MakeFile(labs, "blood-2026.pdf", "hemoglobin 14.1");
  auto sub = v().MakeDir(labs, "2025", 0755, kAlice);
  ASSERT_TRUE(sub.ok());
  MakeFile(sub->node, "lipids.txt", "LDL 98");
  ASSERT_TRUE(v().MakeSymlink(labs, "latest", "blood-2026.pdf", kAlice).ok());
  MakeFile(kRootNode, "diary.txt", "private");

  // Everything inside labs is under the domain's prefix; the rest of the store holds only the
  // root's entries (labs itself and diary.txt) and the store's own files.
  const std::vector<std::string> inside = KeysUnder(secrets_.prefix.substr(0, secrets_.prefix.size() - 1));
  EXPECT_EQ(inside.size(), 4u);  // blood, 2025 (its object), latest, lipids
  auto labs_folder = domain->FolderOf(labs_id_);
  ASSERT_TRUE(labs_folder.ok());
  auto stored = domain->names().Encode(labs_id_, "blood-2026.pdf");
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(std::find(inside.begin(), inside.end(), *labs_folder + "/" + stored->stem), inside.end());
  size_t main_entries = 0;
  for (const auto& key : KeysUnder("d")) {
    EXPECT_EQ(key.find(secrets_.prefix), std::string::npos);
    ++main_entries;
  }
  EXPECT_EQ(main_entries, 2u);  // labs.d and diary.txt

  // The names in the domain's folder decrypt with the domain's name key, not the store's.
  auto keys = crypto::StoreKeys::Derive(master_, store_id_);
  fs::Names store_names(keys->names.Clone());
  EXPECT_FALSE(store_names.Decode(labs_id_, stored->encoded).ok());
  auto plain = domain->names().Decode(labs_id_, stored->encoded);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "blood-2026.pdf");

  // And they read back after a remount with the domain's keys.
  Open(domain);
  EXPECT_EQ(List(Labs()), (std::vector<std::string>{"2025", "blood-2026.pdf", "latest"}));
  EXPECT_EQ(Str(ReadAll(Labs(), "blood-2026.pdf")), "hemoglobin 14.1");
  auto sub2 = v().Lookup(Labs(), "2025");
  ASSERT_TRUE(sub2.ok());
  EXPECT_EQ(Str(ReadAll(sub2->node, "lipids.txt")), "LDL 98");
  auto link = v().Lookup(Labs(), "latest");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(Str(v().ReadLink(link->node)), "blood-2026.pdf");
}

TEST_F(KeyDomainTest, AMountWithoutTheDomainsKeysSeesNothingInside) {
  Open(secrets_.Domain({0}, 0));
  MakeFile(Labs(), "scan.dcm", "pixels");
  Open(nullptr);  // the folder's own keys are not held: its entries are not even found
  EXPECT_TRUE(List(Labs()).empty());
  EXPECT_EQ(v().Lookup(Labs(), "scan.dcm").status().code(), Code::kNotFound);
  // A different domain (someone else's keys) for the same folder sees nothing either.
  DomainSecrets other;
  other.prefix = secrets_.prefix;
  Open(other.Domain({0}, 0));
  EXPECT_TRUE(List(Labs()).empty());
}

TEST_F(KeyDomainTest, NothingMovesBetweenDomainsByRenameOrLink) {
  Open(secrets_.Domain({0}, 0));
  const uint64_t labs = Labs();
  const uint64_t in = MakeFile(labs, "a", "inside");
  MakeFile(kRootNode, "b", "outside");
  EXPECT_EQ(v().Rename(labs, "a", kRootNode, "a", 0).code(), Code::kCrossDevice);
  EXPECT_EQ(v().Rename(kRootNode, "b", labs, "b", 0).code(), Code::kCrossDevice);
  EXPECT_EQ(v().Rename(labs, "a", kRootNode, "b", RENAME_EXCHANGE).code(), Code::kCrossDevice);
  EXPECT_EQ(v().Link(in, kRootNode, "a2").status().code(), Code::kCrossDevice);
  // Within a domain, and renaming the shared folder itself, work as always.
  EXPECT_TRUE(v().Rename(labs, "a", labs, "a-renamed", 0).ok());
  EXPECT_TRUE(v().Rename(kRootNode, "labs", kRootNode, "lab-results", 0).ok());
  auto moved = v().Lookup(kRootNode, "lab-results");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(Str(ReadAll(moved->node, "a-renamed")), "inside");
  EXPECT_EQ(Str(ReadAll(kRootNode, "b")), "outside");
}

TEST_F(KeyDomainTest, NewAndRewrittenFilesTakeTheCurrentEpochAndOldOnesKeepTheirs) {
  auto epoch0 = secrets_.Domain({0}, 0);
  Open(epoch0);
  MakeFile(Labs(), "old", "written at epoch 0");
  MakeFile(Labs(), "rewritten", "first version");
  EXPECT_EQ(EpochOf(epoch0, labs_id_, "old"), 0u);

  // A revocation: epoch 1 becomes current; the owner holds both.
  auto both = secrets_.Domain({0, 1}, 1);
  Open(both);
  MakeFile(Labs(), "new", "written at epoch 1");
  {
    auto e = v().Lookup(Labs(), "rewritten");
    ASSERT_TRUE(e.ok());
    SetAttrRequest truncate;
    truncate.size = 0;
    ASSERT_TRUE(v().SetAttr(e->node, truncate).ok());
    ASSERT_TRUE(v().Write(e->node, 0, Bytes("second version"), false).ok());
  }
  EXPECT_EQ(EpochOf(both, labs_id_, "old"), 0u);
  EXPECT_EQ(EpochOf(both, labs_id_, "new"), 1u);
  EXPECT_EQ(EpochOf(both, labs_id_, "rewritten"), 1u);
  Open(both);
  EXPECT_EQ(Str(ReadAll(Labs(), "old")), "written at epoch 0");
  EXPECT_EQ(Str(ReadAll(Labs(), "new")), "written at epoch 1");
  EXPECT_EQ(Str(ReadAll(Labs(), "rewritten")), "second version");

  // Someone who holds only epoch 0 (revoked at the rotation) reads the old file and nothing
  // written since: EIO, never other bytes.
  Open(secrets_.Domain({0}, 0));
  EXPECT_EQ(Str(ReadAll(Labs(), "old")), "written at epoch 0");
  EXPECT_EQ(ReadAll(Labs(), "new").status().code(), Code::kCorrupt);
  EXPECT_EQ(ReadAll(Labs(), "rewritten").status().code(), Code::kCorrupt);
  // Someone granted only from epoch 1 on reads the new files and not the old one.
  Open(secrets_.Domain({1}, 1));
  EXPECT_EQ(ReadAll(Labs(), "old").status().code(), Code::kCorrupt);
  EXPECT_EQ(Str(ReadAll(Labs(), "new")), "written at epoch 1");
}

TEST_F(KeyDomainTest, ADomainNeedsWellFormedKeys) {
  EXPECT_FALSE(KeyDomain::Shared("s/x", RandomKey(64), RandomKey(32), {}, 0).ok());
  std::map<uint32_t, SecureBytes> one;
  one.emplace(3, RandomKey(32));
  EXPECT_FALSE(KeyDomain::Shared("s/x/", RandomKey(64), RandomKey(32), std::move(one), 0).ok());
  std::map<uint32_t, SecureBytes> short_key;
  short_key.emplace(0, RandomKey(16));
  EXPECT_FALSE(KeyDomain::Shared("s/x/", RandomKey(64), RandomKey(32), std::move(short_key), 0).ok());
  std::map<uint32_t, SecureBytes> good;
  good.emplace(0, RandomKey(32));
  EXPECT_FALSE(KeyDomain::Shared("s/x/", RandomKey(32), RandomKey(32), std::move(good), 0).ok());
}

}  // namespace
}  // namespace phrfs::fs
