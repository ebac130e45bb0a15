// The identity file (FORMAT "IDENTITY FILE"): a small text file that holds an identity's public
// line in the clear and its two private keys sealed with AES-256-GCM under
// KEK = scrypt(passphrase, salt), with every preceding line as associated data:
//
//   phrfs-identity 1
//   kdf scrypt n=<N> r=<r> p=<p>
//   salt <base64url, 32 bytes>
//   public phrfs1...
//   sealed <base64url of nonce(12) || GCM(KEK, x25519 private || ed25519 private) || tag(16)>
//
// Pure functions over values; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/identity.h"
#include "crypto/kdf.h"

namespace phrfs::crypto {

inline constexpr uint32_t kIdentityFileVersion = 1;
inline constexpr size_t kIdentitySaltSize = 32;
// nonce || GCM(KEK, 64 bytes of private keys) || tag
inline constexpr size_t kIdentitySealedSize = 12 + 64 + 16;

struct IdentityFile {
  uint32_t version = kIdentityFileVersion;
  ScryptParams kdf;
  std::array<uint8_t, kIdentitySaltSize> salt{};
  PublicIdentity public_identity;
  std::vector<uint8_t> sealed;  // kIdentitySealedSize bytes
};

std::string SerializeIdentityFile(const IdentityFile& file);
// Corrupt ("identity file line N: ...") for anything malformed, including scrypt parameters
// beyond crypto::ValidateScryptParams' caps (checked before any scrypt runs) and a public line
// that ParsePublicIdentity rejects; NotSupported for an unknown version. Parsing is canonical:
// one file has exactly one text.
Result<IdentityFile> ParseIdentityFile(std::string_view text);

// A fresh salt, then the private keys sealed under scrypt(passphrase, salt) with `params`.
// InvalidArgument for an empty passphrase or parameters beyond the caps.
Result<IdentityFile> SealIdentity(const Identity& identity, std::string_view passphrase,
                                  const ScryptParams& params);

// WrongKey when the passphrase is wrong or any line was changed (they are all bound); Corrupt
// when the sealed keys open but do not produce the public line's keys.
Result<Identity> OpenIdentity(const IdentityFile& file, std::string_view passphrase);

}  // namespace phrfs::crypto
