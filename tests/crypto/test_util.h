// Helpers shared by the crypto tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/secure_bytes.h"

namespace phrfs::crypto::testing {

// Hex to bytes; spaces are ignored so that vectors can be copied in groups.
inline std::vector<uint8_t> FromHex(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ') compact += c;
  }
  auto bytes = HexDecode(compact);
  EXPECT_TRUE(bytes.has_value()) << "bad hex in test: " << text;
  return bytes.value_or(std::vector<uint8_t>{});
}

inline std::string Hex(std::span<const uint8_t> bytes) { return HexEncode(bytes); }
inline std::string Hex(const SecureBytes& bytes) { return HexEncode(bytes.span()); }

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string AsString(std::span<const uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// N bytes counting up from `first` (the test vectors' ids, nonces and keys).
template <size_t N>
std::array<uint8_t, N> Sequence(uint8_t first) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

template <size_t N>
std::array<uint8_t, N> ArrayFromHex(std::string_view text) {
  std::array<uint8_t, N> out{};
  auto bytes = FromHex(text);
  EXPECT_EQ(bytes.size(), N);
  for (size_t i = 0; i < N && i < bytes.size(); ++i) out[i] = bytes[i];
  return out;
}

}  // namespace phrfs::crypto::testing
