// Faults between a mount and its remote store, through the project's fault-injecting proxy
// (scripts/testenv/faultproxy.py) in front of the tier's server: 503 bursts, connections cut
// mid-upload and mid-download, a stalled server, the server down while files are written,
// kill -9 of the daemon mid-upload, and two mounts editing one file. In each, nothing that
// fsync or close acknowledged is lost, and a conflict keeps both versions. Run only by the
// remote tiers of scripts/test-all.sh (ctest label remote-mount), which set
// PHRFS_TEST_STORE_BASE (and for S3 AWS_ENDPOINT_URL) to a server on 127.0.0.1.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mount/mount_fixture.h"

namespace phrfs::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v != nullptr ? v : "";
}

bool IsS3() { return Env("PHRFS_TEST_STORE_BASE").rfind("s3://", 0) == 0; }

// The server's port: from the WebDAV base URL, or the S3 endpoint.
int ServerPort() {
  std::string url = IsS3() ? Env("AWS_ENDPOINT_URL") : Env("PHRFS_TEST_STORE_BASE");
  size_t colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

// The proxy in front of the tier's server, for one test; stopped (by its own script, which
// signals only the PID it started) when the test ends.
class Proxy {
 public:
  explicit Proxy(const std::string& dir) : dir_(dir) {
    port_ = 19000 + static_cast<int>(getpid() % 800);
    RunResult r = RunCommand({"scripts/testenv/faultproxy.sh", "start", dir_, std::to_string(port_),
                              std::to_string(ServerPort())},
                             std::chrono::seconds(30));
    ok_ = r.exit_code == 0;
    EXPECT_TRUE(ok_) << r.Describe();
  }
  ~Proxy() { RunCommand({"scripts/testenv/faultproxy.sh", "stop", dir_}, std::chrono::seconds(30)); }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // POST /__fault with a rule (or {"down": ...}).
  void Post(const std::string& json) {
    RunResult r = RunCommand({"curl", "-sf", "-X", "POST", "-H", "Content-Type: application/json",
                              "--data", json, url() + "/__fault"},
                             std::chrono::seconds(10));
    EXPECT_EQ(r.exit_code, 0) << json << ": " << r.Describe();
  }
  void Clear() {
    RunCommand({"curl", "-sf", "-X", "DELETE", url() + "/__fault"}, std::chrono::seconds(10));
  }
  // How many times rules fired, summed ("fired": N in GET /__fault).
  int Fired() {
    RunResult r = RunCommand({"curl", "-sf", url() + "/__fault"}, std::chrono::seconds(10));
    int total = 0;
    for (size_t at = r.out.find("\"fired\""); at != std::string::npos;
         at = r.out.find("\"fired\"", at + 1)) {
      size_t colon = r.out.find(':', at);
      total += std::atoi(r.out.c_str() + colon + 1);
    }
    return total;
  }

 private:
  std::string dir_;
  int port_ = 0;
  bool ok_ = false;
};

// The fixture's store reached through the proxy: for WebDAV another URL, for S3 another
// endpoint (set in this process's environment, which `phrfs mount` inherits).
class ThroughProxy {
 public:
  ThroughProxy(const MountFixture& fx, const Proxy& proxy) {
    if (IsS3()) {
      saved_endpoint_ = Env("AWS_ENDPOINT_URL");
      setenv("AWS_ENDPOINT_URL", proxy.url().c_str(), 1);
      store_ = fx.store();
    } else {
      const std::string name = fx.store().substr(fx.store().rfind('/') + 1);
      store_ = "webdav://127.0.0.1:" + std::to_string(proxy.port()) + "/" + name;
    }
  }
  ~ThroughProxy() {
    if (!saved_endpoint_.empty()) setenv("AWS_ENDPOINT_URL", saved_endpoint_.c_str(), 1);
  }
  const std::string& store() const { return store_; }

 private:
  std::string store_;
  std::string saved_endpoint_;
};

// phrfs.yaml for the mounts of these tests: short timeouts and delays, so faults show quickly.
std::string WriteConfig(const MountFixture& fx, const std::string& extra = "") {
  const std::string path = fx.root() + "/phrfs.yaml";
  WriteFile(path,
            "remote:\n  connect_timeout: 2\n  stall_timeout: 2\ncache:\n  write_back_delay: 0.2\n"
            "  listing_ttl: 1\n" + extra);
  return path;
}

// fsync(2) of a file: "" on success, else what failed.
std::string FsyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return "open " + path + ": " + strerror(errno);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  return rc == 0 ? "" : "fsync " + path + ": " + strerror(err);
}

