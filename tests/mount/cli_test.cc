// The phrfs command line's error paths and exit codes (docs/cli-contract.md, fs/cli/exit_codes.h):
// every failure gives its own code and a short message, leaves nothing mounted and the store
// byte-for-byte unchanged. Also `phrfs passwd`, `phrfs upgrade`'s refusals and `mount --tree`.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/identity.h"
#include "crypto/identity_file.h"
#include "crypto/log_key_sealer.h"
#include "fs/audit/access_logger.h"
#include "fs/cli/exit_codes.h"
#include "fs/store_setup.h"
#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

using namespace phrfs::fs;

// Every file (and folder) under `root` with its bytes, to prove a failed command changed nothing.
std::map<std::string, std::string> StoreBytes(const std::string& root) {
  std::map<std::string, std::string> out;
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    std::string rel = stack.back();
    stack.pop_back();
    DIR* d = opendir((root + rel).c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string r = rel + "/" + n;
      struct stat st;
      if (lstat((root + r).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        out[r + "/"] = "";
        stack.push_back(r);
      } else {
        std::ifstream in(root + r, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        out[r] = ss.str();
      }
    }
    closedir(d);
  }
  return out;
}

// The one-line reason the contract promises: something on stderr, short, no crash output.
void ExpectCleanFailure(const RunResult& r) {
  EXPECT_FALSE(r.timed_out);
  std::string err = r.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  EXPECT_FALSE(err.empty()) << "no reason printed on stderr";
  EXPECT_LE(std::count(err.begin(), err.end(), '\n'), 1) << "more than a one-line reason: " << r.err;
  for (const char* bad : {"terminate called", "Aborted", "Segmentation", "what():", "#0 "}) {
    EXPECT_EQ(r.err.find(bad), std::string::npos) << "crash output: " << r.err;
  }
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = fx_.Init();
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    std::smatch key;
    ASSERT_TRUE(std::regex_search(r.out, key, std::regex("[0-9a-fA-F]{8}(-[0-9a-fA-F]{8}){7}")))
        << "no recovery key on stdout: " << r.out;
    recovery_file_ = fx_.root() + "/recovery-key";
    WriteFile(recovery_file_, key.str() + "\n");
    WriteFile(fx_.root() + "/wrong", "not the passphrase\n");
  }

  // Mounts, writes one file, unmounts: a store with content.
  void PutContent() {
    RunResult m = fx_.Mount();
    ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
    WriteFile(fx_.InMnt("note.txt"), "blood pressure 120/80");
    ASSERT_EQ(mkdir(fx_.InMnt("labs").c_str(), 0755), 0);
    WriteFile(fx_.InMnt("labs/2024.csv"), std::string(9000, 'L'));
    ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  }

  // Runs `args` expecting `code`, a clean message, nothing mounted and the store unchanged.
  void ExpectFails(const std::vector<std::string>& args, int code, const std::string& store = "") {
    std::string s = store.empty() ? fx_.store() : store;
    auto before = StoreBytes(s);
    RunResult r = RunPhrfs(args);
    EXPECT_EQ(r.exit_code, code) << r.Describe();
    ExpectCleanFailure(r);
    EXPECT_FALSE(IsMountPoint(fx_.mnt())) << "left something mounted";
    if (IsMountPoint(fx_.mnt())) ForceUnmount(fx_.mnt());
    EXPECT_TRUE(StoreBytes(s) == before) << "the failed command changed the store";
  }

  std::vector<std::string> MountArgs(const std::string& passfile) {
    return {"mount", fx_.store(), fx_.mnt(), "--passfile", passfile, "--log-file", fx_.log_file()};
  }

  MountFixture fx_;
  std::string recovery_file_;
};

TEST(CliBasicsTest, VersionAndHelpExitZero) {
  RunResult v = RunPhrfs({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  EXPECT_FALSE(v.out.empty());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"init", "--help"}, {"mount", "--help"}, {"umount", "--help"},
           {"passwd", "--help"}, {"upgrade", "--help"}}) {
    RunResult h = RunPhrfs(args);
    EXPECT_EQ(h.exit_code, 0) << args[0] << " " << h.Describe();
    EXPECT_FALSE(h.out.empty()) << "help goes to stdout";
  }
}

TEST(CliBasicsTest, BadCommandLinesExitWithUsage) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"mount"}, {"init"}, {"mount", "/tmp"}, {"--no-such-flag"}}) {
    RunResult r = RunPhrfs(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << (args.empty() ? "<none>" : args[0]) << " " << r.Describe();
  }
}

TEST_F(CliTest, WrongPassphraseExits3AndMountsNothing) {
  PutContent();
  ExpectFails(MountArgs(fx_.root() + "/wrong"), kExitWrongPassphrase);
  // The right one still works afterwards.
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("note.txt")), "blood pressure 120/80");
}

