#include "crypto/random.h"

#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/aead.h"

namespace phrfs::crypto {
namespace {

// 341 nonces per RAND_bytes call (one call per block costs more than the
// encryption itself).
constexpr size_t kNonceBufferSize = 341 * kNonceSize;  // 4092 bytes

// Bumped in the child after fork(): a buffer filled before the fork must not hand the same
// nonces to both processes.
std::atomic<uint64_t> g_fork_generation{0};
void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct NonceBuffer {
  uint8_t bytes[kNonceBufferSize];
  size_t used = kNonceBufferSize;  // empty until the first fill
  uint64_t generation = 0;
  ~NonceBuffer() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
};

Status Fill(std::span<uint8_t> out, bool priv) {
  // RAND_* take int lengths; split larger requests.
  while (!out.empty()) {
    size_t chunk = out.size() < (1u << 20) ? out.size() : (1u << 20);
    int ok = priv ? RAND_priv_bytes(out.data(), static_cast<int>(chunk))
                  : RAND_bytes(out.data(), static_cast<int>(chunk));
    if (ok != 1) return internal::OpenSslFailure(Code::kIoError, "random number generator failed");
    out = out.subspan(chunk);
  }
  return Status::Ok();
}

}  // namespace

Status RandomBytes(std::span<uint8_t> out) { return Fill(out, /*priv=*/false); }

Status RandomPrivateBytes(std::span<uint8_t> out) { return Fill(out, /*priv=*/true); }

Status RandomNonce(std::span<uint8_t, kNonceSize> out) {
  static std::once_flag atfork_once;
  std::call_once(atfork_once, [] { pthread_atfork(nullptr, nullptr, &OnForkChild); });
  thread_local NonceBuffer buffer;
  uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (buffer.generation != generation) {
    buffer.used = kNonceBufferSize;  // discard what the parent may also hold
    buffer.generation = generation;
  }
  if (buffer.used + kNonceSize > kNonceBufferSize) {
    PHRFS_RETURN_IF_ERROR(RandomBytes(std::span<uint8_t>(buffer.bytes, kNonceBufferSize)));
    buffer.used = 0;
  }
  std::memcpy(out.data(), buffer.bytes + buffer.used, kNonceSize);
  // A nonce is public once used, but never hand the same bytes out twice.
  OPENSSL_cleanse(buffer.bytes + buffer.used, kNonceSize);
  buffer.used += kNonceSize;
  return Status::Ok();
}

Result<FileId> NewFileId() {
  FileId id;
  PHRFS_RETURN_IF_ERROR(RandomBytes(id.bytes));
  return id;
}

Result<DirId> NewDirId() {
  DirId id;
  PHRFS_RETURN_IF_ERROR(RandomBytes(id.bytes));
  // The all-zero id is the root's; a random collision is 2^-128, but make it impossible.
  static constexpr DirId kZero{};
  if (id == kZero) return Status::IoError("random number generator returned zeros");
  return id;
}

}  // namespace phrfs::crypto
