// Helpers shared by the phrfs commands: failure reports, STORE arguments, scrypt costs and
// keeping secrets out of core files (fs/cli/command_util.h).
#include "fs/cli/command_util.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace phrfs::fs {

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

int Fail(Step step, const Status& status) {
  std::fprintf(stderr, "phrfs: %s\n", OneLine(status.message()).c_str());
  return ExitCodeFor(step, status);
}

crypto::ScryptParams ScryptFor(int logn) {
  crypto::ScryptParams params;
  params.n = uint64_t{1} << logn;
  return params;
}

Result<std::string> StorePath(const std::string& arg) {
  static constexpr std::string_view kFileScheme = "file://";
  if (arg.rfind(kFileScheme, 0) == 0) {
    std::string path = arg.substr(kFileScheme.size());
    if (path.empty() || path[0] != '/') {
      return Status::InvalidArgument("store URL " + arg + " must be file:///absolute/path");
    }
    return path;
  }
  if (arg.find("://") != std::string::npos) {
    return Status::NotSupported("store " + arg +
                                ": only local directory stores are supported by this build");
  }
  if (arg.empty()) return Status::InvalidArgument("store path is empty");
  return arg;
}

void ProtectSecrets() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

}  // namespace phrfs::fs
