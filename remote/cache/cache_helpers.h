// Small pure helpers shared by the files of CachedTree (remote/cache/cached_tree.h): key
// arithmetic, upload hashes, chunk bitmaps, conflict names. Internal to remote/cache.
// Thread-safe: pure functions.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <span>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "crypto/kdf.h"
#include "remote/cache/journal.h"
#include "remote/object_store.h"
#include "remote/temp_names.h"

namespace phrfs::remote::cache::internal {

// Largest object the uploader will hold in memory for one whole-object write.
constexpr uint64_t kMaxObjectSize = uint64_t{4} << 30;
constexpr size_t kRecentConflicts = 16;
constexpr int kFetchAttempts = 4;
// Clean rows kept at most (each one a journal row and some memory), whatever their bytes.
constexpr size_t kMaxCleanRows = 65536;
constexpr char kConflictFolder[] = "conflicts";

inline Status CheckKey(const std::string& key, bool allow_root) {
  PHRFS_ASSIGN_OR_RETURN(std::vector<std::string> parts, ObjectStore::SplitKey(key, allow_root));
  return RejectTempNames(parts, key);
}

inline std::string ParentOf(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

inline std::string LeafOf(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

inline std::string Join(const std::string& folder, const std::string& leaf) {
  return folder.empty() ? leaf : folder + "/" + leaf;
}

// SHA-256 and size: recognises our own bytes in the store after a lost reply (a collision would
// take another writer's object for ours). "" when hashing failed, which matches nothing.
inline std::string HashBytes(std::span<const uint8_t> data) {
  auto digest = crypto::Sha256(data);
  if (!digest.ok()) return "";
  return HexEncode(*digest) + ":" + std::to_string(data.size());
}

inline bool HashListed(const std::string& list, const std::string& hash) {
  if (hash.empty()) return false;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    if (list.compare(pos, end - pos, hash) == 0) return true;
    pos = end + 1;
  }
  return false;
}

inline std::string ThisHost() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "unknown-host";
  std::string out(name);
  for (char& c : out) {
    if (c == '/') c = '_';
  }
  return out;
}

inline std::string DefaultConflictKey(const std::string& key) {
  std::string flat = key;
  std::replace(flat.begin(), flat.end(), '/', '~');
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(kConflictFolder) + "/" + flat + ".conflict-" + when + "-" + ThisHost();
}

inline bool BitSet(const std::vector<uint8_t>& bits, uint64_t i) {
  return i / 8 < bits.size() && (bits[i / 8] >> (i % 8)) & 1;
}

inline void SetBit(std::vector<uint8_t>& bits, uint64_t i) {
  if (bits.size() <= i / 8) bits.resize(i / 8 + 1, 0);
  bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
}

// The keys an op names (a delete's key2 holds upload hashes, not a key).
inline std::vector<std::string> OpKeys(const OpRecord& op) {
  if (op.kind == OpKind::kMove) return {op.key, op.key2};
  return {op.key};
}

inline Status Relabel(const Status& st, const std::string& what) {
  return Status::Error(st.code(), what + ": " + st.message());
}

}  // namespace phrfs::remote::cache::internal
