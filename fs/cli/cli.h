// The phrfs command line (docs/cli-contract.md, man phrfs(1)): parses argv with CLI11 and runs
// one command (fs/cli/commands.h). Main thread only; the mount path may fork a daemon.
#pragma once

namespace phrfs::fs {

// Runs the command line; returns the process exit code. Never throws.
int RunCli(int argc, char** argv);

}  // namespace phrfs::fs
