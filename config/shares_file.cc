#include "config/shares_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <set>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "config/yaml_fields.h"

namespace phrfs::config {
namespace {

constexpr size_t kMaxPathComponent = 255;

int LineOf(const YAML::Mark& mark) { return mark.line >= 0 ? mark.line + 1 : 1; }

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Why `path` cannot name a share, or empty when it can.
std::string PathProblem(const std::string& path) {
  if (path.empty() || path[0] != '/') return "a share path must be absolute, such as /labs";
  if (path == "/") return "the whole store cannot be one share: name a folder, such as /labs";
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "a share path cannot hold control characters";
    }
  }
  if (path.back() == '/') return "write the path without a trailing slash";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view component(path.data() + start, end - start);
    if (component.empty()) return "a share path cannot hold an empty component (//)";
    if (component == "." || component == "..") {
      return "a share path cannot hold . or .. components";
    }
    if (component.size() > kMaxPathComponent) {
      return "a share path cannot hold a component longer than 255 bytes";
    }
    start = end + 1;
  }
  return "";
}

// True when `inner` is `outer` or lies below it, component by component ("/lab" is not below
// "/labs").
bool IsWithin(const std::string& inner, const std::string& outer) {
  return inner.size() >= outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         (inner.size() == outer.size() || inner[outer.size()] == '/');
}

// Collects every problem of a file, then reports them all, in line order.
class Parser {
 public:
  Parser(const std::string& file_name, const SharesParseOptions& options)
      : reader_(file_name), options_(options) {}

  Result<SharesFile> Run(const YAML::Node& root) {
    out_.file_name = reader_.file_name();
    ParseDocument(root);
    if (errors_.empty()) return std::move(out_);
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string message;
    for (const auto& [line, text] : errors_) {
      if (!message.empty()) message += '\n';
      message += text;
    }
    return Status::InvalidArgument(message);
  }

 private:
  void Fail(const YAML::Mark& mark, const std::string& key, const std::string& problem) {
    errors_.emplace_back(LineOf(mark), reader_.Error(mark, key, problem).message());
  }

  void ParseDocument(const YAML::Node& root) {
    if (root.IsNull()) {
      Fail(root.Mark(), "", "the file is empty: it needs at least owner: NAME");
      return;
    }
    if (!root.IsMap()) {
      Fail(root.Mark(), "", "expected a mapping with the keys owner, people, groups, shares");
      return;
    }
    YAML::Node owner, people, groups, shares;
    YAML::Mark owner_mark;
    bool has_owner = false;
    std::map<std::string, int> seen;
    for (const auto& item : root) {
      if (!item.first.IsScalar()) {
        Fail(item.first.Mark(), "", "keys must be plain words");
        continue;
      }
      const std::string& key = item.first.Scalar();
      int line = LineOf(item.first.Mark());
      if (auto [it, fresh] = seen.emplace(key, line); !fresh) {
        Fail(item.first.Mark(), key,
             "duplicate key (first on line " + std::to_string(it->second) + ")");
        continue;
      }
      if (key == "owner") {
        owner = item.second;
        owner_mark = item.first.Mark();
        has_owner = true;
        out_.owner_line = line;
      } else if (key == "people") {
        people = item.second;
      } else if (key == "groups") {
        groups = item.second;
      } else if (key == "shares") {
        shares = item.second;
      } else {
        Fail(item.first.Mark(), key, "unknown key (known: owner, people, groups, shares)");
      }
    }
    if (!has_owner) {
      Fail(root.Mark(), "owner", "missing: name the owner of the store, e.g. owner: alice");
    } else {
      ParseOwner(owner, owner_mark);
    }
    if (people) ParsePeople(people);
    if (groups) ParseGroups(groups);
    if (shares) ParseShares(shares);
  }

  void ParseOwner(const YAML::Node& value, const YAML::Mark& key_mark) {
    if (!value.IsScalar() || value.Scalar().empty()) {
      Fail(value.IsNull() ? key_mark : value.Mark(), "owner",
           "missing: name the owner of the store, e.g. owner: alice");
      return;
    }
    if (!IsValidShareName(value.Scalar())) {
      Fail(value.Mark(), "owner", NameRule() + FieldReader::Quoted(value));
      return;
    }
    out_.owner = value.Scalar();
  }

