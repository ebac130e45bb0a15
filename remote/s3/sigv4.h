// AWS Signature Version 4 for S3 (header-based, single chunk), signed by us rather than by
// libcurl's CURLOPT_AWS_SIGV4, whose 7.88 canonicalisation a strict server rejects (unsorted
// query, bare `?uploads`, no x-amz-content-sha256; shared/notes/backends.md section 4).
// Pure functions plus a stateless signer: thread-safe, the Credentials are only read.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "remote/http/http_client.h"

namespace phrfs::remote::s3 {

struct Credentials {
  std::string access_key;  // an identifier, not secret (it appears in every request)
  SecureBytes secret_key;  // never logged
  std::string region = "us-east-1";
  std::string service = "s3";
};

// The x-amz-content-sha256 value that leaves the body out of the signature.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Lower-case hex SHA-256 (EVP_Digest).
Result<std::string> Sha256Hex(std::span<const uint8_t> data);

// "20130524T000000Z" for the given instant (UTC).
std::string AmzDate(std::chrono::system_clock::time_point when);

// SigV4 URI encoding: every byte outside A-Za-z0-9-._~ becomes %XX (upper-case hex); '/' is
// kept when `keep_slash`.
std::string UriEncode(std::string_view raw, bool keep_slash);

// The canonical URI of an (already percent-encoded) URL path: each segment is decoded and
// encoded again, so "/test$file.text" and "/test%24file.text" both give "/test%24file.text".
// An empty path is "/". InvalidArgument on a malformed escape.
Result<std::string> CanonicalUri(std::string_view encoded_path);

// The canonical query of a raw query string (without '?'): parameters decoded, re-encoded,
// sorted by name then value, a valueless one written "name=". InvalidArgument on a bad escape.
Result<std::string> CanonicalQuery(std::string_view raw_query);

struct CanonicalRequest {
  std::string text;            // the six lines joined by '\n'
  std::string signed_headers;  // "host;range;x-amz-date"
};

// Builds the canonical request. `headers` are signed all of them (lower-cased names, sorted,
// values trimmed with inner runs of spaces folded to one); duplicate names are joined with ','.
Result<CanonicalRequest> BuildCanonicalRequest(std::string_view method,
                                               std::string_view encoded_path,
                                               std::string_view raw_query,
                                               const std::vector<http::Header>& headers,
                                               std::string_view payload_hash);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
Result<std::string> StringToSign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request);

// "<yyyymmdd>/<region>/<service>/aws4_request".
std::string CredentialScope(std::string_view amz_date, const Credentials& credentials);

// Hex HMAC-SHA256 of the string to sign under the derived key
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
Result<std::string> Signature(const Credentials& credentials, std::string_view amz_date,
                              std::string_view string_to_sign);

// Signs `request` in place for the instant `now`: sets Host (from the URL, the default port left
// out), x-amz-date, x-amz-content-sha256 (the SHA-256 of the body unless the caller already set
// one, e.g. kUnsignedPayload) and Authorization. Idempotent: a retry may sign the same request
// again (an earlier Host, x-amz-date and Authorization are replaced). Headers that libcurl may
// drop or rewrite (empty values, Expect, Content-Length, User-Agent, Accept-Encoding, Connection,
// Transfer-Encoding) are sent unsigned; every other header is signed.
Status SignRequest(http::Request& request, const Credentials& credentials,
                   std::chrono::system_clock::time_point now);

}  // namespace phrfs::remote::s3
