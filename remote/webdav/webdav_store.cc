// WebDavStore over HttpClient. Server behaviour it relies on (Apache 2.4 mod_dav_fs, checked):
// - PUT is atomic (temp file + rename) and honours If-None-Match: * and If-Match (412), but
//   checks them apart from the write: two concurrent If-None-Match: * PUTs may both succeed.
//   WebDAV LOCK does not help: Apache granted two concurrent exclusive LOCKs in testing (its lock
//   database checks and adds without one lock around both). MKCOL is mkdir(2), which is atomic, so
//   a conditional write (and a conditional delete) holds a per-key mutex collection
//   .phrfs-locks/<sha256(key)> around its request. A mutex older than kLockLeaseSeconds by the
//   server's clock is taken as left behind by a dead writer and removed (two waiters that both
//   judge it stale at the same moment can both get in: a crash-recovery window, not the normal
//   path). The root name .phrfs-locks is reserved (InvalidArgument) and never listed.
//   Rename onto a missing target (MOVE Overwrite: F, checked apart from the move too) holds the
//   target's mutex as well. Not covered: a child created while RemoveCollection deletes.
// - ETags are strong only with `FileETag Digest` ("base64(SHA-1)"); PUT returns none, so the
//   ETag of a write is computed locally once the server is seen to use digests, else HEAD.
// - DELETE of a collection is recursive: Delete and RemoveCollection check the kind (and
//   emptiness) first; a child created in that window is lost with it (documented race).
// - MOVE needs an absolute Destination; into a missing parent it gives 500, and under an object
//   400, so failures are explained by looking at the target's ancestors.
// - GET on a collection is 404, PROPFIND/PUT below an object 400, MKCOL on anything existing 405.
//   So a 404/409 means "missing" (the key or an ancestor), and is NotFound at once when the
//   parent is a collection this store saw (known_collections_); else the parent is asked first,
//   and only when it is no collection every ancestor from the top. A 400 always asks.
// - A GET's ETag is the digest of the bytes it sends; ReadWhole trusts it only after checking
//   that digest against the bytes received.
#include "remote/webdav/webdav_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "base/encoding.h"
#include "crypto/kdf.h"
#include "remote/http/xml.h"

namespace phrfs::remote {
namespace {

constexpr std::string_view kDav = "DAV:";

constexpr char kPropFindBody[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop>"
    "<D:resourcetype/><D:getcontentlength/><D:getetag/><D:getlastmodified/>"
    "</D:prop></D:propfind>";

constexpr char kLockRoot[] = ".phrfs-locks";
// A key mutex older than this (server clock) is stale: its writer died.
constexpr int64_t kLockLeaseSeconds = 60;
// How long a conditional write waits for another writer's mutex, or any request for a
// WebDAV lock (423) someone else holds, before giving up (Busy).
constexpr std::chrono::seconds kLockWait{kLockLeaseSeconds + 30};
// How many collections a store remembers as existing; past that it starts over (a memo only).
constexpr size_t kKnownCollectionsMax = 4096;

bool IsReserved(const std::string& key) {
  return key == kLockRoot || key.starts_with(std::string(kLockRoot) + "/");
}

Status Reserved(const std::string& key) {
  return Status::InvalidArgument(key + ": the name " + kLockRoot + " is reserved by the store");
}

Status Err(Code code, std::string message) { return Status::Error(code, std::move(message)); }

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// If-Match wants a quoted entity tag; a caller may hold one without quotes.
std::string Quoted(const std::string& etag) {
  if (etag.starts_with("\"") || etag.starts_with("W/\"")) return etag;
  return "\"" + etag + "\"";
}

std::string Parent(const std::string& key) {
  size_t slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

// "Tue, 01 Dec 2026 00:09:14 GMT" (RFC 1123, as getlastmodified carries it) -> ns; 0 if not.
int64_t ParseHttpDate(const std::string& text) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char month[4] = {0};
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (std::sscanf(text.c_str(), "%*3s, %d %3s %d %d:%d:%d", &day, month, &year, &hour, &minute,
                  &second) != 6) {
    return 0;
  }
  struct tm tm {};
  tm.tm_mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(month, kMonths[i]) == 0) tm.tm_mon = i;
  }
  if (tm.tm_mon < 0) return 0;
  tm.tm_mday = day;
  tm.tm_year = year - 1900;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t t = timegm(&tm);
  return t <= 0 ? 0 : static_cast<int64_t>(t) * 1'000'000'000;
}

// The path part of an href, which may be absolute ("http://h:p/a/b") or a path ("/a/b").
std::string_view HrefPath(std::string_view href) {
  size_t scheme = href.find("://");
  if (scheme == std::string_view::npos) return href;
  size_t path = href.find('/', scheme + 3);
  return path == std::string_view::npos ? std::string_view("/") : href.substr(path);
}

// Splits "scheme://authority/path" and checks it; returns the path ("/" at least).
Result<std::string> BasePath(const std::string& url) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return Status::InvalidArgument("WebDAV URL must start with http:// or https://");
  }
  size_t authority = url.find("://") + 3;
  size_t path = url.find('/', authority);
  std::string host =
      url.substr(authority, path == std::string::npos ? std::string::npos : path - authority);
  if (host.empty()) return Status::InvalidArgument("WebDAV URL has no host");
  if (host.find('@') != std::string::npos) {
    return Status::InvalidArgument("WebDAV URL must not carry credentials; use the options");
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return Status::InvalidArgument("WebDAV URL must not have a query or fragment");
  }
  auto decoded = http::PercentDecode(path == std::string::npos ? "/" : url.substr(path));
  if (!decoded.ok()) return Status::InvalidArgument("WebDAV URL has a malformed escape");
  return decoded.value();
}

}  // namespace

