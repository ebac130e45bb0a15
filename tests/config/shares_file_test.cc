// Tests for shares.yaml parsing: the example of man phrfs-shares(5) parses and resolves exactly;
// every rule's error names its FILE:LINE; several errors in one file are all reported.
#include "config/shares_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phrfs::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// Stands in for crypto's parser: "phrfs1" and at least 8 lower-case letters or digits.
Status FakeKeyCheck(std::string_view text) {
  bool ok = text.size() >= 14 && text.substr(0, 6) == "phrfs1";
  for (size_t i = 6; ok && i < text.size(); ++i) {
    ok = (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9');
  }
  return ok ? Status::Ok() : Status::InvalidArgument("not a phrfs public key (phrfs1...)");
}

SharesParseOptions Options() { return SharesParseOptions{FakeKeyCheck}; }

const char kExample[] =
    "owner: alice\n"                                                                 // 1
    "people:\n"                                                                      // 2
    "  dr_bob: phrfs1bobbobbob\n"                                                    // 3
    "  st_mary_lab: phrfs1marymary\n"                                                // 4
    "  insurer_x: phrfs1insurerx\n"                                                  // 5
    "groups:                      # roles\n"                                         // 6
    "  cardiology: [dr_bob]\n"                                                       // 7
    "shares:\n"                                                                      // 8
    "  /labs:          { read: [cardiology, insurer_x], write: [st_mary_lab] }\n"    // 9
    "  /imaging:       { read: [cardiology], until: 2027-06-30 }\n"                  // 10
    "  /mental-health: {}         # private to the owner\n";                         // 11

// The people and groups of the example (lines 1 to 7), then `shares` from line 8 on.
std::string WithShares(const std::string& shares_lines) {
  std::string text(kExample);
  text.resize(text.find("shares:"));
  return text + "shares:\n" + shares_lines;
}

std::vector<std::string> Errors(const std::string& text) {
  auto result = ParseSharesFile(text, "shares.yaml", Options());
  EXPECT_FALSE(result.ok()) << "accepted:\n" << text;
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  std::vector<std::string> lines;
  std::istringstream in(result.status().message());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The one error of `text`, which must have exactly one.
std::string OneError(const std::string& text) {
  std::vector<std::string> errors = Errors(text);
  EXPECT_THAT(errors, SizeIs(1));
  return errors.empty() ? "" : errors[0];
}

TEST(SharesFileTest, ParsesTheExampleWithTheLineOfEveryItem) {
  auto file = ParseSharesFile(kExample, "shares.yaml", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->owner, "alice");
  EXPECT_EQ(file->owner_line, 1);
  ASSERT_THAT(file->people, SizeIs(3));
  EXPECT_EQ(file->people[0].name, "dr_bob");
  EXPECT_EQ(file->people[0].public_key, "phrfs1bobbobbob");
  EXPECT_EQ(file->people[0].line, 3);
  EXPECT_EQ(file->people[1].name, "st_mary_lab");
  EXPECT_EQ(file->people[1].line, 4);
  EXPECT_EQ(file->people[2].name, "insurer_x");
  EXPECT_EQ(file->people[2].public_key, "phrfs1insurerx");
  EXPECT_EQ(file->people[2].line, 5);
  ASSERT_THAT(file->groups, SizeIs(1));
  EXPECT_EQ(file->groups[0].name, "cardiology");
  EXPECT_THAT(file->groups[0].members, ElementsAre("dr_bob"));
  EXPECT_EQ(file->groups[0].line, 7);
  ASSERT_THAT(file->shares, SizeIs(3));
  EXPECT_EQ(file->shares[0].path, "/labs");
  EXPECT_EQ(file->shares[0].line, 9);
  EXPECT_THAT(file->shares[0].read, ElementsAre("cardiology", "insurer_x"));
  EXPECT_THAT(file->shares[0].write, ElementsAre("st_mary_lab"));
  EXPECT_FALSE(file->shares[0].until.has_value());
  EXPECT_EQ(file->shares[1].path, "/imaging");
  EXPECT_EQ(file->shares[1].line, 10);
  EXPECT_EQ(file->shares[1].until, (CalendarDate{2027, 6, 30}));
  EXPECT_EQ(file->shares[1].until_line, 10);
  EXPECT_EQ(file->shares[2].path, "/mental-health");
  EXPECT_EQ(file->shares[2].line, 11);
  EXPECT_TRUE(file->shares[2].read.empty());
  EXPECT_TRUE(file->shares[2].write.empty());
  EXPECT_EQ(file->Where(file->shares[1].line), "shares.yaml:10: ");
}

TEST(SharesFileTest, ResolvesTheExampleWithGroupsExpanded) {
  auto file = ParseSharesFile(kExample, "shares.yaml", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::vector<ResolvedShare> shares = ResolveShares(*file);
  ASSERT_THAT(shares, SizeIs(3));
  // Sorted by path.
  EXPECT_EQ(shares[0].path, "/imaging");
  EXPECT_EQ(shares[0].line, 10);
  EXPECT_EQ(shares[0].until, (CalendarDate{2027, 6, 30}));
  ASSERT_THAT(shares[0].grants, SizeIs(1));
  const ResolvedGrant& bob_imaging = shares[0].grants.at("dr_bob");
  EXPECT_EQ(bob_imaging.access, ShareAccess::kRead);
  EXPECT_EQ(bob_imaging.public_key, "phrfs1bobbobbob");
  EXPECT_EQ(bob_imaging.until, (CalendarDate{2027, 6, 30}));

  EXPECT_EQ(shares[1].path, "/labs");
  EXPECT_FALSE(shares[1].until.has_value());
  ASSERT_THAT(shares[1].grants, SizeIs(3));
  EXPECT_EQ(shares[1].grants.at("dr_bob").access, ShareAccess::kRead);
  EXPECT_EQ(shares[1].grants.at("insurer_x").access, ShareAccess::kRead);
  EXPECT_EQ(shares[1].grants.at("insurer_x").public_key, "phrfs1insurerx");
  EXPECT_EQ(shares[1].grants.at("st_mary_lab").access, ShareAccess::kWrite);
  EXPECT_EQ(shares[1].grants.at("st_mary_lab").public_key, "phrfs1marymary");
  EXPECT_FALSE(shares[1].grants.at("st_mary_lab").until.has_value());

  EXPECT_EQ(shares[2].path, "/mental-health");
  EXPECT_TRUE(shares[2].grants.empty());
}

TEST(SharesFileTest, WriteIncludesReadWhenAPersonIsInBoth) {
  auto file = ParseSharesFile(WithShares("  /labs: { read: [cardiology], write: [dr_bob] }\n"),
                              "shares.yaml", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::vector<ResolvedShare> shares = ResolveShares(*file);
  ASSERT_THAT(shares, SizeIs(1));
  ASSERT_THAT(shares[0].grants, SizeIs(1));
  EXPECT_EQ(shares[0].grants.at("dr_bob").access, ShareAccess::kWrite);
}

TEST(SharesFileTest, EmptySectionsAndANullShareAreValid) {
  auto file = ParseSharesFile("owner: alice\npeople:\ngroups: {}\nshares:\n  /private:\n",
                              "shares.yaml", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->people.empty());
  ASSERT_THAT(file->shares, SizeIs(1));
  EXPECT_EQ(file->shares[0].path, "/private");
  EXPECT_EQ(file->shares[0].line, 5);
}

TEST(SharesFileTest, SiblingPathsWithACommonPrefixDoNotOverlap) {
  auto file = ParseSharesFile(
      WithShares("  /lab: { read: [dr_bob] }\n  /labs: {}\n  /lab-old: {}\n  /a/lab: {}\n"),
      "shares.yaml", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_THAT(file->shares, SizeIs(4));
}

TEST(SharesFileTest, RejectsUnknownTopLevelKey) {
  EXPECT_EQ(OneError("owner: alice\nshare:\n  /labs: {}\n"),
            "shares.yaml:2: share: unknown key (known: owner, people, groups, shares)");
}

TEST(SharesFileTest, RejectsMissingOrEmptyOwner) {
  EXPECT_THAT(OneError("people: {}\nshares: {}\n"),
              StartsWith("shares.yaml:1: owner: missing"));
  EXPECT_THAT(OneError("shares: {}\nowner:\n"), StartsWith("shares.yaml:2: owner: missing"));
  EXPECT_THAT(OneError("owner: ''\n"), StartsWith("shares.yaml:1: owner: missing"));
}

TEST(SharesFileTest, RejectsAnOwnerThatIsNotAValidName) {
  EXPECT_EQ(OneError("owner: Alice Smith\n"),
            "shares.yaml:1: owner: a name is 1 to 64 of a-z, 0-9, '_', '.', '-', starting with "
            "a letter or digit (got 'Alice Smith')");
  EXPECT_THAT(OneError("owner: [alice]\n"), StartsWith("shares.yaml:1: owner: missing"));
}

TEST(SharesFileTest, RejectsAnEmptyFileAndANonMapping) {
  EXPECT_THAT(OneError(""), StartsWith("shares.yaml:1: the file is empty"));
  EXPECT_THAT(OneError("- owner\n"), StartsWith("shares.yaml:1: expected a mapping"));
}

TEST(SharesFileTest, ReportsYamlSyntaxErrorsWithTheirLine) {
  EXPECT_THAT(OneError("owner: alice\nshares:\n  /labs: { read: [dr_bob }\n"),
              StartsWith("shares.yaml:3: YAML syntax error"));
}

TEST(SharesFileTest, RejectsADuplicatePerson) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n  bob: phrfs1otherbob\n"),
            "shares.yaml:4: people.bob: defined twice (first on line 3)");
}

TEST(SharesFileTest, RejectsADuplicateGroup) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n"
                     "groups:\n  team: [bob]\n  team: []\n"),
            "shares.yaml:6: groups.team: defined twice (first on line 5)");
}

