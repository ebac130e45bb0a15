#include "config/remote_sections.h"

#include <limits>
#include <set>

#include "config/store_url.h"

namespace phrfs::config {
namespace {

// Keys that would put a secret into the file; each is refused with the _file key to use.
Status RefuseInlineSecret(const FieldReader& reader, const YAML::Node& key_node,
                          const std::string& full, const std::string& file_key) {
  return reader.Error(key_node.Mark(), full,
                      "secrets are never written into phrfs.yaml: put it in a file only you can "
                      "read (chmod 600) and give its path as " + file_key + ": PATH");
}

}  // namespace

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 20) return std::nullopt;
  unsigned shift = 0;
  std::string_view suffix = text.substr(digits);
  if (suffix.size() > 1) return std::nullopt;
  if (suffix.size() == 1) {
    switch (suffix[0] | 0x20) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      case 'p': shift = 50; break;
      default: return std::nullopt;
    }
  }
  uint64_t value = 0;
  for (char c : text.substr(0, digits)) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) return std::nullopt;
  return value << shift;
}

Status ParseRemoteSection(const FieldReader& reader, const YAML::Node& node, RemoteConfig& out) {
  bool present = false;
  PHRFS_RETURN_IF_ERROR(reader.Section(node, "remote", present));
  if (!present) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& item : node) {
    std::string key;
    PHRFS_RETURN_IF_ERROR(reader.KeyName(item.first, "remote", seen, key));
    const std::string full = "remote." + key;
    const YAML::Node& value = item.second;
    if (key == "ca_file") {
      std::string path;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a file path", path));
      out.ca_file = path;
    } else if (key == "connect_timeout") {
      double seconds = 0;
      PHRFS_RETURN_IF_ERROR(
          reader.Seconds(value, full, kMinNetworkTimeout, kMaxConnectTimeout, seconds));
      out.connect_timeout = seconds;
    } else if (key == "stall_timeout") {
      double seconds = 0;
      PHRFS_RETURN_IF_ERROR(
          reader.Seconds(value, full, kMinNetworkTimeout, kMaxStallTimeout, seconds));
      out.stall_timeout = seconds;
    } else if (key == "parallel_transfers") {
      long long n = 0;
      PHRFS_RETURN_IF_ERROR(
          reader.WholeNumber(value, full, kMinParallelTransfers, kMaxParallelTransfers, n));
      out.parallel_transfers = static_cast<unsigned>(n);
    } else {
      return reader.Error(item.first.Mark(), full,
                          "unknown key (known: ca_file, connect_timeout, stall_timeout, "
                          "parallel_transfers)");
    }
  }
  return Status::Ok();
}

Status ParseWebDavSection(const FieldReader& reader, const YAML::Node& node, WebDavConfig& out) {
  bool present = false;
  PHRFS_RETURN_IF_ERROR(reader.Section(node, "webdav", present));
  if (!present) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& item : node) {
    std::string key;
    PHRFS_RETURN_IF_ERROR(reader.KeyName(item.first, "webdav", seen, key));
    const std::string full = "webdav." + key;
    const YAML::Node& value = item.second;
    if (key == "user") {
      std::string user;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a user name", user));
      if (user.find(':') != std::string::npos) {
        return reader.Error(value.Mark(), full, "a Basic-auth user name cannot hold ':'");
      }
      out.user = user;
    } else if (key == "password_file") {
      std::string path;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a file path", path));
      out.password_file = path;
    } else if (key == "password" || key == "pass") {
      return RefuseInlineSecret(reader, item.first, full, "webdav.password_file");
    } else {
      return reader.Error(item.first.Mark(), full, "unknown key (known: user, password_file)");
    }
  }
  return Status::Ok();
}

