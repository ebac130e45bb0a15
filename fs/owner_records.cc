#include "fs/owner_records.h"

#include <cstring>

#include "base/encoding.h"
#include "crypto/format.h"
#include "crypto/random.h"
#include "fs/log.h"

namespace phrfs::fs {
namespace {

constexpr size_t kMaxRecordSize = 4096;
constexpr char kMarkerLine[] = "phrfs-records 1";

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Status WithStore(const Status& status, const std::string& label) {
  return Status::Error(status.code(), "store " + label + ": " + status.message());
}

// The marker: "phrfs-records 1\nstore_id <hex>\n". Not secret and not authenticated: it only
// says what the store is and names a grantee's cache folder.
Result<crypto::StoreId> ParseMarker(std::string_view text) {
  const std::string head = std::string(kMarkerLine) + "\nstore_id ";
  if (text.substr(0, head.size()) != head || text.empty() || text.back() != '\n')
    return Status::Corrupt(std::string(crypto::kRecordsMarkerName) + ": not a store-of-records marker");
  auto id = HexDecode(text.substr(head.size(), text.size() - head.size() - 1));
  if (!id || id->size() != crypto::kIdSize)
    return Status::Corrupt(std::string(crypto::kRecordsMarkerName) + ": malformed store id");
  crypto::StoreId out;
  std::memcpy(out.bytes.data(), id->data(), crypto::kIdSize);
  return out;
}

Result<crypto::OwnerRecord> ReadRecord(remote::CipherTree& tree, const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(tree, path, kMaxRecordSize));
  return crypto::ParseOwnerRecord(text);
}

}  // namespace

std::string RecordStoreArg(const std::string& store, const crypto::PublicIdentity& owner) {
  std::string base = store;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + "/" + crypto::OwnerRecordFolder(owner);
}

Result<bool> IsStoreOfRecords(remote::CipherTree& tree) {
  auto st = tree.Stat(crypto::kRecordsMarkerName);
  if (st.ok()) return true;
  if (st.status().code() == Code::kNotFound) return false;
  return st.status();
}

Result<crypto::StoreId> StoreOfRecordsId(remote::CipherTree& tree) {
  PHRFS_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(tree, crypto::kRecordsMarkerName, 256));
  return ParseMarker(text);
}

Status PrepareStoreOfRecords(remote::CipherTree& tree, const std::string& label) {
  auto entries = tree.List("");
  if (!entries.ok()) return WithStore(entries.status(), label);
  bool marked = false;
  for (const auto& entry : *entries) {
    if (entry.name == crypto::kStoreConfigName)
      return Status::AlreadyExists("store " + label +
                                   " is a passphrase store; records owned by identities need an "
                                   "empty store or one made by 'phrfs init --owner'");
    if (entry.name == crypto::kRecordsMarkerName) marked = true;
  }
  if (!marked) {
    for (const auto& entry : *entries) {
      if (entry.name != crypto::kOwnersFolder)
        return Status::AlreadyExists("store " + label +
                                     " is not empty; init needs an empty or new directory");
    }
    crypto::StoreId id;
    PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(id.bytes));
    const std::string text = std::string(kMarkerLine) + "\nstore_id " + HexEncode(id.bytes) + "\n";
    Status st = tree.Put(crypto::kRecordsMarkerName, Bytes(text), remote::PutMode::kMustNotExist);
    // Another init made it first: theirs stands.
    if (!st.ok() && st.code() != Code::kAlreadyExists && st.code() != Code::kPreconditionFailed)
      return WithStore(st, label);
    if (st.ok()) PHRFS_RETURN_IF_ERROR(tree.Sync(crypto::kRecordsMarkerName));
  }
  Status st = tree.MakeFolder(crypto::kOwnersFolder);
  if (!st.ok() && st.code() != Code::kAlreadyExists) return WithStore(st, label);
  (void)tree.Sync("");
  return Status::Ok();
}

Status InitOwnerRecord(remote::CipherTree& record_tree, const std::string& label,
                       const crypto::Identity& owner, const std::string& name) {
  PHRFS_ASSIGN_OR_RETURN(crypto::NewOwnerRecord created, crypto::CreateOwnerRecord(owner, name));
  PHRFS_ASSIGN_OR_RETURN(crypto::StoreKeys keys,
                         crypto::StoreKeys::Derive(created.master_key, created.record.store_id));
  Status st = LayOutEmptyTree(record_tree, label, keys, crypto::kOwnerRecordName,
                              crypto::SerializeOwnerRecord(created.record));
  if (st.code() == Code::kAlreadyExists)
    return Status::AlreadyExists("this identity already owns a record in the store (" + label + ")");
  return st;
}

Result<UnlockedStore> UnlockOwnerRecord(std::unique_ptr<remote::CipherTree> record_tree,
                                        const std::string& label,
                                        const crypto::Identity& identity) {
  auto record = ReadRecord(*record_tree, crypto::kOwnerRecordName);
  if (!record.ok()) {
    if (record.status().code() == Code::kNotFound)
      return Status::NotFound("this identity (" + crypto::Fingerprint(identity.public_identity()) +
                              ") owns no record in the store; 'phrfs init STORE --owner NAME "
                              "--identity FILE' makes one");
    return WithStore(record.status(), label);
  }
  auto unlocked = crypto::UnlockOwnerRecord(*record, identity);
  if (!unlocked.ok()) return WithStore(unlocked.status(), label);
  UnlockedStore out;
  out.tree = std::move(record_tree);
  out.label = label;
  out.config.version = record->version;
  out.config.store_id = record->store_id;
  out.master_key = std::move(unlocked->master_key);
  out.owner_name = std::move(unlocked->name);
  return out;
}

Result<std::vector<RecordRef>> ListOwnerRecords(remote::CipherTree& root,
                                                std::vector<std::string>* problems) {
  std::vector<RecordRef> out;
  auto entries = root.List(crypto::kOwnersFolder);
  if (!entries.ok()) {
    if (entries.status().code() == Code::kNotFound) return out;
    return entries.status();
  }
  for (const auto& entry : *entries) {
    if (!entry.is_folder) continue;
    const std::string folder = std::string(crypto::kOwnersFolder) + "/" + entry.name;
    auto record = ReadRecord(root, folder + "/" + crypto::kOwnerRecordName);
    Status st = record.ok() ? crypto::VerifyOwnerRecord(*record) : record.status();
    if (st.ok() && crypto::OwnerRecordFolder(record->owner) != folder)
      st = Status::Corrupt("the record is not in its owner's folder");
    if (!st.ok()) {
      if (st.code() == Code::kNotFound) continue;  // a record being made
      if (problems) problems->push_back(folder + ": " + st.message());
      continue;
    }
    out.push_back(RecordRef{folder, std::move(record).value()});
  }
  return out;
}

}  // namespace phrfs::fs
