// The store config (FORMAT "STORE CONFIG"): a small text file at the store's root that holds the
// version, feature flags, scrypt parameters and salt, and the master key wrapped with
// AES-256-GCM under the passphrase key (AAD: version, store id, flags, KDF line, purpose) and
// under a key derived from the recovery key (AAD: the v1 version line, store id, flags,
// purpose). Version 1 configs parse too, for `phrfs upgrade`; callers check `version`. Pure functions over values; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/kdf.h"
#include "crypto/types.h"

namespace phrfs::crypto {

inline constexpr char kStoreConfigName[] = "phrfs.conf";
inline constexpr size_t kMasterKeySize = 32;
inline constexpr size_t kRecoveryKeySize = 32;

struct StoreConfig {
  uint32_t version = kStoreVersion;
  StoreId store_id;
  std::vector<std::string> flags;  // feature flags; v1 knows none, an unknown one is refused
  ScryptParams kdf;
  std::array<uint8_t, 32> salt{};
  std::vector<uint8_t> wrapped_by_passphrase;  // nonce || GCM(kek, master) || tag
  std::vector<uint8_t> wrapped_by_recovery;
};

std::string SerializeStoreConfig(const StoreConfig& config);
// Corrupt (with the line number) for anything malformed; NotSupported for an unknown version or
// feature flag; InvalidArgument when the scrypt parameters pass the caps.
Result<StoreConfig> ParseStoreConfig(std::string_view text);

struct NewStore {
  StoreConfig config;
  SecureBytes master_key;
  SecureBytes recovery_key;
};
Result<NewStore> CreateStore(std::string_view passphrase, const ScryptParams& params);

// WrongKey when the passphrase (or recovery key) is wrong or any bound field was changed.
Result<SecureBytes> UnlockWithPassphrase(const StoreConfig& config, std::string_view passphrase);
Result<SecureBytes> UnlockWithRecoveryKey(const StoreConfig& config, const SecureBytes& recovery_key);

// Re-wraps the master key under a new passphrase with a fresh salt (and `params`). The recovery
// wrapping's associated data covers version, store id and flags but not the KDF line, so it
// stays valid. Contents are not re-encrypted.
Status ChangePassphrase(StoreConfig& config, const SecureBytes& master_key,
                        std::string_view new_passphrase, const ScryptParams& params);

// Recovery key as text: 64 hex digits in 8 groups of 8 separated by '-'; parsing ignores case
// and accepts the groups with or without separators.
std::string FormatRecoveryKey(const SecureBytes& key);
Result<SecureBytes> ParseRecoveryKey(std::string_view text);

}  // namespace phrfs::crypto
