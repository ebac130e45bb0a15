// ApplyShares over an in-memory store (fs/share_apply.h): moving a folder with every kind of
// entry (nested folders, a symlink, a FIFO, a name long enough for a sidecar) into its share;
// a rotation that re-encrypts every name, long ones included; an apply interrupted after the
// keyring of a new share was written is finished by the next one; --reencrypt.
#include "fs/share_apply.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/identity.h"
#include "fs/store_setup.h"
#include "fs/vault/vault.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "remote/shared_tree.h"
#include "tests/remote/faulty_tree.h"

namespace phrfs::fs {
namespace {

constexpr crypto::ScryptParams kFastScrypt{1024, 8, 1};
constexpr Caller kAlice{1000, 1000};
const std::string kLongName = std::string(200, 'x') + ".pdf";  // over the 255-byte store limit once encrypted

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class ShareApplyTest : public ::testing::Test {
 protected:
  void SetUp() override { Fresh(); }

  // A new store with /labs (every kind of entry) and /diary.txt; share_.tree is a FaultyTree.
  void Fresh() {
    store_ = std::make_shared<remote::MemoryStore>();
    auto tree = Tree();
    ASSERT_TRUE(InitStore(*tree, "mem", "pw", kFastScrypt).ok());
    auto unlocked = UnlockStore(Tree(), "mem", "pw");
    ASSERT_TRUE(unlocked.ok());
    faulty_ = std::make_shared<remote::testing::FaultyTree>(std::shared_ptr<remote::CipherTree>(Tree()));
    share_.tree = faulty_;
    share_.master_key = std::move(unlocked->master_key);
    share_.store_id = unlocked->config.store_id;
    owner_ = std::make_unique<crypto::Identity>(std::move(crypto::Identity::Generate()).value());
    bob_ = std::make_unique<crypto::Identity>(std::move(crypto::Identity::Generate()).value());
    lab_ = std::make_unique<crypto::Identity>(std::move(crypto::Identity::Generate()).value());

    auto v = OpenVault();
    auto labs = v->MakeDir(kRootNode, "labs", 0750, kAlice);
    ASSERT_TRUE(labs.ok());
    auto sub = v->MakeDir(labs->node, "2025", 0750, kAlice);
    ASSERT_TRUE(sub.ok());
    Write(*v, labs->node, "blood.txt", "hemoglobin 14.1");
    Write(*v, sub->node, "lipids.txt", "LDL 98");
    Write(*v, labs->node, kLongName, "a long name");
    ASSERT_TRUE(v->MakeSymlink(labs->node, "latest", "blood.txt", kAlice).ok());
    ASSERT_TRUE(v->MakeNode(labs->node, "pipe", S_IFIFO | 0600, kAlice).ok());
  }

  std::unique_ptr<remote::CipherTree> Tree() { return std::make_unique<remote::ObjectTree>(store_); }

  // A vault with every shared folder's keys the owner holds.
  std::unique_ptr<Vault> OpenVault() {
    auto owner_key = crypto::DeriveDomainOwnerKey(share_.master_key, share_.store_id);
    auto domains = LoadOwnedDomains(*share_.tree, *owner_key);
    EXPECT_TRUE(domains.ok());
    VaultOptions options;
    options.shared_domains = ByRoot(*domains);
    auto keys = crypto::StoreKeys::Derive(share_.master_key, share_.store_id);
    auto v = Vault::Open(std::make_unique<remote::SharedTree>(share_.tree), std::move(keys).value(), options);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return std::move(v).value();
  }

  static void Write(Vault& v, uint64_t dir, const std::string& name, const std::string& content) {
    auto e = v.Create(dir, name, 0640, kAlice);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(v.Write(e->node, 0, Bytes(content), false).ok());
  }

  static std::string Read(Vault& v, const std::vector<std::string>& path) {
    uint64_t at = kRootNode;
    Entry e;
    for (const auto& part : path) {
      auto next = v.Lookup(at, part);
      if (!next.ok()) return "<" + part + ": " + next.status().ToString() + ">";
      e = *next;
      at = e.node;
    }
    if (S_ISLNK(e.attr.st_mode)) return "-> " + v.ReadLink(at).value();
    std::string out(e.attr.st_size, '\0');
    auto n = v.Read(at, 0, {reinterpret_cast<uint8_t*>(out.data()), out.size()});
    return n.ok() ? out.substr(0, *n) : "<" + n.status().ToString() + ">";
  }

  Result<ApplyReport> Apply(bool lab_too, bool reencrypt = false) {
    const std::string text =
        "owner: alice\npeople:\n  bob: " + crypto::FormatPublicIdentity(bob_->public_identity()) +
        "\n  lab: " + crypto::FormatPublicIdentity(lab_->public_identity()) +
        "\nshares:\n  /labs: { read: [bob]" + (lab_too ? ", write: [lab] }\n" : " }\n");
    config::SharesParseOptions parse;
    parse.check_public_key = [](std::string_view k) {
      auto p = crypto::ParsePublicIdentity(k);
      return p.ok() ? Status::Ok() : p.status();
    };
    auto file = config::ParseSharesFile(text, "shares.yaml", parse);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    auto owner_key = crypto::DeriveDomainOwnerKey(share_.master_key, share_.store_id);
    auto domains = LoadOwnedDomains(*share_.tree, *owner_key);
    const auto desired = config::ResolveShares(*file);
    auto plan = PlanShares(desired, CurrentShares(*domains), config::CalendarDate{2026, 12, 1});
    EXPECT_TRUE(plan.ok());
    ApplyOptions options;
    options.today = config::CalendarDate{2026, 12, 1};
    options.owner_name = "alice";
    options.reencrypt = reencrypt;
    return ApplyShares(share_, *owner_, *file, desired, *plan, options);
  }

  void ExpectAllReadable() {
    auto v = OpenVault();
    EXPECT_EQ(Read(*v, {"labs", "blood.txt"}), "hemoglobin 14.1");
    EXPECT_EQ(Read(*v, {"labs", "2025", "lipids.txt"}), "LDL 98");
    EXPECT_EQ(Read(*v, {"labs", kLongName}), "a long name");
    EXPECT_EQ(Read(*v, {"labs", "latest"}), "-> blood.txt");
    auto pipe = v->Lookup(v->Lookup(kRootNode, "labs")->node, "pipe");
    ASSERT_TRUE(pipe.ok());
    EXPECT_TRUE(S_ISFIFO(pipe->attr.st_mode));
  }

  std::shared_ptr<remote::MemoryStore> store_;
  std::shared_ptr<remote::testing::FaultyTree> faulty_;
  ShareStore share_;
  std::unique_ptr<crypto::Identity> owner_, bob_, lab_;
};

TEST_F(ShareApplyTest, EveryKindOfEntryMovesIntoTheShareAndSurvivesARotation) {
  auto first = Apply(true);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->files_moved, 5u);  // blood, lipids, the long name, latest, pipe
  ExpectAllReadable();
  // The lab's view holds the current epoch.
  auto lab_view = LoadGrantedDomains(*share_.tree, *lab_);
  ASSERT_TRUE(lab_view.ok());
  ASSERT_EQ(lab_view->size(), 1u);
  const crypto::GranteeView held = std::move((*lab_view)[0].view);