// A remote store whose server does not answer is exit 10; one whose server refuses the
// credentials (here a loopback server that answers every request with 401) is exit 11.
TEST_F(CliTest, AnUnreachableServerExits10AndRefusedCredentialsExit11) {
  // (And a cache folder makes no sense for a local store: a usage error.)
  ExpectFails({"mount", fx_.store(), fx_.mnt(), "--passfile", fx_.passfile(), "--cache-dir",
               fx_.root() + "/cache"},
              kExitUsage);
  ExpectFails({"mount", "webdav://127.0.0.1:9/records", fx_.mnt(), "--passfile", fx_.passfile()},
              kExitUnreachable);

  static const char kRefuser[] =
      "import http.server, sys\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    def __getattr__(self, name):\n"
      "        if name.startswith('do_'): return self.refuse\n"
      "        raise AttributeError(name)\n"
      "    def refuse(self):\n"
      "        try:\n"
      "            n = int(self.headers.get('Content-Length') or 0)\n"
      "            if n: self.rfile.read(n)\n"
      "            self.send_response(401)\n"
      "            self.send_header('WWW-Authenticate', 'Basic realm=x')\n"
      "            self.send_header('Content-Length', '0')\n"
      "            self.end_headers()\n"
      "        except OSError: pass\n"  // a client that hung up: keep serving the others
      "    def log_message(self, *a): pass\n"
      "class S(http.server.ThreadingHTTPServer):\n"
      "    daemon_threads = True\n"
      "    def handle_error(self, *a): pass\n"
      "s = S(('127.0.0.1', 0), H)\n"
      // One write(2) of a few bytes: the reader closes the pipe once it has the port, and
      // print() may write the newline separately, into a closed pipe (BrokenPipeError).
      "import os\n"
      "os.write(1, b'%d\\n' % s.server_address[1])\n"
      "s.serve_forever()\n";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t server = fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    execlp("python3", "python3", "-c", kRefuser, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char port[16] = {};
  ssize_t n = read(out[0], port, sizeof port - 1);
  close(out[0]);
  struct Stop {
    pid_t pid;
    ~Stop() {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  } stop{server};
  ASSERT_GT(n, 0) << "the refusing server did not start";
  const std::string url = "webdav://127.0.0.1:" + std::string(port, strcspn(port, "\n")) + "/records";
  ExpectFails({"mount", url, fx_.mnt(), "--passfile", fx_.passfile()}, kExitAccessDenied);
}

TEST_F(CliTest, MissingOrUninitialisedStoreExits4) {
  const std::string missing = fx_.root() + "/no-such-store";
  ExpectFails({"mount", missing, fx_.mnt(), "--passfile", fx_.passfile()}, kExitNoStore);
  struct stat st;
  EXPECT_NE(stat(missing.c_str(), &st), 0) << "mount created the missing store";
  const std::string empty = fx_.root() + "/empty-store";
  ASSERT_EQ(mkdir(empty.c_str(), 0755), 0);
  ExpectFails({"mount", empty, fx_.mnt(), "--passfile", fx_.passfile()}, kExitNoStore, empty);
}

TEST_F(CliTest, TruncatedConfigExits5) {
  PutContent();
  const std::string conf = fx_.store() + "/phrfs.conf";
  const std::string original = ReadFileOrDie(conf);
  ASSERT_FALSE(original.empty());
  for (size_t keep : {size_t{0}, original.size() / 2, original.size() - 2}) {
    SCOPED_TRACE("config truncated to " + std::to_string(keep) + " bytes");
    WriteFile(conf, original.substr(0, keep));
    ExpectFails(MountArgs(fx_.passfile()), kExitCorruptStore);
  }
  WriteFile(conf, original);
  RunResult m = fx_.Mount();
  EXPECT_EQ(m.exit_code, kExitOk) << "restored config no longer mounts: " << m.Describe();
}

TEST_F(CliTest, FlippedByteInAnyConfigLineFailsWith3Or5) {
  const std::string conf = fx_.store() + "/phrfs.conf";
  const std::string original = ReadFileOrDie(conf);
  std::vector<size_t> line_starts{0};
  for (size_t i = 0; i + 1 < original.size(); ++i) {
    if (original[i] == '\n') line_starts.push_back(i + 1);
  }
  for (size_t line = 0; line < line_starts.size(); ++line) {
    size_t end = original.find('\n', line_starts[line]);
    if (end == std::string::npos) end = original.size();
    if (end == line_starts[line]) continue;  // empty line
    for (size_t pos : {line_starts[line] + (end - line_starts[line]) / 2, end - 1}) {
      std::string damaged = original;
      char c = damaged[pos];
      // Stay printable so the line is still a line; change the character class-preservingly.
      damaged[pos] = (c >= '0' && c <= '8') ? c + 1 : (c == '9' ? '0' : (c == 'A' ? 'B' : 'A'));
      SCOPED_TRACE("line " + std::to_string(line + 1) + " byte " + std::to_string(pos) + ": '" +
                   original.substr(line_starts[line], end - line_starts[line]) + "'");
      WriteFile(conf, damaged);
      auto before = StoreBytes(fx_.store());
      const std::string text = original.substr(line_starts[line], end - line_starts[line]);
      if (text.rfind("wrapped_recovery", 0) == 0) {
        // Nothing but the recovery key can authenticate this line, so a passphrase mount may
        // not notice; recovery must then refuse (3 or 5), never succeed with a wrong key.
        RunResult r = RunPhrfs({"passwd", fx_.store(), "--recovery-keyfile", recovery_file_,
                                "--new-passfile", fx_.passfile(), "--scrypt-logn", "10"});
        EXPECT_TRUE(r.exit_code == kExitCorruptStore || r.exit_code == kExitWrongPassphrase)
            << r.Describe();
        ExpectCleanFailure(r);
        EXPECT_TRUE(StoreBytes(fx_.store()) == before);
        continue;
      }
      RunResult r = RunPhrfs(MountArgs(fx_.passfile()));
      EXPECT_TRUE(r.exit_code == kExitCorruptStore || r.exit_code == kExitWrongPassphrase)
          << r.Describe();
      ExpectCleanFailure(r);
      EXPECT_FALSE(IsMountPoint(fx_.mnt()));
      if (IsMountPoint(fx_.mnt())) ForceUnmount(fx_.mnt());
      EXPECT_TRUE(StoreBytes(fx_.store()) == before);
    }
  }
  WriteFile(conf, original);
}

TEST_F(CliTest, InitOnAnInitialisedOrNonEmptyStoreExits6) {
  PutContent();
  ExpectFails({"init", fx_.store(), "--passfile", fx_.passfile(), "--scrypt-logn", "10"},
              kExitStoreExists);
  const std::string other = fx_.root() + "/not-empty";
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  WriteFile(other + "/somebody-elses-file", "keep me");
  ExpectFails({"init", other, "--passfile", fx_.passfile(), "--scrypt-logn", "10"},
              kExitStoreExists, other);
}

TEST_F(CliTest, InitCreatesAMissingStoreAndPrintsARecoveryKey) {
  const std::string fresh = fx_.root() + "/fresh/nested";
  ASSERT_EQ(mkdir((fx_.root() + "/fresh").c_str(), 0755), 0);
  RunResult r = RunPhrfs({"init", fresh, "--passfile", fx_.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  struct stat st;
  EXPECT_EQ(stat((fresh + "/phrfs.conf").c_str(), &st), 0);
  EXPECT_EQ(stat((fresh + "/d").c_str(), &st), 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("[0-9a-fA-F]{8}(-[0-9a-fA-F]{8}){7}")))
      << "no recovery key on stdout: " << r.out;
}

TEST_F(CliTest, MissingNonEmptyOrFileMountPointExits7) {
  ExpectFails({"mount", fx_.store(), fx_.root() + "/no-such-dir", "--passfile", fx_.passfile()},
              kExitBadMountpoint);
  const std::string full = fx_.root() + "/full";
  ASSERT_EQ(mkdir(full.c_str(), 0755), 0);
  WriteFile(full + "/occupant", "x");
  ExpectFails({"mount", fx_.store(), full, "--passfile", fx_.passfile()}, kExitBadMountpoint);
  EXPECT_FALSE(IsMountPoint(full));
  if (IsMountPoint(full)) ForceUnmount(full);
  const std::string file = fx_.root() + "/a-file";
  WriteFile(file, "x");
  ExpectFails({"mount", fx_.store(), file, "--passfile", fx_.passfile()}, kExitBadMountpoint);
}

TEST_F(CliTest, EmptyOrMissingPassfileExits9) {
  const std::string empty = fx_.root() + "/empty-pass";
  WriteFile(empty, "");
  ExpectFails(MountArgs(empty), kExitPassfile);
  WriteFile(empty, "\n");
  ExpectFails(MountArgs(empty), kExitPassfile);
  ExpectFails(MountArgs(fx_.root() + "/no-such-passfile"), kExitPassfile);
  const std::string s2 = fx_.root() + "/store2";
  ExpectFails({"init", s2, "--passfile", empty, "--scrypt-logn", "10"}, kExitPassfile);
  struct stat st;
  EXPECT_NE(stat((s2 + "/phrfs.conf").c_str(), &st), 0) << "init wrote a store without a passphrase";
}

TEST_F(CliTest, PassfileFirstLineIsThePassphraseWithOrWithoutNewline) {
  WriteFile(fx_.root() + "/same-no-newline", "test passphrase \xc3\xa9 42");
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  // Only the first line counts.
  WriteFile(fx_.root() + "/two-lines", "test passphrase \xc3\xa9 42\nsecond line\n");
  RunResult r2 = RunPhrfs(MountArgs(fx_.root() + "/two-lines"));
  EXPECT_EQ(r2.exit_code, kExitOk) << r2.Describe();
  if (r2.exit_code == 0) {
    ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  }
  RunResult r3 = RunPhrfs(MountArgs(fx_.root() + "/same-no-newline"));
  EXPECT_EQ(r3.exit_code, kExitOk) << r3.Describe();
  if (r3.exit_code == 0) {
    ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  }
  // A passphrase differing by its trailing space is a different passphrase.
  WriteFile(fx_.root() + "/trailing-space", "test passphrase \xc3\xa9 42 \n");
  ExpectFails(MountArgs(fx_.root() + "/trailing-space"), kExitWrongPassphrase);
}

TEST_F(CliTest, MountIsReadyWhenTheCommandReturnsAndUmountWaitsForTheDaemon) {
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  // No sleep: the mount must be usable at once.
  EXPECT_TRUE(IsMountPoint(fx_.mnt()));
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  bool fuse = false;
  while (std::getline(mounts, line)) {
    if (line.find(" " + fx_.mnt() + " ") != std::string::npos) fuse = line.find(" fuse") != std::string::npos;
  }
  EXPECT_TRUE(fuse) << "mount point is not a FUSE mount";
  WriteFile(fx_.InMnt("f"), "x");
  RunResult u = fx_.Unmount();
  EXPECT_EQ(u.exit_code, 0) << u.Describe();
  EXPECT_FALSE(IsMountPoint(fx_.mnt()));
  // Unmounting something that is not mounted fails without hanging.
  RunResult again = RunPhrfs({"umount", fx_.mnt()}, std::chrono::seconds(30));
  EXPECT_FALSE(again.timed_out);
  EXPECT_NE(again.exit_code, 0);
}

TEST_F(CliTest, StatusReportsTheMountAndNothingPendingForALocalStore) {
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  RunResult s = RunPhrfs({"status", fx_.mnt()}, std::chrono::seconds(30));
  EXPECT_EQ(s.exit_code, kExitOk) << s.Describe();
  EXPECT_NE(s.out.find("store: " + fx_.store()), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("state: serving"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("pending uploads: 0"), std::string::npos) << s.out;
  RunResult u = fx_.Unmount();
  EXPECT_EQ(u.exit_code, 0) << u.Describe();
  // Not mounted any more: a clear failure, no hang.
  RunResult gone = RunPhrfs({"status", fx_.mnt()}, std::chrono::seconds(30));
  EXPECT_FALSE(gone.timed_out);
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("is not mounted"), std::string::npos) << gone.err;
}

TEST_F(CliTest, PasswdReplacesThePassphraseAndKeepsTheContent) {
  PutContent();
  const std::string newpass = fx_.root() + "/newpass";
  WriteFile(newpass, "a brand new passphrase\n");
  // Wrong old passphrase: refused, store unchanged.
  ExpectFails({"passwd", fx_.store(), "--passfile", fx_.root() + "/wrong", "--new-passfile",
               newpass, "--scrypt-logn", "10"},
              kExitWrongPassphrase);
  RunResult p = RunPhrfs({"passwd", fx_.store(), "--passfile", fx_.passfile(), "--new-passfile",
                          newpass, "--scrypt-logn", "10"});
  ASSERT_EQ(p.exit_code, kExitOk) << p.Describe();
  ExpectFails(MountArgs(fx_.passfile()), kExitWrongPassphrase);
  RunResult m = RunPhrfs(MountArgs(newpass));
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  ASSERT_TRUE(IsMountPoint(fx_.mnt()));
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("note.txt")), "blood pressure 120/80");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("labs/2024.csv")), std::string(9000, 'L'));
  EXPECT_EQ(fx_.Unmount().exit_code, 0);
}