Status WebDavStatus(long http_status, const std::string& what) {
  std::string m = what + ": HTTP " + std::to_string(http_status);
  switch (http_status) {
    case 401:
    case 403:
      return Err(Code::kPermissionDenied, m);
    case 404:
    case 409:
    case 410:
      return Err(Code::kNotFound, m);
    case 412:
      return Err(Code::kPreconditionFailed, m);
    case 413:
      return Err(Code::kFileTooBig, m);
    case 423:
      return Err(Code::kBusy, m);
    case 400:
      return Err(Code::kInvalidArgument, m);
    case 405:
    case 501:
      return Err(Code::kNotSupported, m);
    case 507:
      return Err(Code::kNoSpace, m);
    default:
      break;
  }
  if (http_status >= 500) return Err(Code::kUnavailable, m);
  return Err(Code::kIoError, m);
}

WebDavStore::WebDavStore(std::string base_url, std::string base_path,
                         std::unique_ptr<http::HttpClient> client)
    : base_url_(std::move(base_url)),
      base_path_(std::move(base_path)),
      client_(std::move(client)) {}

Result<std::unique_ptr<WebDavStore>> WebDavStore::Open(WebDavOptions options) {
  PHRFS_ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> client,
                         http::NewCurlClient(std::move(options.client)));
  return OpenWithClient(std::move(options.base_url), std::move(client));
}

Result<std::unique_ptr<WebDavStore>> WebDavStore::OpenWithClient(
    std::string base_url, std::unique_ptr<http::HttpClient> client) {
  if (!base_url.ends_with("/")) base_url += "/";
  PHRFS_ASSIGN_OR_RETURN(std::string base_path, BasePath(base_url));
  if (!base_path.ends_with("/")) base_path += "/";
  std::unique_ptr<WebDavStore> store(
      new WebDavStore(std::move(base_url), std::move(base_path), std::move(client)));
  PHRFS_ASSIGN_OR_RETURN(http::Response r, store->SendPropFind("", 0));
  if (r.status != 207) return WebDavStatus(r.status, "open WebDAV root");
  PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, store->ParseMultistatus(r));
  if (entries.empty()) return Status::Corrupt("open WebDAV root: empty PROPFIND answer");
  if (!entries[0].info.is_collection) {
    return Err(Code::kNotADirectory, "open WebDAV root: not a collection");
  }
  return store;
}

std::string WebDavStore::Url(const std::string& key) const {
  return base_url_ + http::PercentEncode(key, /*keep_slash=*/true);
}

Result<http::Response> WebDavStore::Send(std::string method, const std::string& key,
                                         std::vector<http::Header> headers,
                                         std::span<const uint8_t> body, bool idempotent) {
  http::Request request;
  request.method = std::move(method);
  request.url = Url(key);
  request.headers = std::move(headers);
  request.body = body;
  request.idempotent = idempotent;
  // 423 Locked: someone holds a WebDAV lock (not this store, which never LOCKs); wait a while.
  thread_local std::mt19937 rng(std::random_device{}());
  const auto deadline = std::chrono::steady_clock::now() + kLockWait;
  int64_t ceiling_ms = 5;
  for (;;) {
    PHRFS_ASSIGN_OR_RETURN(http::Response r, client_->Perform(request));
    if (r.status != 423) return r;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Err(Code::kBusy, request.method + " " + key + ": still locked by another writer");
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(1 + std::uniform_int_distribution<int64_t>(0, ceiling_ms)(rng)));
    ceiling_ms = std::min<int64_t>(ceiling_ms * 2, 200);
  }
}

