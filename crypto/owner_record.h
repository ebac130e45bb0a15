// An owner's record unlocked by an identity instead of a passphrase (FORMAT "OWNER RECORDS"): a
// small text object, phrfs.record, at the root of the record's folder ("owners/<fingerprint>/"
// in a store that holds the records of many owners). It names the owner's public identity,
// wraps the record's master key (and the owner's name) to that identity's X25519 key, and is
// signed by the identity's Ed25519 key, so that a host cannot swap in a config whose master key
// it knows. There is no recovery key: the identity file (sealed under its own passphrase) is the
// one key, and is what the owner backs up. Pure functions over values; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/types.h"

namespace phrfs::crypto {

inline constexpr char kOwnerRecordName[] = "phrfs.record";
// The folder of a store that holds identity-owned records, and its marker object.
inline constexpr char kOwnersFolder[] = "owners";
inline constexpr char kRecordsMarkerName[] = "phrfs.records";
inline constexpr size_t kMaxOwnerNameSize = 64;

struct OwnerRecord {
  uint32_t version = 0;  // kStoreVersion
  StoreId store_id;      // the record's own id: its keys derive from it as a store's do
  PublicIdentity owner;
  std::vector<uint8_t> wrapped_owner;  // RECIPIENT WRAP stanza of master key || name
  Ed25519Signature signature{};
};

struct NewOwnerRecord {
  OwnerRecord record;
  SecureBytes master_key;
};
// A fresh record for `owner` named `name` (1 to kMaxOwnerNameSize bytes, no '/', no NUL; the
// caller applies the stricter rules of shares.yaml names).
Result<NewOwnerRecord> CreateOwnerRecord(const Identity& owner, std::string_view name);

std::string SerializeOwnerRecord(const OwnerRecord& record);
// Corrupt (with the line number) for anything malformed or not canonical; NotSupported for an
// unknown version. The signature is not checked here: UnlockOwnerRecord and
// VerifyOwnerRecord do.
Result<OwnerRecord> ParseOwnerRecord(std::string_view text);

// Corrupt when the signature does not verify under the record's own owner key.
Status VerifyOwnerRecord(const OwnerRecord& record);

struct UnlockedOwnerRecord {
  SecureBytes master_key;
  std::string name;
};
// WrongKey when `identity` is not the record's owner; Corrupt when the signature or any bound
// field does not verify.
Result<UnlockedOwnerRecord> UnlockOwnerRecord(const OwnerRecord& record, const Identity& identity);

// "owners/<fingerprint>": where an identity's record lives in a store of records.
std::string OwnerRecordFolder(const PublicIdentity& owner);

namespace internal {
// CreateOwnerRecord with the store id, master key and the wrap's ephemeral key given: for test
// vectors only (FORMAT "TEST VECTORS").
Result<OwnerRecord> SealOwnerRecord(const Identity& owner, std::string_view name,
                                    const StoreId& store_id, const SecureBytes& master_key,
                                    std::span<const uint8_t> ephemeral_private);
}  // namespace internal

}  // namespace phrfs::crypto
