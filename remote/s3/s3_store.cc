#include "remote/s3/s3_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <limits>
#include <utility>

#include "base/encoding.h"

namespace phrfs::remote::s3 {

struct S3Store::Head {
  bool found = false;
  uint64_t size = 0;
  std::string etag;
  int64_t mtime_ns = 0;
};

struct S3Store::Call {
  std::string method;
  std::string s3_key;  // "" = the bucket itself
  std::string query;   // already encoded
  std::vector<http::Header> headers;
  std::span<const uint8_t> body;
  bool idempotent = true;
};

namespace {

constexpr uint64_t kMinPartSize = uint64_t{5} << 20;  // S3's minimum for every part but the last
constexpr int kMaxParts = 10000;

Status Unavailable(std::string m) { return Status::Error(Code::kUnavailable, std::move(m)); }

// Hex MD5 of some bytes, or of the concatenation of several digests (multipart ETags).
std::string Md5Hex(std::span<const uint8_t> data) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  std::array<uint8_t, 16> digest{};
  unsigned int len = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), digest.data(), &len, md, nullptr) != 1) {
    return std::string();  // an empty expectation never matches: we fall back to the 412
  }
  return HexEncode(digest);
}

// Encoded, sorted query string from name/value pairs (a valueless name is written "name=").
std::string Query(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += UriEncode(name, false) + "=" + UriEncode(value, false);
  }
  return out;
}

// "Tue, 01 Dec 2026 00:06:11 GMT" (RFC 7231 IMF-fixdate) -> ns since the epoch; 0 if unparsable.
int64_t ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr) return 0;
  time_t t = timegm(&tm);
  return t <= 0 ? 0 : static_cast<int64_t>(t) * 1'000'000'000;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::Open(S3Options options,
                                               http::ClientOptions client_options) {
  return OpenWithClient(std::move(options), std::move(client_options), http::NewCurlClient);
}

Result<std::unique_ptr<S3Store>> S3Store::OpenWithClient(S3Options options,
                                                         http::ClientOptions client_options,
                                                         const ClientFactory& make_client) {
  if (!options.endpoint.starts_with("http://") && !options.endpoint.starts_with("https://")) {
    return Status::InvalidArgument("S3 endpoint must be an http(s) URL");
  }
  while (options.endpoint.ends_with("/")) options.endpoint.pop_back();
  if (options.bucket.size() < 3 || options.bucket.find('/') != std::string::npos) {
    return Status::InvalidArgument("S3 bucket name must have at least 3 characters and no '/'");
  }
  if (options.key_prefix.starts_with("/") || options.key_prefix.ends_with("/")) {
    return Status::InvalidArgument("S3 key prefix must not start or end with '/'");
  }
  if (!options.key_prefix.empty()) {
    auto parts = ObjectStore::SplitKey(options.key_prefix, false);
    if (!parts.ok()) return Status::InvalidArgument("S3 key prefix: " + parts.status().message());
  }
  if (options.access_key.empty() || options.secret_key.empty()) {
    return Status::InvalidArgument("S3 credentials are missing");
  }
  if (options.part_size < kMinPartSize || options.multipart_threshold < kMinPartSize) {
    return Status::InvalidArgument("S3 part size and multipart threshold must be >= 5 MiB");
  }
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return Status::InvalidArgument("S3 list page size must be 1..1000");
  }
  auto credentials = std::make_shared<Credentials>();
  credentials->access_key = options.access_key;
  credentials->secret_key = options.secret_key.Clone();
  credentials->region = options.region;
  credentials->service = "s3";
  client_options.signer = [credentials](http::Request& request) {
    return SignRequest(request, *credentials, std::chrono::system_clock::now());
  };
  PHRFS_ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> client,
                         make_client(std::move(client_options)));
  bool verify = options.verify_bucket;
  std::unique_ptr<S3Store> store(new S3Store(std::move(options), std::move(client)));
  if (verify) {
    const std::string what = "S3 bucket " + store->options_.bucket;
    PHRFS_ASSIGN_OR_RETURN(http::Response r, store->Send(Call{.method = "HEAD"}));
    if (r.status == 404) {
      return Status::NotFound(what + " does not exist at " + store->options_.endpoint);
    }
    if (r.status == 401 || r.status == 403) {
      // A HEAD carries no error body: say what it usually means.
      return Status::Error(Code::kPermissionDenied,
                           what + ": the server refused the credentials (wrong access key or "
                                  "secret key, or no access to this bucket; HTTP " +
                               std::to_string(r.status) + ")");
    }
    if (r.status != 200) return store->ErrorFor(r, what);
  }
  return store;
}

