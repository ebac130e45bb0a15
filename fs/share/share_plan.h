// The plan of `phrfs share plan/apply`: a pure diff between the shares a shares.yaml asks for
// (config::ResolveShares) and the key domains a store has now, as an ordered list of changes.
// Nothing here touches a store or a key. Any thread (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/shares_file.h"

namespace phrfs::fs {

// One person's grant in a key domain as the store records it.
struct GrantState {
  std::string person;
  std::string public_key;  // the key the domain key was wrapped for
  config::ShareAccess access = config::ShareAccess::kRead;
  std::optional<config::CalendarDate> until;
};

// A folder that has its own key domain now.
struct DomainState {
  std::string path;
  uint64_t epoch = 0;  // of the domain's current key
  std::vector<GrantState> grants;
  // Set by an applied Unshare: the folder keeps its own domain but is no longer a share, so a
  // file that does not name it asks for nothing more.
  bool unshared = false;
};

enum class ChangeKind {
  kNewShare,      // move the folder into its own key domain (epoch starts at the vault's choice)
  kReshare,       // an unshared domain is named again: it is a share again, nothing moves
  kUnshare,       // the share left the file: it stays its own domain, private to the owner
  kRevoke,        // forget the person's wrapped key for this domain
  kRotate,        // new domain key (epoch -> epoch + 1), wrapped for everyone who keeps access
  kGrant,         // wrap the domain key for the person's public key
  kChangeAccess,  // read <-> write; same keys, so no rotation (enforced by mount/credentials)
  kChangeUntil,   // a different `until` (or none); no key changes
};

enum class RevokeReason {
  kRemovedFromFile,  // no longer named in the share (directly or through a group)
  kExpired,          // `until` is before today
  kKeyChanged,       // the person's public key changed: the old key is revoked, the new granted
  kShareRemoved,     // the whole share left the file
};

const char* ChangeKindName(ChangeKind kind);
const char* RevokeReasonText(RevokeReason reason);  // "removed from the file", ...

struct Change {
  ChangeKind kind = ChangeKind::kNewShare;
  std::string path;
  std::string person;      // kRevoke, kGrant, kChangeAccess, kChangeUntil
  std::string public_key;  // kGrant: the key to wrap for; kRevoke: the key revoked
  config::ShareAccess access = config::ShareAccess::kRead;       // kGrant; kChangeAccess: new
  config::ShareAccess from_access = config::ShareAccess::kRead;  // kChangeAccess
  std::optional<config::CalendarDate> until;       // kGrant; kChangeUntil: new (none: no end)
  std::optional<config::CalendarDate> from_until;  // kChangeUntil
  RevokeReason reason = RevokeReason::kRemovedFromFile;  // kRevoke
  uint64_t from_epoch = 0;  // kRotate
  uint64_t to_epoch = 0;    // kRotate: from_epoch + 1
};

// Changes in the order apply must make them: by path; within a path, first NewShare, Reshare or
// Unshare, then the revocations (by person), then at most one Rotate, then grants, access and
// `until` changes (by person). A person whose key changed has a Revoke before the Rotate and a
// Grant after it.
struct SharePlan {
  std::vector<Change> changes;
  bool empty() const { return changes.empty(); }
};

// Diffs `desired` (from config::ResolveShares) against `current`. A grant whose `until` is
// before `today` is not given, and revoked if held. InvalidArgument when a path appears twice
// in either list or a person twice in one domain. Equal states give an empty plan.
Result<SharePlan> PlanShares(const std::vector<config::ResolvedShare>& desired,
                             const std::vector<DomainState>& current,
                             const config::CalendarDate& today);

// Human text: one block per path, one line per change, then a summary line such as
// "2 grants, 1 revocation, 1 key rotation, 1 folder to move". An empty plan is "No changes.\n".
std::string FormatPlan(const SharePlan& plan);

}  // namespace phrfs::fs
