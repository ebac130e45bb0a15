#include "crypto/log_key_sealer.h"

#include <cstring>
#include <string>

#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kSealedSize = 1 + kNonceSize + kLogSessionKeySize + kTagSize;

std::vector<uint8_t> SealAad(uint8_t kind, const LogSessionId& session) {
  std::vector<uint8_t> aad(kLogAdLabel, kLogAdLabel + std::strlen(kLogAdLabel));
  aad.push_back(kind);
  aad.insert(aad.end(), session.bytes.begin(), session.bytes.end());
  return aad;
}

}  // namespace

Result<PassphraseStoreSealer> PassphraseStoreSealer::Create(const SecureBytes& master_key,
                                                            const StoreId& store_id) {
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key,
                         HkdfSha256(master_key.span(), store_id.bytes, kLabelAudit, 32));
  return PassphraseStoreSealer(std::move(key));
}

Result<std::vector<uint8_t>> PassphraseStoreSealer::Seal(const SecureBytes& session_key,
                                                         const LogSessionId& session) {
  if (session_key.size() != kLogSessionKeySize) {
    return Status::InvalidArgument("session key must be 32 bytes");
  }
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  PHRFS_ASSIGN_OR_RETURN(auto sealed,
                         internal::GcmSealRaw(key_.span(), nonce,
                                              SealAad(kSealedByPassphraseStore, session),
                                              session_key.span()));
  std::vector<uint8_t> out;
  out.reserve(kSealedSize);
  out.push_back(kSealedByPassphraseStore);
  out.insert(out.end(), nonce.begin(), nonce.end());
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

Result<SecureBytes> PassphraseStoreSealer::Open(std::span<const uint8_t> sealed,
                                                const LogSessionId& session) {
  if (sealed.size() != kSealedSize || sealed[0] != kSealedByPassphraseStore) {
    return Status::WrongKey("session key not sealed for this store's passphrase");
  }
  auto key = internal::GcmOpenRaw(key_.span(), sealed.subspan(1, kNonceSize),
                                  SealAad(kSealedByPassphraseStore, session),
                                  sealed.subspan(1 + kNonceSize));
  if (!key.ok()) return Status::WrongKey("session key not sealed with this store's key");
  return std::move(key).value();
}

}  // namespace phrfs::crypto
