// Serving a prepared mount in the foreground or as a daemon, with the readiness pipe between the
// daemon and the `phrfs mount` that started it (fs/cli/daemon.h).
#include "fs/cli/daemon.h"

#include "base/encoding.h"
#include "base/secure_arena.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <shared_mutex>
#include <span>
#include <utility>

#include "fs/cli/command_util.h"
#include "fs/cli/status_reporter.h"
#include "fs/log.h"
#include "fs/vault/vault.h"
#include "remote/cache/cached_tree.h"
#include "remote/prefix_tree.h"

namespace phrfs::fs {
namespace {

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
  // Keys live in their own small region; lock it for every user (mlockall above is for root),
  // again here because memory locks do not survive fork.
  if (!LockSecureArena()) {
    Log(LogLevel::kWarning, "could not lock the key region in memory (RLIMIT_MEMLOCK): keys may reach swap");
  }
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) {
      Log(LogLevel::kDebug, "raising the open-file limit failed: %s", strerror(errno));
    }
  }
}

// The vault, for the cache's uploader threads that need it to name a conflict copy: set once
// the vault is open, cleared (under the exclusive lock, so no callback still uses it) before
// it goes away.
struct VaultForCache {
  std::shared_mutex mu;
  Vault* vault = nullptr;
};

Result<std::unique_ptr<remote::CipherTree>> OpenCache(const PreparedMount& prepared,
                                                      std::shared_ptr<VaultForCache> vault_ref) {
  remote::CachedTreeOptions options;
  options.conflict_copy = [vault_ref](const std::string& key, std::span<const uint8_t> data)
      -> std::optional<remote::CachedTreeOptions::ConflictPlacement> {
    std::shared_lock lock(vault_ref->mu);
    if (vault_ref->vault == nullptr || data.size() < crypto::kNodeHeaderSize) return std::nullopt;
    auto copy = vault_ref->vault->ConflictCopyFor(key, data.first(crypto::kNodeHeaderSize));
    if (!copy) return std::nullopt;
    return remote::CachedTreeOptions::ConflictPlacement{
        copy->key, std::vector<uint8_t>(copy->header.begin(), copy->header.end())};
  };
  options.write_back_delay = prepared.cache.write_back_delay;
  options.listing_ttl = prepared.cache.listing_ttl;
  options.cache_limit_bytes = prepared.cache.size;
  // The store's own id (phrfs.conf), not its URL: the same store reached by another name
  // (a proxy, a second host name) keeps its cache; another store is refused.
  options.store_id = "phrfs-store:" + HexEncode(prepared.store.config.store_id.bytes);
  options.log = [](LogLevel level, const std::string& line) { Log(level, "%s", line.c_str()); };
  std::error_code ec;
  std::filesystem::create_directories(prepared.cache.dir, ec);
  if (ec) return Status::IoError("cache folder " + prepared.cache.dir + ": " + ec.message());
  chmod(prepared.cache.dir.c_str(), 0700);
  auto tree = remote::CachedTree::Open(prepared.remote, prepared.cache.dir, std::move(options));
  if (!tree.ok()) {
    return Status::Error(tree.status().code(),
                         "cache folder " + prepared.cache.dir + ": " + tree.status().message());
  }
  return std::unique_ptr<remote::CipherTree>(std::move(tree).value());
}

// Vault + ServeMount; `ready` reports the outcome of mounting exactly once. The status file
// reports from the moment the mount is ready until the tree has flushed at unmount.
Status Serve(PreparedMount& prepared, const std::function<void(const Status&, Step)>& ready) {
  PrepareToServe();
  auto vault_ref = std::make_shared<VaultForCache>();
  if (prepared.remote) {
    // A remote store: the write-back cache of ciphertext goes between it and the vault.
    auto cached = OpenCache(prepared, vault_ref);
    if (!cached.ok()) {
      ready(cached.status(), Step::kStore);
      return cached.status();
    }
    prepared.store.tree = std::move(cached).value();  // replaces the write-through tree
  }
  StatusReporter reporter(prepared.store.label, *prepared.store.tree);
  VaultOptions vault_options;
  vault_options.read_only = prepared.options.read_only;
  vault_options.shared_domains = prepared.shared_domains;
  vault_options.grantee = prepared.grantee;
  vault_options.granted = prepared.granted;
  if (prepared.remote) {
    // Other mounts may change a remote store: trust what was read for one listing TTL.
    vault_options.revalidate_ms = std::max<int64_t>(1, prepared.cache.listing_ttl.count());
  }
  vault_options.on_close = [&reporter, vault_ref](remote::CipherTree& tree) {
    reporter.FlushAtClose(tree);
    std::unique_lock lock(vault_ref->mu);
    vault_ref->vault = nullptr;
  };
  auto vault = Vault::Open(std::move(prepared.store.tree), std::move(prepared.keys), vault_options);
  if (!vault.ok()) {
    ready(vault.status(), Step::kStore);
    return vault.status();
  }
  {
    std::unique_lock lock(vault_ref->mu);
    vault_ref->vault = vault->get();
  }
  std::vector<MountLog> logs;
  for (const auto& planned : prepared.logs) {
    // The access log shares the vault's tree (and with it a remote store's cache and uploads).
    AccessLoggerOptions log_options;
    log_options.writer = planned.writer;
    log_options.person = planned.person;
    log_options.signer = planned.signer;
    std::unique_ptr<remote::CipherTree> folder;
    if (!planned.folder.empty())
      folder = std::make_unique<remote::PrefixTree>((*vault)->tree(), planned.folder);
    auto started = AccessLogger::Start(folder ? *folder : (*vault)->tree(), *planned.sealer, log_options);
    if (!started.ok()) {
      Status st = Status::Error(started.status().code(),
                                "cannot start the access log (mount.access_log in phrfs.yaml(5)): " +
                                    started.status().message());
      ready(st, Step::kStore);
      return st;
    }
    logs.emplace_back(planned.prefix, std::move(started).value(), std::move(folder));
  }
  std::vector<std::string> sessions;
  for (const MountLog& log : logs) sessions.push_back(crypto::LogSessionHex(log.logger->session()));
  reporter.SetLogSessions(std::move(sessions));
  Status st = ServeMount(std::move(vault).value(), prepared.mountpoint, prepared.options,
                         [&](const Status& status) {
                           if (status.ok()) reporter.Start();
                           ready(status, Step::kMount);
                         },
                         std::move(logs));
  return st;
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
int DaemonChild(PreparedMount& prepared, int ready_fd) {
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

}  // namespace

int ServeForeground(PreparedMount& prepared) {
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

int ServeDaemon(PreparedMount& prepared) {
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

}  // namespace phrfs::fs