Result<std::string> WebDavStore::AcquireKeyLock(const std::string& key) {
  PHRFS_ASSIGN_OR_RETURN(auto digest, crypto::Sha256({reinterpret_cast<const uint8_t*>(key.data()), key.size()}));
  const std::string lock = std::string(kLockRoot) + "/" + HexEncode({digest.data(), 16});
  const std::string what = "lock for " + key;
  thread_local std::mt19937 rng(std::random_device{}());
  const auto start = std::chrono::steady_clock::now();
  auto next_stale_check = start;  // at the first 405, then every 2 s of waiting
  int64_t ceiling_ms = 2;
  // Apache answers 403 (EEXIST) to a MKCOL that lost a mkdir race; a real refusal answers 403
  // every time, a race hardly twice in a row.
  int races_in_a_row = 0;
  for (;;) {
    // Sent as idempotent (pooled connections, retries): if an attempt landed but its answer was
    // lost, the retry sees 405 and this writer waits for its own mutex to go stale. Slow in that
    // rare case, never two holders; a fresh connection per write would cost a handshake always.
    PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("MKCOL", lock, {}));
    if (r.status == 201) return lock;
    if (r.status == 403 && ++races_in_a_row <= 5) continue;  // asking again gives 405 then
    if (r.status != 403 && r.status != 409) races_in_a_row = 0;
    if (r.status == 409) {
      // No lock root yet: make it (racing others), then retry.
      PHRFS_ASSIGN_OR_RETURN(http::Response root, Send("MKCOL", kLockRoot, {}));
      if (root.status == 403 && ++races_in_a_row <= 5) continue;
      if (root.status != 201 && root.status != 405) return WebDavStatus(root.status, what);
      continue;
    }
    if (r.status != 405) return WebDavStatus(r.status, what);
    auto now = std::chrono::steady_clock::now();
    if (now >= next_stale_check) {
      next_stale_check = now + std::chrono::seconds(2);
      PHRFS_ASSIGN_OR_RETURN(http::Response pf, SendPropFind(lock, 0));
      if (pf.status == 207) {
        auto entries = ParseMultistatus(pf);
        int64_t server_now = ParseHttpDate(pf.Find("date").value_or(""));
        if (entries.ok() && !entries->empty() && server_now > 0 &&
            (*entries)[0].info.mtime_ns > 0 &&
            server_now - (*entries)[0].info.mtime_ns > kLockLeaseSeconds * 1'000'000'000) {
          (void)Send("DELETE", lock, {});  // left by a dead writer
          continue;
        }
      }
    }
    if (now - start >= kLockWait) return Err(Code::kBusy, what + ": held too long by another");
    std::this_thread::sleep_for(
        std::chrono::milliseconds(1 + std::uniform_int_distribution<int64_t>(0, ceiling_ms)(rng)));
    ceiling_ms = std::min<int64_t>(ceiling_ms * 2, 100);
  }
}

void WebDavStore::ReleaseKeyLock(const std::string& lock) {
  // Best effort: a mutex we fail to remove goes stale after kLockLeaseSeconds.
  (void)Send("DELETE", lock, {});
}

Result<http::Response> WebDavStore::SendPropFind(const std::string& key, int depth) {
  return Send("PROPFIND", key,
              {{"Depth", std::to_string(depth)}, {"Content-Type", "application/xml"}},
              AsBytes(kPropFindBody));
}

