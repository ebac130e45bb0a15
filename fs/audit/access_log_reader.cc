#include "fs/audit/access_log_reader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <map>
#include <tuple>

#include "fs/audit/log_objects.h"

namespace phrfs::fs {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;

std::string ResultName(int32_t result) {
  if (result == 0) return "ok";
  const char* name = strerrorname_np(result);
  return name != nullptr ? name : "errno " + std::to_string(result);
}

// Names come from users: a newline or an escape sequence must not forge table rows.
std::string Printable(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += '\\';
      out += 'x';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string JsonString(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string PathColumn(const crypto::LogRecord& r) {
  std::string s = Printable(r.path);
  if (r.path2.empty()) return s;
  if (r.op == crypto::LogOp::kRename) return s + " -> " + Printable(r.path2);
  return s + " [" + Printable(r.path2) + "]";
}

// "/a/b/" -> "/a/b"; "a" -> "/a"; "/" stays.
std::string NormalizePath(std::string p) {
  if (p.empty() || p[0] != '/') p.insert(p.begin(), '/');
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool UnderPath(const std::string& path, const std::string& prefix) {
  if (prefix == "/") return !path.empty();
  if (path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool Digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

Result<AuditLog> ReadAccessLog(remote::CipherTree& tree, crypto::SessionKeySealer& sealer) {
  crypto::SessionKeySealer* const one[] = {&sealer};
  return ReadAccessLog(tree, std::span<crypto::SessionKeySealer* const>(one));
}

Result<AuditLog> ReadAccessLog(remote::CipherTree& tree,
                               std::span<crypto::SessionKeySealer* const> sealers) {
  AuditLog log;
  PHRFS_ASSIGN_OR_RETURN(auto sessions, ListLogSessions(tree));
  log.sessions = sessions.size();
  const bool have_identity = std::any_of(sealers.begin(), sealers.end(), [](auto* s) {
    return s->kind() == crypto::kSealedToIdentity;
  });
  std::map<crypto::LogSessionId, std::vector<crypto::LogSessionId>> refs;
  for (const crypto::LogSessionId& session : sessions) {
    PHRFS_ASSIGN_OR_RETURN(auto objects, ReadLogSession(tree, session));
    // A folder without objects is a session whose start failed (or one emptied on purpose:
    // then the session after it names it as missing).
    if (objects.empty()) continue;
    // The public part of the header: the sessions it saw, and whom its key is sealed for.
    std::optional<crypto::LogHeaderPublic> pub;
    if (auto it = objects.find(0); it != objects.end()) {
      if (auto p = crypto::ParseLogHeaderPublic(it->second); p.ok() && p->session == session) {
        pub = std::move(p).value();
      }
    }
    crypto::SessionKeySealer* sealer = nullptr;
    if (pub) {
      for (crypto::SessionKeySealer* s : sealers) {
        if (s->CanOpen(pub->wrapped_key)) {
          sealer = s;
          break;
        }
      }
      auto address = crypto::AddressOfSealedKey(pub->wrapped_key);
      if (sealer == nullptr && address) {
        // Not damage: a key this run was not given, or another owner's session. Its public
        // part still counts for the sessions it references.
        bool skipped = true;
        if (address->kind == crypto::kSealedToIdentity) {
          ++(have_identity ? log.other_owner_sessions : log.need_identity_sessions)[address->owner];
        } else if (address->kind == crypto::kSealedByPassphraseStore) {
          ++log.need_passphrase_sessions;
        } else {
          skipped = false;  // an unknown kind: verified below, which names the unreadable key
        }
        if (skipped) {
          refs[session] = pub->previous;
          continue;
        }
      }
    }
    if (sealer == nullptr) {
      if (sealers.empty()) continue;
      sealer = sealers.front();  // only to have the damage named
    }
    crypto::VerifiedSession v = crypto::VerifySession(session, objects, *sealer);
    refs[session] = v.header ? v.header->previous
                             : (pub ? pub->previous : std::vector<crypto::LogSessionId>{});
    log.problems.insert(log.problems.end(), v.problems.begin(), v.problems.end());

    // One entry per (op, path, path2, result) in a session: batches split a session in time.
    std::map<std::tuple<uint8_t, std::string, std::string, int32_t>, size_t> index;
    for (crypto::LogRecord& r : v.records) {
      auto key = std::make_tuple(static_cast<uint8_t>(r.op), r.path, r.path2, r.result);
      auto [it, inserted] = index.emplace(std::move(key), log.entries.size());
      if (!inserted) {
        crypto::LogRecord& m = log.entries[it->second].record;
        m.first_ns = std::min(m.first_ns, r.first_ns);
        m.last_ns = std::max(m.last_ns, r.last_ns);
        m.count += r.count;
        continue;
      }
      AuditEntry e;
      e.record = std::move(r);
      e.session = session;
      e.person = v.header ? v.header->person : "?";
      e.declared_person = e.person;
      e.writer = v.header ? v.header->writer : "?";
      if (v.header) e.signed_by = v.header->signed_by;
      e.by_owner = sealer->kind() == crypto::kSealedByPassphraseStore;
      log.entries.push_back(std::move(e));
    }
  }
  auto missing = crypto::FindMissingSessions(refs);
  log.problems.insert(log.problems.end(), missing.begin(), missing.end());
  std::stable_sort(log.entries.begin(), log.entries.end(), [](const AuditEntry& a, const AuditEntry& b) {
    return std::tie(a.record.first_ns, a.session, a.record.op, a.record.path) <
           std::tie(b.record.first_ns, b.session, b.record.op, b.record.path);
  });
  return log;
}

Result<int64_t> ParseAuditTime(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(
        "not a UTC date or date-time (YYYY-MM-DD[THH:MM[:SS]][Z], 1970 to 2261): '" +
        std::string(text) + "'");
  };
  std::string_view t = text;
  if (!t.empty() && (t.back() == 'Z' || t.back() == 'z')) t.remove_suffix(1);
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(t, 0, 4, year) || t.size() < 10 || t[4] != '-' || !Digits(t, 5, 2, month) ||
      t[7] != '-' || !Digits(t, 8, 2, day)) {
    return bad();
  }
  if (t.size() > 10) {
    if ((t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !Digits(t, 11, 2, hour) ||
        t.size() < 16 || t[13] != ':' || !Digits(t, 14, 2, minute)) {
      return bad();
    }
    if (t.size() > 16 && (t.size() != 19 || t[16] != ':' || !Digits(t, 17, 2, second))) {
      return bad();
    }
    if (t.size() != 16 && t.size() != 19) return bad();
  }
  // Nanoseconds since 1970 in 64 bits reach into 2262.
  if (year < 1970 || year > 2261 || month < 1 || month > 12 || day < 1 || day > 31 ||
      hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t secs = timegm(&tm);
  if (tm.tm_mday != day) return bad();  // timegm normalised 2026-02-31 into March
  return static_cast<int64_t>(secs) * kNsPerSecond;
}

std::string FormatAuditTime(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / kNsPerSecond);
  if (unix_ns < 0 && unix_ns % kNsPerSecond != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::vector<AuditEntry> FilterAuditEntries(const std::vector<AuditEntry>& entries,
                                           const AuditFilter& filter) {
  const std::string prefix = filter.path.empty() ? "" : NormalizePath(filter.path);
  std::vector<AuditEntry> out;
  for (const AuditEntry& e : entries) {
    if (!filter.person.empty() && e.person != filter.person && e.declared_person != filter.person)
      continue;
    if (filter.since_ns && e.record.last_ns < *filter.since_ns) continue;
    if (!prefix.empty() && !UnderPath(e.record.path, prefix) &&
        !(e.record.op == crypto::LogOp::kRename && UnderPath(e.record.path2, prefix))) {
      continue;
    }
    out.push_back(e);
  }
  return out;
}

void NameWriters(std::vector<AuditEntry>& entries, const std::map<std::string, std::string>& names) {
  for (AuditEntry& e : entries) {
    if (e.person == "?") continue;  // the header did not verify: nothing to go by
    if (e.signed_by) {
      const std::string fingerprint = crypto::Fingerprint(*e.signed_by);
      auto it = names.find(fingerprint);
      e.person = it != names.end() ? it->second
                                   : e.person + " (key " + fingerprint.substr(0, 8) + ", no grant)";
    } else if (!e.by_owner) {
      e.person += " (unsigned)";
    }
  }
}

std::string FormatAuditTable(const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return "(no accesses recorded)\n";
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows;
  rows.push_back({"TIME", "PERSON", "OP", "PATH", "RESULT", "COUNT"});
  for (const AuditEntry& e : entries) {
    rows.push_back({FormatAuditTime(e.record.first_ns), Printable(e.person),
                    crypto::LogOpName(e.record.op), PathColumn(e.record), ResultName(e.record.result),
                    std::to_string(e.record.count)});
  }
  std::array<size_t, 6> width{};
  for (const Row& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      if (i == 5) {  // the count is right-aligned, and last
        line += std::string(width[i] - r[i].size(), ' ') + r[i];
      } else {
        line += r[i] + std::string(width[i] - r[i].size() + 2, ' ');
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string FormatAuditJson(const std::vector<AuditEntry>& entries) {
  std::string out;
  for (const AuditEntry& e : entries) {
    const crypto::LogRecord& r = e.record;
    out += "{\"time\":" + JsonString(FormatAuditTime(r.first_ns)) +
           ",\"last\":" + JsonString(FormatAuditTime(r.last_ns)) +
           ",\"first_ns\":" + std::to_string(r.first_ns) +
           ",\"last_ns\":" + std::to_string(r.last_ns) +
           ",\"person\":" + JsonString(e.person) +
           ",\"declared_person\":" + JsonString(e.declared_person) +
           ",\"signed\":" + (e.signed_by ? "true" : "false") + ",\"writer\":" + JsonString(e.writer) +
           ",\"session\":" + JsonString(crypto::LogSessionHex(e.session)) +
           ",\"op\":" + JsonString(crypto::LogOpName(r.op)) + ",\"path\":" + JsonString(r.path) +
           ",\"path2\":" + JsonString(r.path2) + ",\"result\":" + std::to_string(r.result) +
           ",\"result_name\":" + JsonString(ResultName(r.result)) +
           ",\"count\":" + std::to_string(r.count) + "}\n";
  }
  return out;
}

std::string FormatAuditProblems(const std::vector<crypto::LogProblem>& problems) {
  std::string out;
  for (const crypto::LogProblem& p : problems) {
    out += "WARNING: access log damaged: " + p.Describe() + "\n";
  }
  return out;
}

std::string FormatAuditSkipped(const AuditLog& log) {
  auto sessions = [](size_t n) { return std::to_string(n) + (n == 1 ? " session" : " sessions"); };
  auto owners = [](const std::map<std::string, size_t>& by_owner) {
    std::string s;
    for (const auto& [owner, n] : by_owner) {
      s += (s.empty() ? "" : ", ") + owner;
      if (by_owner.size() > 1) s += ": " + std::to_string(n);
    }
    return s;
  };
  auto total = [](const std::map<std::string, size_t>& by_owner) {
    size_t n = 0;
    for (const auto& entry : by_owner) n += entry.second;
    return n;
  };
  std::string out;
  if (!log.other_owner_sessions.empty()) {
    out += "sessions of other owners: " + std::to_string(total(log.other_owner_sessions)) +
           " (sealed to " + owners(log.other_owner_sessions) + "; not read)\n";
  }
  if (!log.need_identity_sessions.empty()) {
    const size_t n = total(log.need_identity_sessions);
    out += sessions(n) + (n == 1 ? " needs" : " need") + " --identity (sealed to " +
           owners(log.need_identity_sessions) + "; not read)\n";
  }
  if (log.need_passphrase_sessions > 0) {
    const size_t n = log.need_passphrase_sessions;
    out += sessions(n) + (n == 1 ? " needs" : " need") +
           " the store passphrase (sealed with it; not read)\n";
  }
  return out;
}

std::string FormatAuditSkippedJson(const AuditLog& log) {
  std::string out;
  for (const auto& [owner, n] : log.other_owner_sessions) {
    out += "{\"skipped\":\"other-owner\",\"sessions\":" + std::to_string(n) +
           ",\"owner\":" + JsonString(owner) + "}\n";
  }
  for (const auto& [owner, n] : log.need_identity_sessions) {
    out += "{\"skipped\":\"need-identity\",\"sessions\":" + std::to_string(n) +
           ",\"owner\":" + JsonString(owner) + "}\n";
  }
  if (log.need_passphrase_sessions > 0) {
    out += "{\"skipped\":\"need-passphrase\",\"sessions\":" +
           std::to_string(log.need_passphrase_sessions) + "}\n";
  }
  return out;
}

std::string FormatAuditProblemsJson(const std::vector<crypto::LogProblem>& problems) {
  std::string out;
  for (const crypto::LogProblem& p : problems) {
    out += "{\"problem\":" + JsonString(crypto::LogProblem::KindName(p.kind)) +
           ",\"session\":" + JsonString(crypto::LogSessionHex(p.session));
    if (p.object) out += ",\"object\":" + std::to_string(*p.object);
    out += ",\"message\":" + JsonString(p.Describe()) + "}\n";
  }
  return out;
}

}  // namespace phrfs::fs