// Mounts the fixture's store directly, with a cache no earlier mount used, and checks content.
void ExpectOnServer(MountFixture& fx, const std::vector<std::pair<std::string, std::string>>& files) {
  MountOptions fresh;
  fresh.extra_args = {"--cache-dir", fx.root() + "/verify-cache-" + std::to_string(rand())};
  RunResult m = fx.Mount(fx.store(), fresh);
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  for (const auto& [name, content] : files) {
    EXPECT_EQ(ReadAll(fx.InMnt(name)), content) << name;
  }
  RunResult u = fx.Unmount();
  EXPECT_EQ(u.exit_code, 0) << u.Describe();
}

// A fixture's store, made on the tier's server, with the proxy in front of the server and the
// tests' phrfs.yaml; Mount mounts it through the proxy (with another cache folder when given).
struct ProxiedStore {
  MountFixture fx;
  Proxy proxy{fx.root() + "/proxy"};
  ThroughProxy via{fx, proxy};
  MountOptions options;

  ProxiedStore() {
    RunResult init = fx.Init();
    EXPECT_EQ(init.exit_code, 0) << init.Describe();
    options.extra_args = {"--config", WriteConfig(fx)};
  }
  // A mount still up at the end goes before the proxy does (members are destroyed after this):
  // unmounting writes what the mount still holds, at least the access log's last batch, and
  // through a stopped proxy that waits for StatusReporter::kFlushPatience, then fails.
  ~ProxiedStore() {
    if (fx.mounted() || IsMountPoint(fx.mnt())) {
      RunResult u = fx.Unmount();
      if (u.exit_code != 0) ADD_FAILURE() << "cleanup: phrfs umount failed: " << u.Describe();
    }
  }
  bool ok() const { return proxy.ok() && !::testing::Test::HasFailure(); }
  RunResult Mount(const std::string& cache_dir = "") {
    MountOptions o = options;
    if (!cache_dir.empty()) {
      o.extra_args.push_back("--cache-dir");
      o.extra_args.push_back(fx.root() + "/" + cache_dir);
    }
    return fx.Mount(via.store(), o);
  }
};

TEST(RemoteFaultTest, BurstsOf503AndCutConnectionsLoseNothingThatFsyncAcknowledged) {
  ProxiedStore ps;
  ASSERT_TRUE(ps.ok());
  MountFixture& fx = ps.fx;
  Proxy& proxy = ps.proxy;
  RunResult m = ps.Mount();
  ASSERT_EQ(m.exit_code, 0) << m.Describe();

  proxy.Post(R"({"method": "PUT", "action": "status", "status": 503, "times": 4, "retry_after": 0})");
  proxy.Post(R"({"method": "PUT", "action": "cut_upload", "bytes": 3000, "skip": 6, "times": 2})");
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 12; ++i) {
    files.emplace_back("f" + std::to_string(i), Pattern(40 * 1024 + i, 100 + i));
    WriteFile(fx.InMnt(files.back().first), files.back().second);
    EXPECT_EQ(FsyncFile(fx.InMnt(files.back().first)), "");
  }
  EXPECT_GE(proxy.Fired(), 5) << "the faults did not happen";
  RunResult u = fx.Unmount();
  ASSERT_EQ(u.exit_code, 0) << u.Describe();

  // A download cut short is retried, never served short.
  proxy.Clear();
  proxy.Post(R"({"method": "GET", "action": "truncate", "bytes": 500, "times": 3})");
  m = ps.Mount("cache-2");
  ASSERT_EQ(m.exit_code, 0) << m.Describe();
  for (const auto& [name, content] : files) EXPECT_EQ(ReadAll(fx.InMnt(name)), content) << name;
  EXPECT_GE(proxy.Fired(), 1);
  ASSERT_EQ(fx.Unmount().exit_code, 0);
  ExpectOnServer(fx, files);
}

