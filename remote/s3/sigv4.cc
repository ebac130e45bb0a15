#include "remote/s3/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>
#include <utility>

#include "base/encoding.h"
#include "crypto/kdf.h"

namespace phrfs::remote::s3 {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// HMAC-SHA256(key, data) (crypto/kdf.h) into a SecureBytes: every intermediate key of the
// chain is secret, so the plain copy is wiped at once.
Result<SecureBytes> HmacSha256(std::span<const uint8_t> key, std::string_view data) {
  PHRFS_ASSIGN_OR_RETURN(auto mac, crypto::HmacSha256(key, AsBytes(data)));
  SecureBytes out(mac.data(), mac.size());
  OPENSSL_cleanse(mac.data(), mac.size());
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return Status::InvalidArgument("sigv4: truncated percent escape");
    }
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("sigv4: malformed percent escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Trims both ends and folds inner runs of spaces/tabs to one space.
std::string TrimValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ToLower(a) == ToLower(b);
}

// Headers libcurl may add, drop or rewrite on its own: signing them would break the signature.
bool IsUnsignable(const http::Header& h) {
  static constexpr std::array<std::string_view, 7> kSkip = {
      "authorization", "expect", "content-length", "user-agent",
      "accept-encoding", "connection", "transfer-encoding"};
  if (TrimValue(h.value).empty()) return true;  // curl drops "Name:" headers
  std::string name = ToLower(h.name);
  return std::find(kSkip.begin(), kSkip.end(), name) != kSkip.end();
}

struct UrlParts {
  std::string scheme;
  std::string authority;
  std::string path;
  std::string query;
};

Result<UrlParts> SplitUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument("sigv4: URL without a scheme");
  }
  UrlParts parts;
  parts.scheme = ToLower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t path_start = rest.find_first_of("/?");
  parts.authority = std::string(rest.substr(0, path_start));
  if (parts.authority.empty() || parts.authority.find('@') != std::string::npos) {
    return Status::InvalidArgument("sigv4: URL without a plain host");
  }
  if (path_start == std::string_view::npos) return parts;
  rest = rest.substr(path_start);
  size_t q = rest.find('?');
  parts.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) parts.query = std::string(rest.substr(q + 1));
  return parts;
}

// The Host header libcurl sends: the URL's authority without the scheme's default port.
std::string HostHeader(const UrlParts& url) {
  std::string_view default_port = url.scheme == "https" ? ":443" : ":80";
  std::string host = ToLower(url.authority);
  if (host.size() > default_port.size() && host.ends_with(default_port)) {
    host.resize(host.size() - default_port.size());
  }
  return host;
}

}  // namespace

Result<std::string> Sha256Hex(std::span<const uint8_t> data) {
  PHRFS_ASSIGN_OR_RETURN(auto digest, crypto::Sha256(data));
  return HexEncode(digest);
}

