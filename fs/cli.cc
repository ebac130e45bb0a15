#include "fs/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <openssl/crypto.h>

#include "base/version.h"
#include "config/mount_config.h"
#include "crypto/keys.h"
#include "fs/log.h"
#include "fs/mount.h"
#include "fs/passphrase.h"
#include "fs/store_setup.h"
#include "fs/vault.h"

namespace phrfs::fs {
namespace {

constexpr int kDefaultScryptLogN = 17;
constexpr int kMinScryptLogN = 10;
constexpr int kMaxScryptLogN = 20;
constexpr int kUmountWaitSeconds = 30;
constexpr char kFuseDevice[] = "/dev/fuse";
constexpr char kFusermount[] = "fusermount3";
constexpr char kConfigEnv[] = "PHRFS_CONFIG";

// ---- arguments -------------------------------------------------------------------------------

struct InitArgs {
  std::string store;
  std::string passfile;
  int scrypt_logn = kDefaultScryptLogN;
};

struct MountArgs {
  std::string store;
  std::string mountpoint;
  std::string passfile;
  std::string config;
  bool foreground = false;
  bool read_only = false;
  std::string log_file;
  std::string log_level;
  std::vector<std::string> fuse_options;  // as given to -o, still comma-separated
};

struct UmountArgs {
  std::string mountpoint;
};

struct PasswdArgs {
  std::string store;
  std::string passfile;
  std::string new_passfile;
  std::string recovery_keyfile;
  std::optional<int> scrypt_logn;
};

// ---- small helpers ---------------------------------------------------------------------------

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

// STORE is a directory path or file:///path; remote stores are not part of this build.
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

// An absolute form of `path` that does not touch the final component, so that it also works
// for a mount point whose daemon has died (stat there gives ENOTCONN).
std::string AbsolutePathOf(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : trimmed.substr(0, slash));
  std::string base = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  char resolved[PATH_MAX];
  if (realpath(parent.c_str(), resolved) == nullptr) return trimmed;
  std::string dir = resolved;
  if (base.empty() || base == ".") return dir;
  return dir == "/" ? "/" + base : dir + "/" + base;
}

// Undoes the octal escapes (\040 for space, ...) of /proc/self/mountinfo.
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

Result<bool> IsMounted(const std::string& absolute_mountpoint) {
  FILE* f = std::fopen("/proc/self/mountinfo", "re");
  if (f == nullptr) return Status::FromErrno(errno, "open /proc/self/mountinfo");
  char* line = nullptr;
  size_t capacity = 0;
  bool found = false;
  while (!found && getline(&line, &capacity, f) >= 0) {
    // Fields: id parent major:minor root mount-point ...
    std::string text = line;
    size_t start = 0;
    for (int field = 0; field < 4 && start != std::string::npos; ++field) {
      start = text.find(' ', start);
      if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos) continue;
    size_t end = text.find(' ', start);
    if (UnescapeMountField(text.substr(start, end - start)) == absolute_mountpoint) found = true;
  }
  free(line);
  std::fclose(f);
  return found;
}

// ---- the mount point and the process ---------------------------------------------------------

Status CheckMountpoint(const std::string& mountpoint) {
  struct stat st;
  if (stat(mountpoint.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("mount point " + mountpoint + " does not exist");
    if (err == ENOTCONN) {
      return Status::Error(Code::kBusy, "mount point " + mountpoint +
                                            " is a dead mount (run phrfs umount " + mountpoint + ")");
    }
    return Status::FromErrno(err, "mount point " + mountpoint);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::Error(Code::kNotADirectory, "mount point " + mountpoint + " is not a directory");
  }
  DIR* dir = opendir(mountpoint.c_str());
  if (dir == nullptr) return Status::FromErrno(errno, "mount point " + mountpoint);
  bool empty = true;
  while (struct dirent* entry = readdir(dir)) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  closedir(dir);
  if (!empty) return Status::Error(Code::kNotEmpty, "mount point " + mountpoint + " is not empty");
  return Status::Ok();
}

Status CheckFuseDevice() {
  struct stat st;
  if (stat(kFuseDevice, &st) != 0 || !S_ISCHR(st.st_mode)) {
    return Status::NotFound(std::string(kFuseDevice) +
                            " is missing (is the fuse kernel module loaded?)");
  }
  return Status::Ok();
}

// Keeps secrets out of core files and other users' debuggers; applies to every command.
void ProtectSecrets() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

// Before serving: keys must not reach swap, and a busy mount needs many descriptors.
// MCL_ONFAULT locks pages as they are touched, so thread stacks and buffers are not faulted in
// whole (without it the daemon's resident memory grew by tens of MiB).
void PrepareToServe() {
  struct rlimit memlock;
  bool can_lock = geteuid() == 0 ||
                  (getrlimit(RLIMIT_MEMLOCK, &memlock) == 0 && memlock.rlim_cur == RLIM_INFINITY);
  if (!can_lock) {
    // Locking future mappings under a small limit would make later allocations fail.
    Log(LogLevel::kDebug, "not locking memory: RLIMIT_MEMLOCK is limited for this user");
  } else if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    Log(LogLevel::kDebug, "mlockall failed: %s", strerror(errno));
  }
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) {
      Log(LogLevel::kDebug, "raising the open-file limit failed: %s", strerror(errno));
    }
  }
}

