// The libcurl HttpClient (http_client.h). Easy handles are pooled so that their connections are
// reused; a counting semaphore bounds the transfers in flight; transient faults are retried with
// exponential backoff and full jitter. Credentials and URL userinfo never reach a message.
// Thread-safe: Perform runs on any thread; the pool, the semaphore and the RNG are locked.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "remote/http/http_client.h"

namespace phrfs::remote::http {
namespace {

template <auto Fn>
struct FreeWith {
  template <class T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using CurlEasy = std::unique_ptr<CURL, FreeWith<curl_easy_cleanup>>;
using CurlHeaders = std::unique_ptr<curl_slist, FreeWith<curl_slist_free_all>>;

Status Unavailable(std::string m) { return Status::Error(Code::kUnavailable, std::move(m)); }

// curl_global_init is not thread-safe: run it exactly once (a function-local static is).
CURLcode GlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

// The URL for messages: no userinfo, no query (a presigned query carries a signature).
std::string RedactUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", authority);
  std::string_view host =
      url.substr(authority, path_start == std::string_view::npos ? std::string_view::npos
                                                                 : path_start - authority);
  size_t at = host.rfind('@');
  if (at != std::string_view::npos) host = host.substr(at + 1);
  std::string out(url.substr(0, authority));
  out += host;
  if (path_start != std::string_view::npos) {
    size_t query = url.find_first_of("?#", path_start);
    out += url.substr(
        path_start, query == std::string_view::npos ? std::string_view::npos : query - path_start);
    if (query != std::string_view::npos) out += "?...";
  }
  return out;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

Status Validate(const Request& r) {
  if (r.method.empty() || !std::all_of(r.method.begin(), r.method.end(), IsTokenChar)) {
    return Status::InvalidArgument("bad HTTP method");
  }
  std::string_view url = r.url;
  bool http = url.size() > 7 && strncasecmp(url.data(), "http://", 7) == 0;
  bool https = url.size() > 8 && strncasecmp(url.data(), "https://", 8) == 0;
  if (!http && !https) return Status::InvalidArgument("URL is not http(s)");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Status::InvalidArgument("URL has a space or control character (not encoded)");
    }
  }
  for (const Header& h : r.headers) {
    if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), IsTokenChar)) {
      return Status::InvalidArgument("bad header name");
    }
    if (h.value.find_first_of("\r\n", 0) != std::string::npos ||
        h.value.find('\0') != std::string::npos) {
      return Status::InvalidArgument("header " + h.name + " has a line break");
    }
  }
  return Status::Ok();
}

// What one attempt's transport failure means for a retry.
enum class Fault {
  kNone,
  kBeforeSend,  // nothing reached the server (resolve, connect, TLS handshake)
  kAfterSend,   // the request may have reached the server (reset, timeout, stall, truncation)
  kInvalid,     // the request itself is wrong: never retried
  kTls,         // certificate verification failed: never retried
  kLocal,       // out of memory, a callback failed: never retried
};

Fault Classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return Fault::kNone;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
      return Fault::kBeforeSend;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
      return Fault::kInvalid;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return Fault::kTls;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      return Fault::kLocal;
    default:
      return Fault::kAfterSend;
  }
}

bool IsRetryableStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// 429 and 503 say the server did not act on the request, so even a non-idempotent one may be
// sent again; after a 500, 502 or 504 it may have been carried out.
bool StatusSaysNotProcessed(long status) { return status == 429 || status == 503; }

// Retry-After in delta-seconds; an HTTP-date (rare for 503) falls back to the backoff.
std::optional<std::chrono::milliseconds> RetryAfter(const Response& r) {
  std::optional<std::string> v = r.Find("retry-after");
  if (!v || v->empty() || v->size() > 9) return std::nullopt;
  if (!std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::stoll(*v) * 1000);
}

// Per-attempt state that the curl callbacks fill in.
struct Transfer {
  std::span<const uint8_t> body;
  size_t read_offset = 0;
  int requests_sent = 0;  // > 1 when curl itself re-sent on a fresh connection
  Response response;
};

