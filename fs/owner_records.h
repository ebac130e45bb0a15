// Stores that hold the records of many owners, each unlocked by its owner's identity (FORMAT
// "OWNER RECORDS"): the marker at the store's root, the record folders "owners/<fingerprint>/"
// (each a v2 store of its own whose config is phrfs.record instead of phrfs.conf), and creating,
// finding and unlocking them. The commands reach a record as a store of its own
// (RecordStoreArg), so that its lease, cache and layout are a store's; a grantee's mount reaches
// every record through the store's root. Main thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/owner_record.h"
#include "fs/store_setup.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// The STORE argument that names `owner`'s record inside `store` (a directory, file://,
// webdav[s]:// or s3:// URL): the same with "/owners/<fingerprint>" appended.
std::string RecordStoreArg(const std::string& store, const crypto::PublicIdentity& owner);

// Makes the root of `tree` a store of records (its marker and "owners/"), unless it is one
// already. AlreadyExists when it is a passphrase store or holds anything else.
Status PrepareStoreOfRecords(remote::CipherTree& tree, const std::string& label);

// Whether the root of `tree` is a store of records; and its id (for naming a grantee's cache).
Result<bool> IsStoreOfRecords(remote::CipherTree& tree);
Result<crypto::StoreId> StoreOfRecordsId(remote::CipherTree& tree);

// Lays out an empty record (as InitStore does) owned by `owner`, named `name`.
// AlreadyExists when the record exists.
Status InitOwnerRecord(remote::CipherTree& record_tree, const std::string& label,
                       const crypto::Identity& owner, const std::string& name);

// NotFound when the tree holds no record; WrongKey when `identity` is not its owner; Corrupt
// when it is damaged or its signature does not verify.
Result<UnlockedStore> UnlockOwnerRecord(std::unique_ptr<remote::CipherTree> record_tree,
                                        const std::string& label,
                                        const crypto::Identity& identity);

struct RecordRef {
  std::string folder;  // "owners/<fingerprint>"
  crypto::OwnerRecord record;
};
// Every record under "owners/" whose config parses and whose signature verifies; the others
// are listed in `problems` (may be null) and left out.
Result<std::vector<RecordRef>> ListOwnerRecords(remote::CipherTree& root,
                                                std::vector<std::string>* problems);

}  // namespace phrfs::fs
