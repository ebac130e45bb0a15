// Stores of records end to end (issue 7: `phrfs init STORE --owner NAME --identity FILE`): two
// owners keep their records in one store, each unlocked by their identity alone; an owner's mount
// shows their whole record; a grantee's mount shows what every owner shared with them, each
// owner under /<owner>; each owner's audit lists the accesses to their own folders only; a
// revocation by one owner leaves another's grant alone; a damaged record is refused. Runs on the
// local store and, in the WebDAV tier, on a server (PHRFS_TEST_STORE_BASE).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/owner_record.h"
#include "fs/store_open.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

class OwnerRecordsMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* who : {"alice", "carol", "bob"}) {
      RunResult r = RunPhrfs({"identity", "new", Id(who), "--passfile", fx_.passfile(),
                              "--scrypt-logn", "10"});
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
      pub_[who] = r.out.substr(0, r.out.find('\n'));
    }
    for (const char* who : {"alice", "carol"}) {
      RunResult r = RunPhrfs({"init", fx_.store(), "--owner", who, "--identity", Id(who),
                              "--passfile", fx_.passfile()});
      ASSERT_EQ(r.exit_code, 0) << r.Describe();
    }
  }

  std::string Id(const std::string& who) { return fx_.root() + "/" + who + ".id"; }

  // Each identity mounts with a cache of its own on remote stores: a cache belongs to one store,
  // and an owner's record is a store of its own.
  RunResult MountAs(const std::string& who, std::vector<std::string> extra = {}) {
    MountOptions o;
    o.extra_args = {"--identity", Id(who)};
    if (!fx_.cache_dir().empty()) {
      o.extra_args.push_back("--cache-dir");
      o.extra_args.push_back(fx_.cache_dir() + "-" + who +
                             (std::find(extra.begin(), extra.end(), "--shared") != extra.end() ? "-shared" : ""));
    }
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    return fx_.Mount(o);
  }

  RunResult Share(const std::string& owner, const std::string& action, const std::string& yaml) {
    const std::string file = fx_.root() + "/" + owner + "-shares.yaml";
    WriteFile(file, yaml);
    return RunPhrfs({"share", action, fx_.store(), file, "--identity", Id(owner),
                     "--identity-passfile", fx_.passfile()},
                    std::chrono::seconds(120));
  }

  RunResult Audit(const std::string& owner, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"audit", fx_.store(), "--identity", Id(owner),
                                  "--identity-passfile", fx_.passfile()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunPhrfs(args);
  }

  // Every object of the store, as the server holds it.
  std::string AllStoredBytes() {
    auto opened = fs::OpenStore(fx_.store(), fs::StoreOpenOptions{});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return "";
    std::string all;
    std::vector<std::string> folders{""};
    while (!folders.empty()) {
      std::string f = folders.back();
      folders.pop_back();
      auto list = opened->tree->List(f);
      if (!list.ok()) continue;
      for (const auto& e : *list) {
        const std::string key = f.empty() ? e.name : f + "/" + e.name;
        all += key + "\n";
        if (e.is_folder) {
          folders.push_back(key);
          continue;
        }
        auto st = opened->tree->Stat(key);
        if (!st.ok()) continue;
        std::string bytes(st->size, '\0');
        auto got = opened->tree->Read(key, 0, {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
        if (got.ok()) all += bytes.substr(0, *got);
      }
    }
    return all;
  }

  MountFixture fx_;
  std::map<std::string, std::string> pub_;
};

TEST_F(OwnerRecordsMountTest, TwoOwnersKeepTheirRecordsInOneStoreEachUnlockedByTheirIdentity) {
  // One record per identity; a passphrase opens none of them and is not even asked for.
  RunResult again = RunPhrfs({"init", fx_.store(), "--owner", "alice", "--identity", Id("alice"),
                              "--passfile", fx_.passfile()});
  EXPECT_EQ(again.exit_code, 6) << again.Describe();
  EXPECT_NE(again.err.find("already owns a record"), std::string::npos) << again.Describe();
  RunResult by_passphrase = fx_.Mount();
  EXPECT_NE(by_passphrase.exit_code, 0);
  EXPECT_NE(by_passphrase.err.find("--identity"), std::string::npos) << by_passphrase.Describe();
  RunResult passphrase_init = RunPhrfs({"init", fx_.store(), "--passfile", fx_.passfile()});
  EXPECT_EQ(passphrase_init.exit_code, 6) << passphrase_init.Describe();

  ASSERT_EQ(MountAs("alice").exit_code, 0);
  EXPECT_TRUE(SortedNames(fx_.mnt()).empty());
  ASSERT_EQ(mkdir(fx_.InMnt("labs").c_str(), 0750), 0);
  WriteFile(fx_.InMnt("labs/blood-count.txt"), "hemoglobin 14.1");
  WriteFile(fx_.InMnt("diary-alice.txt"), "alice private");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  ASSERT_EQ(MountAs("carol").exit_code, 0);
  EXPECT_TRUE(SortedNames(fx_.mnt()).empty()) << "carol sees nothing of alice's record";
  WriteFile(fx_.InMnt("diary-carol.txt"), "carol private");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  ASSERT_EQ(MountAs("alice").exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"diary-alice.txt", "labs"}));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/blood-count.txt")), "hemoglobin 14.1");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // Someone who owns no record and was given nothing mounts nothing.
  EXPECT_EQ(MountAs("bob").exit_code, 4);

  // A wrong passphrase for alice's identity file: refused, and recorded in alice's log (sealed
  // to her identity), which her audit shows.
  const std::string wrong = fx_.root() + "/wrong-pass";
  WriteFile(wrong, "not alice's passphrase\n");
  RunResult refused = RunPhrfs({"mount", fx_.store(), fx_.mnt(), "--identity", Id("alice"),
                                "--passfile", wrong, "--person", "thief"});
  EXPECT_EQ(refused.exit_code, 3) << refused.Describe();
  RunResult audit = RunPhrfs({"audit", fx_.store(), "--identity", Id("alice"),
                              "--identity-passfile", fx_.passfile()});
  EXPECT_EQ(audit.exit_code, 0) << audit.Describe();
  EXPECT_NE(audit.out.find("thief (unsigned)  unlock-failed  /"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("EACCES"), std::string::npos) << audit.out;
  RunResult carols = RunPhrfs({"audit", fx_.store(), "--identity", Id("carol"),
                               "--identity-passfile", fx_.passfile()});
  EXPECT_EQ(carols.out.find("unlock-failed"), std::string::npos) << carols.out;

  // The server holds no plaintext: neither contents nor names nor the owners' names (they are
  // sealed in the records; only the identities' fingerprints name the folders).
  const std::string stored = AllStoredBytes();
  ASSERT_NE(stored.find("phrfs.record"), std::string::npos) << "the walk reached the records";
  for (const char* plain : {"hemoglobin", "blood-count", "diary-alice", "alice private",
                            "carol private", "alice", "carol"}) {
    EXPECT_EQ(stored.find(plain), std::string::npos) << plain << " is in the store in clear";
  }
}

