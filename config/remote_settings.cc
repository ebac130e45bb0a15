#include "config/remote_settings.h"

#include <cmath>
#include <cstdlib>

#include "config/secret_file.h"
#include "config/store_url.h"

namespace phrfs::config {
namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// The first of `names` that is set, and which one it was.
std::optional<std::string> FirstSet(const EnvLookup& env, std::initializer_list<const char*> names,
                                    const char** which) {
  for (const char* name : names) {
    if (std::optional<std::string> value = env(name)) {
      if (which != nullptr) *which = name;
      return value;
    }
  }
  return std::nullopt;
}

// Moves a secret that arrived as a string (from the environment) into SecureBytes and wipes
// the string's copy.
SecureBytes TakeSecret(std::string& value) {
  SecureBytes secret(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  SecureWipe({reinterpret_cast<uint8_t*>(value.data()), value.size()});
  return secret;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = getenv(name);
    if (value == nullptr || value[0] == '\0') return std::nullopt;
    return std::string(value);
  };
}

TransportSettings ResolveTransport(const RemoteConfig& file) {
  TransportSettings out;
  out.ca_file = file.ca_file.value_or("");
  out.connect_timeout = Millis(file.connect_timeout.value_or(kDefaultConnectTimeout));
  out.stall_timeout = Millis(file.stall_timeout.value_or(kDefaultStallTimeout));
  out.parallel_transfers = file.parallel_transfers.value_or(kDefaultParallelTransfers);
  return out;
}

Result<WebDavCredentials> ResolveWebDavCredentials(const WebDavConfig& file,
                                                   const EnvLookup& env) {
  WebDavCredentials out;
  if (std::optional<std::string> user = env("PHRFS_WEBDAV_USER")) {
    if (user->find(':') != std::string::npos) {
      return Status::InvalidArgument("PHRFS_WEBDAV_USER: a Basic-auth user name cannot hold ':'");
    }
    out.user = *user;
  } else {
    out.user = file.user.value_or("");
  }
  if (std::optional<std::string> password = env("PHRFS_WEBDAV_PASSWORD")) {
    out.password = TakeSecret(*password);
  } else if (file.password_file) {
    PHRFS_ASSIGN_OR_RETURN(out.password, ReadSecretFile(*file.password_file, "webdav.password_file"));
  }
  if (out.user.empty() && !out.password.empty()) {
    return Status::InvalidArgument("a WebDAV password is given but no user: set webdav.user in "
                                   "phrfs.yaml or PHRFS_WEBDAV_USER");
  }
  if (!out.user.empty() && out.password.empty()) {
    return Status::InvalidArgument("WebDAV user '" + out.user + "' has no password: set "
                                   "webdav.password_file in phrfs.yaml or PHRFS_WEBDAV_PASSWORD");
  }
  return out;
}

Result<S3Settings> ResolveS3Settings(const S3Config& file, const EnvLookup& env) {
  S3Settings out;

  const char* region_var = nullptr;
  if (std::optional<std::string> region =
          FirstSet(env, {"AWS_REGION", "AWS_DEFAULT_REGION"}, &region_var)) {
    for (char c : *region) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
        return Status::InvalidArgument(std::string(region_var) +
                                       ": expected a region name of lower-case letters, digits "
                                       "and '-', such as eu-central-1");
      }
    }
    out.region = *region;
  } else {
    out.region = file.region.value_or(kDefaultS3Region);
  }

  const char* endpoint_var = nullptr;
  std::optional<std::string> endpoint =
      FirstSet(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}, &endpoint_var);
  if (endpoint) {
    if (Status check = CheckEndpointUrl(*endpoint); !check.ok()) {
      return Status::InvalidArgument(std::string(endpoint_var) + ": " + check.message());
    }
  } else {
    endpoint = file.endpoint;
  }
  if (endpoint) {
    out.endpoint = *endpoint;
    while (out.endpoint.ends_with('/')) out.endpoint.pop_back();
  } else {
    out.endpoint = "https://s3." + out.region + ".amazonaws.com";
  }
  out.addressing = file.addressing.value_or(endpoint ? S3Addressing::kPath : S3Addressing::kVirtual);

  std::optional<std::string> key_id = env("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env("AWS_SECRET_ACCESS_KEY");
  if (key_id.has_value() != secret.has_value()) {
    if (secret) SecureWipe({reinterpret_cast<uint8_t*>(secret->data()), secret->size()});
    return Status::InvalidArgument(
        std::string(key_id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                           : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") +
        ": set both, or neither to use s3.access_key_id and s3.secret_key_file from phrfs.yaml");
  }
  if (key_id) {
    for (char c : *key_id) {
      if (c <= 0x20 || c >= 0x7f) {
        return Status::InvalidArgument(
            "AWS_ACCESS_KEY_ID: expected printable characters without spaces");
      }
    }
    out.access_key_id = *key_id;
    out.secret_key = TakeSecret(*secret);
    return out;
  }
  if (!file.access_key_id || !file.secret_key_file) {
    return Status::InvalidArgument(
        "no S3 credentials: set s3.access_key_id and s3.secret_key_file in phrfs.yaml, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  out.access_key_id = *file.access_key_id;
  PHRFS_ASSIGN_OR_RETURN(out.secret_key, ReadSecretFile(*file.secret_key_file, "s3.secret_key_file"));
  return out;
}

Result<CacheSettings> ResolveCacheSettings(const CacheConfig& file, const EnvLookup& env) {
  CacheSettings out;
  if (file.dir) {
    out.dir = *file.dir;
  } else if (std::optional<std::string> xdg = env("XDG_CACHE_HOME"); xdg && xdg->starts_with('/')) {
    out.dir = *xdg + "/phrfs";  // the XDG spec says to ignore a relative value
  } else if (std::optional<std::string> home = env("HOME")) {
    out.dir = *home + "/.cache/phrfs";
  } else {
    return Status::InvalidArgument(
        "no cache directory: set cache.dir in phrfs.yaml (neither XDG_CACHE_HOME nor HOME is set)");
  }
  out.size = file.size.value_or(kDefaultCacheSize);
  out.write_back_delay = Millis(file.write_back_delay.value_or(kDefaultWriteBackDelay));
  out.listing_ttl = Millis(file.listing_ttl.value_or(kDefaultListingTtl));
  return out;
}

}  // namespace phrfs::config