Result<std::vector<WebDavStore::DavEntry>> WebDavStore::ParseMultistatus(
    const http::Response& response) const {
  PHRFS_ASSIGN_OR_RETURN(http::XmlDocument doc, http::XmlDocument::Parse(response.body));
  http::XmlNode root = doc.Root();
  if (!root.Is(kDav, "multistatus")) return Status::Corrupt("PROPFIND answer is not multistatus");
  std::vector<DavEntry> out;
  for (const http::XmlNode& r : root.Children(kDav, "response")) {
    std::optional<std::string> href = r.ChildText(kDav, "href");
    if (!href) return Status::Corrupt("PROPFIND response without href");
    auto path = http::PercentDecode(HrefPath(*href));
    if (!path.ok()) return Status::Corrupt("PROPFIND href with a malformed escape");
    std::string p = path.value();
    if (p + "/" == base_path_) p += "/";  // the root, written without its slash
    if (!p.starts_with(base_path_)) {
      return Status::Corrupt("PROPFIND href outside the store root");
    }
    DavEntry entry;
    entry.key = p.substr(base_path_.size());
    while (entry.key.ends_with("/")) entry.key.pop_back();
    bool has_etag = false, has_modified = false;
    for (const http::XmlNode& ps : r.Children(kDav, "propstat")) {
      std::string status = ps.ChildText(kDav, "status").value_or("");
      if (status.find(" 200") == std::string::npos) continue;  // the props it does not have
      std::optional<http::XmlNode> prop = ps.Child(kDav, "prop");
      if (!prop) continue;
      if (std::optional<http::XmlNode> type = prop->Child(kDav, "resourcetype")) {
        entry.info.is_collection = type->Child(kDav, "collection").has_value();
      }
      if (std::optional<std::string> length = prop->ChildText(kDav, "getcontentlength")) {
        char* end = nullptr;
        unsigned long long n = std::strtoull(length->c_str(), &end, 10);
        if (length->empty() || end == nullptr || *end != '\0') {
          return Status::Corrupt("PROPFIND getcontentlength is not a number");
        }
        entry.info.size = n;
      }
      if (std::optional<std::string> etag = prop->ChildText(kDav, "getetag")) {
        entry.info.etag = *etag;
        has_etag = true;
      }
      if (std::optional<std::string> modified = prop->ChildText(kDav, "getlastmodified")) {
        entry.info.mtime_ns = ParseHttpDate(*modified);
        has_modified = true;
      }
    }
    entry.placeholder = !entry.info.is_collection && !has_etag && !has_modified;
    if (entry.info.is_collection) {
      entry.info.size = 0;
      entry.info.etag.clear();  // Apache: W/"" for every collection, which says nothing
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Status WebDavStore::ParentProblem(const std::string& key, Status fallback) {
  // The parent first: when it is a collection, so is every ancestor (one request, not one per
  // level). Otherwise walk down from the top to find the first one that is not.
  const std::string parent = Parent(key);
  if (parent.empty()) return fallback;  // the root is a collection (Open checked)
  // What the parent's own answer means when every ancestor above it is a collection.
  Status parent_problem = Err(Code::kNotFound, key + ": parent " + parent + " missing");
  {
    auto r = SendPropFind(parent, 0);
    if (!r.ok()) return r.status();
    if (r->status == 207) {
      PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, ParseMultistatus(r.value()));
      if (!entries.empty() && !entries[0].placeholder) {
        if (entries[0].info.is_collection) {
          NoteCollection(parent);
          return fallback;
        }
        ForgetCollections(parent);
        return Err(Code::kNotADirectory, key + ": parent " + parent + " is an object");
      }
    } else if (r->status != 404) {
      parent_problem = WebDavStatus(r->status, "PROPFIND " + parent);
    }
    ForgetCollections(parent);
  }
  size_t slash = 0;
  while ((slash = key.find('/', slash)) != std::string::npos) {
    std::string ancestor = key.substr(0, slash++);
    if (ancestor == parent) break;  // asked above: not a collection, or not there
    auto r = SendPropFind(ancestor, 0);
    if (!r.ok()) return r.status();
    if (r->status == 404) {
      ForgetCollections(ancestor);
      return Err(Code::kNotFound, key + ": parent " + ancestor + " missing");
    }
    if (r->status != 207) return WebDavStatus(r->status, "PROPFIND " + ancestor);
    PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, ParseMultistatus(r.value()));
    if (!entries.empty() && entries[0].placeholder) {
      ForgetCollections(ancestor);
      return Err(Code::kNotFound, key + ": parent " + ancestor + " missing");
    }
    if (entries.empty() || !entries[0].info.is_collection) {
      ForgetCollections(ancestor);
      return Err(Code::kNotADirectory, key + ": parent " + ancestor + " is an object");
    }
    NoteCollection(ancestor);
  }
  // Every ancestor above the parent is a collection, and the parent is not one (or vanished).
  return parent_problem;
}

Status WebDavStore::ExplainMissing(const std::string& key, Status fallback) {
  if (IsKnownCollection(Parent(key))) return fallback;
  return ParentProblem(key, std::move(fallback));
}

void WebDavStore::NoteCollection(const std::string& key) {
  if (key.empty() || IsReserved(key)) return;
  std::lock_guard lock(known_mu_);
  if (known_collections_.size() >= kKnownCollectionsMax) known_collections_.clear();
  known_collections_.insert(key);
}

void WebDavStore::ForgetCollections(const std::string& key) {
  std::lock_guard lock(known_mu_);
  if (key.empty()) {
    known_collections_.clear();
    return;
  }
  known_collections_.erase(key);
  // Everything below: the keys from "key/" up to (not including) "key0" ('0' follows '/').
  known_collections_.erase(known_collections_.lower_bound(key + "/"),
                           known_collections_.lower_bound(key + "0"));
}

bool WebDavStore::IsKnownCollection(const std::string& key) {
  if (key.empty()) return true;  // the root: checked by Open
  std::lock_guard lock(known_mu_);
  return known_collections_.contains(key);
}

Result<std::vector<WebDavStore::DavEntry>> WebDavStore::PropFind(const std::string& key,
                                                                 int depth,
                                                                 bool explain_missing) {
  const std::string what = "PROPFIND " + key;
  PHRFS_ASSIGN_OR_RETURN(http::Response r, SendPropFind(key, depth));
  if (r.status == 207) {
    PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, ParseMultistatus(r));
    // The entry for `key` itself comes first in practice; make it so whatever the server does.
    auto self = std::find_if(entries.begin(), entries.end(),
                             [&](const DavEntry& e) { return e.key == key; });
    if (self == entries.end()) return Status::Corrupt(what + ": no entry for the key itself");
    if (self->placeholder) return Err(Code::kNotFound, what + ": not written yet (locked)");
    std::iter_swap(entries.begin(), self);
    // Lock-null entries of writers in progress are no objects yet.
    entries.erase(std::remove_if(entries.begin() + 1, entries.end(),
                                 [](const DavEntry& e) { return e.placeholder; }),
                  entries.end());
    if (!entries[0].info.is_collection) ForgetCollections(key);
    for (const DavEntry& e : entries) {
      if (e.info.is_collection) NoteCollection(e.key);
    }
    if (!key.empty()) NoteCollection(Parent(key));
    return entries;
  }
  if (key.empty()) return WebDavStatus(r.status, what);
  if (r.status == 404 || r.status == 409) {
    ForgetCollections(key);
    if (!explain_missing) return Err(Code::kNotFound, what + ": not found");
    return ExplainMissing(key, Err(Code::kNotFound, what + ": not found"));
  }
  if (r.status == 400) return ParentProblem(key, WebDavStatus(r.status, what));
  return WebDavStatus(r.status, what);
}

