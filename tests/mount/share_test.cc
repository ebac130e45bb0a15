// Sharing end to end (issue 7; man/phrfs-shares.5): an owner, a doctor (read) and a lab (write)
// on one store. shares.yaml applied with `phrfs share apply`; grantees mount with their
// identities and see only what was shared with them, read-only where granted so; a revocation
// rotates keys so that nothing written afterwards — contents or names — opens with the revoked
// person's keys (checked against the ciphertext, not only through the mount); --reencrypt moves
// old files out of their reach too; a grant's last day ends it; the access log lists the owner's
// accesses and reports tampering. Runs on the local store and, in the remote tiers, on WebDAV
// and S3 (PHRFS_TEST_STORE_BASE).
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/domain_keyring.h"
#include "crypto/identity.h"
#include "crypto/identity_file.h"
#include "crypto/node_format.h"
#include "fs/shared_domains.h"
#include "fs/store_open.h"
#include "fs/vault/layout.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

class ShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(fx_.InitAndMount(), "");
    ASSERT_EQ(mkdir(fx_.InMnt("labs").c_str(), 0750), 0);
    ASSERT_EQ(mkdir(fx_.InMnt("labs/2025").c_str(), 0750), 0);
    ASSERT_EQ(mkdir(fx_.InMnt("imaging").c_str(), 0750), 0);
    WriteFile(fx_.InMnt("labs/blood.txt"), "hemoglobin 14.1");
    WriteFile(fx_.InMnt("labs/2025/lipids.txt"), "LDL 98");
    WriteFile(fx_.InMnt("imaging/chest.dcm"), Pattern(70000, 3));
    WriteFile(fx_.InMnt("diary.txt"), "private");
    ASSERT_EQ(fx_.Unmount().exit_code, 0);
    for (const char* who : {"alice", "bob", "lab"}) {
      const std::string file = fx_.root() + "/" + who + ".id";
      RunResult r = RunPhrfs({"identity", "new", file, "--passfile", fx_.passfile(), "--scrypt-logn", "10"});
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
      pub_[who] = r.out.substr(0, r.out.find('\n'));
    }
  }

  std::string Id(const std::string& who) { return fx_.root() + "/" + who + ".id"; }

  // shares.yaml with /labs (bob reads, the lab writes unless `lab_too` is false) and /imaging
  // (bob reads until 2027-06-30).
  std::string SharesFile(bool lab_too = true) {
    const std::string path = fx_.root() + "/shares.yaml";
    WriteFile(path, "owner: alice\npeople:\n  dr_bob: " + pub_["bob"] + "\n  st_mary_lab: " +
                        pub_["lab"] + "\ngroups:\n  cardiology: [dr_bob]\nshares:\n" +
                        "  /labs: { read: [cardiology]" +
                        (lab_too ? ", write: [st_mary_lab] }\n" : " }\n") +
                        "  /imaging: { read: [cardiology], until: 2027-06-30 }\n");
    return path;
  }

  RunResult Share(const std::string& action, const std::string& file,
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"share", action, fx_.store(), file, "--passfile", fx_.passfile()};
    if (action == "apply") {
      for (const char* a : {"--identity", "", "--identity-passfile", ""}) args.push_back(a);
      args[args.size() - 3] = Id("alice");
      args[args.size() - 1] = fx_.passfile();
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return RunPhrfs(args, std::chrono::seconds(120));
  }

  RunResult MountAs(const std::string& who, std::vector<std::string> extra = {}) {
    MountOptions o;
    o.extra_args = {"--identity", Id(who)};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    return fx_.Mount(o);
  }

  // The store as the server holds it (write-through, no cache).
  std::unique_ptr<remote::CipherTree> Store() {
    auto opened = fs::OpenStore(fx_.store(), fs::StoreOpenOptions{});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened->tree) : nullptr;
  }

  crypto::Identity Open(const std::string& who) {
    std::string text = ReadFileOrDie(Id(who));
    auto file = crypto::ParseIdentityFile(text);
    EXPECT_TRUE(file.ok());
    std::string pass = ReadFileOrDie(fx_.passfile());
    while (!pass.empty() && pass.back() == '\n') pass.pop_back();
    auto id = crypto::OpenIdentity(*file, pass);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return std::move(id).value();
  }

  // Every entry object (not sidecars) in every folder of the domain at `prefix`.
  std::vector<std::string> DomainObjects(remote::CipherTree& tree, const std::string& prefix) {
    std::vector<std::string> out;
    std::vector<std::string> folders{prefix.substr(0, prefix.size() - 1)};
    while (!folders.empty()) {
      std::string f = folders.back();
      folders.pop_back();
      auto list = tree.List(f);
      if (!list.ok()) continue;
      for (const auto& e : *list) {
        std::string stem;
        fs::StoredKind kind;
        if (e.is_folder) folders.push_back(f + "/" + e.name);
        else if (f.find("/d/") != std::string::npos && fs::ParseStoredName(e.name, &stem, &kind))
          out.push_back(f + "/" + e.name);  // entries live in d/xx/yyyy...; "keyring" does not
      }
    }
    return out;
  }

  MountFixture fx_;
  std::map<std::string, std::string> pub_;
};

