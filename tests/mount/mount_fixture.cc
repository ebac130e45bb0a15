// Child processes with timeouts and the RAII mount fixture (see mount_fixture.h).
#include "tests/mount/mount_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#ifndef PHRFS_BINARY
#error "PHRFS_BINARY must be defined by the build"
#endif

namespace phrfs::testing {
namespace {

using Clock = std::chrono::steady_clock;

void AppendAvailable(int fd, std::string& out, bool* eof) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) *eof = true;
    return;  // EAGAIN or error: nothing more right now
  }
}

std::string Basename(const std::string& s) {
  auto pos = s.rfind('/');
  return pos == std::string::npos ? s : s.substr(pos + 1);
}

// Running, as opposed to gone or a zombie waiting for whoever adopted it to reap it.
bool ProcessAlive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace

const std::string& PhrfsBinary() {
  static const std::string path = PHRFS_BINARY;
  return path;
}

std::string RunResult::Describe() const {
  std::ostringstream os;
  os << "exit=" << exit_code << (timed_out ? " (TIMED OUT)" : "") << " stderr=[" << err
     << "] stdout=[" << out.substr(0, 400) << "]";
  return os.str();
}

RunResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  RunResult result;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + strerror(errno);
    return result;
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    result.err = std::string("fork: ") + strerror(errno);
    return result;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    setpgid(0, 0);  // own process group so a timeout can kill the child's helpers too
    signal(SIGPIPE, SIG_DFL);  // the test ignores it (see MountFixture); the tools must not
    execvp(cargv[0], cargv.data());
    dprintf(2, "exec %s: %s\n", cargv[0], strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

  const auto deadline = Clock::now() + timeout;
  bool out_eof = false, err_eof = false;
  int status = 0;
  bool exited = false;
  while (!exited) {
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    poll(fds, 2, 20);
    if (!out_eof) AppendAvailable(out_pipe[0], result.out, &out_eof);
    if (!err_eof) AppendAvailable(err_pipe[0], result.err, &err_eof);
    // Stop at the child's exit, not at EOF: a daemon it forked may hold the pipes open.
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
    if (Clock::now() > deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);  // the child's own process group (set above)
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      exited = true;
    }
  }
  AppendAvailable(out_pipe[0], result.out, &out_eof);
  AppendAvailable(err_pipe[0], result.err, &err_eof);
  close(out_pipe[0]);
  close(err_pipe[0]);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

RunResult RunPhrfs(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{PhrfsBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

bool IsMountPoint(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    // Unescape \040 and friends.
    std::string unescaped;
    for (size_t i = 0; i < mount_point.size(); ++i) {
      if (mount_point[i] == '\\' && i + 3 < mount_point.size()) {
        unescaped += static_cast<char>(std::stoi(mount_point.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        unescaped += mount_point[i];
      }
    }
    if (unescaped == path) return true;
  }
  return false;
}

void RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return;
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, FTW*) -> int {
        if (type == FTW_DP) {
          rmdir(p);
        } else {
          unlink(p);
        }
        return 0;
      },
      32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void ForceUnmount(const std::string& mountpoint) {
  RunCommand({"fusermount3", "-u", "-z", mountpoint}, std::chrono::seconds(20));
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReadAll(const std::string& path, int* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err != nullptr) *err = errno;
    return "";
  }
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (err != nullptr) *err = n < 0 ? errno : 0;
  close(fd);
  return out;
}

std::string Pattern(size_t n, uint32_t tag) {
  std::string s(n, '\0');
  uint32_t x = tag * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

std::vector<std::string> ListFilesRecursive(const std::string& root) {
  std::vector<std::string> files;
  std::vector<std::string> stack{root};
  while (!stack.empty()) {
    std::string dir = stack.back();
    stack.pop_back();
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string full = dir + "/" + name;
      struct stat st;
      if (lstat(full.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        stack.push_back(full);
      } else if (S_ISREG(st.st_mode)) {
        files.push_back(full);
      }
    }
    closedir(d);
  }
  return files;
}

std::vector<std::string> SortedNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return {"<opendir: " + std::string(strerror(errno)) + ">"};
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

int WriteErrno(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return errno;
  int err = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) ? 0 : errno;
  if (close(fd) != 0 && err == 0) err = errno;
  return err;
}

MountFixture::MountFixture(std::string passphrase) {
  // A test whose output goes to a pipe that closes early (`... | head`) would die of SIGPIPE at
  // its next line of output, before its destructor unmounts: one such run left a mount behind.
  // Ignored, the write fails instead and the test ends (and cleans up) normally.
  signal(SIGPIPE, SIG_IGN);
  const char* tmp = getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != 0 ? tmp : "/tmp") + "/phrfs-mt-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    return;
  }
  char* real = realpath(buf.data(), nullptr);
  root_ = real != nullptr ? real : buf.data();
  free(real);
  // The user's own files stay out of tests: a grantee's mount remembers owners' keys under
  // XDG_CONFIG_HOME (config/known_owners.h), one file per fixture here.
  setenv("XDG_CONFIG_HOME", (root_ + "/config").c_str(), 1);
  // The remote tiers (scripts/test-all.sh) put each fixture's store on a server: a fresh folder
  // or prefix named after this fixture's temp dir, with the cache in the temp dir.
  if (const char* base = getenv("PHRFS_TEST_STORE_BASE"); base != nullptr && *base != '\0') {
    std::string b = base;
    if (b.back() == '/') b.pop_back();
    store_ = b + "/" + root_.substr(root_.rfind('/') + 1);
    cache_dir_ = root_ + "/cache";
  } else {
    store_ = root_ + "/store";
  }
  mnt_ = root_ + "/mnt";
  passfile_ = root_ + "/passfile";
  log_file_ = root_ + "/phrfs.log";
  mkdir(mnt_.c_str(), 0755);
  WriteFile(passfile_, passphrase + "\n");
}

