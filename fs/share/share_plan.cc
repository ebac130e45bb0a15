#include "fs/share/share_plan.h"

#include <map>
#include <set>

namespace phrfs::fs {
namespace {

using config::CalendarDate;
using config::ResolvedGrant;
using config::ResolvedShare;
using config::ShareAccess;

bool Expired(const std::optional<CalendarDate>& until, const CalendarDate& today) {
  return until.has_value() && *until < today;
}

// The changes of one path, collected per phase and put in order by Append.
struct PathChanges {
  std::vector<Change> head;     // NewShare, Reshare, Unshare
  std::vector<Change> revokes;  // sorted by person (std::map iteration)
  std::vector<Change> tail;     // grants, access and until changes, by person

  void Append(const std::string& path, std::optional<uint64_t> epoch,
              std::vector<Change>& out) const {
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), revokes.begin(), revokes.end());
    if (!revokes.empty() && epoch.has_value()) {
      Change rotate;
      rotate.kind = ChangeKind::kRotate;
      rotate.path = path;
      rotate.from_epoch = *epoch;
      rotate.to_epoch = *epoch + 1;
      out.push_back(rotate);
    }
    out.insert(out.end(), tail.begin(), tail.end());
  }
};

Change Revoke(const std::string& path, const GrantState& held, RevokeReason reason) {
  Change change;
  change.kind = ChangeKind::kRevoke;
  change.path = path;
  change.person = held.person;
  change.public_key = held.public_key;
  change.access = held.access;
  change.reason = reason;
  return change;
}

Change Grant(const std::string& path, const std::string& person, const ResolvedGrant& wanted) {
  Change change;
  change.kind = ChangeKind::kGrant;
  change.path = path;
  change.person = person;
  change.public_key = wanted.public_key;
  change.access = wanted.access;
  change.until = wanted.until;
  return change;
}

// Diffs one path; `have` or `want` may be missing (a share to create or to remove).
void DiffPath(const std::string& path, const DomainState* have, const ResolvedShare* want,
              const CalendarDate& today, std::vector<Change>& out) {
  PathChanges changes;
  std::map<std::string, const GrantState*> held;
  if (have != nullptr) {
    for (const GrantState& grant : have->grants) held.emplace(grant.person, &grant);
  }
  if (want == nullptr) {
    if (!have->unshared) {
      changes.head.push_back(Change{ChangeKind::kUnshare, path});
    }
    for (const auto& [person, grant] : held) {
      changes.revokes.push_back(Revoke(path, *grant, RevokeReason::kShareRemoved));
    }
    changes.Append(path, have->epoch, out);
    return;
  }
  if (have == nullptr) {
    changes.head.push_back(Change{ChangeKind::kNewShare, path});
  } else if (have->unshared) {
    changes.head.push_back(Change{ChangeKind::kReshare, path});
  }
  // Held grants that the file no longer gives.
  for (const auto& [person, grant] : held) {
    if (want->grants.count(person) == 0) {
      changes.revokes.push_back(Revoke(path, *grant, RevokeReason::kRemovedFromFile));
    }
  }
  // Revocations, then grants in person order: std::map keeps both sorted, and kept and revoked
  // people merge into one sorted sequence per phase.
  std::map<std::string, Change> revokes_by_person;
  for (Change& change : changes.revokes) revokes_by_person.emplace(change.person, change);
  for (const auto& [person, wanted] : want->grants) {
    auto found = held.find(person);
    const GrantState* grant = found == held.end() ? nullptr : found->second;
    if (Expired(wanted.until, today)) {
      if (grant != nullptr) {
        revokes_by_person.emplace(person, Revoke(path, *grant, RevokeReason::kExpired));
      }
      continue;
    }
    if (grant == nullptr) {
      changes.tail.push_back(Grant(path, person, wanted));
      continue;
    }
    if (grant->public_key != wanted.public_key) {
      revokes_by_person.emplace(person, Revoke(path, *grant, RevokeReason::kKeyChanged));
      changes.tail.push_back(Grant(path, person, wanted));
      continue;
    }
    if (grant->access != wanted.access) {
      Change change;
      change.kind = ChangeKind::kChangeAccess;
      change.path = path;
      change.person = person;
      change.public_key = wanted.public_key;
      change.access = wanted.access;
      change.from_access = grant->access;
      changes.tail.push_back(change);
    }
    if (grant->until != wanted.until) {
      Change change;
      change.kind = ChangeKind::kChangeUntil;
      change.path = path;
      change.person = person;
      change.public_key = wanted.public_key;
      change.until = wanted.until;
      change.from_until = grant->until;
      changes.tail.push_back(change);
    }
  }
  changes.revokes.clear();
  for (auto& [person, change] : revokes_by_person) changes.revokes.push_back(change);
  std::optional<uint64_t> epoch;
  if (have != nullptr) epoch = have->epoch;
  changes.Append(path, epoch, out);
}

std::string ShortKey(const std::string& key) {
  constexpr size_t kShown = 16;
  return key.size() <= kShown ? key : key.substr(0, kShown) + "...";
}

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string UntilText(const std::optional<CalendarDate>& until) {
  return until ? config::FormatCalendarDate(*until) : "no end";
}

