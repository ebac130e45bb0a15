// S3Store: the ObjectStore over an S3 bucket (AWS or a compatible server such as Ceph RGW),
// signed with our own SigV4 (remote/s3/sigv4.h) and sent through the shared http::HttpClient.
// Thread-safe: no mutable state of its own; the client bounds and serialises transfers.
//
// How the ObjectStore contract maps onto S3 (keys live under options.key_prefix + "/"):
// - Collections are zero-byte marker objects "<key>/" (the root needs none). MakeCollection
//   PUTs the marker with If-None-Match: * after checking the parent marker and that no object has
//   the name. RemoveCollection deletes the marker once a listing shows nothing else below it.
// - List is ListObjectsV2 (prefix "<key>/", delimiter "/"), every page, without the marker.
// - Stat is a HEAD of the object, else of the marker. Read is a ranged GET.
// - Write is one PUT with If-None-Match: * or If-Match: <unquoted etag> (RGW 16 compares the
//   raw header, so a quoted tag never matches); above options.multipart_threshold it is a
//   multipart upload, aborted on failure. A conditional PUT that the client retried may meet
//   its own first attempt (412): it is taken as success when the stored ETag is the MD5 of our
//   bytes (ciphertext: another writer cannot produce the same bytes).
// Races that S3 cannot close, and that callers must live with:
// - Delete with an etag, and a multipart Write with a precondition, check by HEAD first (RGW 16
//   has no reliable If-Match on DELETE and ignores If-None-Match on CompleteMultipartUpload): a
//   writer between the HEAD and the request is not seen.
// - Rename is CopyObject then DELETE; with replace=false the target is checked by HEAD first. A
//   collection rename copies every key below it, then deletes the sources: a crash in between
//   leaves both (the vault keeps a directory move to one small object, so this is rare).
// - Parent checks are HEADs before the write; a parent removed concurrently is not seen.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/secure_bytes.h"
#include "remote/http/http_client.h"
#include "remote/object_store.h"
#include "remote/s3/s3_xml.h"
#include "remote/s3/sigv4.h"

namespace phrfs::remote::s3 {

enum class Addressing {
  kPathStyle,    // http://host:port/bucket/key (RGW, MinIO, most self-hosted servers)
  kVirtualHost,  // https://bucket.host/key (AWS)
};

struct S3Options {
  std::string endpoint;            // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  std::string key_prefix;          // "" or "vaults/v1": no leading or trailing '/'
  Addressing addressing = Addressing::kPathStyle;
  std::string access_key;
  SecureBytes secret_key;          // never logged
  uint64_t multipart_threshold = uint64_t{32} << 20;  // objects larger than this go multipart
  uint64_t part_size = uint64_t{8} << 20;             // >= 5 MiB, S3's minimum part size
  int list_page_size = 1000;       // max-keys of one ListObjectsV2 page (1..1000)
  bool verify_bucket = true;       // Open HEADs the bucket: a clear error at mount time
};

class S3Store final : public ObjectStore {
 public:
  // Creates the libcurl client with our signer installed. InvalidArgument for bad options;
  // with verify_bucket: NotFound when the bucket does not exist, PermissionDenied when the
  // credentials are refused, Unavailable when the endpoint does not answer.
  static Result<std::unique_ptr<S3Store>> Open(S3Options options,
                                               http::ClientOptions client_options = {});

  // As Open, with the client made by `make_client` from the options (our signer installed):
  // a seam for tests that wrap the real client to inject faults.
  using ClientFactory =
      std::function<Result<std::unique_ptr<http::HttpClient>>(http::ClientOptions)>;
  static Result<std::unique_ptr<S3Store>> OpenWithClient(S3Options options,
                                                         http::ClientOptions client_options,
                                                         const ClientFactory& make_client);

 protected:
  Result<std::vector<ListEntry>> DoList(const std::string& collection) override;
  Result<ObjectInfo> DoStat(const std::string& path) override;
  Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                      size_t max_length) override;
  Result<std::vector<uint8_t>> DoReadIfMatch(const std::string& path, uint64_t offset,
                                             size_t max_length, const std::string& etag) override;
  Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                              const Precondition& precondition) override;
  Status DoDelete(const std::string& path, const Precondition& precondition) override;
  Status DoMakeCollection(const std::string& path) override;
  Status DoRemoveCollection(const std::string& path) override;
  Status DoRename(const std::string& from, const std::string& to, RenameOptions options) override;

 private:
  struct Head;  // what a HEAD found
  struct Call;  // one S3 request

  S3Store(S3Options options, std::unique_ptr<http::HttpClient> client);

  std::string ObjectKey(const std::string& path) const;  // prefix + path
  std::string MarkerKey(const std::string& path) const;  // prefix + path + "/"
  std::string ListPrefix(const std::string& collection) const;
  std::string Url(const std::string& s3_key, const std::string& query) const;

  Result<http::Response> Send(Call call) const;
  Status ErrorFor(const http::Response& response, const std::string& what) const;
  Result<Head> HeadKey(const std::string& s3_key) const;
  // A ranged GET (with If-Match when `if_match` is set); the ETag served, when there is one.
  Result<std::vector<uint8_t>> RangedGet(const std::string& path, uint64_t offset,
                                         size_t max_length, const std::string& if_match,
                                         std::string* served_etag) const;
  Status CheckParent(const std::string& path, const std::string& what) const;
  // NotFound, or IsADirectory/NotADirectory when the name is the other kind.
  Status MissingObject(const std::string& path, const std::string& what) const;
  Status MissingCollection(const std::string& path, const std::string& what) const;
  // Every key below `prefix` (no delimiter), or one level (delimiter "/"); stops after `limit`.
  Status ListKeys(const std::string& prefix, bool one_level, size_t limit,
                  std::vector<ListedObject>* objects,
                  std::vector<std::string>* prefixes) const;

  Result<std::string> PutSingle(const std::string& path, std::span<const uint8_t> data,
                                const Precondition& precondition) const;
  Result<std::string> PutMultipart(const std::string& path, std::span<const uint8_t> data,
                                   const Precondition& precondition) const;
  Status CopyKey(const std::string& from_key, const std::string& to_key) const;
  Status DeleteKey(const std::string& s3_key, const std::string& what) const;

  S3Options options_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace phrfs::remote::s3
