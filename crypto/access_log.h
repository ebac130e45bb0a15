// The access log's object format (FORMAT "ACCESS LOG"): sealing a session's header (object 0)
// and its record batches (objects 1..n, hash-chained, the last one flagged as the end), and
// verifying a session as found in the store, naming every gap, alteration, reordering and
// missing end. Pure functions over values; any thread. The sealer passed in must be usable
// from the calling thread.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/format.h"
#include "crypto/identity.h"
#include "crypto/log_key_sealer.h"

namespace phrfs::crypto {

// What a record says happened. The numbers are stored (FORMAT "ACCESS LOG"); never renumber.
enum class LogOp : uint8_t {
  kOpenRead = 1,
  kOpenWrite = 2,
  kCreate = 3,
  kDelete = 4,
  kRename = 5,         // path -> path2
  kUnlockFailed = 6,   // a failed unlock (wrong passphrase or identity)
  kGrant = 7,          // access given to someone (path2: whom)
  kRevoke = 8,         // access taken away (path2: whom)
  kDropped = 9,        // count = records the writer could not keep (store down too long)
};
// "open-read", "open-write", "create", "delete", "rename", "unlock-failed", "grant", "revoke",
// "dropped"; "op-<n>" for a number this build does not know.
std::string LogOpName(LogOp op);

struct LogRecord {
  int64_t first_ns = 0;  // Unix time, UTC, nanoseconds
  int64_t last_ns = 0;
  uint64_t count = 1;
  LogOp op = LogOp::kOpenRead;
  std::string path;   // the path inside the mount, "/a/b"
  std::string path2;  // rename target, grant/revoke subject; "" otherwise
  int32_t result = 0;  // errno of the operation, 0 = it worked
  bool operator==(const LogRecord&) const = default;
};

struct LogSessionHeader {
  LogSessionId session;
  int64_t start_ns = 0;
  std::string writer;  // the writer's fingerprint; "owner-passphrase" for passphrase mounts
  std::string person;  // the name the writer gave
  // The sessions the writer saw as latest (referenced by no other) in the store at its start.
  std::vector<LogSessionId> previous;
  // Set when read: the writer's identity, when the header carries the writer's signature and it
  // verified (the writer is then its fingerprint). A header without one is the writer's word.
  std::optional<PublicIdentity> signed_by;
};

// The parts of a header that need no key: what a new session reads to find the latest ones.
struct LogHeaderPublic {
  LogSessionId session;
  std::vector<LogSessionId> previous;
  std::vector<uint8_t> wrapped_key;
};

enum class LogEnd { kMore, kEnd };

// A fresh random session id and a fresh random 32-byte session key.
Result<LogSessionId> NewLogSessionId();
Result<SecureBytes> NewLogSessionKey();

// "log/<32 hex digits>" and "log/<32 hex digits>/<seq, 10 digits>".
std::string LogSessionFolder(const LogSessionId& session);
std::string LogObjectPath(const LogSessionId& session, uint64_t seq);
// Parses a listed folder / object name; nullopt for anything else.
std::optional<LogSessionId> ParseLogSessionName(std::string_view name);
std::optional<uint64_t> ParseLogObjectName(std::string_view name);
std::string LogSessionHex(const LogSessionId& session);

// Object 0. `wrapped_key` is what the sealer made of the session key for this session. With
// `signer` (whose fingerprint must be header.writer), the sealed part also carries the
// signer's public identity and an Ed25519 signature over the session id, start, writer and
// person (FORMAT "ACCESS LOG"), so that the owner knows who wrote the session.
Result<std::vector<uint8_t>> SealLogHeader(const SecureBytes& session_key,
                                           const LogSessionHeader& header,
                                           std::span<const uint8_t> wrapped_key,
                                           const Identity* signer = nullptr);
// Corrupt when the bytes are not a header of this format version.
Result<LogHeaderPublic> ParseLogHeaderPublic(std::span<const uint8_t> object);

// Object `seq` (>= 1); `previous_object` is the exact bytes of object seq-1.
Result<std::vector<uint8_t>> SealLogBatch(const SecureBytes& session_key, const LogSessionId& session,
                                          uint64_t seq, std::span<const uint8_t> previous_object,
                                          std::span<const LogRecord> records, LogEnd end);

enum class LogProblemKind {
  kHeaderMissing,    // object 0 is gone: nothing of the session can be read
  kKeyUnreadable,    // the sealer could not open the session key (not ours, or damaged)
  kMissingObject,    // a gap in the sequence
  kAltered,          // an object fails authentication or parsing
  kReordered,        // an object sits under another object's number
  kChainBroken,      // an object does not follow the one before it (that one was replaced)
  kNotClosed,        // no object carries the end flag
  kAfterEnd,         // objects after the end object
  kMissingSession,   // a session another session references is gone
  kDropped,          // the writer recorded that it had to drop records
};

struct LogProblem {
  LogProblemKind kind = LogProblemKind::kAltered;
  LogSessionId session;
  std::optional<uint64_t> object;  // the object number concerned, when one is
  std::string detail;              // extra words (counts, the other number); no plaintext path
  // "session 3f2a... object 7 missing" etc., one line.
  std::string Describe() const;
  // "missing-object", "altered", ...: for JSON.
  static const char* KindName(LogProblemKind kind);
};

struct VerifiedSession {
  LogSessionId session;
  std::optional<LogSessionHeader> header;  // when object 0 opened
  std::vector<LogRecord> records;          // from every batch that verified, in seq order
  std::vector<LogProblem> problems;
  bool closed = false;
  uint64_t objects = 0;  // objects found
};

// Verifies one session from its objects as found under their names (name seq -> bytes).
VerifiedSession VerifySession(const LogSessionId& session,
                              const std::map<uint64_t, std::vector<uint8_t>>& objects,
                              SessionKeySealer& sealer);

// Sessions referenced as `previous` by a present session but not present themselves.
// `references`: each present session's previous list.
std::vector<LogProblem> FindMissingSessions(
    const std::map<LogSessionId, std::vector<LogSessionId>>& references);

// The present sessions no other present session references: the `previous` of a new session.
std::vector<LogSessionId> LatestSessions(
    const std::map<LogSessionId, std::vector<LogSessionId>>& references);

}  // namespace phrfs::crypto