TEST_F(ShareTest, GranteesSeeOnlyTheirFoldersReadOnlyWhereGrantedSo) {
  const std::string file = SharesFile();
  RunResult plan = Share("plan", file);
  ASSERT_EQ(plan.exit_code, 0) << plan.Describe();
  EXPECT_NE(plan.out.find("3 grants, 0 revocations, 0 key rotations, 2 folders to move"),
            std::string::npos) << plan.out;
  RunResult apply = Share("apply", file);
  ASSERT_EQ(apply.exit_code, 0) << apply.Describe();
  EXPECT_EQ(Share("plan", file).out, "No changes.\n");  // apply is idempotent

  // The doctor: alice's two shared folders, nothing else, read-only.
  ASSERT_EQ(MountAs("bob").exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(SortedNames(fx_.InMnt("alice")), (std::vector<std::string>{"imaging", "labs"}));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/blood.txt")), "hemoglobin 14.1");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/2025/lipids.txt")), "LDL 98");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/imaging/chest.dcm")), Pattern(70000, 3));
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/note.txt"), "x"), EROFS);
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/blood.txt"), "x"), EROFS);
  EXPECT_NE(unlink(fx_.InMnt("alice/labs/blood.txt").c_str()), 0);
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/new.txt"), "x"), EROFS);
  EXPECT_NE(access(fx_.InMnt("alice/diary.txt").c_str(), F_OK), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // The lab writes results; the owner and the doctor read them.
  ASSERT_EQ(MountAs("lab").exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.InMnt("alice")), (std::vector<std::string>{"labs"}));
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/result.txt"), "potassium 4.2"), 0);
  ASSERT_EQ(mkdir(fx_.InMnt("alice/labs/2026").c_str(), 0750), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/result.txt")), "potassium 4.2");
  EXPECT_EQ(SortedNames(fx_.InMnt("labs")),
            (std::vector<std::string>{"2025", "2026", "blood.txt", "result.txt"}));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("diary.txt")), "private");
  // A file moves out of a share only by copy (rename across key domains is EXDEV).
  EXPECT_NE(rename(fx_.InMnt("labs/blood.txt").c_str(), fx_.InMnt("blood.txt").c_str()), 0);
  EXPECT_EQ(errno, EXDEV);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // Someone never granted anything cannot mount at all.
  RunResult alice_as_grantee = MountAs("alice");
  EXPECT_EQ(alice_as_grantee.exit_code, 4) << alice_as_grantee.Describe();
  RunResult list = RunPhrfs({"share", "list", fx_.store(), "--passfile", fx_.passfile()});
  EXPECT_NE(list.out.find("st_mary_lab"), std::string::npos) << list.Describe();
  // The grants are in the owner's access log.
  RunResult audit = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.passfile(), "--path", "/labs"});
  EXPECT_EQ(audit.exit_code, 0) << audit.Describe();
  EXPECT_NE(audit.out.find("grant      /labs [dr_bob]"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("grant      /labs [st_mary_lab]"), std::string::npos) << audit.out;
}