TEST(SharesFileTest, RejectsADuplicateTopLevelKey) {
  EXPECT_EQ(OneError("owner: alice\nowner: bob\n"),
            "shares.yaml:2: owner: duplicate key (first on line 1)");
}

TEST(SharesFileTest, RejectsAMalformedKeyWithTheCheckersMessage) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n  eve: ssh-rsa AAAA\n"),
            "shares.yaml:4: people.eve: not a phrfs public key (phrfs1...)");
  EXPECT_THAT(OneError("owner: alice\npeople:\n  eve:\n"),
              StartsWith("shares.yaml:3: people.eve: expected the person's public key"));
}

TEST(SharesFileTest, RejectsTheSameKeyForTwoPeople) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n  rob: phrfs1bobbobbob\n"),
            "shares.yaml:4: people.rob: the same public key as bob (line 3): one key, one "
            "person");
}

TEST(SharesFileTest, RejectsInvalidPersonAndGroupNames) {
  EXPECT_THAT(OneError("owner: alice\npeople:\n  Dr Bob: phrfs1bobbobbob\n"),
              StartsWith("shares.yaml:3: people.Dr Bob: a name is 1 to 64"));
  EXPECT_THAT(OneError("owner: alice\ngroups:\n  _team: []\n"),
              StartsWith("shares.yaml:3: groups._team: a name is 1 to 64"));
  EXPECT_THAT(OneError("owner: alice\ngroups:\n  " + std::string(65, 'a') + ": []\n"),
              StartsWith("shares.yaml:3: groups.aaaa"));
}