S3Store::S3Store(S3Options options, std::unique_ptr<http::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

std::string S3Store::ObjectKey(const std::string& path) const {
  return options_.key_prefix.empty() ? path : options_.key_prefix + "/" + path;
}

std::string S3Store::MarkerKey(const std::string& path) const { return ObjectKey(path) + "/"; }

std::string S3Store::ListPrefix(const std::string& collection) const {
  if (collection.empty()) return options_.key_prefix.empty() ? "" : options_.key_prefix + "/";
  return MarkerKey(collection);
}

std::string S3Store::Url(const std::string& s3_key, const std::string& query) const {
  std::string url;
  if (options_.addressing == Addressing::kPathStyle) {
    url = options_.endpoint + "/" + UriEncode(options_.bucket, false);
    if (!s3_key.empty()) url += "/" + UriEncode(s3_key, true);
  } else {
    size_t host = options_.endpoint.find("://") + 3;
    url = options_.endpoint.substr(0, host) + options_.bucket + "." +
          options_.endpoint.substr(host) + "/" + UriEncode(s3_key, true);
  }
  if (!query.empty()) url += "?" + query;
  return url;
}

Result<http::Response> S3Store::Send(Call call) const {
  http::Request request;
  request.method = std::move(call.method);
  request.url = Url(call.s3_key, call.query);
  request.headers = std::move(call.headers);
  request.body = call.body;
  request.idempotent = call.idempotent;
  return client_->Perform(std::move(request));
}

Status S3Store::ErrorFor(const http::Response& response, const std::string& what) const {
  std::optional<S3Error> e = ParseError(response.body);
  std::string code = e ? e->code : std::string();
  std::string message = what + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) message += " " + code;
  if (e && !e->message.empty()) message += " (" + e->message + ")";
  switch (response.status) {
    case 404:
      if (code == "NoSuchBucket") {
        return Status::NotFound(what + ": the bucket " + options_.bucket +
                                " does not exist (NoSuchBucket)");
      }
      return Status::NotFound(message);
    case 412:
      return Status::PreconditionFailed(message);
    case 401:
    case 403:
      return Status::Error(Code::kPermissionDenied, message);
    case 409:
      return Status::Error(Code::kBusy, message);
    case 507:
      return Status::Error(Code::kNoSpace, message);
    default:
      break;
  }
  if (code == "QuotaExceeded") return Status::Error(Code::kNoSpace, message);
  if (response.status >= 500) return Unavailable(message);
  return Status::IoError(message);
}

Result<S3Store::Head> S3Store::HeadKey(const std::string& s3_key) const {
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(Call{.method = "HEAD", .s3_key = s3_key}));
  Head head;
  if (r.status == 404) return head;
  if (r.status != 200) return ErrorFor(r, "HEAD " + s3_key);
  head.found = true;
  std::string length = r.Find("content-length").value_or("0");
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), head.size);
  if (ec != std::errc() || end != length.data() + length.size()) {
    return Status::Corrupt("HEAD " + s3_key + ": bad Content-Length '" + length + "'");
  }
  head.etag = UnquoteETag(r.Find("etag").value_or(""));
  head.mtime_ns = ParseHttpDate(r.Find("last-modified").value_or(""));
  return head;
}

Status S3Store::CheckParent(const std::string& path, const std::string& what) const {
  std::string parent = Parent(path);
  if (parent.empty()) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(MarkerKey(parent)));
  if (marker.found) return Status::Ok();
  PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(parent)));
  if (object.found) return Status::Error(Code::kNotADirectory, what + ": parent is an object");
  return Status::NotFound(what + ": parent collection missing");
}

Status S3Store::MissingObject(const std::string& path, const std::string& what) const {
  PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(MarkerKey(path)));
  if (marker.found) return Status::Error(Code::kIsADirectory, what + ": is a collection");
  return Status::NotFound(what);
}

Status S3Store::MissingCollection(const std::string& path, const std::string& what) const {
  PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
  if (object.found) return Status::Error(Code::kNotADirectory, what + ": is an object");
  return Status::NotFound(what);
}