TEST_F(OwnerRecordsMountTest, AGranteeSeesEveryOwnersSharesAndEachOwnerAuditsOnlyTheirOwn) {
  ASSERT_EQ(MountAs("alice").exit_code, 0);
  ASSERT_EQ(mkdir(fx_.InMnt("labs").c_str(), 0750), 0);
  WriteFile(fx_.InMnt("labs/blood.txt"), "hemoglobin 14.1");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(MountAs("carol").exit_code, 0);
  ASSERT_EQ(mkdir(fx_.InMnt("notes").c_str(), 0750), 0);
  WriteFile(fx_.InMnt("notes/visit.txt"), "follow-up in May");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  const std::string alice_yaml = "owner: alice\npeople:\n  carol: " + pub_["carol"] +
                                 "\n  dr_bob: " + pub_["bob"] +
                                 "\nshares:\n  /labs: { read: [carol], write: [dr_bob] }\n";
  RunResult applied = Share("alice", "apply", alice_yaml);
  ASSERT_EQ(applied.exit_code, 0) << applied.Describe();
  ASSERT_EQ(Share("carol", "apply", "owner: carol\npeople:\n  dr_bob: " + pub_["bob"] +
                                         "\nshares:\n  /notes: { read: [dr_bob] }\n")
                .exit_code,
            0);
  // shares.yaml must name the record's owner.
  RunResult wrong_owner = Share("carol", "plan", "owner: alice\nshares:\n  /notes: {}\n");
  EXPECT_EQ(wrong_owner.exit_code, 2) << wrong_owner.Describe();
  EXPECT_NE(wrong_owner.err.find("belongs to carol"), std::string::npos) << wrong_owner.Describe();
  RunResult list = RunPhrfs({"share", "list", fx_.store(), "--identity", Id("alice"),
                             "--identity-passfile", fx_.passfile()});
  EXPECT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_NE(list.out.find("dr_bob"), std::string::npos) << list.out;

  // Bob, who owns no record: both owners' folders, each under the owner's name. (He calls
  // himself "bob-says"; his mount signs its log sessions, so the owners see the names their
  // shares.yaml gave his key.)
  ASSERT_EQ(MountAs("bob", {"--person", "bob-says"}).exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/blood.txt")), "hemoglobin 14.1");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("carol/notes/visit.txt")), "follow-up in May");
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/result.txt"), "potassium 4.2"), 0);
  EXPECT_EQ(WriteErrno(fx_.InMnt("carol/notes/x.txt"), "x"), EROFS);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // Carol owns a record: her mount is her record; --shared shows what alice shared with her.
  ASSERT_EQ(MountAs("carol", {"--shared", "--person", "carol"}).exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("alice/labs/result.txt")), "potassium 4.2");
  EXPECT_EQ(WriteErrno(fx_.InMnt("alice/labs/y.txt"), "y"), EROFS);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(MountAs("carol").exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"notes"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // Each owner's log holds the accesses to their own folders, with their own paths.
  RunResult alice_audit = Audit("alice");
  ASSERT_EQ(alice_audit.exit_code, 0) << alice_audit.Describe();
  EXPECT_NE(alice_audit.out.find("dr_bob  open-read  /labs/blood.txt"), std::string::npos) << alice_audit.out;
  EXPECT_NE(alice_audit.out.find("dr_bob  create     /labs/result.txt"), std::string::npos) << alice_audit.out;
  EXPECT_NE(alice_audit.out.find("carol   open-read  /labs/result.txt"), std::string::npos) << alice_audit.out;
  EXPECT_NE(alice_audit.out.find("grant      /labs [dr_bob]"), std::string::npos) << alice_audit.out;
  EXPECT_EQ(alice_audit.out.find("/notes"), std::string::npos) << alice_audit.out;
  EXPECT_EQ(alice_audit.out.find("bob-says"), std::string::npos) << alice_audit.out;
  EXPECT_EQ(alice_audit.out.find("unsigned"), std::string::npos) << alice_audit.out;
  RunResult carol_audit = Audit("carol");
  ASSERT_EQ(carol_audit.exit_code, 0) << carol_audit.Describe();
  EXPECT_NE(carol_audit.out.find("dr_bob  open-read  /notes/visit.txt"), std::string::npos) << carol_audit.out;
  EXPECT_NE(carol_audit.out.find("/notes/x.txt"), std::string::npos) << carol_audit.out;
  EXPECT_EQ(carol_audit.out.find("/labs"), std::string::npos) << carol_audit.out;

  // Alice revokes bob: his mount keeps carol's folder only.
  const std::string without_bob = "owner: alice\npeople:\n  carol: " + pub_["carol"] +
                                  "\nshares:\n  /labs: { read: [carol] }\n";
  RunResult revoked = Share("alice", "apply", without_bob);
  ASSERT_EQ(revoked.exit_code, 0) << revoked.Describe();
  ASSERT_EQ(MountAs("bob").exit_code, 0);
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"carol"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
}

TEST_F(OwnerRecordsMountTest, ADamagedOrMisplacedRecordIsRefused) {
  ASSERT_EQ(Share("carol", "apply", "owner: carol\npeople:\n  dr_bob: " + pub_["bob"] +
                                         "\nshares:\n  /notes: { read: [dr_bob] }\n")
                .exit_code,
            2) << "a share of a folder that does not exist is refused (shares.yaml:LINE)";
  ASSERT_EQ(MountAs("carol").exit_code, 0);
  ASSERT_EQ(mkdir(fx_.InMnt("notes").c_str(), 0750), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(Share("carol", "apply", "owner: carol\npeople:\n  dr_bob: " + pub_["bob"] +
                                         "\nshares:\n  /notes: { read: [dr_bob] }\n")
                .exit_code,
            0);
  auto opened = fs::OpenStore(fx_.store(), fs::StoreOpenOptions{});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& tree = *opened->tree;
  // Find the two records by listing owners/.
  auto owners = tree.List(crypto::kOwnersFolder);
  ASSERT_TRUE(owners.ok());
  ASSERT_EQ(owners->size(), 2u);
  std::map<std::string, std::string> record_text;  // folder -> phrfs.record
  for (const auto& e : *owners) {
    const std::string key = std::string(crypto::kOwnersFolder) + "/" + e.name + "/" + crypto::kOwnerRecordName;
    std::string text(4096, '\0');
    auto got = tree.Read(key, 0, {reinterpret_cast<uint8_t*>(text.data()), text.size()});
    ASSERT_TRUE(got.ok()) << key;
    text.resize(*got);
    record_text[key] = text;
  }
  std::string alice_key, carol_key;
  for (const auto& [key, text] : record_text) {
    (text.find(pub_["alice"]) != std::string::npos ? alice_key : carol_key) = key;
  }
  ASSERT_FALSE(alice_key.empty());
  ASSERT_FALSE(carol_key.empty());
  // Carol's keyring planted in alice's record: a record's keyrings count only when its own
  // owner signed them, so bob sees carol's folder once, under carol.
  {
    const std::string carol_folder = carol_key.substr(0, carol_key.rfind('/'));
    const std::string alice_folder = alice_key.substr(0, alice_key.rfind('/'));
    auto domains = tree.List(carol_folder + "/s");
    ASSERT_TRUE(domains.ok());
    ASSERT_EQ(domains->size(), 1u);
    const std::string rel = "s/" + (*domains)[0].name + "/keyring";
    std::string keyring(1 << 20, '\0');
    auto got = tree.Read(carol_folder + "/" + rel, 0, {reinterpret_cast<uint8_t*>(keyring.data()), keyring.size()});
    ASSERT_TRUE(got.ok());
    keyring.resize(*got);
    for (const std::string& f : {alice_folder + "/s", alice_folder + "/s/" + (*domains)[0].name}) {
      Status made = tree.MakeFolder(f);
      ASSERT_TRUE(made.ok() || made.code() == Code::kAlreadyExists) << made.ToString();
    }
    Status planted = tree.Put(alice_folder + "/" + rel, {reinterpret_cast<const uint8_t*>(keyring.data()), keyring.size()},
                              remote::PutMode::kReplace);
    ASSERT_TRUE(planted.ok()) << planted.ToString();
    RunResult mounted = MountAs("bob");
    ASSERT_EQ(mounted.exit_code, 0) << mounted.Describe();
    EXPECT_NE(mounted.err.find("signed by someone other than the record's owner"), std::string::npos)
        << mounted.Describe();
    EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"carol"}));
    EXPECT_EQ(SortedNames(fx_.InMnt("carol")), (std::vector<std::string>{"notes"}));
    ASSERT_EQ(fx_.Unmount().exit_code, 0);
  }

  // One changed byte in carol's record's signature: her mount refuses it (a damaged store), and
  // bob no longer sees her shares.
  std::string damaged = record_text[carol_key];
  damaged[damaged.size() - 3] = damaged[damaged.size() - 3] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(tree.Put(carol_key, {reinterpret_cast<const uint8_t*>(damaged.data()), damaged.size()},
                       remote::PutMode::kReplace).ok());
  opened->tree.reset();
  RunResult carol = MountAs("carol");
  EXPECT_EQ(carol.exit_code, 5) << carol.Describe();
  RunResult bob = MountAs("bob");
  EXPECT_EQ(bob.exit_code, 4) << bob.Describe();
  EXPECT_NE(bob.err.find("owner record"), std::string::npos) << bob.Describe();

  // Alice's record copied over carol's: carol's identity does not open it (it is alice's).
  opened = fs::OpenStore(fx_.store(), fs::StoreOpenOptions{});
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->tree->Put(carol_key, {reinterpret_cast<const uint8_t*>(record_text[alice_key].data()),
                                            record_text[alice_key].size()},
                                remote::PutMode::kReplace).ok());
  opened->tree.reset();
  RunResult swapped = MountAs("carol");
  EXPECT_NE(swapped.exit_code, 0) << swapped.Describe();
  EXPECT_NE(swapped.err.find("belongs to another identity"), std::string::npos) << swapped.Describe();
}

