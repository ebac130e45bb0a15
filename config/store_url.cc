#include "config/store_url.h"

#include <vector>

namespace phrfs::config {
namespace {

constexpr std::string_view kForms =
    "a directory, file:///PATH, webdav://HOST[:PORT]/PATH, webdavs://HOST[:PORT]/PATH or "
    "s3://BUCKET/PREFIX";

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

// Builds messages: "prefix" + what is wrong.
class Problem {
 public:
  explicit Problem(std::string prefix) : prefix_(std::move(prefix)) {}
  // "STORE 'x': "; the STORE itself is quoted only when it cannot hold a password.
  static Problem ForStore(std::string_view store) {
    if (store.find('@') != std::string_view::npos) return Problem("STORE: ");
    return Problem("STORE '" + std::string(store) + "': ");
  }
  Status operator()(const std::string& what) const {
    return Status::InvalidArgument(prefix_ + what);
  }

 private:
  std::string prefix_;
};

// Length of the scheme when `text` begins with "scheme://", else 0.
size_t SchemeLength(std::string_view text) {
  if (text.empty() || !IsAlpha(text[0])) return 0;
  size_t i = 1;
  while (i < text.size() && (IsAlpha(text[i]) || IsDigit(text[i]) || text[i] == '+' ||
                             text[i] == '-' || text[i] == '.')) {
    ++i;
  }
  return text.substr(i, 3) == "://" ? i : 0;
}

// Decodes %XX escapes. Refuses a bad escape, NUL, and (when `keep_slashes` is false) an
// escaped '/', which would hide a separator inside a name.
Status PercentDecode(std::string_view in, bool keep_slashes, const Problem& problem,
                     std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || !IsHex(in[i + 1]) || !IsHex(in[i + 2])) {
        return problem("a '%' must be followed by two hex digits");
      }
      c = static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      if (c == '\0') return problem("%00 is not allowed in a path");
      if (c == '/' && !keep_slashes) return problem("%2F (an escaped '/') is not supported");
      i += 2;
    }
    out.push_back(c);
  }
  return Status::Ok();
}

// Splits a decoded-per-segment path into its non-empty segments; "." and ".." are refused.
Status Segments(std::string_view raw_path, const Problem& problem,
                std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= raw_path.size()) {
    size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    std::string_view raw = raw_path.substr(start, end - start);
    if (!raw.empty()) {
      std::string segment;
      PHRFS_RETURN_IF_ERROR(PercentDecode(raw, false, problem, segment));
      if (segment == "." || segment == "..") {
        return problem("'.' and '..' are not allowed as path segments");
      }
      out.push_back(std::move(segment));
    }
    start = end + 1;
  }
  return Status::Ok();
}

Status ParseHost(std::string_view authority, bool tls, const Problem& problem, StoreUrl& url) {
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return problem("an IPv6 address lacks its closing ']'");
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return problem("expected ':PORT' after ']'");
      port = rest.substr(1);
      has_port = true;
    }
    if (host.empty()) return problem("the URL has no host");
    for (char c : host) {
      if (!IsHex(c) && c != ':' && c != '.') return problem("bad character in the IPv6 address");
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':', colon + 1) != std::string_view::npos) {
        return problem("an IPv6 address must be written in brackets: [::1]:PORT");
      }
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return problem("the URL has no host");
    for (char c : host) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '.' && c != '_') {
        return problem("bad character in the host name (letters, digits, '-', '.', '_')");
      }
    }
    if (host[0] == '.' || host[0] == '-') return problem("a host name cannot begin with '.' or '-'");
  }
  url.host = std::string(host);
  url.port = tls ? 443 : 80;
  if (has_port) {
    if (port.empty() || port.size() > 5) return problem("expected a port number from 1 to 65535");
    unsigned value = 0;
    for (char c : port) {
      if (!IsDigit(c)) return problem("expected a port number from 1 to 65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return problem("expected a port number from 1 to 65535");
    url.port = static_cast<uint16_t>(value);
  }
  return Status::Ok();
}

std::string Join(const std::vector<std::string>& segments) {
  std::string out;
  for (const std::string& s : segments) {
    if (!out.empty()) out += '/';
    out += s;
  }
  return out;
}

// RFC 3986 pchar minus '%': what may stand unescaped in a path segment.
bool IsPathChar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  return std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
}

}  // namespace