Status S3Store::ListKeys(const std::string& prefix, bool one_level, size_t limit,
                         std::vector<ListedObject>* objects,
                         std::vector<std::string>* prefixes) const {
  std::string token;
  size_t seen = 0;
  do {
    std::vector<std::pair<std::string, std::string>> params = {
        {"list-type", "2"}, {"max-keys", std::to_string(options_.list_page_size)}};
    if (!prefix.empty()) params.emplace_back("prefix", prefix);
    if (one_level) params.emplace_back("delimiter", "/");
    if (!token.empty()) params.emplace_back("continuation-token", token);
    PHRFS_ASSIGN_OR_RETURN(http::Response r,
                           Send(Call{.method = "GET", .query = Query(std::move(params))}));
    if (r.status != 200) return ErrorFor(r, "list " + prefix);
    PHRFS_ASSIGN_OR_RETURN(ListPage page, ParseListObjectsV2(r.body));
    if (page.is_truncated && page.next_continuation_token == token) {
      return Status::Corrupt("list " + prefix + ": the continuation token did not advance");
    }
    for (ListedObject& o : page.objects) {
      if (!StartsWith(o.key, prefix)) {
        return Status::Corrupt("list " + prefix + ": key outside the prefix: " + o.key);
      }
      objects->push_back(std::move(o));
    }
    for (std::string& p : page.common_prefixes) {
      if (!StartsWith(p, prefix) || p.size() <= prefix.size()) {
        return Status::Corrupt("list " + prefix + ": bad common prefix: " + p);
      }
      if (prefixes != nullptr) prefixes->push_back(std::move(p));
    }
    seen += page.objects.size() + page.common_prefixes.size();
    token = page.is_truncated ? page.next_continuation_token : std::string();
  } while (!token.empty() && seen < limit);
  return Status::Ok();
}

Result<std::vector<ListEntry>> S3Store::DoList(const std::string& collection) {
  const std::string what = "list " + collection;
  if (!collection.empty()) {
    PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(MarkerKey(collection)));
    if (!marker.found) return MissingCollection(collection, what);
  }
  const std::string prefix = ListPrefix(collection);
  std::vector<ListedObject> objects;
  std::vector<std::string> prefixes;
  PHRFS_RETURN_IF_ERROR(ListKeys(prefix, /*one_level=*/true, std::numeric_limits<size_t>::max(),
                                 &objects, &prefixes));
  std::vector<ListEntry> entries;
  entries.reserve(objects.size() + prefixes.size());
  for (const ListedObject& o : objects) {
    if (o.key == prefix) continue;  // the collection's own marker
    entries.push_back(ListEntry{o.key.substr(prefix.size()), false, o.size, o.etag});
  }
  for (const std::string& p : prefixes) {
    entries.push_back(ListEntry{p.substr(prefix.size(), p.size() - prefix.size() - 1), true, 0, ""});
  }
  return entries;
}

Result<ObjectInfo> S3Store::DoStat(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
  if (object.found) return ObjectInfo{false, object.size, object.etag, object.mtime_ns};
  PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(MarkerKey(path)));
  if (marker.found) return ObjectInfo{true, 0, "", marker.mtime_ns};
  return Status::NotFound("stat " + path);
}

Result<std::vector<uint8_t>> S3Store::DoRead(const std::string& path, uint64_t offset,
                                             size_t max_length) {
  return RangedGet(path, offset, max_length, "", nullptr);
}

// One GET, with If-Match when `etag` is set (S3 and RGW answer 412 when it does not match); the
// ETag served is compared too, so a server that ignores If-Match is still caught. Where the
// answer carries no ETag (nothing at the offset), a HEAD says which version is there.
Result<std::vector<uint8_t>> S3Store::DoReadIfMatch(const std::string& path, uint64_t offset,
                                                    size_t max_length, const std::string& etag) {
  if (max_length == 0) return ObjectStore::DoReadIfMatch(path, offset, max_length, etag);
  std::string served;
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, RangedGet(path, offset, max_length, etag, &served));
  if (served.empty()) {
    PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
    if (!object.found) return MissingObject(path, "read " + path);
    served = object.etag;
  }
  if (served != UnquoteETag(etag)) return Status::PreconditionFailed("read " + path + ": changed");
  return bytes;
}