Result<std::vector<ListEntry>> WebDavStore::DoList(const std::string& collection) {
  if (IsReserved(collection)) return Reserved(collection);
  PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, PropFind(collection, 1));
  if (!entries[0].info.is_collection) {
    return Err(Code::kNotADirectory, "list " + collection + ": an object");
  }
  const std::string prefix = collection.empty() ? "" : collection + "/";
  std::vector<ListEntry> out;
  out.reserve(entries.size() - 1);
  for (size_t i = 1; i < entries.size(); ++i) {
    const DavEntry& e = entries[i];
    if (!e.key.starts_with(prefix) || e.key.size() == prefix.size()) continue;
    std::string name = e.key.substr(prefix.size());
    if (name.find('/') != std::string::npos) continue;  // not a direct child (Depth 1 says none)
    if (collection.empty() && name == kLockRoot) continue;
    out.push_back(ListEntry{std::move(name), e.info.is_collection, e.info.size, e.info.etag});
  }
  return out;
}

Result<ObjectInfo> WebDavStore::DoStat(const std::string& path) {
  if (IsReserved(path)) return Reserved(path);
  PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, PropFind(path, 0));
  return entries[0].info;
}

Result<std::vector<uint8_t>> WebDavStore::DoRead(const std::string& path, uint64_t offset,
                                                 size_t max_length) {
  return RangedGet(path, offset, max_length, "", nullptr);
}

// Apache (2.4.55 and later) computes a GET's digest ETag from the descriptor it then sends, checks
// If-Match against that ETag and serves the range from the same descriptor; a PUT replaces the
// file by rename. So a 206 whose ETag is the one asked for carries that version's bytes: one
// request instead of a GET and a PROPFIND (each of which hashes the whole file with Digest).
Result<std::vector<uint8_t>> WebDavStore::DoReadIfMatch(const std::string& path, uint64_t offset,
                                                        size_t max_length,
                                                        const std::string& etag) {
  if (IsReserved(path)) return Reserved(path);
  // If-Match compares strongly: a weak ETag never matches; the generic check works for those.
  if (etag.starts_with("W/") || max_length == 0) {
    return ObjectStore::DoReadIfMatch(path, offset, max_length, etag);
  }
  std::string served;
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                         RangedGet(path, offset, max_length, Quoted(etag), &served));
  if (served.empty()) {
    // No ETag in the answer (a 416 past the end, a server that omits it): ask.
    PHRFS_ASSIGN_OR_RETURN(ObjectInfo after, DoStat(path));
    if (after.is_collection) return Err(Code::kIsADirectory, "read " + path);
    served = after.etag;
  }
  if (Quoted(served) != Quoted(etag)) {
    return Status::PreconditionFailed("read " + path + ": changed");
  }
  return bytes;
}

// One GET instead of a PROPFIND and a GET: the bytes are trusted with the ETag the GET carried
// only when that ETag is the content digest of exactly these bytes (FileETag Digest), which no
// other version can have; anything else (no or a weak ETag, another kind of ETag, an empty
// object answered 416) takes the generic Stat then Read.
Result<WholeObject> WebDavStore::DoReadWhole(const std::string& path, uint64_t max_size) {
  if (IsReserved(path)) return Reserved(path);
  if (max_size >= SIZE_MAX) return ObjectStore::DoReadWhole(path, max_size);
  std::string served;
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                         RangedGet(path, 0, static_cast<size_t>(max_size) + 1, "", &served));
  if (bytes.size() > max_size) {
    return Err(Code::kFileTooBig,
               "read " + path + ": larger than " + std::to_string(max_size) + " bytes");
  }
  if (served.empty() || served.starts_with("W/") || Quoted(served) != DigestETag(bytes)) {
    return ObjectStore::DoReadWhole(path, max_size);
  }
  return WholeObject{std::move(bytes), Quoted(served)};
}