// Counts the requests curl sends. curl silently re-sends a request whose reused connection
// turns out dead; the store must know, as for its own retries. Logs nothing.
int OnDebug(CURL*, curl_infotype type, char*, size_t, void* user) {
  if (type == CURLINFO_HEADER_OUT) ++static_cast<Transfer*>(user)->requests_sent;
  return 0;
}

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, t->body.size() - t->read_offset);
  if (n > 0) std::memcpy(buffer, t->body.data() + t->read_offset, n);
  t->read_offset += n;
  return n;
}

int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->read_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->response.body.insert(t->response.body.end(), data, data + size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  // A status line starts a new response (after a 100 Continue or an auth round trip).
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return size * count;
  Header h;
  h.name.assign(line.substr(0, colon));
  std::transform(h.name.begin(), h.name.end(), h.name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  h.value.assign(value);
  t->response.headers.push_back(std::move(h));
  return size * count;
}

// Holds one of the max_parallel transfer slots for its lifetime.
class SlotGuard {
 public:
  explicit SlotGuard(std::counting_semaphore<>& slots) : slots_(slots) { slots_.acquire(); }
  ~SlotGuard() { slots_.release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  std::counting_semaphore<>& slots_;
};

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(ClientOptions options)
      : options_(std::move(options)),
        slots_(static_cast<std::ptrdiff_t>(std::max<size_t>(1, options_.max_parallel))),
        rng_(std::random_device{}()) {}

  Result<Response> Perform(Request request) override;

 private:
  struct Outcome {
    Fault fault = Fault::kNone;
    int requests_sent = 0;
    std::string error;  // for a fault; never holds credentials
    Response response;
  };

  Outcome RunOnce(const Request& request);
  Status Configure(CURL* h, const Request& request, Transfer& transfer, curl_slist* headers,
                   char* error_buffer);
  std::chrono::milliseconds Backoff(int attempt, std::optional<std::chrono::milliseconds> hint);
  CurlEasy TakeHandle();
  void ReturnHandle(CurlEasy handle);

  const ClientOptions options_;
  std::counting_semaphore<> slots_;
  std::mutex pool_mu_;
  std::vector<CurlEasy> pool_;  // idle handles; each keeps its connection cache
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

CurlEasy CurlClient::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      CurlEasy h = std::move(pool_.back());
      pool_.pop_back();
      return h;
    }
  }
  return CurlEasy(curl_easy_init());
}

void CurlClient::ReturnHandle(CurlEasy handle) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (pool_.size() < std::max<size_t>(1, options_.max_parallel)) pool_.push_back(std::move(handle));
}

