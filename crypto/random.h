// Cryptographic randomness from OpenSSL's DRBG. Thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "crypto/types.h"

namespace phrfs::crypto {

Status RandomBytes(std::span<uint8_t> out);
// For long-term secrets (master keys, recovery keys): RAND_priv_bytes.
Status RandomPrivateBytes(std::span<uint8_t> out);
// A fresh 96-bit GCM nonce, drawn from a per-thread buffer refilled 4 KiB at a time
// (RAND_bytes per block costs more than the encryption).
Status RandomNonce(std::span<uint8_t, kNonceSize> out);

Result<FileId> NewFileId();
Result<DirId> NewDirId();

}  // namespace phrfs::crypto
