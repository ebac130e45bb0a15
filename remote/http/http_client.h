// HttpClient: the one HTTP client that the WebDAV and S3 stores share (libcurl underneath).
// It moves bytes and retries transient faults; it knows nothing of WebDAV, S3 or the store
// contract: each store turns HTTP statuses into Status codes at its own bottom edge.
// Thread-safe: Perform may be called from any number of threads at once; at most
// ClientOptions::max_parallel transfers run at a time, the rest wait their turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::remote::http {

struct Header {
  std::string name;  // as sent; in a Response, lower-cased
  std::string value;
};

struct Request {
  std::string method;  // "GET", "PUT", "PROPFIND", ...
  // Absolute URL, already percent-encoded by the caller (the client never re-encodes it:
  // a signed URL must go out byte for byte as signed).
  std::string url;
  std::vector<Header> headers;
  std::span<const uint8_t> body;  // not owned; must outlive Perform
  // Whether sending the request twice is harmless. Only idempotent requests are retried after
  // a fault that may have reached the server (a reset after the body was sent, a timeout), or
  // after a 500, 502 or 504; a 429 or 503 (the server did not act) is retried for any request.
  // A non-idempotent request goes out on a fresh connection, so curl never re-sends it by itself.
  bool idempotent = true;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // names lower-cased, in arrival order
  std::vector<uint8_t> body;
  // How many times the request was sent (retries, and curl's own re-sends on a connection found
  // dead). A store uses it to tell a conditional request that failed because its own lost
  // earlier attempt had already succeeded (412 after a retry).
  int attempts = 1;

  // The first header with this (case-insensitive) name.
  std::optional<std::string> Find(std::string_view name) const;
};

// Called before every attempt (a retry too), after the client added its own headers, so that
// a signature covers the request exactly as sent and carries a fresh date (S3 SigV4).
using RequestSigner = std::function<Status(Request&)>;

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer that moves less than 1 byte/s for this long is abandoned (Unavailable).
  std::chrono::milliseconds stall_timeout{30'000};
  // Upper bound for one whole attempt, however fast it moves; 0 = none.
  std::chrono::milliseconds attempt_timeout{0};
  int max_attempts = 5;                            // first try included
  std::chrono::milliseconds backoff_initial{200};  // doubled each retry, full jitter
  std::chrono::milliseconds backoff_max{10'000};
  size_t max_parallel = 4;
  std::string ca_file;  // TLS trust anchors; empty = the system's. Verification is always on.
  // Basic auth for every request (WebDAV); empty user = none. Never logged.
  std::string user;
  SecureBytes password;
  RequestSigner signer;  // S3; may be empty
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs the request, retrying transient faults (connection refused or reset, timeouts,
  // 429, 500, 502, 503, 504; Retry-After honoured up to backoff_max) with exponential backoff
  // and jitter. Returns the final response whatever its status (a 404 or 412 is a Response,
  // not an error). Errors: Unavailable when every attempt failed at the transport level or with
  // a retryable status (the message says which, never credentials), InvalidArgument for a
  // malformed request, PermissionDenied when TLS verification fails.
  virtual Result<Response> Perform(Request request) = 0;
};

// The libcurl client. Connections are reused across requests and threads.
Result<std::unique_ptr<HttpClient>> NewCurlClient(ClientOptions options);

// Percent-encodes every byte outside A-Za-z0-9-._~ (and '/' when keep_slash), upper-case hex,
// as both SigV4 and WebDAV hrefs want it.
std::string PercentEncode(std::string_view raw, bool keep_slash);
// The inverse; InvalidArgument on a malformed escape.
Result<std::string> PercentDecode(std::string_view encoded);

}  // namespace phrfs::remote::http