#define PHRFS_CURL_SET(h, opt, value)                                        \
  do {                                                                       \
    CURLcode rc_ = curl_easy_setopt(h, opt, value);                          \
    if (rc_ != CURLE_OK) {                                                   \
      return Status::InvalidArgument(std::string("curl option " #opt ": ") + \
                                     curl_easy_strerror(rc_));               \
    }                                                                        \
  } while (0)

Status CurlClient::Configure(CURL* h, const Request& request, Transfer& transfer,
                             curl_slist* headers, char* error_buffer) {
  // curl_easy_reset keeps the connection cache, so a pooled handle reuses its connection.
  curl_easy_reset(h);
  PHRFS_CURL_SET(h, CURLOPT_ERRORBUFFER, error_buffer);
  PHRFS_CURL_SET(h, CURLOPT_URL, request.url.c_str());
  PHRFS_CURL_SET(h, CURLOPT_PROTOCOLS_STR, "http,https");
  PHRFS_CURL_SET(h, CURLOPT_NOSIGNAL, 1L);
  PHRFS_CURL_SET(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  PHRFS_CURL_SET(h, CURLOPT_FOLLOWLOCATION, 0L);
  PHRFS_CURL_SET(h, CURLOPT_TCP_KEEPALIVE, 1L);
  PHRFS_CURL_SET(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  long stall_s = static_cast<long>((options_.stall_timeout.count() + 999) / 1000);
  PHRFS_CURL_SET(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  PHRFS_CURL_SET(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, stall_s));
  PHRFS_CURL_SET(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.attempt_timeout.count()));
  PHRFS_CURL_SET(h, CURLOPT_SSL_VERIFYPEER, 1L);
  PHRFS_CURL_SET(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) PHRFS_CURL_SET(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.user.empty()) {
    PHRFS_CURL_SET(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    PHRFS_CURL_SET(h, CURLOPT_USERNAME, options_.user.c_str());
    std::string password(reinterpret_cast<const char*>(options_.password.data()),
                         options_.password.size());
    CURLcode rc = curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());  // curl copies it
    SecureWipe({reinterpret_cast<uint8_t*>(password.data()), password.size()});
    if (rc != CURLE_OK) return Status::InvalidArgument("curl refused the password option");
  }
  PHRFS_CURL_SET(h, CURLOPT_HTTPHEADER, headers);
  PHRFS_CURL_SET(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  PHRFS_CURL_SET(h, CURLOPT_HEADERDATA, &transfer);
  PHRFS_CURL_SET(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  PHRFS_CURL_SET(h, CURLOPT_WRITEDATA, &transfer);
  PHRFS_CURL_SET(h, CURLOPT_DEBUGFUNCTION, &OnDebug);
  PHRFS_CURL_SET(h, CURLOPT_DEBUGDATA, &transfer);
  PHRFS_CURL_SET(h, CURLOPT_VERBOSE, 1L);  // only feeds OnDebug
  // curl re-sends by itself only on a reused connection: a request that must not be sent twice
  // gets a fresh one.
  if (!request.idempotent) PHRFS_CURL_SET(h, CURLOPT_FRESH_CONNECT, 1L);

  const std::string& m = request.method;
  bool upload = !request.body.empty() || m == "PUT" || m == "POST";
  if (m == "HEAD" && !upload) {
    PHRFS_CURL_SET(h, CURLOPT_NOBODY, 1L);
  } else if (m == "GET" && !upload) {
    PHRFS_CURL_SET(h, CURLOPT_HTTPGET, 1L);
  } else {
    PHRFS_CURL_SET(h, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  if (upload) {
    // A known-length upload (Content-Length, never chunked) read straight from the caller's span.
    PHRFS_CURL_SET(h, CURLOPT_UPLOAD, 1L);
    PHRFS_CURL_SET(h, CURLOPT_READFUNCTION, &ReadBody);
    PHRFS_CURL_SET(h, CURLOPT_READDATA, &transfer);
    PHRFS_CURL_SET(h, CURLOPT_SEEKFUNCTION, &SeekBody);
    PHRFS_CURL_SET(h, CURLOPT_SEEKDATA, &transfer);
    PHRFS_CURL_SET(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  return Status::Ok();
}

CurlClient::Outcome CurlClient::RunOnce(const Request& request) {
  Outcome out;
  CurlHeaders headers;
  auto append = [&headers](const std::string& line) {
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head == nullptr) return false;
    (void)headers.release();  // the same list, now longer (or a new one when it was empty)
    headers.reset(head);
    return true;
  };
  for (const Header& hd : request.headers) {
    // "Name;" is curl's spelling of a header with an empty value.
    if (!append(hd.value.empty() ? hd.name + ";" : hd.name + ": " + hd.value)) {
      out.fault = Fault::kLocal;
      out.error = "out of memory building headers";
      return out;
    }
  }
  // No 100-continue round trip before large bodies.
  if (!append("Expect:")) {
    out.fault = Fault::kLocal;
    out.error = "out of memory building headers";
    return out;
  }

  SlotGuard slot(slots_);
  CurlEasy handle = TakeHandle();
  if (!handle) {
    out.fault = Fault::kLocal;
    out.error = "curl_easy_init failed";
    return out;
  }
  Transfer transfer;
  transfer.body = request.body;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Status configured = Configure(handle.get(), request, transfer, headers.get(), error_buffer);
  if (!configured.ok()) {
    out.fault = Fault::kInvalid;
    out.error = configured.message();
    return out;  // the handle is dropped: its options are in an unknown state
  }
  CURLcode code = curl_easy_perform(handle.get());
  out.fault = Classify(code);
  out.requests_sent = transfer.requests_sent;
  if (out.fault == Fault::kNone) {
    long status = 0;
    curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = status;
    out.response = std::move(transfer.response);
  } else {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    // curl's own text names hosts and ports, not credentials; drop it if it looks otherwise.
    if (detail.find('@') != std::string::npos) detail = curl_easy_strerror(code);
    out.error = detail + " (curl " + std::to_string(static_cast<int>(code)) + ")";
  }
  // Detach the caller-owned buffers before the handle waits in the pool.
  curl_easy_setopt(handle.get(), CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle.get(), CURLOPT_HTTPHEADER, nullptr);
  ReturnHandle(std::move(handle));
  return out;
}

std::chrono::milliseconds CurlClient::Backoff(int attempt,
                                              std::optional<std::chrono::milliseconds> hint) {
  const std::chrono::milliseconds cap = options_.backoff_max;
  if (hint) return std::min(*hint, cap);
  // Full jitter: uniform in [0, min(cap, initial * 2^(attempt-1))].
  int64_t ceiling = options_.backoff_initial.count();
  for (int i = 1; i < attempt && ceiling < cap.count(); ++i) ceiling *= 2;
  ceiling = std::max<int64_t>(0, std::min<int64_t>(ceiling, cap.count()));
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng_));
}

Result<Response> CurlClient::Perform(Request request) {
  PHRFS_RETURN_IF_ERROR(Validate(request));
  const std::string where = request.method + " " + RedactUrl(request.url);
  const int max_attempts = std::max(1, options_.max_attempts);
  int sent_so_far = 0;
  for (int attempt = 1;; ++attempt) {
    // Each attempt starts from the caller's request, so a signer never sees its own old headers.
    Request sent = request;
    if (options_.signer) {
      Status signed_ok = options_.signer(sent);
      if (!signed_ok.ok()) return signed_ok;
      PHRFS_RETURN_IF_ERROR(Validate(sent));
    }
    Outcome out = RunOnce(sent);
    sent_so_far += out.requests_sent;  // 0 when the attempt never reached a connection
    out.response.attempts = std::max(1, sent_so_far);
    std::string failure;
    std::optional<std::chrono::milliseconds> hint;
    switch (out.fault) {
      case Fault::kNone: {
        long status = out.response.status;
        if (!IsRetryableStatus(status)) return std::move(out.response);
        if (!request.idempotent && !StatusSaysNotProcessed(status)) {
          return std::move(out.response);
        }
        failure = "HTTP " + std::to_string(status);
        hint = RetryAfter(out.response);
        break;
      }
      case Fault::kBeforeSend:
        failure = out.error;
        break;
      case Fault::kAfterSend:
        failure = out.error;
        if (!request.idempotent) {
          return Unavailable(where + ": " + failure +
                             " (not retried: the request may have reached the server)");
        }
        break;
      case Fault::kInvalid:
        return Status::InvalidArgument(where + ": " + out.error);
      case Fault::kTls:
        return Status::Error(Code::kPermissionDenied, where + ": TLS: " + out.error);
      case Fault::kLocal:
        return Status::IoError(where + ": " + out.error);
    }
    if (attempt >= max_attempts) {
      return Unavailable(where + ": " + failure + " after " + std::to_string(attempt) +
                         (attempt == 1 ? " attempt" : " attempts"));
    }
    std::this_thread::sleep_for(Backoff(attempt, hint));
  }
}

}  // namespace

Result<std::unique_ptr<HttpClient>> NewCurlClient(ClientOptions options) {
  CURLcode init = GlobalInit();
  if (init != CURLE_OK) {
    return Status::IoError(std::string("curl_global_init: ") + curl_easy_strerror(init));
  }
  if (options.max_attempts < 1) return Status::InvalidArgument("max_attempts must be >= 1");
  if (options.max_parallel < 1) return Status::InvalidArgument("max_parallel must be >= 1");
  if (options.user.find(':') != std::string::npos) {
    return Status::InvalidArgument("a basic-auth user name cannot contain ':'");
  }
  return std::unique_ptr<HttpClient>(new CurlClient(std::move(options)));
}

}  // namespace phrfs::remote::http