  static std::string NameRule() {
    return "a name is 1 to 64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit";
  }

  // A section is a mapping, or empty; false (after reporting) for anything else.
  bool Section(const YAML::Node& node, const std::string& key, const std::string& example) {
    if (node.IsNull() || node.IsMap()) return true;
    Fail(node.Mark(), key, "expected a mapping, such as " + example);
    return false;
  }

  // The name of a mapping key in `section`, checked as a person or group name; false when
  // unusable.
  bool EntryName(const YAML::Node& key_node, const std::string& section,
                 std::map<std::string, int>& seen, std::string& name) {
    if (!key_node.IsScalar()) {
      Fail(key_node.Mark(), section, "keys must be plain names");
      return false;
    }
    name = key_node.Scalar();
    const std::string full = section + "." + name;
    if (auto [it, fresh] = seen.emplace(name, LineOf(key_node.Mark())); !fresh) {
      Fail(key_node.Mark(), full,
           "defined twice (first on line " + std::to_string(it->second) + ")");
      return false;
    }
    if (!IsValidShareName(name)) {
      Fail(key_node.Mark(), full, NameRule());
      return false;
    }
    if (!out_.owner.empty() && name == out_.owner) {
      Fail(key_node.Mark(), full,
           "this is the owner, who reads and writes every folder already");
      return false;
    }
    return true;
  }

  void ParsePeople(const YAML::Node& node) {
    if (!Section(node, "people", "people: { dr_bob: phrfs1... }")) return;
    std::map<std::string, int> seen;
    std::map<std::string, std::pair<std::string, int>> by_key;  // key -> (person, line)
    for (const auto& item : node) {
      std::string name;
      if (!EntryName(item.first, "people", seen, name)) continue;
      const std::string full = "people." + name;
      const YAML::Node& value = item.second;
      SharesPerson person{name, "", LineOf(item.first.Mark())};
      if (!value.IsScalar() || value.Scalar().empty()) {
        Fail(value.IsNull() ? item.first.Mark() : value.Mark(), full,
             "expected the person's public key (phrfs1...)");
      } else if (Status check = options_.check_public_key(value.Scalar()); !check.ok()) {
        // The callback's message only: a key is public, but it may be long.
        Fail(value.Mark(), full, check.message());
      } else if (auto [it, fresh] = by_key.emplace(value.Scalar(), std::pair(name, person.line));
                 !fresh) {
        Fail(value.Mark(), full,
             "the same public key as " + it->second.first + " (line " +
                 std::to_string(it->second.second) + "): one key, one person");
      } else {
        person.public_key = value.Scalar();
      }
      out_.people.push_back(std::move(person));
    }
  }

  void ParseGroups(const YAML::Node& node) {
    if (!Section(node, "groups", "groups: { cardiology: [dr_bob] }")) return;
    std::map<std::string, int> seen;
    std::vector<std::pair<size_t, YAML::Node>> member_lists;
    for (const auto& item : node) {
      std::string name;
      if (!EntryName(item.first, "groups", seen, name)) continue;
      if (const SharesPerson* person = out_.FindPerson(name)) {
        Fail(item.first.Mark(), "groups." + name,
             "a group cannot have the name of a person (line " + std::to_string(person->line) +
                 ")");
        continue;
      }
      out_.groups.push_back(SharesGroup{name, {}, LineOf(item.first.Mark())});
      member_lists.emplace_back(out_.groups.size() - 1, item.second);
    }
    // Members after all names, so that a group named later is still seen as a group.
    for (const auto& [index, value] : member_lists) {
      SharesGroup& group = out_.groups[index];
      const std::string full = "groups." + group.name;
      std::vector<YAML::Node> names;
      if (!NameList(value, full, "groups: { " + group.name + ": [dr_bob] }", names)) continue;
      std::set<std::string> listed;
      for (const YAML::Node& member : names) {
        const std::string& who = member.Scalar();
        if (!listed.insert(who).second) {
          Fail(member.Mark(), full, who + " is listed twice");
        } else if (out_.FindGroup(who) != nullptr) {
          Fail(member.Mark(), full,
               who + " is a group: a group holds people only (list its members instead)");
        } else if (who == out_.owner) {
          Fail(member.Mark(), full,
               who + " is the owner, who reads and writes every folder already");
        } else if (out_.FindPerson(who) == nullptr) {
          Fail(member.Mark(), full, "unknown person " + who + " (not under people)");
        } else {
          group.members.push_back(who);
        }
      }
    }
  }