Result<std::vector<uint8_t>> S3Store::RangedGet(const std::string& path, uint64_t offset,
                                                size_t max_length, const std::string& if_match,
                                                std::string* served_etag) const {
  const std::string what = "read " + path;
  if (max_length == 0) {
    PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
    if (!object.found) return MissingObject(path, what);
    if (served_etag) *served_etag = object.etag;
    return std::vector<uint8_t>();
  }
  std::string range = "bytes=" + std::to_string(offset) + "-";
  if (max_length - 1 <= std::numeric_limits<uint64_t>::max() - offset) {
    range += std::to_string(offset + (max_length - 1));
  }
  Call call{.method = "GET", .s3_key = ObjectKey(path), .headers = {{"Range", range}}};
  if (!if_match.empty()) call.headers.push_back({"If-Match", UnquoteETag(if_match)});
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(std::move(call)));
  if (r.status == 412) return Status::PreconditionFailed(what + ": changed");
  if (r.status == 416) return std::vector<uint8_t>();  // the object exists; nothing at offset
  if (r.status == 404) {
    std::optional<S3Error> e = ParseError(r.body);
    if (e && e->code == "NoSuchBucket") return ErrorFor(r, what);
    return MissingObject(path, what);
  }
  if ((r.status == 200 || r.status == 206) && served_etag)
    *served_etag = UnquoteETag(r.Find("etag").value_or(""));
  if (r.status == 200) {  // the server ignored the range: cut it out ourselves
    if (offset >= r.body.size()) return std::vector<uint8_t>();
    size_t n = std::min<uint64_t>(max_length, r.body.size() - offset);
    return std::vector<uint8_t>(r.body.begin() + static_cast<ptrdiff_t>(offset),
                                r.body.begin() + static_cast<ptrdiff_t>(offset + n));
  }
  if (r.status != 206) return ErrorFor(r, what);
  if (r.body.size() > max_length) r.body.resize(max_length);
  return std::move(r.body);
}

Result<std::string> S3Store::DoWrite(const std::string& path, std::span<const uint8_t> data,
                                     const Precondition& precondition) {
  const std::string what = "write " + path;
  PHRFS_RETURN_IF_ERROR(CheckParent(path, what));
  PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(MarkerKey(path)));
  if (marker.found) return Status::Error(Code::kIsADirectory, what + ": is a collection");
  if (data.size() > options_.multipart_threshold) return PutMultipart(path, data, precondition);
  return PutSingle(path, data, precondition);
}

Result<std::string> S3Store::PutSingle(const std::string& path, std::span<const uint8_t> data,
                                       const Precondition& precondition) const {
  const std::string what = "write " + path;
  Call call{.method = "PUT", .s3_key = ObjectKey(path), .body = data};
  call.headers.push_back({"Content-Type", "application/octet-stream"});
  if (precondition.kind == Precondition::Kind::kMustNotExist) {
    call.headers.push_back({"If-None-Match", "*"});
  } else if (precondition.kind == Precondition::Kind::kETagMatches) {
    // RGW 16 compares the raw header with its unquoted ETag: send it unquoted.
    call.headers.push_back({"If-Match", UnquoteETag(precondition.etag)});
  }
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(std::move(call)));
  std::string md5 = Md5Hex(data);
  if (r.status == 200) {
    std::string etag = UnquoteETag(r.Find("etag").value_or(""));
    return etag.empty() ? md5 : etag;
  }
  if (r.status == 412 && precondition.kind != Precondition::Kind::kNone) {
    // Did an earlier attempt of this very request (retried by the client) land? Then the
    // object holds our bytes and the 412 is about ourselves.
    PHRFS_ASSIGN_OR_RETURN(Head now, HeadKey(ObjectKey(path)));
    if (now.found && !md5.empty() && now.etag == md5 && now.size == data.size() &&
        !(precondition.kind == Precondition::Kind::kETagMatches &&
          UnquoteETag(precondition.etag) == md5)) {
      return now.etag;
    }
  }
  return ErrorFor(r, what);
}