// Splits -o values at commas and takes out what phrfs itself understands.
void ApplyFuseOptions(const std::vector<std::string>& raw, MountOptions& options,
                      bool& debug_logging) {
  for (const std::string& group : raw) {
    size_t start = 0;
    while (start <= group.size()) {
      size_t comma = group.find(',', start);
      if (comma == std::string::npos) comma = group.size();
      std::string option = group.substr(start, comma - start);
      start = comma + 1;
      if (option.empty()) continue;
      if (option == "ro") {
        options.read_only = true;
      } else if (option == "rw") {
        options.read_only = false;
      } else if (option == "debug") {
        options.fuse_debug = true;
        debug_logging = true;
      } else {
        options.fuse_options.push_back(option);
      }
    }
  }
}

// ---- commands --------------------------------------------------------------------------------

int RunInit(const InitArgs& args) {
  auto store = StorePath(args.store);
  if (!store.ok()) return Fail(Step::kCommandLine, store.status());
  // Refuse an initialised or non-empty directory before asking for a passphrase twice;
  // InitStore checks again (atomically) when it writes.
  if (DIR* dir = opendir(store->c_str())) {
    bool empty = true;
    bool initialised = false;
    while (struct dirent* entry = readdir(dir)) {
      if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) empty = false;
      if (strcmp(entry->d_name, crypto::kStoreConfigName) == 0) initialised = true;
    }
    closedir(dir);
    if (!empty) {
      return Fail(Step::kStore,
                  Status::AlreadyExists("store " + *store + (initialised ? " is already initialised"
                                                                         : " is not empty")));
    }
  }
  auto passphrase = ReadPassphrase(
      {args.passfile, "New passphrase for store " + *store + ": ", Confirm::kTwice});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto recovery = InitStore(*store, passphrase->view(), ScryptFor(args.scrypt_logn));
  if (!recovery.ok()) return Fail(Step::kStore, recovery.status());
  std::printf("Recovery key (write it down; it is shown only once):\n%s\n", recovery->c_str());
  std::fflush(stdout);
  OPENSSL_cleanse(recovery->data(), recovery->size());
  return kExitOk;
}

int RunPasswd(const PasswdArgs& args) {
  auto store_path = StorePath(args.store);
  if (!store_path.ok()) return Fail(Step::kCommandLine, store_path.status());
  Result<UnlockedStore> store = Status::NotFound("unreachable");
  if (!args.recovery_keyfile.empty()) {
    auto key_text = ReadFirstLine(args.recovery_keyfile);
    if (!key_text.ok()) return Fail(Step::kPassphrase, key_text.status());
    store = UnlockStoreWithRecoveryKey(*store_path, key_text->view());
  } else {
    auto old_passphrase = ReadPassphrase(
        {args.passfile, "Current passphrase for store " + *store_path + ": ", Confirm::kOnce});
    if (!old_passphrase.ok()) return Fail(Step::kPassphrase, old_passphrase.status());
    store = UnlockStore(*store_path, old_passphrase->view());
  }
  if (!store.ok()) return Fail(Step::kStore, store.status());
  auto new_passphrase = ReadPassphrase(
      {args.new_passfile, "New passphrase for store " + *store_path + ": ", Confirm::kTwice});
  if (!new_passphrase.ok()) return Fail(Step::kPassphrase, new_passphrase.status());
  int logn = args.scrypt_logn.value_or(kDefaultScryptLogN);
  Status st = ChangeStorePassphrase(*store, new_passphrase->view(), ScryptFor(logn));
  if (!st.ok()) return Fail(Step::kStore, st);
  return kExitOk;
}

// What the serving process needs, gathered (and checked) before it forks.
struct Prepared {
  std::string mountpoint;  // absolute
  MountOptions options;
  UnlockedStore store;
  crypto::StoreKeys keys;
  FILE* log_file = nullptr;  // owned until handed to LogInit
  LogLevel log_level = LogLevel::kInfo;
};