TEST(RemoteFaultTest, AStalledServerFailsAnUncachedReadInBoundedTime) {
  ProxiedStore ps;
  ASSERT_TRUE(ps.ok());
  MountFixture& fx = ps.fx;
  Proxy& proxy = ps.proxy;
  ASSERT_EQ(ps.Mount().exit_code, 0);
  const std::string content = Pattern(300 * 1024, 9);
  WriteFile(fx.InMnt("scan"), content);
  ASSERT_EQ(FsyncFile(fx.InMnt("scan")), "");
  ASSERT_EQ(fx.Unmount().exit_code, 0);

  ASSERT_EQ(ps.Mount("cache-2").exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat(fx.InMnt("scan").c_str(), &st), 0);  // header fetched before the stall
  proxy.Post(R"({"method": "GET", "action": "stall"})");
  const auto start = Clock::now();
  int err = 0;
  std::string got = ReadAll(fx.InMnt("scan"), &err);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_NE(err, 0) << "a read from a stalled server returned " << got.size() << " bytes";
  EXPECT_LT(seconds, 60) << "the read hung for " << seconds << " s";
  proxy.Clear();
  // Once the server answers again, the same read works.
  EXPECT_EQ(ReadAll(fx.InMnt("scan")), content);
  // And the unmount gets everything to the store (the access log's last batch goes out now).
  RunResult u = fx.Unmount();
  EXPECT_EQ(u.exit_code, 0) << u.Describe();
}

