// shares.yaml (man phrfs-shares(5)): who may read or write which folder of a store. Parsing and
// validation only, into plain structs that keep the line of every item so that later checks
// (against the vault) can say FILE:LINE too. Any thread (no shared state).
#pragma once

#include <compare>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace phrfs::config {

// A calendar day, as written in `until` (YYYY-MM-DD, year 0001..9999).
struct CalendarDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31, valid for the month and year
  auto operator<=>(const CalendarDate&) const = default;
};

// "2027-06-30", or nullopt for anything that is not exactly YYYY-MM-DD naming a real day.
std::optional<CalendarDate> ParseCalendarDate(std::string_view text);
// The inverse: always YYYY-MM-DD.
std::string FormatCalendarDate(const CalendarDate& date);

// Read and write use the same keys; write includes read (man phrfs-shares(5), ACCESS).
enum class ShareAccess { kRead, kWrite };
const char* ShareAccessName(ShareAccess access);  // "read", "write"

// Names of the owner, people and groups: 1 to 64 of [a-z0-9_.-], the first a letter or digit.
inline constexpr size_t kMaxShareNameLength = 64;
bool IsValidShareName(std::string_view name);

// Lines are 1-based lines of the file.
struct SharesPerson {
  std::string name;
  std::string public_key;  // as written; accepted by SharesParseOptions::check_public_key
  int line = 0;
};

struct SharesGroup {
  std::string name;
  std::vector<std::string> members;  // people only (a group may not hold a group)
  int line = 0;
};

struct ShareEntry {
  std::string path;                // absolute, normalised, not "/"
  std::vector<std::string> read;   // people and groups, as written
  std::vector<std::string> write;  // people and groups, as written
  std::optional<CalendarDate> until;
  int line = 0;        // the line of the path
  int until_line = 0;  // the line of `until`, when present
};

struct SharesFile {
  std::string file_name;  // as given to the parser: the prefix of every message
  std::string owner;
  int owner_line = 0;
  std::vector<SharesPerson> people;  // in file order
  std::vector<SharesGroup> groups;   // in file order
  std::vector<ShareEntry> shares;    // in file order

  // "FILE:LINE: " for a later check's message, e.g. Where(share.line) + "/labs: no such folder".
  std::string Where(int line) const;
  const SharesPerson* FindPerson(std::string_view name) const;
  const SharesGroup* FindGroup(std::string_view name) const;
};

struct SharesParseOptions {
  // Checks one public key as written after a person's name (e.g. "phrfs1..."); a non-ok status's
  // message is reported after "FILE:LINE: people.NAME: ". Required: config/ knows no crypto.
  std::function<Status(std::string_view)> check_public_key;
};

// A shares file larger than this is refused.
inline constexpr size_t kMaxSharesFileSize = 1 << 20;

// Parses and checks a whole file. On error, InvalidArgument whose message holds every problem
// found, one per line ('\n' between them), in the order of their lines, each
// "FILE:LINE: what is wrong". NotFound / IoError when `path` cannot be read.
Result<SharesFile> LoadSharesFile(const std::string& path, const SharesParseOptions& options);
// As LoadSharesFile, for text already in memory; `file_name` only prefixes messages.
Result<SharesFile> ParseSharesFile(std::string_view text, const std::string& file_name,
                                   const SharesParseOptions& options);

// The effective access of one person to one share, groups expanded, write over read.
struct ResolvedGrant {
  std::string public_key;
  ShareAccess access = ShareAccess::kRead;
  std::optional<CalendarDate> until;  // the share's `until`
};

struct ResolvedShare {
  std::string path;
  int line = 0;  // of the path in the file, for SharesFile::Where
  std::optional<CalendarDate> until;
  std::map<std::string, ResolvedGrant> grants;  // by person name; empty: private to the owner
};

// The desired state of every share in `file` (which ParseSharesFile accepted), sorted by path.
// Expired grants are kept: the plan (fs/share/share_plan.h) compares `until` with today.
std::vector<ResolvedShare> ResolveShares(const SharesFile& file);

}  // namespace phrfs::config