// Vault + ServeMount; `ready` reports the outcome of mounting exactly once.
Status Serve(Prepared& prepared, const std::function<void(const Status&, Step)>& ready) {
  PrepareToServe();
  auto vault = Vault::Create(std::move(prepared.store.root), std::move(prepared.keys),
                             VaultOptions{prepared.options.read_only});
  if (!vault.ok()) {
    ready(vault.status(), Step::kStore);
    return vault.status();
  }
  Status st = ServeMount(std::move(vault).value(), prepared.mountpoint, prepared.options,
                         [&](const Status& status) { ready(status, Step::kMount); });
  return st;
}

int ServeForeground(Prepared& prepared) {
  LogInit(prepared.log_file != nullptr ? LogTarget::File(prepared.log_file, prepared.log_level)
                                       : LogTarget::Stderr(prepared.log_level));
  prepared.log_file = nullptr;
  bool mounted = false;
  Step failed_step = Step::kMount;
  Status st = Serve(prepared, [&](const Status& status, Step step) {
    mounted = status.ok();
    failed_step = step;
  });
  if (!st.ok()) return Fail(mounted ? Step::kOther : failed_step, st);
  return kExitOk;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The daemon child: detaches, serves, and reports readiness through `ready_fd`.
int DaemonChild(Prepared& prepared, int ready_fd) {
  setsid();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    if (null_fd > STDERR_FILENO) close(null_fd);
  }
  (void)!chdir("/");
  LogInit(prepared.log_file != nullptr ? LogTarget::File(prepared.log_file, prepared.log_level)
                                       : LogTarget::Syslog(prepared.log_level));
  prepared.log_file = nullptr;

  bool mounted = false;
  Status st = Serve(prepared, [&](const Status& status, Step step) {
    mounted = status.ok();
    std::string report(1, static_cast<char>(status.ok() ? kExitOk : ExitCodeFor(step, status)));
    if (mounted) {
      Log(LogLevel::kInfo, "mounted at %s", prepared.mountpoint.c_str());
    } else {
      report += OneLine(status.message());
      Log(LogLevel::kError, "mount failed: %s", report.c_str() + 1);
    }
    if (ready_fd >= 0) {
      (void)WriteAll(ready_fd, report);
      close(ready_fd);
      ready_fd = -1;
    }
  });
  if (ready_fd >= 0) close(ready_fd);
  if (!st.ok()) {
    if (mounted) Log(LogLevel::kError, "serving ended with an error: %s", st.message().c_str());
    return mounted ? kExitFailure : ExitCodeFor(Step::kMount, st);
  }
  Log(LogLevel::kInfo, "unmounted %s", prepared.mountpoint.c_str());
  return kExitOk;
}