TEST_F(ShareTest, ARevokedGranteesKeysOpenNothingWrittenAfterAndReencryptLocksThemOutOfOldFiles) {
  ASSERT_EQ(Share("apply", SharesFile()).exit_code, 0);
  crypto::Identity lab = Open("lab");
  auto tree = Store();
  ASSERT_NE(tree, nullptr);
  auto before = fs::LoadGrantedDomains(*tree, lab);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  const crypto::GranteeView held = std::move((*before)[0].view);  // what the lab keeps
  ASSERT_TRUE(held.holds_current());
  fs::Names lab_names(held.epochs.at(1).names.Clone());
  auto root_folder = fs::FolderOf(held.dir_hash, held.root);
  ASSERT_TRUE(root_folder.ok());
  const std::string labs_folder = crypto::DomainPrefix(held.id) + *root_folder;
  // How many names in the share's top folder the lab's name key opens.
  auto names_lab_reads = [&](remote::CipherTree& t) {
    size_t n = 0, total = 0;
    auto list = t.List(labs_folder);
    EXPECT_TRUE(list.ok()) << labs_folder;
    for (const auto& e : list.ok() ? *list : std::vector<remote::TreeEntry>{}) {
      std::string stem;
      fs::StoredKind kind;
      if (!fs::ParseStoredName(e.name, &stem, &kind)) continue;
      ++total;
      if (lab_names.Decode(held.root, stem).ok()) ++n;
    }
    EXPECT_GE(total, 2u);
    return n;
  };
  EXPECT_GE(names_lab_reads(*tree), 2u);  // before: blood.txt and 2025

  RunResult plan = Share("plan", SharesFile(/*lab_too=*/false));
  EXPECT_NE(plan.out.find("revoke st_mary_lab"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("rotate the key: epoch 1 -> 2"), std::string::npos) << plan.out;
  ASSERT_EQ(Share("apply", SharesFile(false)).exit_code, 0);
  EXPECT_EQ(MountAs("lab").exit_code, 4);  // nothing shown: the newest key is not theirs

  // The owner writes after the revocation.
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  WriteFile(fx_.InMnt("labs/after-revocation.txt"), "HbA1c 5.4");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // Against the ciphertext, with everything the lab ever held: no keyring stanza opens for the
  // lab any more, no name in the share decrypts under the lab's name key (every name moved to
  // epoch 2), and the new file is sealed under epoch 2, which the lab never had.
  tree = Store();
  auto after = fs::LoadGrantedDomains(*tree, lab);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  const std::string prefix = crypto::DomainPrefix(held.id);
  const auto objects = DomainObjects(*tree, prefix);
  ASSERT_GE(objects.size(), 4u);
  EXPECT_EQ(names_lab_reads(*tree), 0u);  // every name moved to the new epoch's key
  std::set<uint32_t> epochs_seen;
  for (const auto& key : objects) {
    uint8_t raw[crypto::kNodeHeaderSize];
    auto got = tree->Read(key, 0, raw);
    ASSERT_TRUE(got.ok());
    auto fields = crypto::ParseNodeHeaderFields({raw, *got});
    ASSERT_TRUE(fields.ok()) << key;
    epochs_seen.insert(fields->key_epoch);
  }
  EXPECT_TRUE(epochs_seen.count(2)) << "the new file is sealed under the new epoch";
  EXPECT_TRUE(epochs_seen.count(1)) << "untouched old files keep epoch 1 until --reencrypt";

  // --reencrypt: every object under epoch 2, and the keyring keeps epoch 2 only.
  RunResult re = Share("apply", SharesFile(false), {"--reencrypt"});
  ASSERT_EQ(re.exit_code, 0) << re.Describe();
  tree = Store();
  for (const auto& key : DomainObjects(*tree, prefix)) {
    uint8_t raw[crypto::kNodeHeaderSize];
    auto got = tree->Read(key, 0, raw);
    ASSERT_TRUE(got.ok());
    auto fields = crypto::ParseNodeHeaderFields({raw, *got});
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ(fields->key_epoch, 2u) << key;
  }
  crypto::Identity bob = Open("bob");
  auto bobs = fs::LoadGrantedDomains(*tree, bob);
  ASSERT_TRUE(bobs.ok());
  for (const auto& g : *bobs) {
    if (g.view.id == held.id) {
      EXPECT_EQ(g.view.epochs.size(), 1u);
    }
  }
  // The doctor, who kept access, still reads everything, old and new.
  ASSERT_EQ(MountAs("bob").exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/blood.txt")), "hemoglobin 14.1");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/2025/lipids.txt")), "LDL 98");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/after-revocation.txt")), "HbA1c 5.4");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
}

