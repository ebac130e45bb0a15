#include "config/known_owners.h"

#include <errno.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file_replace.h"
#include "config/shares_file.h"
#include "config/yaml_fields.h"

namespace phrfs::config {
namespace {

constexpr size_t kMaxFileSize = 1 << 20;

bool IsHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A store as written in the file: '%', spaces and control characters percent-encoded, so that
// a directory with a space in its name stays one field.
std::string StoreField(const std::string& store) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : store) {
    if (c == '%' || c <= ' ' || c == 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

Result<KnownOwners> KnownOwners::Parse(const std::string& path, const std::string& text) {
  KnownOwners out;
  out.path_ = path;
  out.original_ = text;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::string fields[3];
    size_t n = 0, at = 0;
    while (at < line.size() && n < 4) {
      size_t space = line.find(' ', at);
      if (space == std::string::npos) space = line.size();
      if (space > at) {
        if (n == 3) { n = 4; break; }
        fields[n++] = line.substr(at, space - at);
      }
      at = space + 1;
    }
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (n != 3) return Status::InvalidArgument(where + "expected 'STORE NAME FINGERPRINT'");
    if (!IsValidShareName(fields[1]))
      return Status::InvalidArgument(where + "'" + fields[1] + "' is not an owner name");
    if (!IsHex32(fields[2]))
      return Status::InvalidArgument(where + "a fingerprint is 32 lowercase hex digits");
    if (!out.by_owner_.emplace(std::make_tuple(fields[0], fields[1]), fields[2]).second)
      return Status::InvalidArgument(where + "owner " + fields[1] + " of " + fields[0] +
                                     " is listed twice");
  }
  return out;
}

Result<KnownOwners> KnownOwners::Load(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) return Parse(path, "");
  PHRFS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxFileSize, "known owners file"));
  return Parse(path, text);
}

KnownOwners::Seen KnownOwners::Check(const std::string& store, const std::string& name,
                                     const std::string& fingerprint, std::string* known) const {
  auto it = by_owner_.find(std::make_tuple(StoreField(store), name));
  if (it == by_owner_.end()) return Seen::kNew;
  if (it->second == fingerprint) return Seen::kSame;
  if (known) *known = it->second;
  return Seen::kChanged;
}

void KnownOwners::Add(const std::string& store, const std::string& name,
                      const std::string& fingerprint) {
  const std::string field = StoreField(store);
  if (!by_owner_.emplace(std::make_tuple(field, name), fingerprint).second) return;
  added_ += field + " " + name + " " + fingerprint + "\n";
}

std::string KnownOwners::Serialize() const {
  std::string text = original_;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (original_.empty() && !added_.empty())
    text += "# Owners whose shared folders phrfs mounts have shown: STORE NAME FINGERPRINT.\n"
            "# Remove a line only when that owner really changed keys (phrfs(1) mount --identity).\n";
  return text + added_;
}

Status KnownOwners::Save() const {
  if (added_.empty()) return Status::Ok();
  const std::filesystem::path file(path_);
  std::error_code ec;
  if (file.has_parent_path()) {
    const bool made = std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return Status::IoError(file.parent_path().string() + ": " + ec.message());
    if (made) ::chmod(file.parent_path().c_str(), 0700);  // phrfs/ is the user's alone
  }
  return ReplaceFile(path_, Serialize(), 0600, Durability::kSynced);
}

Result<std::string> DefaultKnownOwnersPath(const EnvLookup& env) {
  if (std::optional<std::string> xdg = env("XDG_CONFIG_HOME"); xdg && xdg->starts_with('/'))
    return *xdg + "/phrfs/known-owners";
  if (std::optional<std::string> home = env("HOME"); home && !home->empty())
    return *home + "/.config/phrfs/known-owners";
  return Status::InvalidArgument("neither XDG_CONFIG_HOME nor HOME is set: give --known-owners FILE");
}

}  // namespace phrfs::config