MountFixture::~MountFixture() {
  if (root_.empty()) return;
  if (mounted_ || IsMountPoint(mnt_)) {
    RunResult r = Unmount();
    if (r.exit_code != 0) ADD_FAILURE() << "cleanup: phrfs umount failed: " << r.Describe();
  }
  if (IsMountPoint(mnt_)) ForceUnmount(mnt_);
  if (daemon_pid_) {
    // The daemon is ours (we started it with `phrfs mount`); it must exit once unmounted.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (ProcessAlive(*daemon_pid_) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (ProcessAlive(*daemon_pid_)) {
      ADD_FAILURE() << "daemon pid " << *daemon_pid_ << " still running 10 s after unmount";
      kill(*daemon_pid_, SIGKILL);
    }
  }
  if (getenv("PHRFS_KEEP_TEMP") != nullptr) {
    fprintf(stderr, "PHRFS_KEEP_TEMP: leaving %s\n", root_.c_str());
    return;
  }
  if (!IsMountPoint(mnt_)) RemoveTree(root_);
}

RunResult MountFixture::Init() {
  return RunPhrfs({"init", store_, "--passfile", passfile_, "--scrypt-logn", "10"});
}

RunResult MountFixture::Mount(const MountOptions& options) { return Mount(store_, options); }

RunResult MountFixture::Mount(const std::string& store, const MountOptions& options) {
  std::vector<std::string> args{"mount", store, mnt_, "--passfile", passfile_, "--log-file",
                                log_file_};
  if (options.read_only) args.push_back("--read-only");
  // The mounted tiers run once per kind of tree (scripts/test-all.sh sets PHRFS_TEST_TREE).
  const bool own_tree = std::find(options.extra_args.begin(), options.extra_args.end(), "--tree") !=
                        options.extra_args.end();
  if (const char* tree = getenv("PHRFS_TEST_TREE"); tree != nullptr && *tree != '\0' && !own_tree) {
    args.push_back("--tree");
    args.push_back(tree);
  }
  const bool own_cache = std::find(options.extra_args.begin(), options.extra_args.end(),
                                   "--cache-dir") != options.extra_args.end();
  if (!cache_dir_.empty() && !own_cache) {
    args.push_back("--cache-dir");
    args.push_back(cache_dir_);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  // The command that starts the daemon: wrapped as the test asks (prlimit, ...), and in the
  // non-root tier without the capabilities that let root ignore permission bits.
  std::vector<std::string> argv = options.wrapper;
  // (A test that starts the daemon its own way, e.g. as an unprivileged user, keeps its way.)
  if (const char* caps = getenv("PHRFS_TEST_DAEMON_CAPS");
      caps != nullptr && std::string(caps) == "drop" && options.wrapper.empty()) {
    for (const char* a : {"capsh", "--drop=cap_dac_override,cap_dac_read_search,cap_fowner,cap_fsetid,cap_chown",
                          "--", "-c", "exec \"$@\"", "phrfs"}) {
      argv.push_back(a);
    }
  }
  argv.push_back(PhrfsBinary());
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = RunCommand(argv, std::chrono::seconds(60));
  if (r.exit_code == 0 || IsMountPoint(mnt_)) {
    mounted_ = true;
    mounted_store_ = store;
    last_options_ = options;
    FindDaemon();
  }
  return r;
}

RunResult MountFixture::Unmount() {
  // Remote stores: umount waits for pending uploads (the daemon gives up after 150 s without
  // progress; behind a crashed writer's WebDAV key lock the wait is about 60 s).
  RunResult r = RunPhrfs({"umount", mnt_}, std::chrono::seconds(240));
  if (IsMountPoint(mnt_)) {
    if (r.exit_code == 0) r.err += " [still mounted after phrfs umount exit 0]";
    ForceUnmount(mnt_);
  }
  mounted_ = false;
  return r;
}

RunResult MountFixture::Remount() {
  RunResult u = Unmount();
  if (u.exit_code != 0) {
    u.err = "umount failed before remount: " + u.err;
    return u;
  }
  if (daemon_pid_) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (ProcessAlive(*daemon_pid_) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Mount(mounted_store_.empty() ? store_ : mounted_store_, last_options_);
}

std::string MountFixture::InitAndMount(const MountOptions& options) {
  RunResult i = Init();
  if (i.exit_code != 0) return "init: " + i.Describe();
  RunResult m = Mount(options);
  if (m.exit_code != 0) return "mount: " + m.Describe();
  if (!IsMountPoint(mnt_)) return "mount exited 0 but " + mnt_ + " is not a mount point";
  return "";
}

std::string MountFixture::ReadLog() const {
  std::ifstream in(log_file_, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void MountFixture::FindDaemon() {
  // The daemon is the process whose command line holds our (unique) mount point.
  daemon_pid_.reset();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid == getpid()) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    std::string cur;
    for (char c : cmdline) {
      if (c == '\0') {
        argv.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    bool has_mnt = false;
    for (const auto& a : argv) has_mnt |= (a == mnt_);
    if (has_mnt && !argv.empty() && Basename(argv[0]) == Basename(PhrfsBinary())) {
      daemon_pid_ = static_cast<pid_t>(pid);
      break;
    }
  }
  closedir(proc);
}

}  // namespace phrfs::testing
