// Tests for the share plan: grants, revocations and the one rotation per domain they cause,
// expiry by date, key changes, unshare, access and end-date changes, idempotence, and the exact
// text of a mixed plan.
#include "fs/share/share_plan.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phrfs::fs {
namespace {

using config::CalendarDate;
using config::ResolvedGrant;
using config::ResolvedShare;
using config::ShareAccess;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr ShareAccess kRead = ShareAccess::kRead;
constexpr ShareAccess kWrite = ShareAccess::kWrite;
const CalendarDate kToday{2026, 12, 1};

struct Wanted {
  std::string person;
  std::string key;
  ShareAccess access;
};

ResolvedShare Want(const std::string& path, std::vector<Wanted> grants,
                   std::optional<CalendarDate> until = std::nullopt) {
  ResolvedShare share;
  share.path = path;
  share.until = until;
  for (const Wanted& w : grants) share.grants[w.person] = ResolvedGrant{w.key, w.access, until};
  return share;
}

DomainState Have(const std::string& path, uint64_t epoch, std::vector<GrantState> grants) {
  return DomainState{path, epoch, std::move(grants)};
}

SharePlan Plan(const std::vector<ResolvedShare>& desired, const std::vector<DomainState>& current,
               const CalendarDate& today = kToday) {
  auto plan = PlanShares(desired, current, today);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : SharePlan{};
}

// "kind path [person]" for each change, for compact assertions.
std::vector<std::string> Kinds(const SharePlan& plan) {
  std::vector<std::string> out;
  for (const Change& c : plan.changes) {
    std::string line = std::string(ChangeKindName(c.kind)) + " " + c.path;
    if (!c.person.empty()) line += " " + c.person;
    out.push_back(line);
  }
  return out;
}

// What apply would leave in the store, so that planning again can be checked to be empty.
std::vector<DomainState> Applied(std::vector<DomainState> state, const SharePlan& plan) {
  auto domain = [&](const std::string& path) -> DomainState& {
    for (DomainState& d : state) {
      if (d.path == path) return d;
    }
    state.push_back(DomainState{path, 1, {}});
    return state.back();
  };
  auto grant = [](DomainState& d, const std::string& person) -> GrantState* {
    for (GrantState& g : d.grants) {
      if (g.person == person) return &g;
    }
    return nullptr;
  };
  for (const Change& c : plan.changes) {
    DomainState& d = domain(c.path);
    switch (c.kind) {
      case ChangeKind::kNewShare: break;  // domain() created it
      case ChangeKind::kReshare: d.unshared = false; break;
      case ChangeKind::kUnshare: d.unshared = true; break;
      case ChangeKind::kRevoke:
        std::erase_if(d.grants, [&](const GrantState& g) { return g.person == c.person; });
        break;
      case ChangeKind::kRotate:
        EXPECT_EQ(c.from_epoch, d.epoch);
        d.epoch = c.to_epoch;
        break;
      case ChangeKind::kGrant:
        EXPECT_EQ(grant(d, c.person), nullptr) << "granted twice: " << c.person;
        d.grants.push_back(GrantState{c.person, c.public_key, c.access, c.until});
        break;
      case ChangeKind::kChangeAccess: grant(d, c.person)->access = c.access; break;
      case ChangeKind::kChangeUntil: grant(d, c.person)->until = c.until; break;
    }
  }
  return state;
}

TEST(SharePlanTest, NewShareMovesTheFolderThenGrants) {
  SharePlan plan =
      Plan({Want("/labs", {{"mary", "phrfs1mary", kWrite}, {"bob", "phrfs1bob", kRead}})}, {});
  EXPECT_THAT(Kinds(plan), ElementsAre("new-share /labs", "grant /labs bob", "grant /labs mary"));
  EXPECT_EQ(plan.changes[1].public_key, "phrfs1bob");
  EXPECT_EQ(plan.changes[1].access, kRead);
  EXPECT_EQ(plan.changes[2].access, kWrite);
}

TEST(SharePlanTest, APrivateShareOnlyMovesTheFolder) {
  SharePlan plan = Plan({Want("/mental-health", {})}, {});
  EXPECT_THAT(Kinds(plan), ElementsAre("new-share /mental-health"));
}

TEST(SharePlanTest, GrantInAnExistingDomainNeedsNoRotation) {
  SharePlan plan = Plan({Want("/labs", {{"bob", "phrfs1bob", kRead}, {"eve", "phrfs1eve", kRead}})},
                        {Have("/labs", 4, {{"bob", "phrfs1bob", kRead, {}}})});
  EXPECT_THAT(Kinds(plan), ElementsAre("grant /labs eve"));
}

TEST(SharePlanTest, RevokeRotatesTheDomainKey) {
  SharePlan plan = Plan({Want("/labs", {{"mary", "phrfs1mary", kWrite}})},
                        {Have("/labs", 3, {{"bob", "phrfs1bob", kRead, {}},
                                           {"mary", "phrfs1mary", kWrite, {}}})});
  ASSERT_THAT(Kinds(plan), ElementsAre("revoke /labs bob", "rotate /labs"));
  EXPECT_EQ(plan.changes[0].reason, RevokeReason::kRemovedFromFile);
  EXPECT_EQ(plan.changes[0].public_key, "phrfs1bob");
  EXPECT_EQ(plan.changes[1].from_epoch, 3u);
  EXPECT_EQ(plan.changes[1].to_epoch, 4u);
}

TEST(SharePlanTest, OneRotationPerDomainHoweverManyRevocations) {
  SharePlan plan = Plan(
      {Want("/labs", {}), Want("/imaging", {{"bob", "phrfs1bob", kRead}})},
      {Have("/labs", 1, {{"bob", "phrfs1bob", kRead, {}}, {"eve", "phrfs1eve", kRead, {}},
                         {"zed", "phrfs1zed", kWrite, {}}}),
       Have("/imaging", 7, {{"bob", "phrfs1bob", kRead, {}}, {"eve", "phrfs1eve", kRead, {}}})});
  EXPECT_THAT(Kinds(plan),
              ElementsAre("revoke /imaging eve", "rotate /imaging", "revoke /labs bob",
                          "revoke /labs eve", "revoke /labs zed", "rotate /labs"));
  EXPECT_EQ(plan.changes[1].to_epoch, 8u);
  EXPECT_EQ(plan.changes[5].to_epoch, 2u);
}

TEST(SharePlanTest, ExpiresTheDayAfterUntil) {
  CalendarDate until{2027, 6, 30};
  std::vector<ResolvedShare> desired = {Want("/imaging", {{"bob", "phrfs1bob", kRead}}, until)};
  std::vector<DomainState> current = {Have("/imaging", 2, {{"bob", "phrfs1bob", kRead, until}})};
  EXPECT_TRUE(Plan(desired, current, CalendarDate{2027, 6, 30}).empty());
  SharePlan plan = Plan(desired, current, CalendarDate{2027, 7, 1});
  ASSERT_THAT(Kinds(plan), ElementsAre("revoke /imaging bob", "rotate /imaging"));
  EXPECT_EQ(plan.changes[0].reason, RevokeReason::kExpired);
  // Once revoked, the expired grant is not given again.
  EXPECT_TRUE(Plan(desired, Applied(current, plan), CalendarDate{2027, 7, 1}).empty());
}

TEST(SharePlanTest, AnExpiredGrantIsNeverGiven) {
  SharePlan plan =
      Plan({Want("/imaging", {{"bob", "phrfs1bob", kRead}}, CalendarDate{2026, 11, 30})}, {});
  EXPECT_THAT(Kinds(plan), ElementsAre("new-share /imaging"));
}

TEST(SharePlanTest, KeyChangeRevokesTheOldKeyRotatesAndGrantsTheNew) {
  SharePlan plan = Plan({Want("/labs", {{"bob", "phrfs1bobnew", kRead}})},
                        {Have("/labs", 5, {{"bob", "phrfs1bobold", kRead, {}}})});
  ASSERT_THAT(Kinds(plan), ElementsAre("revoke /labs bob", "rotate /labs", "grant /labs bob"));
  EXPECT_EQ(plan.changes[0].reason, RevokeReason::kKeyChanged);
  EXPECT_EQ(plan.changes[0].public_key, "phrfs1bobold");
  EXPECT_EQ(plan.changes[2].public_key, "phrfs1bobnew");
}

TEST(SharePlanTest, UnshareRevokesEveryoneAndRotatesButKeepsTheDomain) {
  std::vector<DomainState> current = {
      Have("/old", 1, {{"bob", "phrfs1bob", kRead, {}}, {"amy", "phrfs1amy", kWrite, {}}})};
  SharePlan plan = Plan({}, current);
  ASSERT_THAT(Kinds(plan),
              ElementsAre("unshare /old", "revoke /old amy", "revoke /old bob", "rotate /old"));
  EXPECT_EQ(plan.changes[1].reason, RevokeReason::kShareRemoved);
  // Applied, the folder is an unshared domain; a file that still does not name it asks nothing.
  std::vector<DomainState> after = Applied(current, plan);
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_TRUE(after[0].unshared);
  EXPECT_EQ(after[0].epoch, 2u);
  EXPECT_TRUE(Plan({}, after).empty());
}

TEST(SharePlanTest, UnsharingAPrivateFolderNeedsNoRotation) {
  EXPECT_THAT(Kinds(Plan({}, {Have("/mental-health", 1, {})})),
              ElementsAre("unshare /mental-health"));
}

TEST(SharePlanTest, NamingAnUnsharedFolderAgainReshares) {
  DomainState old = Have("/old", 2, {});
  old.unshared = true;
  SharePlan plan = Plan({Want("/old", {{"bob", "phrfs1bob", kRead}})}, {old});
  EXPECT_THAT(Kinds(plan), ElementsAre("reshare /old", "grant /old bob"));
}

TEST(SharePlanTest, AccessChangeNeedsNoRotation) {
  SharePlan plan =
      Plan({Want("/labs", {{"bob", "phrfs1bob", kRead}, {"amy", "phrfs1amy", kWrite}})},
           {Have("/labs", 3, {{"bob", "phrfs1bob", kWrite, {}},
                              {"amy", "phrfs1amy", kRead, {}}})});
  ASSERT_THAT(Kinds(plan), ElementsAre("change-access /labs amy", "change-access /labs bob"));
  EXPECT_EQ(plan.changes[0].from_access, kRead);
  EXPECT_EQ(plan.changes[0].access, kWrite);
  EXPECT_EQ(plan.changes[1].from_access, kWrite);
  EXPECT_EQ(plan.changes[1].access, kRead);
}

TEST(SharePlanTest, UntilChangeIsRecordedWithoutKeyChanges) {
  SharePlan plan = Plan({Want("/labs", {{"bob", "phrfs1bob", kRead}}, CalendarDate{2028, 1, 1})},
                        {Have("/labs", 3,
                               {{"bob", "phrfs1bob", kRead, CalendarDate{2027, 1, 1}}})});
  ASSERT_THAT(Kinds(plan), ElementsAre("change-until /labs bob"));
  EXPECT_EQ(plan.changes[0].from_until, (CalendarDate{2027, 1, 1}));
  EXPECT_EQ(plan.changes[0].until, (CalendarDate{2028, 1, 1}));
}

TEST(SharePlanTest, EqualStatesGiveNoChanges) {
  std::vector<ResolvedShare> desired = {
      Want("/imaging", {{"bob", "phrfs1bob", kRead}}, CalendarDate{2027, 6, 30}),
      Want("/labs", {{"bob", "phrfs1bob", kRead}, {"insurer_x", "phrfs1ins", kRead},
                     {"st_mary_lab", "phrfs1mary", kWrite}}),
      Want("/mental-health", {})};
  SharePlan first = Plan(desired, {});
  EXPECT_THAT(Kinds(first), SizeIs(7));  // three folders to move, four grants
  std::vector<DomainState> after = Applied({}, first);
  SharePlan second = Plan(desired, after);
  EXPECT_TRUE(second.empty()) << FormatPlan(second);
  EXPECT_EQ(FormatPlan(second), "No changes.\n");
}

TEST(SharePlanTest, PlanningTheExampleFileFromScratch) {
  const char text[] =
      "owner: alice\n"
      "people:\n"
      "  dr_bob: phrfs1bobbobbob\n"
      "  st_mary_lab: phrfs1marymary\n"
      "  insurer_x: phrfs1insurerx\n"
      "groups:\n"
      "  cardiology: [dr_bob]\n"
      "shares:\n"
      "  /labs:          { read: [cardiology, insurer_x], write: [st_mary_lab] }\n"
      "  /imaging:       { read: [cardiology], until: 2027-06-30 }\n"
      "  /mental-health: {}\n";
  config::SharesParseOptions options{[](std::string_view) { return Status::Ok(); }};
  auto file = config::ParseSharesFile(text, "shares.yaml", options);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  SharePlan plan = Plan(config::ResolveShares(*file), {});
  EXPECT_EQ(FormatPlan(plan),
            "/imaging\n"
            "  + new share: move the folder into its own key domain\n"
            "  + grant read to dr_bob until 2027-06-30 (key phrfs1bobbobbob)\n"
            "/labs\n"
            "  + new share: move the folder into its own key domain\n"
            "  + grant read to dr_bob (key phrfs1bobbobbob)\n"
            "  + grant read to insurer_x (key phrfs1insurerx)\n"
            "  + grant write to st_mary_lab (key phrfs1marymary)\n"
            "/mental-health\n"
            "  + new share: move the folder into its own key domain\n"
            "\n"
            "4 grants, 0 revocations, 0 key rotations, 3 folders to move\n");
}

TEST(SharePlanTest, FormatsAMixedPlanExactly) {
  std::vector<ResolvedShare> desired = {
      Want("/imaging", {{"dr_bob", "phrfs1bobbobbob", kRead}}, CalendarDate{2026, 11, 30}),
      Want("/labs", {{"dr_bob", "phrfs1bobnewkey0123456789", kRead},
                     {"st_mary_lab", "phrfs1marymary", kRead},
                     {"zoe", "phrfs1zoezoezoe", kWrite}}),
      Want("/new", {{"zoe", "phrfs1zoezoezoe", kRead}}, CalendarDate{2027, 6, 30})};
  std::vector<DomainState> current = {
      Have("/imaging", 2, {{"dr_bob", "phrfs1bobbobbob", kRead, CalendarDate{2026, 11, 30}}}),
      Have("/labs", 3, {{"dr_bob", "phrfs1bobbobbob", kRead, {}},
                        {"insurer_x", "phrfs1insurerx", kRead, {}},
                        {"st_mary_lab", "phrfs1marymary", kWrite, CalendarDate{2027, 1, 1}}}),
      Have("/old", 9, {{"insurer_x", "phrfs1insurerx", kRead, {}}})};
  SharePlan plan = Plan(desired, current);
  EXPECT_EQ(FormatPlan(plan),
            "/imaging\n"
            "  - revoke dr_bob (expired)\n"
            "  * rotate the key: epoch 2 -> 3\n"
            "/labs\n"
            "  - revoke dr_bob (public key changed; old key phrfs1bobbobbob)\n"
            "  - revoke insurer_x (removed from the file)\n"
            "  * rotate the key: epoch 3 -> 4\n"
            "  + grant read to dr_bob (key phrfs1bobnewkey0...)\n"
            "  ~ st_mary_lab: write -> read (same keys: read-only is enforced by the mount and "
            "the store's credentials)\n"
            "  ~ st_mary_lab: until 2027-01-01 -> no end\n"
            "  + grant write to zoe (key phrfs1zoezoezoe)\n"
            "/new\n"
            "  + new share: move the folder into its own key domain\n"
            "  + grant read to zoe until 2027-06-30 (key phrfs1zoezoezoe)\n"
            "/old\n"
            "  - no longer a share: the folder keeps its own key domain, private to the owner\n"
            "  - revoke insurer_x (the share was removed)\n"
            "  * rotate the key: epoch 9 -> 10\n"
            "\n"
            "3 grants, 4 revocations, 3 key rotations, 1 folder to move, 1 access change, "
            "1 end date change, 1 share removed\n");
  EXPECT_TRUE(Plan(desired, Applied(current, plan)).empty());
}

// The example blocks of man/phrfs-shares.5 that show a plan (they start with a path or "$ "),
// with roff's \- unescaped and a leading "$ ..." command line dropped.
std::vector<std::string> ManPagePlans() {
  const std::string path = std::string(PHRFS_SOURCE_DIR) + "/man/phrfs-shares.5";
  std::ifstream man(path);
  EXPECT_TRUE(man.good()) << "cannot read " << path;
  std::vector<std::string> plans;
  std::string line, block;
  bool in_example = false;
  while (std::getline(man, line)) {
    if (line == ".EX") {
      in_example = true;
      block.clear();
    } else if (line == ".EE") {
      in_example = false;
      if (block.starts_with("/")) plans.push_back(block);
    } else if (in_example && !(block.empty() && line.starts_with("$ "))) {
      std::string unescaped;
      for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '-') continue;
        unescaped += line[i];
      }
      block += unescaped + "\n";
    }
  }
  return plans;
}