int ServeDaemon(Prepared& prepared) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Fail(Step::kOther, Status::FromErrno(errno, "pipe"));
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Fail(Step::kOther, Status::FromErrno(err, "fork"));
  }
  if (pid == 0) {
    close(fds[0]);
    return DaemonChild(prepared, fds[1]);
  }
  close(fds[1]);
  if (prepared.log_file != nullptr) {
    std::fclose(prepared.log_file);
    prepared.log_file = nullptr;
  }
  std::string report;
  char buffer[512];
  for (;;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (!report.empty() && report[0] == kExitOk) return kExitOk;  // the daemon serves on

  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (report.empty()) {
    std::string why = WIFSIGNALED(wait_status)
                          ? "killed by signal " + std::to_string(WTERMSIG(wait_status))
                          : "exit status " + std::to_string(WEXITSTATUS(wait_status));
    std::fprintf(stderr, "phrfs: the mount daemon ended before the mount was ready (%s)\n",
                 why.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "phrfs: %s\n", report.substr(1).c_str());
  return static_cast<unsigned char>(report[0]);
}

int RunMount(const MountArgs& args) {
  auto store_path = StorePath(args.store);
  if (!store_path.ok()) return Fail(Step::kCommandLine, store_path.status());

  Prepared prepared;
  // Defaults < phrfs.yaml < command line.
  std::string config_path = args.config;
  if (config_path.empty()) {
    if (const char* env = getenv(kConfigEnv)) config_path = env;
  }
  config::MountConfig file;
  if (!config_path.empty()) {
    auto loaded = config::LoadMountConfig(config_path);
    if (!loaded.ok()) return Fail(Step::kCommandLine, loaded.status());
    file = std::move(loaded).value();
  }
  MountOptions& options = prepared.options;
  options.read_only = file.read_only.value_or(options.read_only);
  options.attr_timeout = file.attr_timeout.value_or(options.attr_timeout);
  options.entry_timeout = file.entry_timeout.value_or(options.entry_timeout);
  options.max_threads = file.max_threads.value_or(options.max_threads);
  if (file.log_level) prepared.log_level = *file.log_level;
  bool debug_logging = false;
  ApplyFuseOptions(file.fuse_options, options, debug_logging);
  ApplyFuseOptions(args.fuse_options, options, debug_logging);
  if (args.read_only) options.read_only = true;
  if (debug_logging) prepared.log_level = LogLevel::kDebug;
  if (!args.log_level.empty()) {
    std::optional<LogLevel> level = ParseLogLevel(args.log_level);
    if (!level) {
      return Fail(Step::kCommandLine,
                  Status::InvalidArgument("--log-level must be error, warning, info or debug"));
    }
    prepared.log_level = *level;
  }
  std::string log_path = !args.log_file.empty() ? args.log_file : file.log_file.value_or("");

  Status st = CheckMountpoint(args.mountpoint);
  if (!st.ok()) return Fail(Step::kMountpoint, st);
  prepared.mountpoint = AbsolutePathOf(args.mountpoint);
  st = CheckFuseDevice();
  if (!st.ok()) return Fail(Step::kMount, st);

  auto passphrase =
      ReadPassphrase({args.passfile, "Passphrase for store " + *store_path + ": ", Confirm::kOnce});
  if (!passphrase.ok()) return Fail(Step::kPassphrase, passphrase.status());
  auto store = UnlockStore(*store_path, passphrase->view());
  passphrase = Passphrase();  // wipe it as soon as it has done its job
  if (!store.ok()) return Fail(Step::kStore, store.status());
  prepared.store = std::move(store).value();
  auto keys = crypto::StoreKeys::Derive(prepared.store.master_key, prepared.store.config.store_id);
  if (!keys.ok()) return Fail(Step::kOther, keys.status());
  prepared.keys = std::move(keys).value();
  prepared.store.master_key.Wipe();  // the derived keys are all the vault needs

  if (!log_path.empty()) {
    prepared.log_file = std::fopen(log_path.c_str(), "ae");
    if (prepared.log_file == nullptr) {
      return Fail(Step::kOther, Status::FromErrno(errno, "cannot open log file " + log_path));
    }
  }
  return args.foreground ? ServeForeground(prepared) : ServeDaemon(prepared);
}

int RunUmount(const UmountArgs& args) {
  std::string mountpoint = AbsolutePathOf(args.mountpoint);
  auto mounted = IsMounted(mountpoint);
  if (!mounted.ok()) return Fail(Step::kOther, mounted.status());
  if (!*mounted) return Fail(Step::kOther, Status::NotFound(mountpoint + " is not mounted"));

  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return Fail(Step::kOther, Status::FromErrno(errno, "fork"));
  if (pid == 0) {
    const char* argv[] = {kFusermount, "-u", mountpoint.c_str(), nullptr};
    execvp(kFusermount, const_cast<char* const*>(argv));
    std::fprintf(stderr, "phrfs: cannot run %s: %s\n", kFusermount, strerror(errno));
    _exit(127);
  }
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return Fail(Step::kOther, Status::FromErrno(errno, "waitpid"));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return Fail(Step::kOther, Status::IoError(std::string(kFusermount) + " -u " + mountpoint +
                                              " failed"));
  }
  // fusermount3 returns once the kernel has let go; wait until the mount table agrees.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    auto still = IsMounted(mountpoint);
    if (!still.ok()) return Fail(Step::kOther, still.status());
    if (!*still) return kExitOk;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= kUmountWaitSeconds) {
      return Fail(Step::kOther, Status::Error(Code::kBusy, mountpoint + " is still mounted after " +
                                                               std::to_string(kUmountWaitSeconds) +
                                                               " s"));
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

}  // namespace

ExitCode ExitCodeFor(Step step, const Status& status) {
  if (status.ok()) return kExitOk;
  if (status.code() == Code::kWrongKey) return kExitWrongPassphrase;
  switch (step) {
    case Step::kCommandLine:
      return kExitUsage;
    case Step::kPassphrase:
      return kExitPassfile;
    case Step::kStore:
      switch (status.code()) {
        case Code::kNotFound:
        case Code::kNotADirectory:
          return kExitNoStore;
        case Code::kCorrupt:
        case Code::kNotSupported:
          return kExitCorruptStore;
        case Code::kAlreadyExists:
          return kExitStoreExists;
        default:
          return kExitFailure;
      }
    case Step::kMountpoint:
      return kExitBadMountpoint;
    case Step::kMount:
      return kExitFuse;
    case Step::kOther:
      return kExitFailure;
  }
  return kExitFailure;
}