TEST(SharesFileTest, RejectsTheOwnerListedAsAPersonOrMember) {
  EXPECT_THAT(OneError("owner: alice\npeople:\n  alice: phrfs1alicealice\n"),
              StartsWith("shares.yaml:3: people.alice: this is the owner"));
  EXPECT_THAT(OneError(WithShares("  /labs: { read: [alice] }\n")),
              StartsWith("shares.yaml:9: shares./labs.read: alice is the owner"));
}

TEST(SharesFileTest, RejectsAnUnknownGroupMember) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n"
                     "groups:\n  team:\n    - bob\n    - carol\n"),
            "shares.yaml:7: groups.team: unknown person carol (not under people)");
}

TEST(SharesFileTest, RejectsAGroupWithThePersonsName) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\ngroups:\n  bob: [bob]\n"),
            "shares.yaml:5: groups.bob: a group cannot have the name of a person (line 3)");
}

TEST(SharesFileTest, RejectsAGroupInsideAGroupEvenOneDefinedLater) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\n"
                     "groups:\n  all: [bob, doctors]\n  doctors: [bob]\n"),
            "shares.yaml:5: groups.all: doctors is a group: a group holds people only (list "
            "its members instead)");
}

TEST(SharesFileTest, RejectsAScalarWhereAListIsExpected) {
  EXPECT_EQ(OneError("owner: alice\npeople:\n  bob: phrfs1bobbobbob\ngroups:\n  team: bob\n"),
            "shares.yaml:5: groups.team: expected a list, such as groups: { team: [dr_bob] } "
            "(got 'bob')");
  EXPECT_EQ(OneError(WithShares("  /labs: { read: dr_bob }\n")),
            "shares.yaml:9: shares./labs.read: expected a list, such as [cardiology, "
            "insurer_x] (got 'dr_bob')");
  EXPECT_THAT(OneError("owner: alice\npeople: [bob]\n"),
              StartsWith("shares.yaml:2: people: expected a mapping"));
  EXPECT_THAT(OneError(WithShares("  /labs: dr_bob\n")),
              StartsWith("shares.yaml:9: shares./labs: expected a mapping with read, write"));
}

