// Helpers shared by the phrfs commands: failure reports, STORE arguments, scrypt costs and
// keeping secrets out of core files (fs/cli/command_util.h).
#include "fs/cli/command_util.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fs/owner_records.h"

namespace phrfs::fs {
namespace {

constexpr char kConfigEnv[] = "PHRFS_CONFIG";

}  // namespace

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

Result<config::MountConfig> LoadConfigFile(const std::string& path) {
  std::string config_path = path;
  if (config_path.empty()) {
    if (const char* env = getenv(kConfigEnv)) config_path = env;
  }
  if (config_path.empty()) return config::MountConfig{};
  return config::LoadMountConfig(config_path);
}

Result<OpenedStore> OpenStoreArg(const std::string& store, const config::MountConfig& file,
                                 bool create, TreeAccess access, bool keep_secrets) {
  StoreOpenOptions options;
  options.access = access;
  options.create = create;
  options.file = &file;
  auto opened = OpenStore(store, options);
  if (!keep_secrets) ScrubSecretEnvironment();  // the store holds what it needs
  return opened;
}

Result<UnlockedStore> OpenOwnerRecordArg(const std::string& store, const config::MountConfig& file,
                                         const crypto::Identity& identity, TreeAccess access) {
  auto record = OpenStoreArg(RecordStoreArg(store, identity.public_identity()), file,
                             /*create=*/false, access);
  if (!record.ok()) {
    if (record.status().code() != Code::kNotFound) return record.status();
    return Status::NotFound("this identity (" + crypto::Fingerprint(identity.public_identity()) +
                            ") owns no record in store " + store +
                            "; 'phrfs init STORE --owner NAME --identity FILE' makes one");
  }
  return UnlockOwnerRecord(std::move(record->tree), record->label, identity);
}

void ScrubSecretEnvironment() {
  for (const char* name : {"AWS_SECRET_ACCESS_KEY", "PHRFS_WEBDAV_PASSWORD"}) {
    if (char* value = getenv(name)) OPENSSL_cleanse(value, strlen(value));
    unsetenv(name);
  }
}

void ProtectSecrets() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
}

}  // namespace phrfs::fs
