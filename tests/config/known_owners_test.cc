// Owners a grantee's mounts have seen (config/known_owners.h): trust on first use by store and
// owner name; a changed key is reported with the key on file; the file round-trips, keeps what
// the user wrote, and its mistakes are reported with file:line.
#include "config/known_owners.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace phrfs::config {
namespace {

const std::string kA(32, 'a'), kB(32, 'b');

TEST(KnownOwnersTest, FirstSightIsNewThenTheSameKeyIsSameAndAnotherIsChanged) {
  auto k = KnownOwners::Parse("f", "");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->Check("/srv/phr", "alice", kA), KnownOwners::Seen::kNew);
  k->Add("/srv/phr", "alice", kA);
  EXPECT_EQ(k->Check("/srv/phr", "alice", kA), KnownOwners::Seen::kSame);
  std::string known;
  EXPECT_EQ(k->Check("/srv/phr", "alice", kB, &known), KnownOwners::Seen::kChanged);
  EXPECT_EQ(known, kA);
  // Another store, or another name, is another owner.
  EXPECT_EQ(k->Check("s3://b/p", "alice", kB), KnownOwners::Seen::kNew);
  EXPECT_EQ(k->Check("/srv/phr", "carol", kB), KnownOwners::Seen::kNew);
  // A directory with a space in its name stays one field of the file.
  k->Add("/srv/my records", "alice", kB);
  EXPECT_NE(k->Serialize().find("/srv/my%20records alice " + kB + "\n"), std::string::npos) << k->Serialize();
  auto reread = KnownOwners::Parse("f", k->Serialize());
  ASSERT_TRUE(reread.ok()) << reread.status().ToString();
  EXPECT_EQ(reread->Check("/srv/my records", "alice", kB), KnownOwners::Seen::kSame);
  // Adding an owner already known keeps the first key.
  k->Add("/srv/phr", "alice", kB);
  EXPECT_EQ(k->Check("/srv/phr", "alice", kA), KnownOwners::Seen::kSame);
}

TEST(KnownOwnersTest, TheFileKeepsWhatWasThereAndAppendsNewOwners) {
  const std::string text = "# mine\n/srv/phr alice " + kA + "\n\nwebdav://h/x carol " + kB + "\n";
  auto k = KnownOwners::Parse("f", text);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->Check("webdav://h/x", "carol", kB), KnownOwners::Seen::kSame);
  EXPECT_EQ(k->Serialize(), text);  // nothing added: unchanged
  k->Add("/srv/phr", "dave", kB);
  EXPECT_EQ(k->Serialize(), text + "/srv/phr dave " + kB + "\n");
  auto again = KnownOwners::Parse("f", k->Serialize());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Check("/srv/phr", "dave", kB), KnownOwners::Seen::kSame);
}

TEST(KnownOwnersTest, MistakesAreReportedWithFileAndLine) {
  for (const std::string& bad : {std::string("/s alice\n"), "/s alice " + kA + " extra\n", "/s Alice " + kA + "\n",
                                 "/s alice " + std::string(32, 'G') + "\n",
                                 "/s alice " + kA + "\n/s alice " + kB + "\n"}) {
    auto k = KnownOwners::Parse("known", "# ok\n" + bad);
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_EQ(k.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(k.status().message().rfind("known:", 0), 0u) << k.status().message();
    const bool line2 = k.status().message().find("known:2: ") != std::string::npos;
    const bool line3 = k.status().message().find("known:3: ") != std::string::npos;
    EXPECT_TRUE(line2 || line3) << k.status().message();
  }
}

TEST(KnownOwnersTest, SaveWritesAPrivateFileInANewFolderAndLoadReadsItBack) {
  char tmpl[] = "/tmp/phrfs-known-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/config/phrfs/known-owners";
  auto k = KnownOwners::Load(path);  // missing: empty
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  ASSERT_TRUE(k->Save().ok());  // nothing added: nothing written
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
  k->Add("/srv/phr", "alice", kA);
  ASSERT_TRUE(k->Save().ok());
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = KnownOwners::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Check("/srv/phr", "alice", kA), KnownOwners::Seen::kSame);
  EXPECT_EQ(system(("rm -rf " + std::string(tmpl)).c_str()), 0);
}

TEST(KnownOwnersTest, DefaultPathFollowsXdgThenHome) {
  auto env = [](std::map<std::string, std::string> vars) -> EnvLookup {
    return [vars](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  };
  EXPECT_EQ(*DefaultKnownOwnersPath(env({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}})),
            "/x/phrfs/known-owners");
  EXPECT_EQ(*DefaultKnownOwnersPath(env({{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/h"}})),
            "/h/.config/phrfs/known-owners");
  EXPECT_EQ(DefaultKnownOwnersPath(env({})).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace phrfs::config