int RunCli(int argc, char** argv) {
  ProtectSecrets();
  CLI::App app{"phrfs: an encrypted file system for personal health records", "phrfs"};
  app.set_version_flag("--version", std::string("phrfs ") + PHRFS_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer("Run 'phrfs COMMAND --help' for a command's options; see phrfs(1).");

  auto logn_check = CLI::Range(kMinScryptLogN, kMaxScryptLogN);

  InitArgs init;
  CLI::App* init_cmd = app.add_subcommand("init", "Create a new, empty store");
  init_cmd->add_option("STORE", init.store, "Store directory (created if missing; must be empty)")
      ->required();
  init_cmd->add_option("--passfile", init.passfile,
                       "Read the passphrase from the first line of FILE")
      ->type_name("FILE");
  init_cmd->add_option("--scrypt-logn", init.scrypt_logn,
                       "scrypt cost: N = 2^LOGN (10..20, default 17)")
      ->type_name("LOGN")
      ->check(logn_check);

  MountArgs mount;
  CLI::App* mount_cmd = app.add_subcommand("mount", "Mount a store's plaintext view");
  mount_cmd->add_option("STORE", mount.store, "Store directory")->required();
  mount_cmd->add_option("MOUNTPOINT", mount.mountpoint, "Empty directory to mount on")->required();
  mount_cmd->add_option("--passfile", mount.passfile,
                        "Read the passphrase from the first line of FILE")
      ->type_name("FILE");
  mount_cmd->add_option("--config", mount.config, "Mount settings (phrfs.yaml(5))")
      ->type_name("FILE");
  mount_cmd->add_flag("-f,--foreground", mount.foreground,
                      "Stay in the foreground; log to stderr");
  mount_cmd->add_flag("--read-only", mount.read_only, "Mount read-only");
  mount_cmd->add_option("--log-file", mount.log_file, "Append log lines to FILE")
      ->type_name("FILE");
  mount_cmd->add_option("--log-level", mount.log_level, "error, warning, info (default) or debug")
      ->type_name("LEVEL");
  mount_cmd->add_option("-o", mount.fuse_options, "Comma-separated FUSE mount options")
      ->type_name("OPTIONS")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);

  UmountArgs umount;
  CLI::App* umount_cmd = app.add_subcommand("umount", "Unmount and wait until it is done");
  umount_cmd->add_option("MOUNTPOINT", umount.mountpoint, "Where the store is mounted")
      ->required();

  PasswdArgs passwd;
  int passwd_logn = kDefaultScryptLogN;
  CLI::App* passwd_cmd = app.add_subcommand("passwd", "Change a store's passphrase");
  passwd_cmd->add_option("STORE", passwd.store, "Store directory")->required();
  CLI::Option* old_opt =
      passwd_cmd->add_option("--passfile", passwd.passfile, "Current passphrase from FILE")
          ->type_name("FILE");
  passwd_cmd->add_option("--new-passfile", passwd.new_passfile, "New passphrase from FILE")
      ->type_name("FILE");
  passwd_cmd->add_option("--recovery-keyfile", passwd.recovery_keyfile,
                         "Unlock with the recovery key in FILE instead of the passphrase")
      ->type_name("FILE")
      ->excludes(old_opt);
  CLI::Option* passwd_logn_opt =
      passwd_cmd->add_option("--scrypt-logn", passwd_logn,
                             "scrypt cost of the new passphrase (10..20, default 17)")
          ->type_name("LOGN")
          ->check(logn_check);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help or --version
      app.exit(e);
      return kExitOk;
    }
    std::fprintf(stderr, "phrfs: %s\nRun 'phrfs --help' for usage.\n", OneLine(e.what()).c_str());
    return kExitUsage;
  }
  if (passwd_logn_opt->count() > 0) passwd.scrypt_logn = passwd_logn;

  if (init_cmd->parsed()) return RunInit(init);
  if (mount_cmd->parsed()) return RunMount(mount);
  if (umount_cmd->parsed()) return RunUmount(umount);
  if (passwd_cmd->parsed()) return RunPasswd(passwd);
  std::fprintf(stderr, "%s", app.help().c_str());
  return kExitUsage;
}

}  // namespace phrfs::fs
