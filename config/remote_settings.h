// The settings a remote store is opened with: phrfs.yaml's remote sections (remote_config.h)
// with the environment applied, defaults filled in and secret files read. The environment
// wins over the file, as with aws-cli (man phrfs.yaml(5), ENVIRONMENT). Kept apart from the
// parser so that parsing stays pure. Any thread (no shared state; EnvLookup must be safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "config/remote_config.h"

namespace phrfs::config {

// Looks up one environment variable; nullopt when unset. An empty value counts as unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The process environment (getenv).
EnvLookup ProcessEnvironment();

// remote: with defaults; the file is the only source.
struct TransportSettings {
  std::string ca_file;  // empty: the system's trust anchors
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds stall_timeout{0};
  unsigned parallel_transfers = 0;
};
TransportSettings ResolveTransport(const RemoteConfig& file);

// Basic-auth credentials; an empty user means none (no Authorization header).
struct WebDavCredentials {
  std::string user;
  SecureBytes password;
};
// PHRFS_WEBDAV_USER overrides webdav.user and PHRFS_WEBDAV_PASSWORD overrides
// webdav.password_file, each on its own. InvalidArgument for a user without a password or a
// password without a user; errors of ReadSecretFile for the password file.
Result<WebDavCredentials> ResolveWebDavCredentials(const WebDavConfig& file,
                                                   const EnvLookup& env);

struct S3Settings {
  std::string endpoint;  // as given, else https://s3.REGION.amazonaws.com
  std::string region;
  S3Addressing addressing = S3Addressing::kPath;
  std::string access_key_id;
  SecureBytes secret_key;
};
// endpoint: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then s3.endpoint, else AWS's own.
// region: AWS_REGION, then AWS_DEFAULT_REGION, then s3.region, else kDefaultS3Region.
// addressing: s3.addressing, else path when an endpoint was given and virtual for AWS's own.
// credentials, as a pair: AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY when both are set,
// else s3.access_key_id with the contents of s3.secret_key_file. InvalidArgument when only
// one of the two variables is set, when neither source has credentials, or when an
// environment value is malformed (the message names the variable, never its value when it is
// a secret).
Result<S3Settings> ResolveS3Settings(const S3Config& file, const EnvLookup& env);

struct CacheSettings {
  std::string dir;
  uint64_t size = 0;  // bytes
  std::chrono::milliseconds write_back_delay{0};
  std::chrono::milliseconds listing_ttl{0};
};
// dir: cache.dir, else $XDG_CACHE_HOME/phrfs, else $HOME/.cache/phrfs (InvalidArgument when
// none of these is known). The rest: the file's value or the default.
Result<CacheSettings> ResolveCacheSettings(const CacheConfig& file, const EnvLookup& env);

}  // namespace phrfs::config