  // A list of names (empty allowed; null is empty); false (after reporting) when not a list.
  bool NameList(const YAML::Node& value, const std::string& key, const std::string& example,
                std::vector<YAML::Node>& names) {
    if (value.IsNull()) return true;
    if (!value.IsSequence()) {
      Fail(value.Mark(), key, "expected a list, such as " + example + FieldReader::Quoted(value));
      return false;
    }
    bool ok = true;
    for (const auto& entry : value) {
      if (!entry.IsScalar() || entry.Scalar().empty()) {
        Fail(entry.Mark(), key, "each entry must be a name");
        ok = false;
        continue;
      }
      names.push_back(entry);
    }
    return ok;
  }

  void ParseShares(const YAML::Node& node) {
    if (!Section(node, "shares", "shares: { /labs: { read: [dr_bob] } }")) return;
    std::map<std::string, int> seen;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) {
        Fail(item.first.Mark(), "shares", "keys must be folder paths, such as /labs");
        continue;
      }
      const std::string& path = item.first.Scalar();
      const std::string full = "shares." + path;
      if (auto [it, fresh] = seen.emplace(path, LineOf(item.first.Mark())); !fresh) {
        Fail(item.first.Mark(), full,
             "the same folder twice (first on line " + std::to_string(it->second) + ")");
        continue;
      }
      ShareEntry share;
      share.path = path;
      share.line = LineOf(item.first.Mark());
      bool path_ok = true;
      if (std::string problem = PathProblem(path); !problem.empty()) {
        Fail(item.first.Mark(), full, problem);
        path_ok = false;
      }
      ParseShare(item.second, full, share);
      if (path_ok) CheckOverlap(item.first.Mark(), full, share);
      out_.shares.push_back(std::move(share));
    }
  }

  void CheckOverlap(const YAML::Mark& mark, const std::string& full, const ShareEntry& share) {
    for (const ShareEntry& other : out_.shares) {
      if (PathProblem(other.path).empty() &&
          (IsWithin(share.path, other.path) || IsWithin(other.path, share.path))) {
        const char* how = IsWithin(share.path, other.path) ? "inside " : "around ";
        Fail(mark, full,
             std::string("overlaps the share ") + other.path + " (line " +
                 std::to_string(other.line) + "), being " + how +
                 "it: shares may not be nested");
      }
    }
  }

  void ParseShare(const YAML::Node& value, const std::string& full, ShareEntry& share) {
    if (value.IsNull()) return;  // like {}: private to the owner
    if (!value.IsMap()) {
      Fail(value.Mark(), full,
           "expected a mapping with read, write, until (or {} for a folder private to the "
           "owner)" + FieldReader::Quoted(value));
      return;
    }
    std::map<std::string, int> seen;
    for (const auto& item : value) {
      if (!item.first.IsScalar()) {
        Fail(item.first.Mark(), full, "keys must be plain words");
        continue;
      }
      const std::string& key = item.first.Scalar();
      const std::string key_full = full + "." + key;
      if (auto [it, fresh] = seen.emplace(key, LineOf(item.first.Mark())); !fresh) {
        Fail(item.first.Mark(), key_full,
             "duplicate key (first on line " + std::to_string(it->second) + ")");
        continue;
      }
      if (key == "read" || key == "write") {
        Grantees(item.second, key_full, "[cardiology, insurer_x]",
                 key == "read" ? share.read : share.write);
      } else if (key == "until") {
        share.until_line = LineOf(item.second.Mark());
        std::optional<CalendarDate> date;
        if (item.second.IsScalar()) date = ParseCalendarDate(item.second.Scalar());
        if (!date) {
          Fail(item.second.IsNull() ? item.first.Mark() : item.second.Mark(), key_full,
               "expected a real calendar day as YYYY-MM-DD, such as 2027-06-30" +
                   FieldReader::Quoted(item.second));
        } else {
          share.until = date;
        }
      } else {
        Fail(item.first.Mark(), key_full, "unknown key (known: read, write, until)");
      }
    }
  }

  void Grantees(const YAML::Node& value, const std::string& key, const std::string& example,
                std::vector<std::string>& out) {
    std::vector<YAML::Node> names;
    NameList(value, key, example, names);
    std::set<std::string> listed;
    for (const YAML::Node& entry : names) {
      const std::string& who = entry.Scalar();
      if (!listed.insert(who).second) {
        Fail(entry.Mark(), key, who + " is listed twice");
      } else if (who == out_.owner) {
        Fail(entry.Mark(), key,
             who + " is the owner, who reads and writes every folder already");
      } else if (out_.FindPerson(who) == nullptr && out_.FindGroup(who) == nullptr) {
        Fail(entry.Mark(), key, "unknown person or group " + who);
      } else {
        out.push_back(who);
      }
    }
  }

  FieldReader reader_;
  const SharesParseOptions& options_;
  SharesFile out_;
  std::vector<std::pair<int, std::string>> errors_;  // (line, message)
};

}  // namespace

