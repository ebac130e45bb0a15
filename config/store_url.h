// STORE strings (phrfs(1)): a local directory (plain path or file:///path), a WebDAV collection
// (webdav://HOST[:PORT]/PATH, webdavs:// for TLS) or an S3 prefix (s3://BUCKET/PREFIX), parsed
// into a plain struct. Parsing only; nothing is contacted. Any thread (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace phrfs::config {

enum class StoreKind { kLocal, kWebDav, kS3 };

// Only the fields of its kind are set; the others stay empty / zero / false.
struct StoreUrl {
  StoreKind kind = StoreKind::kLocal;
  // kLocal: the directory, a plain path exactly as given (may be relative) or the decoded path
  //   of a file:// URL (absolute).
  // kWebDav: the collection's decoded URL path; begins with '/', no trailing '/' except for
  //   the root itself ("/").
  std::string path;
  std::string host;   // kWebDav: name or address as given, IPv6 without its brackets
  uint16_t port = 0;  // kWebDav: as given, else 80 (webdav) or 443 (webdavs)
  bool tls = false;   // kWebDav: webdavs://
  std::string bucket;  // kS3
  // kS3: decoded key prefix without leading or trailing '/'; empty = the whole bucket.
  std::string prefix;
};

// Parses `store`. InvalidArgument, with a message saying what is wrong and what is expected,
// for an empty string, an unknown scheme, a URL without host, a bad port, user or password in
// the URL (credentials belong in phrfs.yaml(5) or the environment, never in a URL), a query or
// fragment, "." or ".." segments, a bad percent escape, or an S3 bucket name that breaks the
// S3 naming rules. Percent escapes in paths and prefixes are decoded. A message never repeats
// a STORE that holds '@' (it may be a password).
Result<StoreUrl> ParseStoreUrl(std::string_view store);

// The http(s) URL of a WebDAV store's collection, percent-encoded and ending in '/', ready to
// have an (encoded) object name appended: "https://dav.example.org:8443/vault%20a/".
// The port is left out when it is the scheme's default. `url.kind` must be kWebDav.
std::string WebDavBaseUrl(const StoreUrl& url);

// Whether `bucket` follows the S3 bucket naming rules: 3 to 63 characters of lower-case
// letters, digits, '.' and '-', beginning and ending with a letter or digit, no "..", not an
// IPv4 address, no "xn--" / "sthree-" prefix, no "-s3alias" / "--ol-s3" suffix. On failure
// `why` says which rule.
bool IsValidS3BucketName(std::string_view bucket, std::string* why);

// An S3 endpoint: http:// or https://, a host (IPv6 in brackets), an optional port and at
// most a final '/': no user or password, path, query or fragment. InvalidArgument saying what
// is wrong (the message does not repeat the URL; callers say where it came from).
Status CheckEndpointUrl(std::string_view url);

}  // namespace phrfs::config