Result<std::vector<uint8_t>> WebDavStore::RangedGet(const std::string& path, uint64_t offset,
                                                    size_t max_length,
                                                    const std::string& if_match,
                                                    std::string* served_etag) {
  if (IsReserved(path)) return Reserved(path);
  const std::string what = "read " + path;
  auto missing = [&]() -> Status {
    // GET says 404 for a collection too: ask what is there.
    auto info = DoStat(path);
    if (!info.ok()) return info.status();
    if (info->is_collection) return Err(Code::kIsADirectory, what);
    return Err(Code::kNotFound, what + ": vanished");
  };
  if (max_length == 0) {
    PHRFS_ASSIGN_OR_RETURN(ObjectInfo info, DoStat(path));
    if (info.is_collection) return Err(Code::kIsADirectory, what);
    if (served_etag) *served_etag = info.etag;
    return std::vector<uint8_t>();
  }
  std::string range = "bytes=" + std::to_string(offset) + "-";
  uint64_t last = offset + static_cast<uint64_t>(max_length) - 1;
  if (last >= offset && last < (uint64_t{1} << 62)) range += std::to_string(last);
  std::vector<http::Header> headers{{"Range", range}};
  if (!if_match.empty()) headers.push_back({"If-Match", if_match});
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("GET", path, std::move(headers)));
  if (r.status == 200 || r.status == 206) {
    NoteCollection(Parent(path));
    if (served_etag) *served_etag = r.Find("etag").value_or("");
  }
  switch (r.status) {
    case 206: {
      // Trust but check: the slice must start where it was asked to.
      std::optional<std::string> content_range = r.Find("content-range");
      if (content_range && !content_range->starts_with("bytes " + std::to_string(offset) + "-")) {
        return Status::Corrupt(what + ": server sent another range");
      }
      if (r.body.size() > max_length) r.body.resize(max_length);
      return std::move(r.body);
    }
    case 200: {
      // The server ignored Range and sent everything.
      if (offset >= r.body.size()) return std::vector<uint8_t>();
      size_t n = std::min<uint64_t>(max_length, r.body.size() - offset);
      return std::vector<uint8_t>(r.body.begin() + static_cast<ptrdiff_t>(offset),
                                  r.body.begin() + static_cast<ptrdiff_t>(offset + n));
    }
    case 416:
      return std::vector<uint8_t>();  // at or past the end
    case 404:
      return missing();
    case 412:
      return Status::PreconditionFailed(what + ": changed");
    case 400:
      return ParentProblem(path, WebDavStatus(r.status, what));
    default:
      return WebDavStatus(r.status, what);
  }
}

std::string WebDavStore::DigestETag(std::span<const uint8_t> data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    return std::string();
  }
  unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, digest, static_cast<int>(length));
  return "\"" + std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n)) + "\"";
}

Result<std::string> WebDavStore::ETagAfterWrite(const std::string& path,
                                                const std::string& expected) {
  if (digest_etags_.load(std::memory_order_relaxed) && !expected.empty()) return expected;
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("HEAD", path, {}));
  std::string etag = r.status == 200 ? r.Find("etag").value_or("") : "";
  if (!etag.empty() && etag == expected) {
    digest_etags_.store(true, std::memory_order_relaxed);
    return etag;
  }
  if (etag.empty()) {
    auto info = DoStat(path);
    if (info.ok()) etag = info->etag;
  }
  if (etag.empty()) return Err(Code::kNotSupported, "write " + path + ": server gives no ETag");
  return etag;
}

