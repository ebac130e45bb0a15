// WebDavStore: the ObjectStore on a WebDAV server (RFC 4918; verified against Apache mod_dav_fs,
// see docs in webdav_store.cc for the server quirks it relies on or works around). HTTP statuses
// become Status codes here, at the store's bottom edge.
// Thread-safe: every method may be called from any thread; requests share one HttpClient.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "remote/http/http_client.h"
#include "remote/object_store.h"

namespace phrfs::remote {

struct WebDavOptions {
  // http(s)://host[:port]/path/ : the collection that is the store's root (a missing trailing
  // slash is added). It must exist. No userinfo: credentials go in `client`.
  std::string base_url;
  http::ClientOptions client;
};

class WebDavStore final : public ObjectStore {
 public:
  // Checks that the root collection answers (PROPFIND Depth 0): NotFound when it does not exist,
  // NotADirectory when it is an object, PermissionDenied on 401/403, Unavailable when the
  // server cannot be reached.
  static Result<std::unique_ptr<WebDavStore>> Open(WebDavOptions options);
  // The same with a given client (tests; a client shared with other stores).
  static Result<std::unique_ptr<WebDavStore>> OpenWithClient(
      std::string base_url, std::unique_ptr<http::HttpClient> client);

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& collection) override;
  Result<ObjectInfo> DoStat(const std::string& path) override;
  Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                      size_t max_length) override;
  Result<std::vector<uint8_t>> DoReadIfMatch(const std::string& path, uint64_t offset,
                                             size_t max_length, const std::string& etag) override;
  Result<WholeObject> DoReadWhole(const std::string& path, uint64_t max_size) override;
  Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                              const Precondition& precondition) override;
  Status DoDelete(const std::string& path, const Precondition& precondition) override;
  Status DoMakeCollection(const std::string& path) override;
  Status DoRemoveCollection(const std::string& path) override;
  Status DoRename(const std::string& from, const std::string& to, RenameOptions options) override;

 private:
  // One PROPFIND <response>: the decoded path relative to the root ("" = the root).
  struct DavEntry {
    std::string key;
    ObjectInfo info;
    // A lock-null resource (locked by a writer, not yet written): listed, but not an object.
    bool placeholder = false;
  };

  WebDavStore(std::string base_url, std::string base_path,
              std::unique_ptr<http::HttpClient> client);

  std::string Url(const std::string& key) const;
  Result<http::Response> Send(std::string method, const std::string& key,
                              std::vector<http::Header> headers, std::span<const uint8_t> body = {},
                              bool idempotent = true);
  // GET of a byte range; `if_match` ("" = none) is sent as If-Match, and the ETag of a 200/206
  // answer goes to `served_etag` ("" when the server sent none).
  Result<std::vector<uint8_t>> RangedGet(const std::string& path, uint64_t offset,
                                         size_t max_length, const std::string& if_match,
                                         std::string* served_etag);
  // Delete without the key's mutex (the caller holds it when it needs it).
  Status DeleteUnlocked(const std::string& path, const Precondition& precondition);
  // Takes the mutex collection for `key` (waits while another writer holds it; Busy after
  // kLockWait). Returns the mutex's key for ReleaseKeyLock.
  Result<std::string> AcquireKeyLock(const std::string& key);
  void ReleaseKeyLock(const std::string& lock);
  // The PROPFIND request for the properties a store needs, as it is.
  Result<http::Response> SendPropFind(const std::string& key, int depth);
  // PROPFIND with Depth 0 or 1, the key's own entry first; NotFound/NotADirectory resolved through
  // the parents (a plain NotFound for a missing key without `explain_missing`).
  Result<std::vector<DavEntry>> PropFind(const std::string& key, int depth,
                                         bool explain_missing = true);
  Result<std::vector<DavEntry>> ParseMultistatus(const http::Response& response) const;
  // Why an operation on `key` found no usable parent: NotFound when an ancestor is missing,
  // NotADirectory when one is an object; `fallback` when every ancestor is a collection.
  Status ParentProblem(const std::string& key, Status fallback);
  // A 404/409 for `key` whose answer is NotFound whether the key or an ancestor is missing
  // (`fallback` has that code): when the parent is known to be a collection, `fallback` at once;
  // else ParentProblem.
  Status ExplainMissing(const std::string& key, Status fallback);
  // The known-collections memo (see known_collections_).
  void NoteCollection(const std::string& key);
  void ForgetCollections(const std::string& key);  // `key` and everything below it
  bool IsKnownCollection(const std::string& key);
  // The ETag that Apache's `FileETag Digest` gives `data`: "base64(SHA-1)".
  static std::string DigestETag(std::span<const uint8_t> data);
  Result<std::string> ETagAfterWrite(const std::string& path, const std::string& expected);

  const std::string base_url_;   // ends with '/'
  const std::string base_path_;  // the decoded path part of base_url_, ends with '/'
  std::unique_ptr<http::HttpClient> client_;
  // Set once the server is seen to give content-digest ETags: a write then knows its ETag
  // without asking (and is immune to a concurrent overwrite between PUT and HEAD).
  std::atomic<bool> digest_etags_{false};
  // Collections this store saw exist (in a PROPFIND answer, made by MKCOL, the parent of an object
  // it wrote, read or moved). Used for one thing only: to explain a 404 below one of them as
  // NotFound without asking for every ancestor (ExplainMissing). Forgotten when this store removes
  // or moves them, or when a request says something on the way is missing. A collection another
  // client removed stays known: a 404 below it still reads NotFound, as the walk would say.
  std::mutex known_mu_;
  std::set<std::string> known_collections_;  // guarded by known_mu_; bounded (kKnownMax)
};

// HTTP status -> Status for `what` (a ciphertext key and method; never a credential).
Status WebDavStatus(long http_status, const std::string& what);

}  // namespace phrfs::remote