TEST(SharesFileTest, RejectsBadSharePaths) {
  struct Case {
    const char* path;
    const char* problem;
  } cases[] = {
      {"labs", "a share path must be absolute, such as /labs"},
      {"/", "the whole store cannot be one share: name a folder, such as /labs"},
      {"/labs/", "write the path without a trailing slash"},
      {"/labs//2026", "a share path cannot hold an empty component (//)"},
      {"/labs/./2026", "a share path cannot hold . or .. components"},
      {"/labs/..", "a share path cannot hold . or .. components"},
      {"/labs/../imaging", "a share path cannot hold . or .. components"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OneError(WithShares("  \"" + std::string(c.path) + "\": {}\n")),
              "shares.yaml:9: shares." + std::string(c.path) + ": " + c.problem)
        << c.path;
  }
}

TEST(SharesFileTest, RejectsNestedAndRepeatedShares) {
  EXPECT_EQ(OneError(WithShares("  /labs: {}\n  /imaging: {}\n  /labs/2026: {}\n")),
            "shares.yaml:11: shares./labs/2026: overlaps the share /labs (line 9), being inside "
            "it: shares may not be nested");
  EXPECT_EQ(OneError(WithShares("  /labs/2026: {}\n  /labs: {}\n")),
            "shares.yaml:10: shares./labs: overlaps the share /labs/2026 (line 9), being around "
            "it: shares may not be nested");
  EXPECT_EQ(OneError(WithShares("  /labs: {}\n  /labs: { read: [dr_bob] }\n")),
            "shares.yaml:10: shares./labs: the same folder twice (first on line 9)");
}

TEST(SharesFileTest, RejectsUnknownGranteesAndKeysInAShare) {
  EXPECT_EQ(OneError(WithShares("  /labs: { read: [dr_bob, cardiologists] }\n")),
            "shares.yaml:9: shares./labs.read: unknown person or group cardiologists");
  EXPECT_EQ(OneError(WithShares("  /labs:\n    write:\n      - nobody\n")),
            "shares.yaml:11: shares./labs.write: unknown person or group nobody");
  EXPECT_EQ(OneError(WithShares("  /labs:\n    read: [dr_bob]\n    expires: 2027-01-01\n")),
            "shares.yaml:11: shares./labs.expires: unknown key (known: read, write, until)");
  EXPECT_EQ(OneError(WithShares("  /labs: { read: [dr_bob, dr_bob] }\n")),
            "shares.yaml:9: shares./labs.read: dr_bob is listed twice");
}

TEST(SharesFileTest, RejectsUntilThatIsNotARealDay) {
  for (const char* bad : {"2027-02-29", "2027-13-01", "2027-6-30", "30.06.2027", "2027-06-31",
                          "tomorrow", "0000-01-01"}) {
    EXPECT_EQ(OneError(WithShares("  /labs:\n    until: \"" + std::string(bad) + "\"\n")),
              "shares.yaml:10: shares./labs.until: expected a real calendar day as YYYY-MM-DD, "
              "such as 2027-06-30 (got '" + std::string(bad) + "')")
        << bad;
  }
  auto leap = ParseSharesFile(WithShares("  /labs: { until: 2028-02-29 }\n"), "shares.yaml",
                              Options());
  ASSERT_TRUE(leap.ok()) << leap.status().ToString();
  EXPECT_EQ(leap->shares[0].until, (CalendarDate{2028, 2, 29}));
}