std::string AmzDate(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string UriEncode(std::string_view raw, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() * 3);
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> CanonicalUri(std::string_view encoded_path) {
  if (encoded_path.empty()) return std::string("/");
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = encoded_path.find('/', start);
    std::string_view segment = encoded_path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    PHRFS_ASSIGN_OR_RETURN(std::string raw, Decode(segment));
    out += UriEncode(raw, /*keep_slash=*/false);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  if (out.empty() || out[0] != '/') out.insert(out.begin(), '/');
  return out;
}

Result<std::string> CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t amp = raw_query.find('&', start);
    std::string_view item = raw_query.substr(
        start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view name = item.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      PHRFS_ASSIGN_OR_RETURN(std::string raw_name, Decode(name));
      PHRFS_ASSIGN_OR_RETURN(std::string raw_value, Decode(value));
      params.emplace_back(UriEncode(raw_name, false), UriEncode(raw_value, false));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

Result<CanonicalRequest> BuildCanonicalRequest(std::string_view method,
                                               std::string_view encoded_path,
                                               std::string_view raw_query,
                                               const std::vector<http::Header>& headers,
                                               std::string_view payload_hash) {
  PHRFS_ASSIGN_OR_RETURN(std::string uri, CanonicalUri(encoded_path));
  PHRFS_ASSIGN_OR_RETURN(std::string query, CanonicalQuery(raw_query));
  std::vector<std::pair<std::string, std::string>> canonical;
  for (const http::Header& h : headers) {
    std::string name = ToLower(TrimValue(h.name));
    std::string value = TrimValue(h.value);
    auto same = std::find_if(canonical.begin(), canonical.end(),
                             [&](const auto& p) { return p.first == name; });
    if (same != canonical.end()) {
      same->second += ",";
      same->second += value;
    } else {
      canonical.emplace_back(std::move(name), std::move(value));
    }
  }
  std::sort(canonical.begin(), canonical.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalRequest out;
  out.text.append(method).append("\n").append(uri).append("\n").append(query).append("\n");
  for (const auto& [name, value] : canonical) {
    out.text.append(name).append(":").append(value).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  out.text.append("\n").append(out.signed_headers).append("\n").append(payload_hash);
  return out;
}

std::string CredentialScope(std::string_view amz_date, const Credentials& credentials) {
  std::string scope(amz_date.substr(0, 8));
  scope.append("/").append(credentials.region).append("/").append(credentials.service);
  scope.append("/aws4_request");
  return scope;
}

Result<std::string> StringToSign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request) {
  PHRFS_ASSIGN_OR_RETURN(std::string hash, Sha256Hex(AsBytes(canonical_request)));
  std::string out = "AWS4-HMAC-SHA256\n";
  out.append(amz_date).append("\n").append(scope).append("\n").append(hash);
  return out;
}

Result<std::string> Signature(const Credentials& credentials, std::string_view amz_date,
                              std::string_view string_to_sign) {
  if (amz_date.size() < 8) return Status::InvalidArgument("sigv4: malformed x-amz-date");
  SecureBytes seed(4 + credentials.secret_key.size());
  std::copy_n(reinterpret_cast<const uint8_t*>("AWS4"), 4, seed.data());
  std::copy(credentials.secret_key.span().begin(), credentials.secret_key.span().end(),
            seed.data() + 4);
  PHRFS_ASSIGN_OR_RETURN(SecureBytes k_date, HmacSha256(seed.span(), amz_date.substr(0, 8)));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes k_region, HmacSha256(k_date.span(), credentials.region));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes k_service, HmacSha256(k_region.span(), credentials.service));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes k_signing, HmacSha256(k_service.span(), "aws4_request"));
  PHRFS_ASSIGN_OR_RETURN(SecureBytes mac, HmacSha256(k_signing.span(), string_to_sign));
  return HexEncode(mac.span());
}

Status SignRequest(http::Request& request, const Credentials& credentials,
                   std::chrono::system_clock::time_point now) {
  PHRFS_ASSIGN_OR_RETURN(UrlParts url, SplitUrl(request.url));
  // Drop what an earlier signing of this request added, so a retry signs afresh.
  std::erase_if(request.headers, [](const http::Header& h) {
    return EqualsIgnoreCase(h.name, "authorization") || EqualsIgnoreCase(h.name, "x-amz-date") ||
           EqualsIgnoreCase(h.name, "host");
  });
  std::string payload_hash;
  for (const http::Header& h : request.headers) {
    if (EqualsIgnoreCase(h.name, "x-amz-content-sha256")) payload_hash = TrimValue(h.value);
  }
  if (payload_hash.empty()) {
    PHRFS_ASSIGN_OR_RETURN(payload_hash, Sha256Hex(request.body));
    std::erase_if(request.headers, [](const http::Header& h) {
      return EqualsIgnoreCase(h.name, "x-amz-content-sha256");
    });
    request.headers.push_back({"x-amz-content-sha256", payload_hash});
  }
  std::string amz_date = AmzDate(now);
  request.headers.push_back({"Host", HostHeader(url)});
  request.headers.push_back({"x-amz-date", amz_date});

  std::vector<http::Header> signed_headers;
  for (const http::Header& h : request.headers) {
    if (!IsUnsignable(h)) signed_headers.push_back(h);
  }
  PHRFS_ASSIGN_OR_RETURN(CanonicalRequest canonical,
                         BuildCanonicalRequest(request.method, url.path, url.query,
                                               signed_headers, payload_hash));
  std::string scope = CredentialScope(amz_date, credentials);
  PHRFS_ASSIGN_OR_RETURN(std::string to_sign, StringToSign(amz_date, scope, canonical.text));
  PHRFS_ASSIGN_OR_RETURN(std::string signature, Signature(credentials, amz_date, to_sign));
  std::string authorization = "AWS4-HMAC-SHA256 Credential=";
  authorization.append(credentials.access_key).append("/").append(scope);
  authorization.append(",SignedHeaders=").append(canonical.signed_headers);
  authorization.append(",Signature=").append(signature);
  request.headers.push_back({"Authorization", std::move(authorization)});
  return Status::Ok();
}

}  // namespace phrfs::remote::s3
