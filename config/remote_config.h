// The remote-store sections of phrfs.yaml (man phrfs.yaml(5)): remote (transport), webdav, s3
// and cache, as plain values. Secrets are never values here, only the paths of files that hold
// them; remote_settings.h reads those and applies the environment. Any thread (plain values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phrfs::config {

// As in MountConfig, absent means "not set in the file".

// remote: settings for any remote store, WebDAV or S3.
struct RemoteConfig {
  std::optional<std::string> ca_file;       // PEM trust anchors instead of the system's
  std::optional<double> connect_timeout;    // seconds, kMinNetworkTimeout..kMaxConnectTimeout
  std::optional<double> stall_timeout;      // seconds, kMinNetworkTimeout..kMaxStallTimeout
  std::optional<unsigned> parallel_transfers;  // kMinParallelTransfers..kMaxParallelTransfers
};

// webdav: Basic authentication.
struct WebDavConfig {
  std::optional<std::string> user;
  std::optional<std::string> password_file;  // path of a file only its owner can read
};

enum class S3Addressing { kPath, kVirtual };  // https://HOST/BUCKET/KEY vs https://BUCKET.HOST/KEY

// s3: endpoint, region and credentials.
struct S3Config {
  std::optional<std::string> endpoint;  // http(s)://HOST[:PORT], see CheckEndpointUrl (store_url.h)
  std::optional<std::string> region;
  std::optional<S3Addressing> addressing;
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_key_file;  // path of a file only its owner can read
};

// cache: the local ciphertext cache in front of a remote store.
struct CacheConfig {
  std::optional<std::string> dir;
  std::optional<uint64_t> size;             // bytes, kMinCacheSize..kMaxCacheSize
  std::optional<double> write_back_delay;   // seconds, 0..kMaxWriteBackDelay
  std::optional<double> listing_ttl;        // seconds, 0..kMaxListingTtl
};

inline constexpr double kMinNetworkTimeout = 0.1;
inline constexpr double kMaxConnectTimeout = 600;
inline constexpr double kMaxStallTimeout = 3600;
inline constexpr unsigned kMinParallelTransfers = 1;
inline constexpr unsigned kMaxParallelTransfers = 64;
inline constexpr uint64_t kMinCacheSize = uint64_t{16} << 20;  // 16M
inline constexpr uint64_t kMaxCacheSize = uint64_t{1} << 50;   // 1P
inline constexpr double kMaxWriteBackDelay = 3600;
inline constexpr double kMaxListingTtl = 3600;

// Defaults for what is set neither in the file nor in the environment.
inline constexpr double kDefaultConnectTimeout = 10;
inline constexpr double kDefaultStallTimeout = 30;
inline constexpr unsigned kDefaultParallelTransfers = 4;
inline constexpr uint64_t kDefaultCacheSize = uint64_t{1} << 30;  // 1G
inline constexpr double kDefaultWriteBackDelay = 5;
inline constexpr double kDefaultListingTtl = 30;
inline constexpr const char* kDefaultS3Region = "us-east-1";

// "512M", "10G", "1048576": a whole number with an optional suffix K, M, G, T or P (powers of
// 1024, either case). nullopt for anything else or on overflow.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace phrfs::config
