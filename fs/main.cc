// phrfs: argv -> command line -> exit code; nothing else lives here.
#include <cstdio>
#include <exception>

#include "fs/cli/cli.h"
#include "fs/cli/exit_codes.h"

int main(int argc, char** argv) {
  try {
    return phrfs::fs::RunCli(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "phrfs: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "phrfs: internal error\n");
  }
  return phrfs::fs::kExitFailure;
}
