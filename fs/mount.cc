#include "fs/mount.h"

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/fuse_ops.h"
#include "fs/log.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {
namespace {

template <auto Fn>
struct FreeWith {
  template <class T>
  void operator()(T* p) const { Fn(p); }
};
using Session = std::unique_ptr<fuse_session, FreeWith<fuse_session_destroy>>;
using LoopConfig = std::unique_ptr<fuse_loop_config, FreeWith<fuse_loop_cfg_destroy>>;

// argv for fuse_session_new: the program name, then one "-o" with every mount option.
//
// The kernel checks permission bits itself (default_permissions) against the mode, owner and
// group stored in each node's header: the daemon's own access to the ciphertext is always its
// own (objects are private to the daemon's user), so without this check a 0444 file would be
// writable through the mount. It costs a GETATTR of a directory after each change of its
// entries, served from memory.
std::vector<std::string> FuseArgs(const MountOptions& options) {
  // fsname "phrfs:PID" names the serving process in the mount table: `phrfs umount` waits for it
  // to end, so that the store is quiet (last times written) when umount returns.
  std::string opts = "fsname=phrfs:" + std::to_string(getpid()) + ",subtype=phrfs,default_permissions";
  if (options.read_only) opts += ",ro";
  for (const auto& o : options.fuse_options) opts += "," + o;
  std::vector<std::string> args = {"phrfs", "-o", opts};
  if (options.fuse_debug) args.push_back("-d");
  return args;
}

}  // namespace

Status ServeMount(std::unique_ptr<Vault> vault, const std::string& mountpoint,
                  const MountOptions& options, const std::function<void(const Status&)>& ready,
                  std::vector<MountLog> logs) {
  FuseContext ctx{vault.get(), options.attr_timeout, options.entry_timeout, options.read_only};
  for (auto& l : logs) ctx.logs.by_prefix.emplace_back(l.prefix, l.logger.get());
  // However serving ends, the logs' last batches go out before the vault closes the store.
  struct CloseLogs {
    std::vector<MountLog>& logs;
    ~CloseLogs() {
      for (auto& l : logs) {
        Status st = l.logger->Close();
        if (!st.ok())
          Log(LogLevel::kWarning, "access log: last batch not stored: %s", st.ToString().c_str());
        l.logger.reset();
      }
    }
  } close_logs{logs};

  std::vector<std::string> arg_strings = FuseArgs(options);
  std::vector<char*> argv;
  for (auto& a : arg_strings) argv.push_back(a.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  const auto& ops = FuseOperations();
  Session session(fuse_session_new(&args, &ops, sizeof ops, &ctx));
  fuse_opt_free_args(&args);
  if (!session) {
    Status st = Status::InvalidArgument("FUSE refused the mount options");
    ready(st);
    return st;
  }
  ctx.session = session.get();
  if (fuse_set_signal_handlers(session.get()) != 0) {
    Status st = Status::IoError("cannot install signal handlers");
    ready(st);
    return st;
  }
  if (fuse_session_mount(session.get(), mountpoint.c_str()) != 0) {
    fuse_remove_signal_handlers(session.get());
    Status st = Status::Error(Code::kNotPermitted, "the kernel refused to mount at " + mountpoint);
    ready(st);
    return st;
  }
  ready(Status::Ok());

  LoopConfig config(fuse_loop_cfg_create());
  fuse_loop_cfg_set_clone_fd(config.get(), 0);
  fuse_loop_cfg_set_max_threads(config.get(), options.max_threads);
  fuse_loop_cfg_set_idle_threads(config.get(), std::min(options.max_threads, 4u));
  const int rc = fuse_session_loop_mt(session.get(), config.get());

  fuse_session_unmount(session.get());
  fuse_remove_signal_handlers(session.get());
  Log(LogLevel::kInfo, "unmounted");
  return rc == 0 ? Status::Ok() : Status::IoError("FUSE loop ended with error " + std::to_string(rc));
}

}  // namespace phrfs::fs
