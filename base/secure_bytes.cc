#include "base/secure_bytes.h"

#include <openssl/crypto.h>

namespace phrfs {

void SecureWipe(std::span<uint8_t> bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

SecureBytes::SecureBytes(size_t size) : bytes_(size, 0) {}

SecureBytes::SecureBytes(const uint8_t* data, size_t size) : bytes_(data, data + size) {}

SecureBytes::~SecureBytes() { Wipe(); }

SecureBytes::SecureBytes(SecureBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecureBytes& SecureBytes::operator=(SecureBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

void SecureBytes::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

void SecureBytes::Resize(size_t size) {
  Wipe();
  // A fresh vector, so no reallocation leaves an unwiped copy behind.
  std::vector<uint8_t, SecureAllocator<uint8_t>> fresh(size, 0);
  bytes_.swap(fresh);
}

bool SecureBytes::Equals(std::span<const uint8_t> other) const {
  if (other.size() != bytes_.size()) return false;
  return bytes_.empty() || CRYPTO_memcmp(bytes_.data(), other.data(), bytes_.size()) == 0;
}

}  // namespace phrfs
