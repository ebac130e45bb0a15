#include "fs/vault/layout.h"

#include "base/encoding.h"
#include "crypto/format.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "remote/temp_names.h"

namespace phrfs::fs {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

std::string_view SuffixOf(StoredKind kind) {
  switch (kind) {
    case StoredKind::kFile: return "";
    case StoredKind::kDirectory: return kDirSuffix;
    case StoredKind::kSymlink: return kLinkSuffix;
    case StoredKind::kSpecial: return kSpecialSuffix;
  }
  return "";
}

StoredKind StoredKindOf(crypto::NodeKind kind) {
  switch (kind) {
    case crypto::NodeKind::kFile: return StoredKind::kFile;
    case crypto::NodeKind::kDirectory: return StoredKind::kDirectory;
    case crypto::NodeKind::kSymlink: return StoredKind::kSymlink;
    case crypto::NodeKind::kFifo:
    case crypto::NodeKind::kSocket: return StoredKind::kSpecial;
  }
  return StoredKind::kFile;
}

bool KindMatches(StoredKind stored, crypto::NodeKind kind) {
  return StoredKindOf(kind) == stored;
}

bool ParseStoredName(std::string_view stored, std::string* stem, StoredKind* kind) {
  if (remote::IsTempName(stored)) return false;
  const bool is_long = StartsWith(stored, crypto::kLongNamePrefix);
  const size_t from = is_long ? 2 : 0;
  const size_t dot = stored.find('.', from);
  const std::string_view suffix = dot == std::string_view::npos ? "" : stored.substr(dot);
  if (suffix.empty())
    *kind = StoredKind::kFile;
  else if (suffix == kDirSuffix)
    *kind = StoredKind::kDirectory;
  else if (suffix == kLinkSuffix)
    *kind = StoredKind::kSymlink;
  else if (suffix == kSpecialSuffix)
    *kind = StoredKind::kSpecial;
  else
    return false;
  *stem = std::string(stored.substr(0, dot));
  // A stem is base64url (no dots) or ".L" + base64url: anything else is not ours.
  if (stem->size() <= from) return false;
  if (!is_long && StartsWith(*stem, ".")) return false;
  return true;
}

std::optional<std::string> SidecarStem(std::string_view stored) {
  const std::string_view suffix = kSidecarSuffix;
  if (!StartsWith(stored, crypto::kLongNamePrefix) || stored.size() <= suffix.size() + 2)
    return std::nullopt;
  if (stored.substr(stored.size() - suffix.size()) != suffix) return std::nullopt;
  return std::string(stored.substr(0, stored.size() - suffix.size()));
}

Result<std::string> FolderOf(const SecureBytes& dir_hash_key, const crypto::DirId& dir) {
  PHRFS_ASSIGN_OR_RETURN(std::string rel, crypto::DirFolderPath(dir_hash_key, dir));
  return std::string(kFoldersRoot) + "/" + rel;
}

Result<std::string> NewUnlinkedPath(const crypto::NodeId& id) {
  std::array<uint8_t, 8> random;
  PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(random));
  return std::string(kUnlinkedFolder) + "/" + HexEncode(id.bytes) + "." + HexEncode(random);
}

namespace {

std::string CacheKey(const crypto::DirId& dir, std::string_view tail) {
  std::string key;
  key.reserve(dir.bytes.size() + tail.size());
  key.append(reinterpret_cast<const char*>(dir.bytes.data()), dir.bytes.size());
  key.append(tail);
  return key;
}

}  // namespace

Result<StoredName> Names::Encode(const crypto::DirId& dir, std::string_view name) {
  std::string key = CacheKey(dir, name);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  PHRFS_ASSIGN_OR_RETURN(std::string encoded, cipher_.Encrypt(dir, name));
  const bool is_long = encoded.size() + kMaxSuffixLength > crypto::kMaxStoredNameLength;
  std::string stem = is_long ? crypto::LongNameStem(encoded) : encoded;
  StoredName stored{std::move(encoded), std::move(stem)};
  std::lock_guard lock(mu_);
  if (cache_.size() >= kCacheSize) cache_.clear();
  cache_.emplace(std::move(key), stored);
  RememberLocked(CacheKey(dir, stored.stem), std::string(name));
  return stored;
}

std::optional<std::string> Names::Recall(const crypto::DirId& dir, std::string_view stem) {
  const std::string key = CacheKey(dir, stem);
  std::lock_guard lock(mu_);
  auto it = plain_.find(key);
  if (it == plain_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Names::DecodeAndRemember(const crypto::DirId& dir, std::string_view stem,
                                             std::string_view encoded) {
  PHRFS_ASSIGN_OR_RETURN(std::string name, cipher_.Decrypt(dir, encoded));
  std::lock_guard lock(mu_);
  RememberLocked(CacheKey(dir, stem), name);
  return name;
}

void Names::RememberLocked(std::string key, std::string name) {
  if (plain_.size() >= kCacheSize) plain_.clear();
  plain_.insert_or_assign(std::move(key), std::move(name));
}

}  // namespace phrfs::fs
