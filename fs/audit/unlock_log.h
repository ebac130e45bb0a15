// Failed unlocks in the access log (FORMAT "ACCESS LOG"): a wrong passphrase, or a wrong
// passphrase for the identity that owns a record, cannot open the store's own log key, so the
// attempt is recorded in a session sealed to the owner's identity (kind 2), which the owner reads
// with `phrfs audit --identity`. A passphrase store names its owner's identity only in its
// keyrings (a store that shares nothing has no identity to seal to, and the attempt is not
// recorded). Best effort: a failure here never changes the command's outcome. Main thread.
#pragma once

#include <string>

#include "base/status.h"
#include "crypto/identity.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// One session with one record: unlock-failed, path "/", result EACCES, by `person` ("" is shown
// as "unknown").
Status LogFailedUnlock(remote::CipherTree& tree, const crypto::PublicIdentity& owner,
                       const std::string& person);

// The owner's identity as the store's keyrings name it (the first keyring whose header parses;
// not authenticated). NotFound when the store shares nothing.
Result<crypto::PublicIdentity> KeyringOwner(remote::CipherTree& tree);

}  // namespace phrfs::fs
