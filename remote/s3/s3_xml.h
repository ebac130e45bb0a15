// Parsers for the S3 response bodies the S3 store reads: ListObjectsV2, the multipart initiate
// and complete results, CopyObject and the <Error> document. Elements are matched by local name in
// the document's own namespace (AWS and RGW use the 2006-03-01 namespace; error bodies have none).
// Pure functions over bytes: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace phrfs::remote::s3 {

struct ListedObject {
  std::string key;   // the full S3 key
  uint64_t size = 0;
  std::string etag;  // unquoted
};

struct ListPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;  // full prefixes, ending in the delimiter
  bool is_truncated = false;
  std::string next_continuation_token;  // set when is_truncated
};

struct S3Error {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;  // may be empty
};

// Corrupt when the body is not a ListBucketResult, or a truncated page has no token.
Result<ListPage> ParseListObjectsV2(std::span<const uint8_t> body);
// The UploadId of an InitiateMultipartUploadResult.
Result<std::string> ParseInitiateMultipartUpload(std::span<const uint8_t> body);
// The (unquoted) ETag of a CompleteMultipartUploadResult; "" when the element is empty, as
// RGW 16 sends it (the caller then HEADs the object). S3 may answer 200 and still put an
// <Error> in the body: that is returned as a Status (Unavailable for InternalError/SlowDown,
// PreconditionFailed for PreconditionFailed, IoError otherwise) with the code in the message.
Result<std::string> ParseCompleteMultipartUpload(std::span<const uint8_t> body);
// The (unquoted) ETag of a CopyObjectResult; an <Error> body is handled as above.
Result<std::string> ParseCopyObject(std::span<const uint8_t> body);
// The Code and Message of an <Error> body; nullopt when the body is empty or not an Error.
std::optional<S3Error> ParseError(std::span<const uint8_t> body);

// Removes one pair of surrounding double quotes (and the W/ of a weak tag) from an ETag.
std::string UnquoteETag(std::string_view etag);

}  // namespace phrfs::remote::s3
