// Test helpers for damaging a store behind phrfs's back: read, overwrite and flip raw bytes of
// its files. Test-only; any single thread.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace phrfs::testing {

inline std::string ReadRange(const std::string& path, uint64_t off, size_t len) {
  std::string s(len, '\0');
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return "";
  ssize_t n = pread(fd, s.data(), len, static_cast<off_t>(off));
  close(fd);
  s.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return s;
}

inline void WriteRange(const std::string& path, uint64_t off, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), static_cast<off_t>(off)),
            static_cast<ssize_t>(data.size()));
  close(fd);
}

inline void FlipByte(const std::string& path, uint64_t off) {
  std::string b = ReadRange(path, off, 1);
  ASSERT_EQ(b.size(), 1u) << "offset " << off << " past the end of " << path;
  b[0] = static_cast<char>(b[0] ^ 0x20);
  WriteRange(path, off, b);
}

}  // namespace phrfs::testing
