// Reading the whole access log for `phrfs audit`: every session under log/ opened with the
// owner's sealer for it (store passphrase or identity, chosen by the sealed key's address) and
// verified (crypto/access_log.h), records merged per session, filtered, and printed as an
// aligned table or JSON lines, with every problem said loudly and the sessions that were not
// read (another owner's, or ones needing a key not given) counted. Pure functions apart from
// ReadAccessLog (which reads the tree); any single thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/access_log.h"
#include "crypto/log_key_sealer.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

struct AuditEntry {
  crypto::LogRecord record;  // merged: one per (op, path, path2, result) and session
  crypto::LogSessionId session;
  std::string person;  // "?" when the session's header did not verify; see NameWriters
  std::string declared_person;  // the name the writer gave
  std::string writer;
  // The writer's identity when the session's header carries its verified signature.
  std::optional<crypto::PublicIdentity> signed_by;
  // The session's key was sealed with the owner's own key (a passphrase store's, or a
  // record's): only the owner could have written it.
  bool by_owner = false;
};

struct AuditLog {
  std::vector<AuditEntry> entries;  // ordered by first time (then session, op, path)
  std::vector<crypto::LogProblem> problems;
  size_t sessions = 0;  // session folders found (including the ones not read)
  // Sessions not read, which is not damage (but the address they are counted by is not
  // authenticated: see FORMAT "ACCESS LOG"). Sealed to an identity that is not one of the
  // given sealers' while an identity sealer was given: another owner's (fingerprint -> sessions).
  std::map<std::string, size_t> other_owner_sessions;
  // Sealed to an identity while no identity was given (fingerprint -> sessions).
  std::map<std::string, size_t> need_identity_sessions;
  // Sealed with the store passphrase while it was not given.
  size_t need_passphrase_sessions = 0;
};

// Errors only when the store cannot be read; damage is reported in `problems`. Each session is
// opened with the sealer whose CanOpen accepts its sealed key (the first one); a session none
// accepts is counted above by its address, or, for an unknown kind byte, is a problem.
Result<AuditLog> ReadAccessLog(remote::CipherTree& tree,
                               std::span<crypto::SessionKeySealer* const> sealers);
Result<AuditLog> ReadAccessLog(remote::CipherTree& tree, crypto::SessionKeySealer& sealer);

// Who wrote each entry, as far as the owner can know: the owner's own sessions keep their
// person; a session signed by an identity shows the name the owner's keyrings give that key
// (`names`: fingerprint -> shares.yaml name), or the name the writer gave followed by
// " (key <fingerprint>, no grant)"; an unsigned session of anyone else shows the name it gave
// followed by " (unsigned)".
void NameWriters(std::vector<AuditEntry>& entries, const std::map<std::string, std::string>& names);

struct AuditFilter {
  std::string person;              // exact, as shown or as the writer gave it; "" = everyone
  std::optional<int64_t> since_ns;  // entries whose last access is at or after this
  std::string path;                // "" = all; else this path and everything below it
};

// "2026-12-01", "2026-12-01T10:20", "2026-12-01T10:20:30" (or a space for the T), optionally
// followed by "Z"; always UTC. InvalidArgument otherwise.
Result<int64_t> ParseAuditTime(std::string_view text);
// "2026-12-01 10:20:30Z"
std::string FormatAuditTime(int64_t unix_ns);

std::vector<AuditEntry> FilterAuditEntries(const std::vector<AuditEntry>& entries,
                                           const AuditFilter& filter);

// TIME  PERSON  OP  PATH  RESULT  COUNT, aligned; control characters in names escaped.
// "(no accesses recorded)" when there are none.
std::string FormatAuditTable(const std::vector<AuditEntry>& entries);
// One JSON object per line.
std::string FormatAuditJson(const std::vector<AuditEntry>& entries);
// "WARNING: access log damaged: session 3f2a... object 7 missing", one line each.
std::string FormatAuditProblems(const std::vector<crypto::LogProblem>& problems);
// {"problem":"missing-object","session":"<hex>","object":7,"message":"..."}, one per line.
std::string FormatAuditProblemsJson(const std::vector<crypto::LogProblem>& problems);

// The sessions not read, one line each, "" when every session was read:
// "sessions of other owners: 2 (3f2a...)", "3 sessions need --identity (sealed to 3f2a...)",
// "1 session needs the store passphrase".
std::string FormatAuditSkipped(const AuditLog& log);
// {"skipped":"other-owner"|"need-identity"|"need-passphrase","sessions":N[,"owner":"<fp>"]},
// one per line.
std::string FormatAuditSkippedJson(const AuditLog& log);

}  // namespace phrfs::fs