Result<std::string> S3Store::PutMultipart(const std::string& path, std::span<const uint8_t> data,
                                          const Precondition& precondition) const {
  const std::string what = "write " + path + " (multipart)";
  const std::string key = ObjectKey(path);
  const uint64_t part_size = options_.part_size;
  const uint64_t parts = (data.size() + part_size - 1) / part_size;
  if (parts > kMaxParts) return Status::Error(Code::kFileTooBig, what + ": too many parts");

  // CompleteMultipartUpload does not honour If-None-Match on RGW 16: check first (racy).
  if (precondition.kind != Precondition::Kind::kNone) {
    PHRFS_ASSIGN_OR_RETURN(Head now, HeadKey(key));
    if (precondition.kind == Precondition::Kind::kMustNotExist && now.found) {
      return Status::PreconditionFailed(what + ": exists");
    }
    if (precondition.kind == Precondition::Kind::kETagMatches &&
        (!now.found || now.etag != UnquoteETag(precondition.etag))) {
      return Status::PreconditionFailed(what + ": etag mismatch");
    }
  }

  PHRFS_ASSIGN_OR_RETURN(
      http::Response init,
      Send(Call{.method = "POST",
                .s3_key = key,
                .query = "uploads=",
                .headers = {{"Content-Type", "application/octet-stream"}}}));
  if (init.status != 200) return ErrorFor(init, what + ": initiate");
  PHRFS_ASSIGN_OR_RETURN(std::string upload_id, ParseInitiateMultipartUpload(init.body));

  auto abort = [&](Status cause) -> Status {
    // Best effort: a failed abort leaves parts that a bucket lifecycle rule must collect.
    auto r = Send(Call{.method = "DELETE", .s3_key = key, .query = Query({{"uploadId", upload_id}})});
    (void)r;
    return cause;
  };

  std::string complete = "<CompleteMultipartUpload>";
  std::vector<uint8_t> digests;  // binary MD5 of every part, for the expected final ETag
  for (uint64_t i = 0; i < parts; ++i) {
    std::span<const uint8_t> part =
        data.subspan(i * part_size, std::min<uint64_t>(part_size, data.size() - i * part_size));
    std::string number = std::to_string(i + 1);
    auto r = Send(Call{.method = "PUT",
                       .s3_key = key,
                       .query = Query({{"partNumber", number}, {"uploadId", upload_id}}),
                       .body = part});
    if (!r.ok()) return abort(r.status());
    if (r->status != 200) return abort(ErrorFor(*r, what + ": part " + number));
    std::string etag = UnquoteETag(r->Find("etag").value_or(""));
    if (etag.empty()) return abort(Status::Corrupt(what + ": part " + number + " without ETag"));
    std::string md5 = Md5Hex(part);
    if (etag != md5) {
      return abort(Status::Corrupt(what + ": part " + number + " ETag is not its MD5"));
    }
    auto raw = HexDecode(md5);
    if (raw) digests.insert(digests.end(), raw->begin(), raw->end());
    complete += "<Part><PartNumber>" + number + "</PartNumber><ETag>\"" + etag +
                "\"</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  const std::string expected = Md5Hex(digests) + "-" + std::to_string(parts);

  std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(complete.data()),
                                complete.size());
  auto r = Send(Call{.method = "POST",
                     .s3_key = key,
                     .query = Query({{"uploadId", upload_id}}),
                     .headers = {{"Content-Type", "application/xml"}},
                     .body = body});
  if (!r.ok()) return abort(r.status());
  if (r->status == 404) {
    // A retried Complete whose first attempt landed finds its upload gone: look at the object.
    PHRFS_ASSIGN_OR_RETURN(Head now, HeadKey(key));
    if (now.found && now.etag == expected) return now.etag;
  }
  if (r->status != 200) return abort(ErrorFor(*r, what + ": complete"));
  auto etag = ParseCompleteMultipartUpload(r->body);
  if (!etag.ok()) return abort(etag.status());
  if (!etag->empty()) return etag;
  // RGW 16 answers <ETag></ETag>: the object is complete, ask it for its tag.
  PHRFS_ASSIGN_OR_RETURN(Head now, HeadKey(key));
  if (!now.found || now.etag.empty()) {
    return Status::Corrupt(what + ": completed upload has no ETag");
  }
  return now.etag;
}

Status S3Store::DeleteKey(const std::string& s3_key, const std::string& what) const {
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(Call{.method = "DELETE", .s3_key = s3_key}));
  if (r.status == 204 || r.status == 200 || r.status == 404) return Status::Ok();
  return ErrorFor(r, what);
}

Status S3Store::DoDelete(const std::string& path, const Precondition& precondition) {
  const std::string what = "delete " + path;
  PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
  if (!object.found) return MissingObject(path, what);
  // RGW 16 has no reliable If-Match on DELETE: the check is a HEAD, racy against a writer.
  if (precondition.kind == Precondition::Kind::kETagMatches &&
      object.etag != UnquoteETag(precondition.etag)) {
    return Status::PreconditionFailed(what + ": etag mismatch");
  }
  return DeleteKey(ObjectKey(path), what);
}