  auto second = Apply(false);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GE(second->names_reencrypted, 6u);  // 4 at the top (one long), 2025's lipids, 2025
  ExpectAllReadable();
  // No name in the share's top folder opens with the lab's name key any more, the long one
  // (its sidecar holds the full encrypted name) included.
  Names lab_names(held.epochs.at(1).names.Clone());
  auto folder = FolderOf(held.dir_hash, held.root);
  ASSERT_TRUE(folder.ok());
  const std::string top = crypto::DomainPrefix(held.id) + *folder;
  auto list = share_.tree->List(top);
  ASSERT_TRUE(list.ok());
  size_t entries = 0, sidecars = 0;
  for (const auto& e : *list) {
    std::string stem;
    StoredKind kind;
    if (SidecarStem(e.name)) {
      ++sidecars;
      std::vector<uint8_t> side(4096);
      auto got = share_.tree->Read(top + "/" + e.name, 0, side);
      ASSERT_TRUE(got.ok());
      EXPECT_FALSE(lab_names.Decode(held.root, std::string(side.begin(), side.begin() + *got)).ok());
      continue;
    }
    if (!ParseStoredName(e.name, &stem, &kind)) continue;
    ++entries;
    EXPECT_FALSE(lab_names.Decode(held.root, stem).ok()) << e.name;
  }
  EXPECT_EQ(entries, 5u);
  EXPECT_EQ(sidecars, 1u) << "the old long name's sidecar is gone, the new one is there";

  auto third = Apply(false, /*reencrypt=*/true);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->files_reencrypted, 5u);
  ExpectAllReadable();
  auto bob_view = LoadGrantedDomains(*share_.tree, *bob_);
  ASSERT_TRUE(bob_view.ok());
  ASSERT_EQ(bob_view->size(), 1u);
  EXPECT_EQ((*bob_view)[0].view.epochs.size(), 1u);  // the old epoch is gone
}

