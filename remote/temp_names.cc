#include "remote/temp_names.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>

namespace phrfs::remote {

Result<std::string> NewTempName() {
  uint8_t raw[8];
  size_t got = 0;
  while (got < sizeof(raw)) {
    ssize_t n = ::getrandom(raw + got, sizeof(raw) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "getrandom");
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = kTempPrefix;
  for (uint8_t b : raw) {
    name += kHex[b >> 4];
    name += kHex[b & 0xf];
  }
  return name;
}

bool IsTempName(std::string_view name) { return name.starts_with(kTempPrefix); }

Status RejectTempNames(const std::vector<std::string>& parts, const std::string& key) {
  for (const std::string& part : parts) {
    if (IsTempName(part)) return Status::InvalidArgument("reserved temporary name in " + key);
  }
  return Status::Ok();
}

}  // namespace phrfs::remote