Result<std::string> WebDavStore::DoWrite(const std::string& path, std::span<const uint8_t> data,
                                         const Precondition& precondition) {
  if (IsReserved(path)) return Reserved(path);
  const std::string what = "write " + path;
  std::vector<http::Header> headers;
  if (precondition.kind == Precondition::Kind::kMustNotExist) {
    headers.push_back({"If-None-Match", "*"});
  } else if (precondition.kind == Precondition::Kind::kETagMatches) {
    headers.push_back({"If-Match", Quoted(precondition.etag)});
  }
  // A condition holds atomically with the write only under the key's mutex (see top).
  std::string lock;
  if (precondition.kind != Precondition::Kind::kNone) {
    PHRFS_ASSIGN_OR_RETURN(lock, AcquireKeyLock(path));
  }
  auto put = Send("PUT", path, std::move(headers), data);
  if (!lock.empty()) ReleaseKeyLock(lock);
  if (!put.ok()) return put.status();
  http::Response& r = put.value();
  const std::string expected = DigestETag(data);
  switch (r.status) {
    case 200:
    case 201:
    case 204:
      NoteCollection(Parent(path));
      return ETagAfterWrite(path, expected);
    case 412: {
      if (r.attempts > 1) {
        // A lost first attempt may have landed: then the object holds exactly our bytes.
        auto info = DoStat(path);
        if (info.ok() && !info->is_collection && info->size == data.size() &&
            info->etag == expected) {
          return expected;
        }
      }
      return Err(Code::kPreconditionFailed, what + ": precondition failed");
    }
    case 409:
    case 404: {
      ForgetCollections(Parent(path));  // most likely gone: ask
      auto info = DoStat(path);
      if (info.ok() && info->is_collection) return Err(Code::kIsADirectory, what);
      return ParentProblem(path, WebDavStatus(r.status, what));
    }
    case 400:
      return ParentProblem(path, WebDavStatus(r.status, what));
    default:
      return WebDavStatus(r.status, what);
  }
}

Status WebDavStore::DoDelete(const std::string& path, const Precondition& precondition) {
  if (IsReserved(path)) return Reserved(path);
  if (precondition.kind == Precondition::Kind::kETagMatches) {
    // Apache checks If-Match apart from the unlink: hold the key's mutex, as writers do.
    PHRFS_ASSIGN_OR_RETURN(std::string lock, AcquireKeyLock(path));
    Status st = DeleteUnlocked(path, precondition);
    ReleaseKeyLock(lock);
    return st;
  }
  return DeleteUnlocked(path, precondition);
}

Status WebDavStore::DeleteUnlocked(const std::string& path, const Precondition& precondition) {
  const std::string what = "delete " + path;
  if (precondition.kind == Precondition::Kind::kETagMatches &&
      !precondition.etag.starts_with("W/")) {
    // A strong object ETag never matches a collection (Apache gives those a weak or no ETag), so
    // If-Match alone keeps the recursive DELETE off collections: no PROPFIND first. Failures are
    // explained by looking afterwards.
    PHRFS_ASSIGN_OR_RETURN(http::Response r,
                           Send("DELETE", path, {{"If-Match", Quoted(precondition.etag)}}));
    switch (r.status) {
      case 200:
      case 204:
        return Status::Ok();
      case 404:
      case 409:
        if (r.attempts > 1 && r.status == 404) return Status::Ok();  // our first attempt landed
        return ExplainMissing(path, Err(Code::kNotFound, what));
      case 400:
        return ParentProblem(path, Err(Code::kNotFound, what));
      case 412: {
        Result<ObjectInfo> now = DoStat(path);
        if (!now.ok()) {
          // If-Match on nothing fails: a retry after our own DELETE landed gets 412 too.
          if (r.attempts > 1 && now.status().code() == Code::kNotFound) return Status::Ok();
          return now.status();
        }
        if (now->is_collection) return Err(Code::kIsADirectory, what);
        return Err(Code::kPreconditionFailed, what + ": etag does not match");
      }
      default:
        return WebDavStatus(r.status, what);
    }
  }
  // DELETE on a collection is recursive, so look first; without a caller's etag the one just
  // seen guards the DELETE, so a collection swapped in meanwhile is never removed.
  for (int round = 0; round < 5; ++round) {
    PHRFS_ASSIGN_OR_RETURN(ObjectInfo info, DoStat(path));
    if (info.is_collection) return Err(Code::kIsADirectory, what);
    std::vector<http::Header> headers;
    bool own_guard = false;
    if (precondition.kind == Precondition::Kind::kETagMatches) {
      headers.push_back({"If-Match", Quoted(precondition.etag)});
    } else if (!info.etag.empty() && !info.etag.starts_with("W/")) {
      headers.push_back({"If-Match", info.etag});
      own_guard = true;
    }
    PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("DELETE", path, std::move(headers)));
    switch (r.status) {
      case 200:
      case 204:
        return Status::Ok();
      case 404:
        // A retried DELETE whose first attempt landed finds nothing: that is our success.
        if (r.attempts > 1) return Status::Ok();
        return Err(Code::kNotFound, what);
      case 412:
        if (r.attempts > 1) {
          // If-Match on nothing fails: a retry after our own DELETE landed gets 412 too.
          Result<ObjectInfo> again = DoStat(path);
          if (!again.ok() && again.status().code() == Code::kNotFound) return Status::Ok();
        }
        if (own_guard) continue;  // replaced since we looked: look again
        return Err(Code::kPreconditionFailed, what + ": etag does not match");
      default:
        return WebDavStatus(r.status, what);
    }
  }
  return Err(Code::kUnavailable, what + ": the object keeps changing");
}