// A store that fails the Nth write, for every N an apply makes: the apply fails cleanly, the
// next one (store healthy again) finishes the work, everything reads back, the plan converges,
// and grantees hold what they should. First for a new share (the move), then for a revocation
// (the rotation and its renames).
TEST_F(ShareApplyTest, AStoreThatFailsTheNthWriteLosesNothingAndTheNextApplyFinishes) {
  for (int phase = 0; phase < 2; ++phase) {
    bool completed = false;
    for (uint64_t n = 1; n < 400 && !completed; ++n) {
      Fresh();
      if (phase == 1) {
        ASSERT_TRUE(Apply(true).ok());
      }
      const uint64_t start = faulty_->writes();
      faulty_->FailNthWrite(n, Code::kIoError);
      auto failed = Apply(phase == 0);
      faulty_->ClearFaults();
      completed = faulty_->writes() - start < n;  // the fault never fired: an apply needs fewer
      if (completed) {
        ASSERT_TRUE(failed.ok()) << failed.status().ToString();
      } else if (!failed.ok()) {
        // (A fault may also land on a header's times, which the vault only logs: the apply
        // then succeeds, and the checks below still hold.)
        auto again = Apply(phase == 0);
        ASSERT_TRUE(again.ok()) << "phase " << phase << ", write " << n << ": " << again.status().ToString();
      }
      SCOPED_TRACE("phase " + std::to_string(phase) + ", failing write " + std::to_string(n));
      ExpectAllReadable();
      EXPECT_EQ(OpenVault()->Lookup(kRootNode, ".labs.phrfs-share").status().code(), Code::kNotFound);
      auto ids = ListDomains(*share_.tree);
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(ids->size(), 1u);
      auto bob = LoadGrantedDomains(*share_.tree, *bob_);
      ASSERT_TRUE(bob.ok());
      ASSERT_EQ(bob->size(), 1u);
      EXPECT_TRUE((*bob)[0].view.holds_current());
      auto lab = LoadGrantedDomains(*share_.tree, *lab_);
      ASSERT_TRUE(lab.ok());
      EXPECT_EQ(lab->size(), phase == 0 ? 1u : 0u);
      auto settled = Apply(phase == 0);
      ASSERT_TRUE(settled.ok()) << settled.status().ToString();
      EXPECT_EQ(settled->keyrings_written, 0u) << "the plan did not converge";
      EXPECT_EQ(settled->names_reencrypted, 0u);
    }
    EXPECT_TRUE(completed) << "phase " << phase << ": an apply made 400 writes or more";
  }
}

// A keyring changed in the store (one byte) opens for no one: the owner's mounts leave its
// folder out and say so, and apply refuses to touch anything until it is mended.
TEST_F(ShareApplyTest, ATamperedKeyringIsReportedAndApplyRefusesToRun) {
  ASSERT_TRUE(Apply(true).ok());
  auto ids = ListDomains(*share_.tree);
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 1u);
  auto text = ReadKeyring(*share_.tree, (*ids)[0]);
  ASSERT_TRUE(text.ok());
  std::string bad = *text;
  bad[bad.size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteKeyring(*share_.tree, (*ids)[0], bad).ok());
  auto owner_key = crypto::DeriveDomainOwnerKey(share_.master_key, share_.store_id);
  std::vector<std::string> problems;
  auto owned = LoadOwnedDomains(*share_.tree, *owner_key, &problems);
  ASSERT_TRUE(owned.ok());
  EXPECT_TRUE(owned->empty());
  ASSERT_EQ(problems.size(), 1u);
  auto bob = LoadGrantedDomains(*share_.tree, *bob_);
  ASSERT_TRUE(bob.ok());
  EXPECT_TRUE(bob->empty());
  auto refused = Apply(true);
  EXPECT_EQ(refused.status().code(), Code::kCorrupt) << refused.status().ToString();
}

TEST_F(ShareApplyTest, AnApplyInterruptedInTheMoveIsFinishedByTheNextOne) {
  // What a crash after the new share's keyring and part of the copy leaves: the keyring, and a
  // ".labs.phrfs-share" folder in the parent (here made by hand, with a file in it).
  {
    auto v = OpenVault();
    auto temp = v->MakeDir(kRootNode, ".labs.phrfs-share", 0700, kAlice);
    ASSERT_TRUE(temp.ok());
    Write(*v, temp->node, "blood.txt", "half-copied");
  }
  auto done = Apply(true);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ExpectAllReadable();
  EXPECT_EQ(OpenVault()->Lookup(kRootNode, ".labs.phrfs-share").status().code(), Code::kNotFound);
  auto again = Apply(true);  // nothing left to do
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files_moved, 0u);
  EXPECT_EQ(again->keyrings_written, 0u);
}

}  // namespace
}  // namespace phrfs::fs
