// Test helpers for the mounted tiers (tests/mount, tests/corruption, tests/golden): run the phrfs
// binary as a child process with a timeout, and an RAII store + mount point in a temp dir that is
// always unmounted and removed, also when a test fails. Not thread-safe: one per test, used from
// the test's main thread (worker threads may use the mounted paths, not the object).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace phrfs::testing {

// Path of the phrfs binary under test (PHRFS_BINARY, set by CMake).
const std::string& PhrfsBinary();

struct RunResult {
  int exit_code = -1;      // exit status, or 128+signal when killed
  bool timed_out = false;  // killed because the timeout passed
  std::string out;         // stdout
  std::string err;         // stderr
  std::string Describe() const;  // one line for failure messages
};

// fork/exec `argv` (argv[0] looked up in PATH), capture stdout/stderr, kill the child (by its
// pid) when `timeout` passes. Never goes through a shell.
RunResult RunCommand(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));
// Runs the phrfs binary with `args`.
RunResult RunPhrfs(const std::vector<std::string>& args,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

// True when `path` (absolute, canonical) is a mount point in /proc/self/mountinfo.
bool IsMountPoint(const std::string& path);
// Removes a tree without crossing into other mounts; best effort.
void RemoveTree(const std::string& path);
// Lazy unmount with fusermount3 (-u -z), with a timeout.
void ForceUnmount(const std::string& mountpoint);

std::string ReadFileOrDie(const std::string& path);  // test helpers: fail loudly, return ""
// Whole file through open/read; on failure returns what was read and sets *err (0 on success).
std::string ReadAll(const std::string& path, int* err = nullptr);
// n deterministic pseudo-random bytes; different tags give different streams.
std::string Pattern(size_t n, uint32_t tag);
void WriteFile(const std::string& path, const std::string& content);
// Every regular file under `root` (recursive), as paths relative to nothing (absolute).
std::vector<std::string> ListFilesRecursive(const std::string& root);

struct MountOptions {
  bool read_only = false;
  std::vector<std::string> extra_args;  // appended to `phrfs mount`
  std::vector<std::string> wrapper;     // argv prefix that starts `phrfs mount` (e.g. prlimit)
};

// The names in `dir` (no "." or ".."), sorted; one "<opendir: ...>" entry when it cannot be read.
std::vector<std::string> SortedNames(const std::string& dir);
// Creates or truncates `path` and writes `content`: 0 or the first errno (open, write, close).
int WriteErrno(const std::string& path, const std::string& content);

// A private temp dir (removed on destruction) holding store/, mnt/ and a passfile.
class MountFixture {
 public:
  using MountOptions = phrfs::testing::MountOptions;

  explicit MountFixture(std::string passphrase = "test passphrase \xc3\xa9 42");
  ~MountFixture();
  MountFixture(const MountFixture&) = delete;
  MountFixture& operator=(const MountFixture&) = delete;

  const std::string& root() const { return root_; }
  // A directory, or with PHRFS_TEST_STORE_BASE set (remote tiers) a store URL on a server.
  const std::string& store() const { return store_; }
  // The cache folder the remote tiers mount with; empty for local stores.
  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& mnt() const { return mnt_; }
  const std::string& passfile() const { return passfile_; }
  const std::string& log_file() const { return log_file_; }
  std::string InMnt(const std::string& rel) const { return mnt_ + "/" + rel; }

  // `phrfs init STORE --passfile P --scrypt-logn 10`.
  RunResult Init();
  // `phrfs mount STORE MNT --passfile P --log-file LOG [--read-only] [--tree $PHRFS_TEST_TREE]
  // ...`; on exit 0 remembers
  // that the mount (and its daemon pid) must be undone.
  RunResult Mount(const MountOptions& options = {});
  RunResult Mount(const std::string& store, const MountOptions& options);
  // `phrfs umount MNT`; falls back to fusermount3 -u -z when that fails. Returns the umount run.
  RunResult Unmount();
  // Unmount then Mount with the same options; returns the mount run.
  RunResult Remount();
  // Init + Mount; returns "" on success, otherwise a description of what failed.
  std::string InitAndMount(const MountOptions& options = {});

  bool mounted() const { return mounted_; }
  std::string ReadLog() const;

 private:
  void FindDaemon();

  std::string root_, store_, mnt_, passfile_, log_file_, cache_dir_;
  std::string mounted_store_;
  MountOptions last_options_;
  bool mounted_ = false;
  std::optional<pid_t> daemon_pid_;
};

}  // namespace phrfs::testing