// A host that adds a record of its own under a name a grantee knows: the grantee's mount
// remembered the real owner's key at first sight and does not show the impostor's folders.
TEST_F(OwnerRecordsMountTest, AGranteeRemembersEachOwnersKeyAndRefusesAnImpostor) {
  ASSERT_EQ(MountAs("alice").exit_code, 0);
  ASSERT_EQ(mkdir(fx_.InMnt("labs").c_str(), 0750), 0);
  WriteFile(fx_.InMnt("labs/blood.txt"), "hemoglobin 14.1");
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(Share("alice", "apply", "owner: alice\npeople:\n  dr_bob: " + pub_["bob"] +
                                         "\nshares:\n  /labs: { read: [dr_bob] }\n")
                .exit_code,
            0);
  RunResult first = MountAs("bob");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  EXPECT_NE(first.err.find("first folder from owner alice"), std::string::npos) << first.Describe();
  EXPECT_EQ(SortedNames(fx_.mnt()), (std::vector<std::string>{"alice"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  const std::string known = fx_.root() + "/config/phrfs/known-owners";
  EXPECT_NE(ReadFileOrDie(known).find(" alice "), std::string::npos) << ReadFileOrDie(known);

  // The impostor: its own identity, a record named alice, a folder shared with bob.
  RunResult made = RunPhrfs({"identity", "new", Id("mallory"), "--passfile", fx_.passfile(),
                             "--scrypt-logn", "10"});
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  ASSERT_EQ(RunPhrfs({"init", fx_.store(), "--owner", "alice", "--identity", Id("mallory"),
                      "--passfile", fx_.passfile()}).exit_code,
            0);
  ASSERT_EQ(MountAs("mallory").exit_code, 0);
  ASSERT_EQ(mkdir(fx_.InMnt("upload-here").c_str(), 0750), 0);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  ASSERT_EQ(Share("mallory", "apply", "owner: alice\npeople:\n  dr_bob: " + pub_["bob"] +
                                           "\nshares:\n  /upload-here: { write: [dr_bob] }\n")
                .exit_code,
            0);
  RunResult second = MountAs("bob");
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_NE(second.err.find("not by the key"), std::string::npos) << second.Describe();
  EXPECT_EQ(SortedNames(fx_.InMnt("alice")), (std::vector<std::string>{"labs"}));
  ASSERT_EQ(fx_.Unmount().exit_code, 0);

  // A damaged line in the file: the mount refuses with the file and line, and the file stays.
  const std::string kept = ReadFileOrDie(known);
  WriteFile(known, kept + "not a line\n");
  RunResult damaged = MountAs("bob");
  EXPECT_EQ(damaged.exit_code, 2) << damaged.Describe();
  EXPECT_NE(damaged.err.find("known-owners:"), std::string::npos) << damaged.Describe();
  EXPECT_EQ(ReadFileOrDie(known), kept + "not a line\n");
}

}  // namespace
}  // namespace phrfs::testing