TEST(RemoteFaultTest, WritesWhileTheServerIsDownLandOnceItIsBack) {
  ProxiedStore ps;
  ASSERT_TRUE(ps.ok());
  MountFixture& fx = ps.fx;
  Proxy& proxy = ps.proxy;
  ASSERT_EQ(ps.Mount().exit_code, 0);
  ASSERT_EQ(mkdir(fx.InMnt("labs").c_str(), 0700), 0);

  proxy.Post(R"({"down": true})");
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 5; ++i) {
    files.emplace_back("labs/r" + std::to_string(i), Pattern(10000 + i, 40 + i));
    WriteFile(fx.InMnt(files.back().first), files.back().second);  // close succeeds: cached
  }
  ASSERT_EQ(mkdir(fx.InMnt("offline-dir").c_str(), 0700), 0);
  for (const auto& [name, content] : files) EXPECT_EQ(ReadAll(fx.InMnt(name)), content);
  // The daemon calls itself offline once an upload has used up its retries (with backoff and
  // jitter, a few seconds); poll for that rather than guess how long it takes.
  RunResult s;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s = RunPhrfs({"status", fx.mnt()}, std::chrono::seconds(30));
    ASSERT_EQ(s.exit_code, 0) << s.Describe();
  } while (s.out.find("connection: offline") == std::string::npos && Clock::now() < deadline);
  EXPECT_EQ(s.out.find("pending uploads: 0\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("connection: offline"), std::string::npos) << s.out;

  proxy.Post(R"({"down": false})");
  RunResult u = fx.Unmount();  // waits for the uploads
  ASSERT_EQ(u.exit_code, 0) << u.Describe();
  files.emplace_back("offline-dir/x", "made after the outage");
  ASSERT_EQ(fx.Mount(fx.store(), MountOptions{}).exit_code, 0);
  WriteFile(fx.InMnt("offline-dir/x"), files.back().second);
  ASSERT_EQ(fx.Unmount().exit_code, 0);
  ExpectOnServer(fx, files);
}

TEST(RemoteFaultTest, KillNineMidUploadResumesAtTheNextMountWithTheSameCache) {
  ProxiedStore ps;
  ASSERT_TRUE(ps.ok());
  MountFixture& fx = ps.fx;
  Proxy& proxy = ps.proxy;
  ASSERT_EQ(ps.Mount().exit_code, 0);
  // Every upload takes a while, so the kill comes while some are in flight.
  proxy.Post(R"({"method": "PUT", "action": "delay", "ms": 1500})");
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 6; ++i) {
    files.emplace_back("k" + std::to_string(i), Pattern(200 * 1024 + i, 60 + i));
    WriteFile(fx.InMnt(files.back().first), files.back().second);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  // kill -9 of the daemon (the pid in the mount's source), then the dead mount goes.
  RunResult s = RunPhrfs({"status", fx.mnt()}, std::chrono::seconds(30));
  size_t at = s.out.find("daemon pid: ");
  ASSERT_NE(at, std::string::npos) << s.Describe();
  const pid_t daemon = std::atoi(s.out.c_str() + at + 12);
  ASSERT_GT(daemon, 1);
  ASSERT_EQ(kill(daemon, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ForceUnmount(fx.mnt());
  fx.Unmount();  // forgets the dead mount (its umount fails: nothing is mounted)

  proxy.Clear();
  // The same cache: the journal resumes every upload, and umount waits for them.
  ASSERT_EQ(ps.Mount().exit_code, 0);
  RunResult u = fx.Unmount();
  ASSERT_EQ(u.exit_code, 0) << u.Describe();
  ExpectOnServer(fx, files);
}

TEST(RemoteFaultTest, TwoMountsEditingOneFileKeepBothVersions) {
  MountFixture fx;
  ASSERT_EQ(fx.Init().exit_code, 0);
  const std::string config = WriteConfig(fx);
  MountOptions options;
  options.extra_args = {"--config", config};
  ASSERT_EQ(fx.Mount(fx.store(), options).exit_code, 0);
  WriteFile(fx.InMnt("shared.txt"), "the original\n");
  ASSERT_EQ(FsyncFile(fx.InMnt("shared.txt")), "");

  // A second mount (another machine): its own mount point and cache.
  const std::string other = fx.root() + "/other-mnt";
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  RunResult m2 = RunPhrfs({"mount", fx.store(), other, "--passfile", fx.passfile(), "--config",
                           config, "--cache-dir", fx.root() + "/other-cache", "--log-file",
                           fx.root() + "/other.log"});
  ASSERT_EQ(m2.exit_code, 0) << m2.Describe();
  struct Unmounter {
    std::string where;
    ~Unmounter() {
      if (IsMountPoint(where)) {
        RunResult u = RunPhrfs({"umount", where}, std::chrono::seconds(120));
        if (u.exit_code != 0) ForceUnmount(where);
      }
    }
  } unmount_other{other};
  EXPECT_EQ(ReadAll(other + "/shared.txt"), "the original\n");

  // Both change it; each fsync reaches the server in turn.
  WriteFile(fx.InMnt("shared.txt"), "version from the first mount\n");
  ASSERT_EQ(FsyncFile(fx.InMnt("shared.txt")), "");
  WriteFile(other + "/shared.txt", "version from the second mount\n");
  (void)FsyncFile(other + "/shared.txt");
  RunResult u2 = RunPhrfs({"umount", other}, std::chrono::seconds(120));
  EXPECT_EQ(u2.exit_code, 0) << u2.Describe();
  ASSERT_EQ(fx.Unmount().exit_code, 0);

  // Both versions survive: one under the name, the other as a conflict copy beside it (or, when
  // the folder was unknown to the mount that lost, in the store's conflicts folder).
  MountOptions fresh;
  fresh.extra_args = {"--cache-dir", fx.root() + "/verify-cache"};
  ASSERT_EQ(fx.Mount(fx.store(), fresh).exit_code, 0);
  std::vector<std::string> versions;
  std::vector<std::string> names;
  for (const std::string& path : ListFilesRecursive(fx.mnt())) {
    names.push_back(path.substr(fx.mnt().size() + 1));
    versions.push_back(ReadAll(path));
  }
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(versions, (std::vector<std::string>{"version from the first mount\n",
                                                "version from the second mount\n"}))
      << "files: " << ::testing::PrintToString(names);
  bool conflict_named = false;
  for (const std::string& n : names) conflict_named |= n.find("(conflict ") != std::string::npos;
  EXPECT_TRUE(conflict_named) << ::testing::PrintToString(names);
}

}  // namespace
}  // namespace phrfs::testing
