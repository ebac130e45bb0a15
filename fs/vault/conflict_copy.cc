// Conflict copies for write-back trees (Vault::ConflictCopyFor in fs/vault/vault.h): a name
// beside the original and a header that makes the copy a node of its own.
#include <time.h>

#include <cstdio>
#include <ctime>

#include "fs/log.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {
namespace {

// "report.pdf" -> "report (conflict 2026-12-01 001500).pdf"; a leading dot is not an extension.
std::string ConflictName(const std::string& name, time_t now) {
  struct tm utc;
  gmtime_r(&now, &utc);
  char stamp[64];
  if (std::strftime(stamp, sizeof stamp, " (conflict %Y-%m-%d %H%M%S)", &utc) == 0)
    std::snprintf(stamp, sizeof stamp, " (conflict)");
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + stamp;
  return name.substr(0, dot) + stamp + name.substr(dot);
}

}  // namespace

std::optional<ConflictCopy> Vault::ConflictCopyFor(const std::string& key,
                                                   std::span<const uint8_t> header) {
  const size_t slash = key.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string folder = key.substr(0, slash);
  std::string stem;
  StoredKind kind;
  if (!ParseStoredName(std::string_view(key).substr(slash + 1), &stem, &kind)) return std::nullopt;
  if (kind != StoredKind::kFile && kind != StoredKind::kSymlink) return std::nullopt;
  if (stem.rfind(".L", 0) == 0) return std::nullopt;  // a long name: its sidecar holds the name

  // The directory whose folder this is, among the nodes this mount knows.
  std::optional<crypto::DirId> dir;
  std::shared_ptr<const KeyDomain> domain;
  for (const auto& node : table_.All()) {
    if (node->kind == crypto::NodeKind::kDirectory && node->folder == folder) {
      dir = node->dir_id();
      domain = node->children;
      break;
    }
  }
  if (!dir) return std::nullopt;

  auto name = domain->names().Decode(*dir, stem);
  if (!name.ok()) return std::nullopt;
  auto stored = domain->names().Encode(*dir, ConflictName(*name, time(nullptr)));
  if (!stored.ok() || stored->is_long()) return std::nullopt;

  auto fields = crypto::ParseNodeHeaderFields(header);
  if (!fields.ok()) return std::nullopt;
  const crypto::FolderKey* folder_key = domain->KeyFor(fields->key_epoch);
  if (folder_key == nullptr) return std::nullopt;
  auto old_meta_key = crypto::DeriveMetaKey(*folder_key, fields->node_id);
  if (!old_meta_key.ok()) return std::nullopt;
  auto meta = crypto::OpenNodeMeta(header, *fields, *old_meta_key);
  if (!meta.ok()) return std::nullopt;
  auto id = NewNodeId();
  if (!id.ok()) return std::nullopt;
  auto sealed = SealHeader(*domain,
      crypto::NodeHeader{fields->kind, *id, fields->key_epoch, fields->content_id, *meta});
  if (!sealed.ok()) return std::nullopt;
  return ConflictCopy{Join(folder, stored->stem + std::string(SuffixOf(kind))), *sealed};
}

}  // namespace phrfs::fs