std::string ChangeLine(const Change& change) {
  switch (change.kind) {
    case ChangeKind::kNewShare:
      return "+ new share: move the folder into its own key domain";
    case ChangeKind::kReshare:
      return "+ share again: the folder already has its own key domain";
    case ChangeKind::kUnshare:
      return "- no longer a share: the folder keeps its own key domain, private to the owner";
    case ChangeKind::kRevoke: {
      std::string line = "- revoke " + change.person + " (" + RevokeReasonText(change.reason);
      if (change.reason == RevokeReason::kKeyChanged) {
        line += "; old key " + ShortKey(change.public_key);
      }
      return line + ")";
    }
    case ChangeKind::kRotate:
      return "* rotate the key: epoch " + std::to_string(change.from_epoch) + " -> " +
             std::to_string(change.to_epoch);
    case ChangeKind::kGrant: {
      std::string line = std::string("+ grant ") + config::ShareAccessName(change.access) +
                         " to " + change.person;
      if (change.until) line += " until " + config::FormatCalendarDate(*change.until);
      return line + " (key " + ShortKey(change.public_key) + ")";
    }
    case ChangeKind::kChangeAccess: {
      std::string line = std::string("~ ") + change.person + ": " +
                         config::ShareAccessName(change.from_access) + " -> " +
                         config::ShareAccessName(change.access);
      if (change.access == ShareAccess::kRead) {
        line += " (same keys: read-only is enforced by the mount and the store's credentials)";
      }
      return line;
    }
    case ChangeKind::kChangeUntil:
      return "~ " + change.person + ": until " + UntilText(change.from_until) + " -> " +
             UntilText(change.until);
  }
  return "?";
}

}  // namespace

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kNewShare: return "new-share";
    case ChangeKind::kReshare: return "reshare";
    case ChangeKind::kUnshare: return "unshare";
    case ChangeKind::kRevoke: return "revoke";
    case ChangeKind::kRotate: return "rotate";
    case ChangeKind::kGrant: return "grant";
    case ChangeKind::kChangeAccess: return "change-access";
    case ChangeKind::kChangeUntil: return "change-until";
  }
  return "?";
}

const char* RevokeReasonText(RevokeReason reason) {
  switch (reason) {
    case RevokeReason::kRemovedFromFile: return "removed from the file";
    case RevokeReason::kExpired: return "expired";
    case RevokeReason::kKeyChanged: return "public key changed";
    case RevokeReason::kShareRemoved: return "the share was removed";
  }
  return "?";
}

Result<SharePlan> PlanShares(const std::vector<config::ResolvedShare>& desired,
                             const std::vector<DomainState>& current,
                             const config::CalendarDate& today) {
  std::map<std::string, const DomainState*> have;
  for (const DomainState& domain : current) {
    if (!have.emplace(domain.path, &domain).second) {
      return Status::InvalidArgument("share plan: the store lists the domain " + domain.path +
                                     " twice");
    }
    std::set<std::string> people;
    for (const GrantState& grant : domain.grants) {
      if (!people.insert(grant.person).second) {
        return Status::InvalidArgument("share plan: the domain " + domain.path +
                                       " holds two grants for " + grant.person);
      }
    }
  }
  std::map<std::string, const ResolvedShare*> want;
  for (const ResolvedShare& share : desired) {
    if (!want.emplace(share.path, &share).second) {
      return Status::InvalidArgument("share plan: the share " + share.path + " is asked for twice");
    }
  }
  std::set<std::string> paths;
  for (const auto& [path, domain] : have) paths.insert(path);
  for (const auto& [path, share] : want) paths.insert(path);
  SharePlan plan;
  for (const std::string& path : paths) {
    auto h = have.find(path);
    auto w = want.find(path);
    DiffPath(path, h == have.end() ? nullptr : h->second, w == want.end() ? nullptr : w->second,
             today, plan.changes);
  }
  return plan;
}

std::string FormatPlan(const SharePlan& plan) {
  if (plan.empty()) return "No changes.\n";
  size_t grants = 0, revokes = 0, rotations = 0, moves = 0, access = 0, until = 0, unshares = 0,
         reshares = 0;
  std::string text;
  const std::string* current_path = nullptr;
  for (const Change& change : plan.changes) {
    if (current_path == nullptr || *current_path != change.path) {
      text += change.path + "\n";
      current_path = &change.path;
    }
    text += "  " + ChangeLine(change) + "\n";
    switch (change.kind) {
      case ChangeKind::kNewShare: ++moves; break;
      case ChangeKind::kReshare: ++reshares; break;
      case ChangeKind::kUnshare: ++unshares; break;
      case ChangeKind::kRevoke: ++revokes; break;
      case ChangeKind::kRotate: ++rotations; break;
      case ChangeKind::kGrant: ++grants; break;
      case ChangeKind::kChangeAccess: ++access; break;
      case ChangeKind::kChangeUntil: ++until; break;
    }
  }
  std::string summary = Plural(grants, "grant", "grants") + ", " +
                        Plural(revokes, "revocation", "revocations") + ", " +
                        Plural(rotations, "key rotation", "key rotations") + ", " +
                        Plural(moves, "folder to move", "folders to move");
  if (access > 0) summary += ", " + Plural(access, "access change", "access changes");
  if (until > 0) summary += ", " + Plural(until, "end date change", "end date changes");
  if (unshares > 0) summary += ", " + Plural(unshares, "share removed", "shares removed");
  if (reshares > 0) summary += ", " + Plural(reshares, "share restored", "shares restored");
  return text + "\n" + summary + "\n";
}

}  // namespace phrfs::fs
