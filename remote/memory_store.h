// MemoryStore: an ObjectStore held entirely in memory, for tests and as the reference behaviour
// of the contract. Etags are a per-store counter. Thread-safe: one mutex guards the whole map.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "remote/object_store.h"

namespace phrfs::remote {

class MemoryStore final : public ObjectStore {
 public:
  MemoryStore() = default;

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& collection) override;
  Result<ObjectInfo> DoStat(const std::string& path) override;
  Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                      size_t max_length) override;
  Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                              const Precondition& precondition) override;
  Status DoDelete(const std::string& path, const Precondition& precondition) override;
  Status DoMakeCollection(const std::string& path) override;
  Status DoRemoveCollection(const std::string& path) override;
  Status DoRename(const std::string& from, const std::string& to, RenameOptions options) override;

 private:
  struct Node {
    bool is_collection = false;
    std::vector<uint8_t> data;
    std::string etag;
    int64_t mtime_ns = 0;
  };

  // All helpers below expect mu_ held.
  Status CheckParent(const std::string& path) const;
  bool HasChildren(const std::string& path) const;
  std::string NextETag();

  std::mutex mu_;
  std::map<std::string, Node> nodes_;  // full key -> node; the root is implicit
  uint64_t etag_counter_ = 0;
};

}  // namespace phrfs::remote
