// SecureBytes: a move-only byte buffer for key material, held in the locked secure arena, that
// wipes itself on release (OPENSSL_cleanse) and compares in constant time (CRYPTO_memcmp). Not thread-safe per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/secure_arena.h"

namespace phrfs {

// Wipes plaintext or key bytes that live outside a SecureBytes (stack buffers, reused buffers).
void SecureWipe(std::span<uint8_t> bytes);

class SecureBytes {
 public:
  SecureBytes() = default;
  explicit SecureBytes(size_t size);
  SecureBytes(const uint8_t* data, size_t size);
  explicit SecureBytes(std::span<const uint8_t> data) : SecureBytes(data.data(), data.size()) {}
  ~SecureBytes();
  SecureBytes(SecureBytes&& other) noexcept;
  SecureBytes& operator=(SecureBytes&& other) noexcept;
  SecureBytes(const SecureBytes&) = delete;
  SecureBytes& operator=(const SecureBytes&) = delete;

  SecureBytes Clone() const { return SecureBytes(data(), size()); }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::span<const uint8_t> span() const { return {bytes_.data(), bytes_.size()}; }
  uint8_t& operator[](size_t i) { return bytes_[i]; }
  uint8_t operator[](size_t i) const { return bytes_[i]; }
  // Wipes, then resizes; the previous contents are gone.
  void Resize(size_t size);
  void Wipe();
  // Constant-time comparison; sizes are not secret.
  bool Equals(std::span<const uint8_t> other) const;

 private:
  // In the locked, never-dumped secure arena (base/secure_arena.h).
  std::vector<uint8_t, SecureAllocator<uint8_t>> bytes_;
};

}  // namespace phrfs