TEST_F(CliTest, RecoveryKeyResetsAForgottenPassphrase) {
  // A second store whose init output we keep.
  const std::string store = fx_.root() + "/store-r";
  RunResult init = RunPhrfs({"init", store, "--passfile", fx_.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(init.exit_code, kExitOk) << init.Describe();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(init.out, match, std::regex("[0-9a-fA-F]{8}(-[0-9a-fA-F]{8}){7}")))
      << init.out;
  const std::string keyfile = fx_.root() + "/recovery";
  WriteFile(keyfile, match.str() + "\n");
  {
    RunResult m = fx_.Mount(store, {});
    ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
    WriteFile(fx_.InMnt("kept"), "kept across recovery");
    ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  }
  const std::string newpass = fx_.root() + "/newpass";
  WriteFile(newpass, "after recovery\n");
  // A wrong recovery key is refused with 3.
  std::string bad = match.str();
  bad[0] = bad[0] == '0' ? '1' : '0';
  WriteFile(fx_.root() + "/badkey", bad + "\n");
  ExpectFails({"passwd", store, "--recovery-keyfile", fx_.root() + "/badkey", "--new-passfile",
               newpass, "--scrypt-logn", "10"},
              kExitWrongPassphrase, store);
  RunResult p = RunPhrfs({"passwd", store, "--recovery-keyfile", keyfile, "--new-passfile",
                          newpass, "--scrypt-logn", "10"});
  ASSERT_EQ(p.exit_code, kExitOk) << p.Describe();
  RunResult m = RunPhrfs({"mount", store, fx_.mnt(), "--passfile", newpass});
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("kept")), "kept across recovery");
  EXPECT_EQ(fx_.Unmount().exit_code, 0);
}