Status WebDavStore::DoMakeCollection(const std::string& path) {
  if (IsReserved(path)) return Reserved(path);
  const std::string what = "mkcol " + path;
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("MKCOL", path, {}));
  switch (r.status) {
    case 200:
    case 201:
      NoteCollection(path);
      return Status::Ok();
    case 405: {
      if (r.attempts > 1) {
        auto info = DoStat(path);
        if (info.ok() && info->is_collection) return Status::Ok();  // our lost first attempt
      }
      return Err(Code::kAlreadyExists, what);
    }
    case 409:
    case 404:
      ForgetCollections(Parent(path));  // the server says it is not there
      return ParentProblem(path, Err(Code::kNotFound, what + ": no parent"));
    case 400:
      return ParentProblem(path, WebDavStatus(r.status, what));
    default:
      return WebDavStatus(r.status, what);
  }
}

Status WebDavStore::DoRemoveCollection(const std::string& path) {
  if (IsReserved(path)) return Reserved(path);
  const std::string what = "rmcol " + path;
  PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> entries, PropFind(path, 1));
  if (!entries[0].info.is_collection) return Err(Code::kNotADirectory, what);
  if (entries.size() > 1) return Err(Code::kNotEmpty, what);
  ForgetCollections(path);
  PHRFS_ASSIGN_OR_RETURN(http::Response r, Send("DELETE", path, {}));
  switch (r.status) {
    case 200:
    case 204:
      return Status::Ok();
    case 404:
      return r.attempts > 1 ? Status::Ok() : Err(Code::kNotFound, what);
    default:
      return WebDavStatus(r.status, what);
  }
}

Status WebDavStore::DoRename(const std::string& from, const std::string& to,
                             RenameOptions options) {
  if (IsReserved(from)) return Reserved(from);
  if (IsReserved(to)) return Reserved(to);
  const std::string what = "rename " + from + " -> " + to;
  // Without `replace` nothing is looked at first: the MOVE (Overwrite: F) answers 412 when the
  // target exists. With it, one PROPFIND of the target decides the Overwrite header. A missing
  // source or target parent shows as the MOVE's failure, explained afterwards.
  Result<std::vector<DavEntry>> dst = Err(Code::kNotFound, what);
  if (options.replace || from == to) {
    dst = PropFind(to, 0, /*explain_missing=*/false);
    if (!dst.ok() && dst.status().code() != Code::kNotFound) return dst.status();
  }
  const bool target_exists = dst.ok();
  if (target_exists) {
    if (!options.replace) return Err(Code::kAlreadyExists, what);
    if (from == to) return Status::Ok();
    PHRFS_ASSIGN_OR_RETURN(ObjectInfo src, DoStat(from));
    const ObjectInfo& target = (*dst)[0].info;
    if (src.is_collection && !target.is_collection) return Err(Code::kNotADirectory, what);
    if (!src.is_collection && target.is_collection) return Err(Code::kIsADirectory, what);
    if (target.is_collection) {
      // Overwrite: T would delete the target with everything in it.
      PHRFS_ASSIGN_OR_RETURN(std::vector<DavEntry> inside, PropFind(to, 1));
      if (inside.size() > 1) return Err(Code::kNotEmpty, what);
    }
  }
  // Overwrite: F whenever there was no target, so one created meanwhile is not replaced. Apache
  // checks that apart from the rename(2), so the target's mutex (the one conditional writers
  // hold) makes "no target" and the move one step for them and for other such renames.
  std::string lock;
  if (!target_exists) {
    PHRFS_ASSIGN_OR_RETURN(lock, AcquireKeyLock(to));
  }
  // A collection moved away, or replaced, is no longer where it was known to be.
  ForgetCollections(from);
  ForgetCollections(to);
  auto moved =
      Send("MOVE", from, {{"Destination", Url(to)}, {"Overwrite", target_exists ? "T" : "F"}}, {},
           /*idempotent=*/false);
  if (!lock.empty()) ReleaseKeyLock(lock);
  if (!moved.ok()) return moved.status();
  const http::Response& r = moved.value();
  switch (r.status) {
    case 200:
    case 201:
    case 204:
      NoteCollection(Parent(to));
      return Status::Ok();
    case 412:
      return Err(Code::kAlreadyExists, what);
    case 404: {
      // The source is missing, or (as some servers say it) the target's parent.
      Status parent = ParentProblem(to, Status::Ok());
      if (!parent.ok()) return parent;
      auto src = DoStat(from);
      if (!src.ok()) return src.status();
      return Err(Code::kNotFound, what);
    }
    case 409:
    case 500:
    case 400:
      return ParentProblem(to, WebDavStatus(r.status, what));
    default:
      return WebDavStatus(r.status, what);
  }
}

}  // namespace phrfs::remote