Status ParseS3Section(const FieldReader& reader, const YAML::Node& node, S3Config& out) {
  bool present = false;
  PHRFS_RETURN_IF_ERROR(reader.Section(node, "s3", present));
  if (!present) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& item : node) {
    std::string key;
    PHRFS_RETURN_IF_ERROR(reader.KeyName(item.first, "s3", seen, key));
    const std::string full = "s3." + key;
    const YAML::Node& value = item.second;
    if (key == "endpoint") {
      std::string url;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a URL such as https://s3.example.org", url));
      if (Status check = CheckEndpointUrl(url); !check.ok()) {
        // Not quoted: a URL with a password in it must not be echoed.
        return reader.Error(value.Mark(), full, check.message());
      }
      out.endpoint = url;
    } else if (key == "region") {
      std::string region;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a region name such as eu-central-1", region));
      for (char c : region) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
          return reader.Error(value.Mark(), full,
                              "expected a region name of lower-case letters, digits and '-', "
                              "such as eu-central-1" + FieldReader::Quoted(value));
        }
      }
      out.region = region;
    } else if (key == "addressing") {
      if (value.IsScalar() && value.Scalar() == "path") {
        out.addressing = S3Addressing::kPath;
      } else if (value.IsScalar() && value.Scalar() == "virtual") {
        out.addressing = S3Addressing::kVirtual;
      } else {
        return reader.Error(value.Mark(), full, "expected path or virtual" + FieldReader::Quoted(value));
      }
    } else if (key == "access_key_id") {
      std::string id;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "an access key id", id));
      for (char c : id) {
        if (c <= 0x20 || c >= 0x7f) {
          return reader.Error(value.Mark(), full,
                              "expected an access key id of printable characters without spaces");
        }
      }
      out.access_key_id = id;
    } else if (key == "secret_key_file") {
      std::string path;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a file path", path));
      out.secret_key_file = path;
    } else if (key == "secret_key" || key == "secret_access_key" ||
               key == "aws_secret_access_key") {
      return RefuseInlineSecret(reader, item.first, full, "s3.secret_key_file");
    } else {
      return reader.Error(item.first.Mark(), full,
                          "unknown key (known: endpoint, region, addressing, access_key_id, "
                          "secret_key_file)");
    }
  }
  // The key id and its secret come as a pair, from one source (remote_settings.h).
  if (out.access_key_id.has_value() != out.secret_key_file.has_value()) {
    return reader.Error(node.Mark(), "s3",
                        out.access_key_id ? "access_key_id is set but secret_key_file is not: "
                                            "give both, or neither"
                                          : "secret_key_file is set but access_key_id is not: "
                                            "give both, or neither");
  }
  return Status::Ok();
}

Status ParseCacheSection(const FieldReader& reader, const YAML::Node& node, CacheConfig& out) {
  bool present = false;
  PHRFS_RETURN_IF_ERROR(reader.Section(node, "cache", present));
  if (!present) return Status::Ok();
  std::set<std::string> seen;
  for (const auto& item : node) {
    std::string key;
    PHRFS_RETURN_IF_ERROR(reader.KeyName(item.first, "cache", seen, key));
    const std::string full = "cache." + key;
    const YAML::Node& value = item.second;
    if (key == "dir") {
      std::string dir;
      PHRFS_RETURN_IF_ERROR(reader.Text(value, full, "a directory path", dir));
      out.dir = dir;
    } else if (key == "size") {
      std::optional<uint64_t> bytes;
      if (value.IsScalar()) bytes = ParseByteSize(value.Scalar());
      if (!bytes || *bytes < kMinCacheSize || *bytes > kMaxCacheSize) {
        return reader.Error(value.Mark(), full,
                            "expected a size from 16M to 1P such as 512M or 10G (suffix K, M, "
                            "G, T or P; powers of 1024)" + FieldReader::Quoted(value));
      }
      out.size = *bytes;
    } else if (key == "write_back_delay") {
      double seconds = 0;
      PHRFS_RETURN_IF_ERROR(reader.Seconds(value, full, 0, kMaxWriteBackDelay, seconds));
      out.write_back_delay = seconds;
    } else if (key == "listing_ttl") {
      double seconds = 0;
      PHRFS_RETURN_IF_ERROR(reader.Seconds(value, full, 0, kMaxListingTtl, seconds));
      out.listing_ttl = seconds;
    } else {
      return reader.Error(item.first.Mark(), full,
                          "unknown key (known: dir, size, write_back_delay, listing_ttl)");
    }
  }
  return Status::Ok();
}

}  // namespace phrfs::config