TEST_F(CliTest, ForegroundMountServesUntilUnmountedThenExitsZero) {
  // Started by hand (fork/exec) so that this test owns the foreground process's pid.
  std::string binary = PhrfsBinary();
  std::vector<std::string> args = {binary, "mount", fx_.store(), fx_.mnt(), "--foreground",
                                   "--passfile", fx_.passfile(), "--log-file", fx_.log_file()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    up = IsMountPoint(fx_.mnt());
    if (!up) usleep(20000);
  }
  EXPECT_TRUE(up) << "foreground mount did not appear within 6 s";
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "--foreground returned while mounted";
  if (up) {
    WriteFile(fx_.InMnt("fg"), "foreground");
    RunResult u = RunPhrfs({"umount", fx_.mnt()});
    EXPECT_EQ(u.exit_code, 0) << u.Describe();
  }
  pid_t done = 0;
  for (int i = 0; i < 500 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) usleep(20000);
  }
  if (done == 0) {
    ADD_FAILURE() << "--foreground process still running 10 s after umount";
    kill(pid, SIGKILL);  // our own child
    waitpid(pid, &status, 0);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  if (IsMountPoint(fx_.mnt())) ForceUnmount(fx_.mnt());
  ASSERT_EQ(fx_.Mount().exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("fg")), "foreground");
}