// The example of the man page, resolved, with every key written "phrfs1..." as it shows them.
std::vector<ResolvedShare> ManPageExample(bool with_insurer) {
  std::vector<Wanted> labs = {{"dr_bob", "phrfs1...", kRead}, {"st_mary_lab", "phrfs1...", kWrite}};
  if (with_insurer) labs.push_back({"insurer_x", "phrfs1...", kRead});
  return {Want("/imaging", {{"dr_bob", "phrfs1...", kRead}}, CalendarDate{2027, 6, 30}),
          Want("/labs", labs), Want("/mental-health", {})};
}

TEST(SharePlanTest, ManPagePlansAreWhatFormatPlanPrints) {
  std::vector<std::string> plans = ManPagePlans();
  ASSERT_THAT(plans, SizeIs(2));
  // THE PLAN: insurer_x removed from /labs, and the day after /imaging's until.
  std::vector<DomainState> applied = Applied({}, Plan(ManPageExample(true), {}));
  for (DomainState& domain : applied) domain.epoch = domain.path == "/imaging" ? 2 : 3;
  EXPECT_EQ(FormatPlan(Plan(ManPageExample(false), applied, CalendarDate{2027, 7, 1})), plans[0]);
  // EXAMPLES: the file applied to a store where nothing is shared yet.
  EXPECT_EQ(FormatPlan(Plan(ManPageExample(true), {})), plans[1]);
}

TEST(SharePlanTest, RefusesRepeatedPathsAndPeople) {
  EXPECT_FALSE(PlanShares({Want("/a", {}), Want("/a", {})}, {}, kToday).ok());
  EXPECT_FALSE(PlanShares({}, {Have("/a", 1, {}), Have("/a", 1, {})}, kToday).ok());
  EXPECT_FALSE(PlanShares({}, {Have("/a", 1, {{"bob", "k1", kRead, {}}, {"bob", "k2", kRead, {}}})},
                          kToday)
                   .ok());
}

}  // namespace
}  // namespace phrfs::fs