Status S3Store::DoMakeCollection(const std::string& path) {
  const std::string what = "make collection " + path;
  PHRFS_RETURN_IF_ERROR(CheckParent(path, what));
  PHRFS_ASSIGN_OR_RETURN(Head object, HeadKey(ObjectKey(path)));
  if (object.found) return Status::AlreadyExists(what + ": an object has this name");
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(Call{.method = "PUT",
                                                     .s3_key = MarkerKey(path),
                                                     .headers = {{"If-None-Match", "*"}}}));
  if (r.status == 200) return Status::Ok();
  if (r.status == 412) return Status::AlreadyExists(what);
  return ErrorFor(r, what);
}

Status S3Store::DoRemoveCollection(const std::string& path) {
  const std::string what = "remove collection " + path;
  const std::string marker_key = MarkerKey(path);
  PHRFS_ASSIGN_OR_RETURN(Head marker, HeadKey(marker_key));
  if (!marker.found) return MissingCollection(path, what);
  std::vector<ListedObject> below;
  PHRFS_RETURN_IF_ERROR(ListKeys(marker_key, /*one_level=*/false, 2, &below, nullptr));
  for (const ListedObject& o : below) {
    if (o.key != marker_key) return Status::Error(Code::kNotEmpty, what);
  }
  return DeleteKey(marker_key, what);
}

Status S3Store::CopyKey(const std::string& from_key, const std::string& to_key) const {
  const std::string what = "copy " + from_key + " -> " + to_key;
  const std::string source = "/" + options_.bucket + "/" + UriEncode(from_key, true);
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send(Call{.method = "PUT",
                                                     .s3_key = to_key,
                                                     .headers = {{"x-amz-copy-source", source}}}));
  if (r.status != 200) return ErrorFor(r, what);
  return ParseCopyObject(r.body).status();  // a 200 may still carry an <Error>
}

Status S3Store::DoRename(const std::string& from, const std::string& to, RenameOptions options) {
  const std::string what = "rename " + from + " -> " + to;
  auto src_stat = DoStat(from);
  if (!src_stat.ok()) {
    if (src_stat.status().code() == Code::kNotFound) return Status::NotFound(what);
    return src_stat.status();
  }
  const ObjectInfo src = src_stat.value();
  PHRFS_RETURN_IF_ERROR(CheckParent(to, what));
  auto dst = DoStat(to);
  if (!dst.ok() && dst.status().code() != Code::kNotFound) return dst.status();
  if (dst.ok()) {
    if (!options.replace) return Status::AlreadyExists(what);
    if (from == to) return Status::Ok();
    if (src.is_collection && !dst->is_collection) {
      return Status::Error(Code::kNotADirectory, what);
    }
    if (!src.is_collection && dst->is_collection) return Status::Error(Code::kIsADirectory, what);
    if (dst->is_collection) {
      std::vector<ListedObject> below;
      PHRFS_RETURN_IF_ERROR(ListKeys(MarkerKey(to), false, 2, &below, nullptr));
      for (const ListedObject& o : below) {
        if (o.key != MarkerKey(to)) return Status::Error(Code::kNotEmpty, what);
      }
    }
  }
  if (!src.is_collection) {
    PHRFS_RETURN_IF_ERROR(CopyKey(ObjectKey(from), ObjectKey(to)));
    return DeleteKey(ObjectKey(from), what);
  }
  // A collection: copy every key below it (marker included), then delete the sources, the
  // marker last so that an interrupted delete still leaves a listable source.
  const std::string from_prefix = MarkerKey(from);
  const std::string to_prefix = MarkerKey(to);
  std::vector<ListedObject> keys;
  PHRFS_RETURN_IF_ERROR(ListKeys(from_prefix, false, std::numeric_limits<size_t>::max(), &keys,
                                 nullptr));
  for (const ListedObject& o : keys) {
    PHRFS_RETURN_IF_ERROR(CopyKey(o.key, to_prefix + o.key.substr(from_prefix.size())));
  }
  std::sort(keys.begin(), keys.end(),
            [](const ListedObject& a, const ListedObject& b) { return a.key.size() > b.key.size(); });
  for (const ListedObject& o : keys) PHRFS_RETURN_IF_ERROR(DeleteKey(o.key, what));
  return Status::Ok();
}

}  // namespace phrfs::remote::s3