std::optional<CalendarDate> ParseCalendarDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](size_t from, size_t count, int& out) {
    out = 0;
    for (size_t i = from; i < from + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  CalendarDate date;
  if (!number(0, 4, date.year) || !number(5, 2, date.month) || !number(8, 2, date.day)) {
    return std::nullopt;
  }
  if (date.year < 1 || date.month < 1 || date.month > 12 || date.day < 1 ||
      date.day > DaysInMonth(date.year, date.month)) {
    return std::nullopt;
  }
  return date;
}

std::string FormatCalendarDate(const CalendarDate& date) {
  char buffer[16];
  snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d", date.year % 10000, date.month % 100,
           date.day % 100);
  return buffer;
}

const char* ShareAccessName(ShareAccess access) {
  return access == ShareAccess::kWrite ? "write" : "read";
}

bool IsValidShareName(std::string_view name) {
  if (name.empty() || name.size() > kMaxShareNameLength) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
  }
  return true;
}

std::string SharesFile::Where(int line) const {
  return file_name + ":" + std::to_string(line) + ": ";
}

const SharesPerson* SharesFile::FindPerson(std::string_view name) const {
  for (const SharesPerson& person : people) {
    if (person.name == name) return &person;
  }
  return nullptr;
}

const SharesGroup* SharesFile::FindGroup(std::string_view name) const {
  for (const SharesGroup& group : groups) {
    if (group.name == name) return &group;
  }
  return nullptr;
}

Result<SharesFile> ParseSharesFile(std::string_view text, const std::string& file_name,
                                   const SharesParseOptions& options) {
  if (!options.check_public_key) {
    return Status::InvalidArgument(file_name + ": no public key check given to the parser");
  }
  FieldReader reader(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return Parser(file_name, options).Run(root);
  } catch (const YAML::Exception& e) {
    return reader.Error(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(file_name + ": " + e.what());
  }
}

Result<SharesFile> LoadSharesFile(const std::string& path, const SharesParseOptions& options) {
  PHRFS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxSharesFileSize, "a shares file"));
  return ParseSharesFile(text, path, options);
}

std::vector<ResolvedShare> ResolveShares(const SharesFile& file) {
  std::vector<ResolvedShare> out;
  for (const ShareEntry& share : file.shares) {
    ResolvedShare resolved;
    resolved.path = share.path;
    resolved.line = share.line;
    resolved.until = share.until;
    auto give = [&](const std::string& who, ShareAccess access) {
      const SharesPerson* person = file.FindPerson(who);
      if (person == nullptr) return;
      auto [it, fresh] =
          resolved.grants.emplace(who, ResolvedGrant{person->public_key, access, share.until});
      if (!fresh && access == ShareAccess::kWrite) it->second.access = ShareAccess::kWrite;
    };
    auto expand = [&](const std::vector<std::string>& names, ShareAccess access) {
      for (const std::string& name : names) {
        if (const SharesGroup* group = file.FindGroup(name)) {
          for (const std::string& member : group->members) give(member, access);
        } else {
          give(name, access);
        }
      }
    };
    expand(share.read, ShareAccess::kRead);
    expand(share.write, ShareAccess::kWrite);
    out.push_back(std::move(resolved));
  }
  std::sort(out.begin(), out.end(),
            [](const ResolvedShare& a, const ResolvedShare& b) { return a.path < b.path; });
  return out;
}

}  // namespace phrfs::config