TEST_F(CliTest, UmountOfABusyMountFailsAndKeepsServing) {
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  WriteFile(fx_.InMnt("busy"), "still here");
  int fd = open(fx_.InMnt("busy").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  RunResult u = RunPhrfs({"umount", fx_.mnt()}, std::chrono::seconds(60));
  EXPECT_FALSE(u.timed_out);
  EXPECT_NE(u.exit_code, 0) << "umount of a busy mount reported success";
  EXPECT_TRUE(IsMountPoint(fx_.mnt())) << "busy mount went away";
  char buf[32] = {};
  EXPECT_EQ(pread(fd, buf, sizeof buf, 0), 10) << strerror(errno);
  EXPECT_STREQ(buf, "still here");
  close(fd);
  RunResult u2 = fx_.Unmount();
  EXPECT_EQ(u2.exit_code, 0) << u2.Describe();
}

TEST_F(CliTest, ConfigFileSetsReadOnlyAndBadKeysExit2WithFileAndLine) {
  const std::string yaml = fx_.root() + "/phrfs.yaml";
  WriteFile(yaml, "mount:\n  read_only: true\n  attr_timeout: 2\n");
  MountOptions opts;
  opts.extra_args = {"--config", yaml};
  RunResult m = fx_.Mount(opts);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  errno = 0;
  EXPECT_EQ(open(fx_.InMnt("x").c_str(), O_CREAT | O_WRONLY, 0644), -1);
  EXPECT_EQ(errno, EROFS) << "read_only: true in --config ignored";
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  // -o rw on the command line wins over the file.
  opts.extra_args = {"--config", yaml, "-o", "rw"};
  m = fx_.Mount(opts);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  int fd = open(fx_.InMnt("x").c_str(), O_CREAT | O_WRONLY, 0644);
  EXPECT_GE(fd, 0) << "-o rw did not win over read_only: true: " << strerror(errno);
  if (fd >= 0) close(fd);
  ASSERT_EQ(fx_.Unmount().exit_code, 0);
  WriteFile(yaml, "mount:\n  read_only: false\n  max_thread: 4\n");
  ExpectFails({"mount", fx_.store(), fx_.mnt(), "--passfile", fx_.passfile(), "--config", yaml},
              kExitUsage);
  RunResult bad = RunPhrfs({"mount", fx_.store(), fx_.mnt(), "--passfile", fx_.passfile(),
                            "--config", yaml});
  EXPECT_NE(bad.err.find("phrfs.yaml:3"), std::string::npos) << "no file:line in: " << bad.err;
  if (IsMountPoint(fx_.mnt())) ForceUnmount(fx_.mnt());
}

TEST_F(CliTest, UpgradeOfAMissingStoreExits4WithOneLine) {
  const std::string missing = fx_.root() + "/no-such-store";
  RunResult r = RunPhrfs({"upgrade", missing, "--passfile", fx_.passfile()});
  EXPECT_EQ(r.exit_code, kExitNoStore) << r.Describe();
  ExpectCleanFailure(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << "the message does not name the store";
  struct stat st;
  EXPECT_NE(stat(missing.c_str(), &st), 0) << "upgrade created the missing store";
}

TEST_F(CliTest, MountTreeTakesDirectOrObjectsAndAnythingElseIsAUsageError) {
  ExpectFails({"mount", fx_.store(), fx_.mnt(), "--passfile", fx_.passfile(), "--tree", "bogus"},
              kExitUsage);
  for (const std::string tree : {"direct", "objects"}) {
    MountOptions opts;
    opts.extra_args = {"--tree", tree};
    RunResult m = fx_.Mount(opts);
    ASSERT_EQ(m.exit_code, kExitOk) << "--tree " << tree << ": " << m.Describe();
    WriteFile(fx_.InMnt(tree), tree);
    EXPECT_EQ(ReadFileOrDie(fx_.InMnt(tree)), tree);
    ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  }
}

// ---- phrfs identity new / show (no store, no mount; the fixture only gives a temp dir) ----

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::regex kPublicLine("phrfs1[a-z2-7]{111}\n");

TEST(CliIdentityTest, NewWritesMode0600AndPrintsThePublicLineThatShowRepeats) {
  MountFixture fx;
  const std::string file = fx.root() + "/me.identity";
  auto before = DirNames(fx.root());
  RunResult made = RunPhrfs({"identity", "new", file, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(made.exit_code, kExitOk) << made.Describe();
  EXPECT_TRUE(std::regex_match(made.out, kPublicLine)) << "stdout: " << made.out;

  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  before.push_back("me.identity");
  std::sort(before.begin(), before.end());
  EXPECT_EQ(DirNames(fx.root()), before) << "a temporary file was left behind";

  std::string text = ReadFileOrDie(file);
  EXPECT_EQ(text.rfind("phrfs-identity 1\nkdf scrypt n=1024 r=8 p=1\nsalt ", 0), 0u) << text;
  EXPECT_NE(text.find("\npublic " + made.out), std::string::npos) << text;
  std::string passphrase = ReadFileOrDie(fx.passfile());
  passphrase.pop_back();  // the newline
  EXPECT_EQ(text.find(passphrase), std::string::npos);

  RunResult shown = RunPhrfs({"identity", "show", file});
  ASSERT_EQ(shown.exit_code, kExitOk) << shown.Describe();
  EXPECT_EQ(shown.out, made.out);

  // A second identity is a different one.
  RunResult other = RunPhrfs({"identity", "new", fx.root() + "/other.identity", "--passfile",
                              fx.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(other.exit_code, kExitOk) << other.Describe();
  EXPECT_TRUE(std::regex_match(other.out, kPublicLine)) << other.out;
  EXPECT_NE(other.out, made.out);
}

TEST(CliIdentityTest, NewOverAnExistingFileExits6AndLeavesItUntouched) {
  MountFixture fx;
  const std::string file = fx.root() + "/me.identity";
  WriteFile(file, "precious, not an identity\n");
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  RunResult r = RunPhrfs({"identity", "new", file, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  EXPECT_EQ(r.exit_code, kExitStoreExists) << r.Describe();
  ExpectCleanFailure(r);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(ReadFileOrDie(file), "precious, not an identity\n");
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);

  // Also over a real identity: it keeps its public line.
  const std::string real = fx.root() + "/real.identity";
  RunResult made = RunPhrfs({"identity", "new", real, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(made.exit_code, kExitOk) << made.Describe();
  std::string bytes = ReadFileOrDie(real);
  RunResult again = RunPhrfs({"identity", "new", real, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  EXPECT_EQ(again.exit_code, kExitStoreExists) << again.Describe();
  EXPECT_EQ(ReadFileOrDie(real), bytes);
  for (const auto& name : DirNames(fx.root())) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << "temporary file left behind: " << name;
  }
}

TEST(CliIdentityTest, ShowOfAMissingOrDamagedFileFailsWithOneLine) {
  MountFixture fx;
  RunResult missing = RunPhrfs({"identity", "show", fx.root() + "/nobody.identity"});
  EXPECT_EQ(missing.exit_code, kExitNoStore) << missing.Describe();
  ExpectCleanFailure(missing);

  const std::string file = fx.root() + "/me.identity";
  RunResult made = RunPhrfs({"identity", "new", file, "--passfile", fx.passfile(), "--scrypt-logn", "10"});
  ASSERT_EQ(made.exit_code, kExitOk) << made.Describe();
  std::string text = ReadFileOrDie(file);
  size_t at = text.find("\npublic phrfs1") + 20;
  text[at] = text[at] == 'a' ? 'b' : 'a';  // a typo in the public line
  WriteFile(file, text);
  RunResult damaged = RunPhrfs({"identity", "show", file});
  EXPECT_EQ(damaged.exit_code, kExitCorruptStore) << damaged.Describe();
  ExpectCleanFailure(damaged);
  EXPECT_NE(damaged.err.find("line 4"), std::string::npos) << damaged.err;
  EXPECT_TRUE(damaged.out.empty());
}

TEST(CliIdentityTest, IdentityWithoutASubcommandIsAUsageError) {
  RunResult r = RunPhrfs({"identity"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  RunResult bogus = RunPhrfs({"identity", "frobnicate", "x"});
  EXPECT_EQ(bogus.exit_code, kExitUsage) << bogus.Describe();
}

// `phrfs audit`: a session written the way a mount writes it (AccessLogger on the store's own
// tree, unlocked with the passphrase), then read back by the command.
class AuditCliTest : public CliTest {
 protected:
  // Writes one closed session; returns its folder in the store directory.
  std::string WriteSession(const std::string& person) {
    std::string passphrase = ReadFileOrDie(fx_.passfile());
    while (!passphrase.empty() && passphrase.back() == '\n') passphrase.pop_back();
    auto tree = OpenLocalStoreTree(fx_.store(), TreeAccess::kDirect, /*create=*/false);
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    if (!tree.ok()) return "";
    auto store = UnlockStore(std::move(tree).value(), fx_.store(), passphrase);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return "";
    auto sealer = crypto::PassphraseStoreSealer::Create(store->master_key, store->config.store_id);
    EXPECT_TRUE(sealer.ok());
    AccessLoggerOptions options;
    options.person = person;
    auto logger = AccessLogger::Start(*store->tree, *sealer, options);
    EXPECT_TRUE(logger.ok()) << logger.status().ToString();
    if (!logger.ok()) return "";
    for (int i = 0; i < 3; ++i) (*logger)->Record(crypto::LogOp::kOpenRead, "/labs/2024.csv", 0);
    EXPECT_TRUE((*logger)->Flush().ok());
    (*logger)->Record(crypto::LogOp::kCreate, "/note.txt", 0);
    (*logger)->Record(crypto::LogOp::kOpenWrite, "/private/x", EACCES);
    EXPECT_TRUE((*logger)->Close().ok());
    return fx_.store() + "/" + crypto::LogSessionFolder((*logger)->session());
  }

  RunResult Audit(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"audit", fx_.store(), "--passfile", fx_.passfile()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunPhrfs(args);
  }
};

TEST_F(AuditCliTest, IntactLogPrintsTheTableAndExitsZero) {
  ASSERT_FALSE(WriteSession("alice").empty());
  RunResult r = Audit();
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe() << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("TIME"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("WARNING"), std::string::npos) << r.out;
  std::regex row(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +alice +open-read +/labs/2024\.csv +ok +3\n)");
  EXPECT_TRUE(std::regex_search(r.out, row)) << r.out;
  EXPECT_NE(r.out.find("EACCES"), std::string::npos) << r.out;

  RunResult j = Audit({"--json", "--path", "/labs"});
  ASSERT_EQ(j.exit_code, kExitOk) << j.Describe();
  EXPECT_EQ(std::count(j.out.begin(), j.out.end(), '\n'), 1) << j.out;
  EXPECT_NE(j.out.find(R"("path":"/labs/2024.csv")"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find(R"("count":3)"), std::string::npos) << j.out;

  RunResult nobody = Audit({"--person", "bob"});
  ASSERT_EQ(nobody.exit_code, kExitOk) << nobody.Describe();
  EXPECT_EQ(nobody.out.find("alice"), std::string::npos) << nobody.out;

  // The log lives beside the file system: a mount neither shows nor minds it.
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  EXPECT_TRUE(ListFilesRecursive(fx_.mnt()).empty());
  WriteFile(fx_.InMnt("log"), "a file named log");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("log")), "a file named log");
  ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  EXPECT_EQ(Audit().exit_code, kExitOk);
}

// A session that a mount running here is still writing has no end yet: audit says so and it
// is not damage; once unmounted the session has its end. A session without an end whose mount
// is gone is damage (a crash, or its last objects deleted).
TEST_F(AuditCliTest, TheSessionOfAMountRunningHereIsNotDamage) {
  RunResult m = fx_.Mount();
  ASSERT_EQ(m.exit_code, kExitOk) << m.Describe();
  WriteFile(fx_.InMnt("note.txt"), "x");
  EXPECT_EQ(ReadFileOrDie(fx_.InMnt("note.txt")), "x");
  RunResult live = Audit();
  EXPECT_EQ(live.exit_code, kExitOk) << live.Describe() << live.out;
  EXPECT_NE(live.err.find("1 session is still being written by a mount running here"),
            std::string::npos)
      << live.Describe();
  EXPECT_EQ(live.out.find("WARNING"), std::string::npos) << live.out;
  ASSERT_EQ(fx_.Unmount().exit_code, kExitOk);
  RunResult after = Audit();
  EXPECT_EQ(after.exit_code, kExitOk) << after.Describe();
  EXPECT_EQ(after.err.find("still being written"), std::string::npos) << after.Describe();
  EXPECT_TRUE(std::regex_search(after.out, std::regex(R"(Z +owner +create +/note\.txt +ok +1\n)"))) << after.out;
}

TEST_F(AuditCliTest, DamagedLogStillPrintsButWarnsAndExits12) {
  const std::string folder = WriteSession("alice");
  ASSERT_FALSE(folder.empty());
  // Flip a byte inside the first batch's ciphertext (the create record stays readable).
  const std::string batch = folder + "/0000000001";
  std::string bytes = ReadFileOrDie(batch);
  ASSERT_GT(bytes.size(), 80u);
  bytes[bytes.size() - 20] ^= 0x01;
  ASSERT_EQ(chmod(batch.c_str(), 0600), 0);
  WriteFile(batch, bytes);
  RunResult r = Audit();
  EXPECT_EQ(r.exit_code, kExitLogDamaged) << r.Describe();
  EXPECT_NE(r.out.find("WARNING: access log damaged: session"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("object 1 altered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/note.txt"), std::string::npos) << r.out;  // the rest still shows
  EXPECT_EQ(r.out.find("/labs/2024.csv"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("WARNING"), std::string::npos) << r.err;

  // A deleted last object: the session is no longer closed.
  ASSERT_EQ(unlink((folder + "/0000000002").c_str()), 0);
  RunResult tail = Audit({"--json"});
  EXPECT_EQ(tail.exit_code, kExitLogDamaged) << tail.Describe();
  EXPECT_NE(tail.out.find(R"("problem":"not-closed")"), std::string::npos) << tail.out;
}

TEST_F(AuditCliTest, WrongPassphraseAndBadSinceHaveTheirOwnCodes) {
  ASSERT_FALSE(WriteSession("alice").empty());
  RunResult wrong = RunPhrfs({"audit", fx_.store(), "--passfile", fx_.root() + "/wrong"});
  EXPECT_EQ(wrong.exit_code, kExitWrongPassphrase) << wrong.Describe();
  ExpectCleanFailure(wrong);
  RunResult since = Audit({"--since", "last tuesday"});
  EXPECT_EQ(since.exit_code, kExitUsage) << since.Describe();
  ExpectCleanFailure(since);
  RunResult later = Audit({"--since", "2200-01-01"});
  ASSERT_EQ(later.exit_code, kExitOk) << later.Describe();
  EXPECT_NE(later.out.find("(no accesses recorded)"), std::string::npos) << later.out;
}

// `phrfs audit --identity`: sessions written the way a grantee's mount writes them (sealed to
// the owner's public identity), read by the owner with the identity file.
class AuditIdentityCliTest : public AuditCliTest {
 protected:
  void SetUp() override {
    AuditCliTest::SetUp();
    owner_file_ = fx_.root() + "/owner.identity";
    owner_ = NewIdentityFile(owner_file_);
    other_ = NewIdentityFile(fx_.root() + "/other.identity");
  }

  // A new identity sealed to `path` under the test passphrase at a low scrypt cost.
  crypto::PublicIdentity NewIdentityFile(const std::string& path) {
    auto id = crypto::Identity::Generate();
    EXPECT_TRUE(id.ok());
    if (!id.ok()) return {};
    std::string passphrase = ReadFileOrDie(fx_.passfile());
    while (!passphrase.empty() && passphrase.back() == '\n') passphrase.pop_back();
    crypto::ScryptParams params;
    params.n = 1024;
    auto file = crypto::SealIdentity(*id, passphrase, params);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (file.ok()) WriteFile(path, crypto::SerializeIdentityFile(*file));
    return id->public_identity();
  }

  // A grantee's session: only the store tree and the owner's public identity.
  std::string WriteGranteeSession(const crypto::PublicIdentity& owner, const std::string& person,
                                  const std::string& path) {
    auto tree = OpenLocalStoreTree(fx_.store(), TreeAccess::kDirect, /*create=*/false);
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    if (!tree.ok()) return "";
    crypto::IdentitySealer sealer = crypto::IdentitySealer::ForSealing(owner);
    AccessLoggerOptions options;
    options.writer = "fp-of-" + person;
    options.person = person;
    auto logger = AccessLogger::Start(**tree, sealer, options);
    EXPECT_TRUE(logger.ok()) << logger.status().ToString();
    if (!logger.ok()) return "";
    (*logger)->Record(crypto::LogOp::kOpenRead, path, 0);
    EXPECT_TRUE((*logger)->Flush().ok());
    (*logger)->Record(crypto::LogOp::kOpenWrite, path, EROFS);
    EXPECT_TRUE((*logger)->Close().ok());
    return fx_.store() + "/" + crypto::LogSessionFolder((*logger)->session());
  }

  std::vector<std::string> WithIdentity(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--identity", owner_file_, "--identity-passfile", fx_.passfile()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::string owner_file_;
  crypto::PublicIdentity owner_, other_;
};

TEST_F(AuditIdentityCliTest, IdentityShowsTheGranteesRecordsBesideThePassphraseOnes) {
  ASSERT_FALSE(WriteSession("alice").empty());
  ASSERT_FALSE(WriteGranteeSession(owner_, "bob", "/alice/shared/plan.pdf").empty());
  ASSERT_FALSE(WriteGranteeSession(other_, "carol", "/carol/diary.txt").empty());

  RunResult r = Audit(WithIdentity());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe() << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(Z +bob \(unsigned\) +open-read +/alice/shared/plan\.pdf +ok +1\n)")))
      << r.out;
  EXPECT_NE(r.out.find("EROFS"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Z +alice +open-read +/labs/2024\.csv +ok +3\n)")))
      << r.out;
  EXPECT_EQ(r.out.find("carol"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sessions of other owners: 1 (sealed to " + crypto::Fingerprint(other_)),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("WARNING"), std::string::npos) << r.out;

  RunResult j = Audit(WithIdentity({"--json", "--person", "bob"}));
  ASSERT_EQ(j.exit_code, kExitOk) << j.Describe();
  EXPECT_NE(j.out.find(R"("writer":"fp-of-bob")"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find(R"x("person":"bob (unsigned)","declared_person":"bob","signed":false)x"),
            std::string::npos) << j.out;
  EXPECT_NE(j.out.find(R"({"skipped":"other-owner","sessions":1,"owner":")" +
                       crypto::Fingerprint(other_) + "\"}"),
            std::string::npos)
      << j.out;

  // Identity only: no store passphrase needed; the passphrase sessions are counted.
  RunResult only = RunPhrfs({"audit", fx_.store(), "--identity", owner_file_,
                             "--identity-passfile", fx_.passfile(), "--identity-only"});
  ASSERT_EQ(only.exit_code, kExitOk) << only.Describe() << only.out;
  EXPECT_NE(only.out.find("/alice/shared/plan.pdf"), std::string::npos) << only.out;
  EXPECT_EQ(only.out.find("/labs/2024.csv"), std::string::npos) << only.out;
  EXPECT_NE(only.out.find("1 session needs the store passphrase"), std::string::npos) << only.out;
  EXPECT_NE(only.err.find("give --passfile"), std::string::npos) << only.err;

  // No --passfile and stdin not a terminal (it is /dev/null here): the same, with a note.
  RunResult no_tty = RunPhrfs({"audit", fx_.store(), "--identity", owner_file_,
                               "--identity-passfile", fx_.passfile()});
  ASSERT_EQ(no_tty.exit_code, kExitOk) << no_tty.Describe();
  EXPECT_EQ(no_tty.out, only.out);
  EXPECT_NE(no_tty.err.find("stdin is not a terminal"), std::string::npos) << no_tty.err;
}

TEST_F(AuditIdentityCliTest, WithoutIdentityTheSummarySaysSessionsNeedItAndExitsZero) {
  ASSERT_FALSE(WriteSession("alice").empty());
  ASSERT_FALSE(WriteGranteeSession(owner_, "bob", "/alice/shared/plan.pdf").empty());
  ASSERT_FALSE(WriteGranteeSession(owner_, "dave", "/alice/shared/todo.md").empty());
  RunResult r = Audit();
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe() << r.out;
  EXPECT_NE(r.out.find("/labs/2024.csv"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("bob"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 sessions need --identity (sealed to " + crypto::Fingerprint(owner_)),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("WARNING"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("give --identity"), std::string::npos) << r.err;
}

TEST_F(AuditIdentityCliTest, DamagedIdentitySealedSessionExits12) {
  ASSERT_FALSE(WriteSession("alice").empty());
  const std::string folder = WriteGranteeSession(owner_, "bob", "/alice/shared/plan.pdf");
  ASSERT_FALSE(folder.empty());
  const std::string batch = folder + "/0000000001";
  std::string bytes = ReadFileOrDie(batch);
  ASSERT_GT(bytes.size(), 80u);
  bytes[bytes.size() - 20] ^= 0x01;
  ASSERT_EQ(chmod(batch.c_str(), 0600), 0);
  WriteFile(batch, bytes);
  RunResult r = Audit(WithIdentity());
  EXPECT_EQ(r.exit_code, kExitLogDamaged) << r.Describe();
  EXPECT_NE(r.out.find("object 1 altered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/labs/2024.csv"), std::string::npos) << r.out;  // the rest still shows
  EXPECT_NE(r.out.find("EROFS"), std::string::npos) << r.out;          // and the intact batch
  EXPECT_NE(r.err.find("WARNING"), std::string::npos) << r.err;
}

TEST_F(AuditIdentityCliTest, IdentityOptionsFailWithTheirOwnCodes) {
  ASSERT_FALSE(WriteGranteeSession(owner_, "bob", "/alice/shared/plan.pdf").empty());
  RunResult wrong = RunPhrfs({"audit", fx_.store(), "--identity", owner_file_,
                              "--identity-passfile", fx_.root() + "/wrong", "--identity-only"});
  EXPECT_EQ(wrong.exit_code, kExitWrongPassphrase) << wrong.Describe();
  ExpectCleanFailure(wrong);
  RunResult missing = RunPhrfs({"audit", fx_.store(), "--identity", fx_.root() + "/nobody.identity",
                                "--identity-passfile", fx_.passfile(), "--identity-only"});
  EXPECT_EQ(missing.exit_code, kExitNoStore) << missing.Describe();
  ExpectCleanFailure(missing);
  RunResult only_without = RunPhrfs({"audit", fx_.store(), "--identity-only"});
  EXPECT_EQ(only_without.exit_code, kExitUsage) << only_without.Describe();
  RunResult both = RunPhrfs({"audit", fx_.store(), "--identity", owner_file_, "--identity-only",
                             "--passfile", fx_.passfile()});
  EXPECT_EQ(both.exit_code, kExitUsage) << both.Describe();
  // Not a store at all, read with the identity only: exit 4 as without it.
  const std::string empty_dir = fx_.root() + "/not-a-store";
  ASSERT_EQ(mkdir(empty_dir.c_str(), 0700), 0);
  RunResult not_store = RunPhrfs({"audit", empty_dir, "--identity", owner_file_,
                                  "--identity-passfile", fx_.passfile(), "--identity-only"});
  EXPECT_EQ(not_store.exit_code, kExitNoStore) << not_store.Describe();
  ExpectCleanFailure(not_store);
}

}  // namespace
}  // namespace phrfs::testing
