#include "fs/audit/unlock_log.h"

#include <errno.h>

#include "crypto/domain_keyring.h"
#include "crypto/log_key_sealer.h"
#include "fs/audit/access_logger.h"
#include "fs/shared_domains.h"

namespace phrfs::fs {

Status LogFailedUnlock(remote::CipherTree& tree, const crypto::PublicIdentity& owner,
                       const std::string& person) {
  crypto::IdentitySealer sealer = crypto::IdentitySealer::ForSealing(owner);
  AccessLoggerOptions options;
  options.writer = "unlock-attempt";
  options.person = person.empty() ? "unknown" : person;
  PHRFS_ASSIGN_OR_RETURN(auto logger, AccessLogger::Start(tree, sealer, std::move(options)));
  logger->Record(crypto::LogOp::kUnlockFailed, "/", EACCES);
  return logger->Close();
}

Result<crypto::PublicIdentity> KeyringOwner(remote::CipherTree& tree) {
  PHRFS_ASSIGN_OR_RETURN(auto ids, ListDomains(tree));
  for (const auto& id : ids) {
    auto text = ReadKeyring(tree, id);
    if (!text.ok()) continue;
    auto header = crypto::ParseKeyringHeader(*text);
    if (header.ok()) return header->owner;
  }
  return Status::NotFound("the store shares nothing: no owner identity to seal to");
}

}  // namespace phrfs::fs
