#include "fs/audit/log_objects.h"

namespace phrfs::fs {
namespace {

constexpr uint64_t kMaxLogObjectSize = uint64_t{64} << 20;

}  // namespace

Result<std::vector<uint8_t>> ReadLogObject(remote::CipherTree& tree, const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(remote::TreeStat st, tree.Stat(path));
  if (st.is_folder) return Status::Corrupt("access log object " + path + " is a folder");
  if (st.size > kMaxLogObjectSize) return Status::Corrupt("access log object " + path + " too large");
  std::vector<uint8_t> bytes(st.size);
  size_t done = 0;
  while (done < bytes.size()) {
    PHRFS_ASSIGN_OR_RETURN(size_t n, tree.Read(path, done, std::span(bytes).subspan(done)));
    if (n == 0) break;
    done += n;
  }
  bytes.resize(done);
  return bytes;
}

Result<std::vector<crypto::LogSessionId>> ListLogSessions(remote::CipherTree& tree) {
  auto entries = tree.List(crypto::kLogFolder);
  if (!entries.ok() && entries.status().code() == Code::kNotFound) {
    return std::vector<crypto::LogSessionId>{};
  }
  if (!entries.ok()) return entries.status();
  std::vector<crypto::LogSessionId> sessions;
  for (const remote::TreeEntry& e : *entries) {
    if (!e.is_folder) continue;
    if (auto id = crypto::ParseLogSessionName(e.name)) sessions.push_back(*id);
  }
  return sessions;
}

Result<std::map<uint64_t, std::vector<uint8_t>>> ReadLogSession(remote::CipherTree& tree,
                                                                const crypto::LogSessionId& session) {
  const std::string folder = crypto::LogSessionFolder(session);
  PHRFS_ASSIGN_OR_RETURN(auto entries, tree.List(folder));
  std::map<uint64_t, std::vector<uint8_t>> objects;
  for (const remote::TreeEntry& e : entries) {
    if (e.is_folder) continue;
    auto seq = crypto::ParseLogObjectName(e.name);
    if (!seq) continue;
    auto bytes = ReadLogObject(tree, folder + "/" + e.name);
    if (!bytes.ok() && bytes.status().code() == Code::kNotFound) continue;  // deleted meanwhile
    if (!bytes.ok()) return bytes.status();
    objects.emplace(*seq, std::move(bytes).value());
  }
  return objects;
}

Result<std::map<crypto::LogSessionId, std::vector<crypto::LogSessionId>>> ReadSessionReferences(
    remote::CipherTree& tree) {
  PHRFS_ASSIGN_OR_RETURN(auto sessions, ListLogSessions(tree));
  std::map<crypto::LogSessionId, std::vector<crypto::LogSessionId>> refs;
  for (const crypto::LogSessionId& s : sessions) {
    std::vector<crypto::LogSessionId> previous;
    auto header = ReadLogObject(tree, crypto::LogObjectPath(s, 0));
    if (header.ok()) {
      auto pub = crypto::ParseLogHeaderPublic(*header);
      if (pub.ok() && pub->session == s) previous = std::move(pub->previous);
    } else if (header.status().code() == Code::kNotFound) {
      continue;  // a failed start, or a damaged session that its reader reports
    } else if (header.status().code() != Code::kCorrupt) {
      return header.status();
    }
    refs.emplace(s, std::move(previous));
  }
  return refs;
}

}  // namespace phrfs::fs