bool IsValidS3BucketName(std::string_view bucket, std::string* why) {
  auto fail = [why](const char* reason) {
    if (why != nullptr) *why = reason;
    return false;
  };
  if (bucket.size() < 3 || bucket.size() > 63) return fail("must be 3 to 63 characters long");
  for (char c : bucket) {
    if (!(c >= 'a' && c <= 'z') && !IsDigit(c) && c != '.' && c != '-') {
      return fail("may hold only lower-case letters, digits, '.' and '-'");
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return fail("must begin and end with a letter or digit");
  }
  if (bucket.find("..") != std::string_view::npos) return fail("must not hold two dots in a row");
  if (bucket.starts_with("xn--") || bucket.starts_with("sthree-")) {
    return fail("must not begin with 'xn--' or 'sthree-'");
  }
  if (bucket.ends_with("-s3alias") || bucket.ends_with("--ol-s3")) {
    return fail("must not end with '-s3alias' or '--ol-s3'");
  }
  int groups = 1;
  bool all_digits_and_dots = true;
  for (char c : bucket) {
    if (c == '.') ++groups;
    else if (!IsDigit(c)) all_digits_and_dots = false;
  }
  if (all_digits_and_dots && groups == 4) return fail("must not look like an IP address");
  return true;
}

Result<StoreUrl> ParseStoreUrl(std::string_view store) {
  Problem problem = Problem::ForStore(store);
  if (store.empty()) return Status::InvalidArgument("STORE is empty: expected " + std::string(kForms));
  if (store.find('\0') != std::string_view::npos) return problem("holds a NUL byte");

  size_t scheme_length = SchemeLength(store);
  StoreUrl url;
  if (scheme_length == 0) {  // a plain path, used as given
    url.kind = StoreKind::kLocal;
    url.path = std::string(store);
    return url;
  }

  std::string scheme;
  for (char c : store.substr(0, scheme_length)) scheme += Lower(c);
  for (char c : store) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return problem("control characters are not allowed in a URL");
    }
  }
  std::string_view rest = store.substr(scheme_length + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return problem("a query ('?') or fragment ('#') is not allowed; escape them as %3F and %23");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view raw_path = slash == std::string_view::npos ? "" : rest.substr(slash);

  if (authority.find('@') != std::string_view::npos) {
    if (scheme == "s3") {
      return problem("credentials are never part of a URL: set s3.access_key_id and "
                     "s3.secret_key_file in phrfs.yaml, or AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY");
    }
    return problem("credentials are never part of a URL: set webdav.user and "
                   "webdav.password_file in phrfs.yaml, or PHRFS_WEBDAV_USER and "
                   "PHRFS_WEBDAV_PASSWORD");
  }

  if (scheme == "file") {
    if (!authority.empty() && authority != "localhost") {
      return problem("a file URL names a local directory: file:///PATH (three slashes)");
    }
    if (raw_path.empty()) return problem("a file URL needs a path: file:///PATH");
    url.kind = StoreKind::kLocal;
    PHRFS_RETURN_IF_ERROR(PercentDecode(raw_path, true, problem, url.path));
    return url;
  }

  if (scheme == "webdav" || scheme == "webdavs") {
    url.kind = StoreKind::kWebDav;
    url.tls = scheme == "webdavs";
    PHRFS_RETURN_IF_ERROR(ParseHost(authority, url.tls, problem, url));
    std::vector<std::string> segments;
    PHRFS_RETURN_IF_ERROR(Segments(raw_path, problem, segments));
    url.path = "/" + Join(segments);
    return url;
  }

  if (scheme == "s3") {
    url.kind = StoreKind::kS3;
    if (authority.empty()) return problem("expected s3://BUCKET/PREFIX: the bucket is missing");
    if (authority.find(':') != std::string_view::npos) {
      return problem("an S3 STORE names only the bucket and prefix; the endpoint and its port "
                     "go in s3.endpoint (phrfs.yaml) or AWS_ENDPOINT_URL");
    }
    std::string why;
    if (!IsValidS3BucketName(authority, &why)) {
      return problem("bad bucket name '" + std::string(authority) + "': a bucket name " + why);
    }
    url.bucket = std::string(authority);
    std::vector<std::string> segments;
    PHRFS_RETURN_IF_ERROR(Segments(raw_path, problem, segments));
    url.prefix = Join(segments);
    return url;
  }

  if (scheme == "http" || scheme == "https") {
    return problem("unknown scheme '" + scheme + "': for WebDAV write webdav:// or webdavs:// "
                   "(TLS); for S3 write s3://BUCKET/PREFIX");
  }
  return problem("unknown scheme '" + scheme + "': expected " + std::string(kForms) +
                 " (write ./" + std::string(store.substr(0, scheme_length)) +
                 ":// ... for a directory of that name)");
}

std::string WebDavBaseUrl(const StoreUrl& url) {
  std::string out = url.tls ? "https://" : "http://";
  if (url.host.find(':') != std::string::npos) {
    out += "[" + url.host + "]";
  } else {
    out += url.host;
  }
  if (url.port != (url.tls ? 443 : 80)) out += ":" + std::to_string(url.port);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : url.path) {
    if (c == '/' || IsPathChar(c)) {
      out += c;
    } else {
      unsigned char b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  if (out.back() != '/') out += '/';
  return out;
}

Status CheckEndpointUrl(std::string_view url) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument(what); };
  size_t scheme_length = SchemeLength(url);
  std::string scheme;
  for (char c : url.substr(0, scheme_length)) scheme += Lower(c);
  if (scheme_length == 0 || (scheme != "http" && scheme != "https")) {
    return bad("expected an http:// or https:// URL such as https://s3.example.org:8443");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad("spaces and control characters are not allowed in a URL");
    }
  }
  std::string_view rest = url.substr(scheme_length + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials are never part of a URL: use s3.access_key_id and "
               "s3.secret_key_file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (!tail.empty() && tail != "/") {
    return bad("an endpoint is scheme, host and port only (no path, query or fragment); the "
               "bucket and prefix go in the STORE: s3://BUCKET/PREFIX");
  }
  StoreUrl scratch;
  return ParseHost(authority, scheme == "https", Problem(""), scratch);
}

}  // namespace phrfs::config