TEST_F(ShareTest, AGrantEndsAfterItsLastDay) {
  ASSERT_EQ(Share("apply", SharesFile()).exit_code, 0);
  ASSERT_EQ(MountAs("bob", {"--today", "2027-06-30"}).exit_code, 0);  // the last day: still in
  EXPECT_EQ(SortedNames(fx_.InMnt("alice")), (std::vector<std::string>{"imaging", "labs"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(MountAs("bob", {"--today", "2027-07-01"}).exit_code, 0);  // the mount hides it
  EXPECT_EQ(SortedNames(fx_.InMnt("alice")), (std::vector<std::string>{"labs"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  // And apply on a later day revokes it, with a rotation.
  RunResult plan = Share("plan", SharesFile(), {"--today", "2027-07-01"});
  EXPECT_NE(plan.out.find("expired"), std::string::npos) << plan.out;
  ASSERT_EQ(Share("apply", SharesFile(), {"--today", "2027-07-01"}).exit_code, 0);
  crypto::Identity bob = Open("bob");
  auto tree = Store();
  auto held = fs::LoadGrantedDomains(*tree, bob);
  ASSERT_TRUE(held.ok());
  size_t current = 0;
  for (const auto& g : *held) current += g.view.holds_current() ? 1 : 0;
  EXPECT_EQ(current, 1u);  // labs only
}

// A grantee's accesses go to a log of their own, sealed to the owner's identity, with the
// owner's paths: the owner reads them with `audit --identity`; a truncated or reordered session
// is reported.
TEST_F(ShareTest, TheOwnerAuditsTheGranteesOpensAndSeesItsLogTruncatedOrReordered) {
  ASSERT_EQ(Share("apply", SharesFile()).exit_code, 0);
  auto sessions = [&] {
    std::set<std::string> names;
    auto tree = Store();
    auto list = tree->List("log");
    if (list.ok())
      for (const auto& e : *list) names.insert(e.name);
    return names;
  };
  const std::set<std::string> before = sessions();
  ASSERT_EQ(MountAs("bob", {"--person", "dr_bob"}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/blood.txt")), "hemoglobin 14.1");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/blood.txt")), "hemoglobin 14.1");
  // Past one flush interval (5 s), so that the session has two batches before its end.
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/note.txt"), "x"), EROFS);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  std::string bobs;
  for (const auto& s : sessions())
    if (!before.count(s)) bobs = s;
  ASSERT_FALSE(bobs.empty()) << "the grantee's mount wrote no log session";

  const std::vector<std::string> as_owner{"audit", fx_.store(), "--identity", Id("alice"),
                                          "--identity-passfile", fx_.passfile(), "--passfile",
                                          fx_.passfile()};
  RunResult audit = RunPhrfs(as_owner);
  ASSERT_EQ(audit.exit_code, 0) << audit.Describe();
  EXPECT_NE(audit.out.find("dr_bob  open-read  /labs/blood.txt"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("/labs/note.txt"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("EROFS"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("/alice/"), std::string::npos) << "paths are the owner's" << audit.out;
  // A wrong store passphrase: the mount is refused, and the attempt is recorded sealed to the
  // owner identity the keyrings name.
  WriteFile(fx_.root() + "/wrong-pass", "not the passphrase\n");
  RunResult refused = RunPhrfs({"mount", fx_.store(), fx_.mnt(), "--passfile",
                                fx_.root() + "/wrong-pass"});
  EXPECT_EQ(refused.exit_code, 3) << refused.Describe();
  RunResult after = RunPhrfs(as_owner);
  EXPECT_EQ(after.exit_code, 0) << after.Describe();
  EXPECT_NE(after.out.find("unknown (unsigned)  unlock-failed  /"), std::string::npos) << after.out;

  // Without the identity the owner is told that a session needs it; nothing is damaged.
  RunResult without = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.passfile()});
  EXPECT_EQ(without.exit_code, 0) << without.Describe();
  EXPECT_EQ(without.out.find("dr_bob  open-read"), std::string::npos) << without.out;
  EXPECT_NE((without.out + without.err).find("--identity"), std::string::npos) << without.Describe();

  // Reordered: two objects of the session swapped.
  auto tree = Store();
  auto objects = tree->List("log/" + bobs);
  ASSERT_TRUE(objects.ok());
  ASSERT_GE(objects->size(), 3u) << "header, a batch and the end";
  std::vector<std::string> keys;
  for (const auto& e : *objects) keys.push_back("log/" + bobs + "/" + e.name);
  std::sort(keys.begin(), keys.end());
  auto read = [&](const std::string& key) {
    auto st = tree->Stat(key);
    std::vector<uint8_t> b(st.ok() ? st->size : 0);
    EXPECT_TRUE(tree->Read(key, 0, b).ok());
    return b;
  };
  const auto one = read(keys[1]), last = read(keys.back());
  ASSERT_TRUE(tree->Put(keys[1], last, remote::PutMode::kReplace).ok());
  ASSERT_TRUE(tree->Put(keys.back(), one, remote::PutMode::kReplace).ok());
  RunResult reordered = RunPhrfs(as_owner);
  EXPECT_EQ(reordered.exit_code, 12) << reordered.Describe();
  EXPECT_NE(reordered.out.find("WARNING"), std::string::npos) << reordered.out;
  // Truncated: the swap undone, then the session's last object deleted.
  ASSERT_TRUE(tree->Put(keys[1], one, remote::PutMode::kReplace).ok());
  ASSERT_TRUE(tree->Put(keys.back(), last, remote::PutMode::kReplace).ok());
  EXPECT_EQ(RunPhrfs(as_owner).exit_code, 0);
  ASSERT_TRUE(tree->Delete(keys.back()).ok());
  RunResult truncated = RunPhrfs(as_owner);
  EXPECT_EQ(truncated.exit_code, 12) << truncated.Describe();
  EXPECT_NE(truncated.out.find("WARNING"), std::string::npos) << truncated.out;
}

TEST_F(ShareTest, AnInvalidSharesFileIsRefusedWithFileAndLine) {
  const std::string path = fx_.root() + "/bad.yaml";
  WriteFile(path, "owner: alice\npeople:\n  dr_bob: " + pub_["bob"] +
                      "\nshares:\n  /labs: { read: [dr_who] }\n  /no-such-folder: {}\n");
  RunResult r = Share("plan", path);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_NE(r.err.find("bad.yaml:5:"), std::string::npos) << r.err;
  // A folder that does not exist is found when apply looks for it.
  WriteFile(path, "owner: alice\nshares:\n  /labs: {}\n  /no-such-folder: {}\n");
  RunResult a = Share("apply", path);
  EXPECT_EQ(a.exit_code, 2) << a.Describe();
  EXPECT_NE(a.err.find("bad.yaml:4:"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("/no-such-folder"), std::string::npos) << a.err;
}

TEST_F(ShareTest, TheAccessLogListsTheOwnersOpensAndReportsATamperedObject) {
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/blood.txt")), "hemoglobin 14.1");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/blood.txt")), "hemoglobin 14.1");
  WriteFile(fx_.InMnt("labs/new.txt"), "x");
  ASSERT_EQ(unlink(fx_.InMnt("labs/new.txt").c_str()), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  RunResult audit = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.passfile(), "--path", "/labs"});
  ASSERT_EQ(audit.exit_code, 0) << audit.Describe();
  EXPECT_NE(audit.out.find("open-read  /labs/blood.txt"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("create     /labs/new.txt"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("delete     /labs/new.txt"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("diary"), std::string::npos);  // --path filters

  // One flipped byte in a log object, in the store: reported, exit 12.
  auto tree = Store();
  auto sessions = tree->List("log");
  ASSERT_TRUE(sessions.ok() && !sessions->empty());
  const std::string key = "log/" + (*sessions)[0].name + "/0000000001";
  auto st = tree->Stat(key);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::vector<uint8_t> bytes(st->size);
  ASSERT_TRUE(tree->Read(key, 0, bytes).ok());
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_TRUE(tree->Put(key, bytes, remote::PutMode::kReplace).ok());
  RunResult damaged = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.passfile()});
  EXPECT_EQ(damaged.exit_code, 12) << damaged.Describe();
  EXPECT_NE(damaged.out.find("WARNING"), std::string::npos) << damaged.out;
}

// Each record names the path at the time of the access, whatever moved before or after it
// (the daemon caches names and directory paths for the log; see Vault::PathOf).
TEST_F(ShareTest, TheAccessLogNamesEachAccessByItsPathAtThatTime) {
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/2025/lipids.txt")), "LDL 98");
  ASSERT_EQ(rename(fx_.InMnt("labs").c_str(), fx_.InMnt("results").c_str()), 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("results/2025/lipids.txt")), "LDL 98");
  ASSERT_EQ(rename(fx_.InMnt("results/2025").c_str(), fx_.InMnt("results/y2025").c_str()), 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("results/y2025/lipids.txt")), "LDL 98");
  // rmdir, then mkdir of the same name: a new directory, the same path.
  ASSERT_EQ(mkdir(fx_.InMnt("tmp").c_str(), 0700), 0);
  WriteFile(fx_.InMnt("tmp/a.txt"), "a");
  ASSERT_EQ(unlink(fx_.InMnt("tmp/a.txt").c_str()), 0);
  ASSERT_EQ(rmdir(fx_.InMnt("tmp").c_str()), 0);
  ASSERT_EQ(mkdir(fx_.InMnt("tmp").c_str(), 0700), 0);
  WriteFile(fx_.InMnt("tmp/b.txt"), "b");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  RunResult audit = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.passfile()});
  ASSERT_EQ(audit.exit_code, 0) << audit.Describe();
  for (const char* line : {"open-read  /labs/2025/lipids.txt", "open-read  /results/2025/lipids.txt",
                           "open-read  /results/y2025/lipids.txt", " /labs -> /results",
                           " /results/2025 -> /results/y2025", "create     /tmp/a.txt",
                           "delete     /tmp/a.txt", "delete     /tmp ", "create     /tmp ",
                           "create     /tmp/b.txt"}) {
    EXPECT_NE(audit.out.find(line), std::string::npos) << line << " not in:\n" << audit.out;
  }
  EXPECT_EQ(audit.out.find("/labs/y2025"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace phrfs::testing