TEST(SharesFileTest, ReportsEveryErrorInLineOrder) {
  std::vector<std::string> errors = Errors(
      "owner: alice\n"                        // 1
      "people:\n"                             // 2
      "  bob: phrfs1bobbobbob\n"              // 3
      "  eve: not-a-key\n"                    // 4
      "groups:\n"                             // 5
      "  team: [bob, carol]\n"                // 6
      "shares:\n"                             // 7
      "  /labs: { read: [team, mallory] }\n"  // 8
      "  /labs/x: {}\n"                       // 9
      "  /imaging: { until: 2027-02-30 }\n"   // 10
      "colour: blue\n");                      // 11
  EXPECT_THAT(errors,
              ElementsAre("shares.yaml:4: people.eve: not a phrfs public key (phrfs1...)",
                          "shares.yaml:6: groups.team: unknown person carol (not under people)",
                          "shares.yaml:8: shares./labs.read: unknown person or group mallory",
                          StartsWith("shares.yaml:9: shares./labs/x: overlaps the share /labs"),
                          StartsWith("shares.yaml:10: shares./imaging.until: expected a real"),
                          StartsWith("shares.yaml:11: colour: unknown key")));
}

TEST(SharesFileTest, RefusesToParseWithoutAKeyCheck) {
  auto result = ParseSharesFile(kExample, "shares.yaml", SharesParseOptions{});
  EXPECT_FALSE(result.ok());
}

TEST(SharesFileTest, LoadsAFileAndNamesItInMessages) {
  char dir_template[] = "/tmp/phrfs-shares-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string path = std::string(dir_template) + "/shares.yaml";
  {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    std::string text = "owner: alice\nbogus: 1\n";
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }
  auto result = LoadSharesFile(path, Options());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), StartsWith(path + ":2: bogus: unknown key"));
  auto missing = LoadSharesFile(std::string(dir_template) + "/absent.yaml", Options());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  unlink(path.c_str());
  rmdir(dir_template);
}

TEST(SharesFileTest, TheManPageExampleParses) {
  const std::string path = std::string(PHRFS_SOURCE_DIR) + "/man/phrfs-shares.5";
  std::ifstream man(path);
  ASSERT_TRUE(man.good()) << "cannot read " << path;
  std::string line, block, example;
  bool in_example = false;
  while (std::getline(man, line)) {
    if (line == ".EX") {
      in_example = true;
      block.clear();
    } else if (line == ".EE") {
      in_example = false;
      if (block.starts_with("owner:")) example = block;
    } else if (in_example) {
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-') continue;  // \- is -
        block += line[i];
      }
      block += "\n";
    }
  }
  ASSERT_FALSE(example.empty()) << "no example starting with owner: in " << path;
  // The page writes every key "phrfs1..."; one key for two people is refused, so make each
  // distinct.
  int n = 0;
  for (size_t at = example.find("phrfs1..."); at != std::string::npos;
       at = example.find("phrfs1...", at)) {
    example.replace(at, 9, "phrfs1examplekey" + std::to_string(n++));
  }
  auto file = ParseSharesFile(example, "phrfs-shares.5", Options());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::vector<ResolvedShare> shares = ResolveShares(*file);
  ASSERT_THAT(shares, SizeIs(3));
  EXPECT_EQ(shares[0].path, "/imaging");
  EXPECT_THAT(shares[1].grants, SizeIs(3));
  EXPECT_EQ(shares[2].path, "/mental-health");
}

TEST(SharesFileTest, CalendarDatesRoundTripAndCompare) {
  EXPECT_EQ(FormatCalendarDate(CalendarDate{2027, 6, 3}), "2027-06-03");
  EXPECT_EQ(ParseCalendarDate("2000-02-29"), (CalendarDate{2000, 2, 29}));
  EXPECT_FALSE(ParseCalendarDate("1900-02-29").has_value());
  EXPECT_LT((CalendarDate{2026, 12, 31}), (CalendarDate{2027, 1, 1}));
  EXPECT_LT((CalendarDate{2027, 1, 30}), (CalendarDate{2027, 2, 1}));
}

}  // namespace
}  // namespace phrfs::config
