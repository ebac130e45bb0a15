// A scripted HTTP/1.1 server on 127.0.0.1:<ephemeral> for client tests: each request that
// arrives consumes the next scripted action (answer, reset the connection, or stall). Requests are
// recorded. Test-only. Each connection has its own thread; the script is consumed in the order
// requests arrive. The test thread may read requests() and connections() at any time (locked).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace phrfs::remote::testing {

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ServerAction {
  enum class Kind { kRespond, kReset, kStall };
  Kind kind = Kind::kRespond;
  std::string raw;  // for kRespond: the full response bytes
  std::chrono::milliseconds stall{0};
  std::chrono::milliseconds delay{0};  // for kRespond: wait this long before answering

  // `extra` is header lines, each ending in \r\n.
  static ServerAction Respond(int status, const std::string& body = "",
                              const std::string& extra = "") {
    ServerAction a;
    a.raw = "HTTP/1.1 " + std::to_string(status) +
            " Scripted\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
            "\r\n" + body;
    return a;
  }
  static ServerAction RespondAfter(std::chrono::milliseconds delay, int status,
                                   const std::string& body = "") {
    ServerAction a = Respond(status, body);
    a.delay = delay;
    return a;
  }
  // Reads the request, then resets the connection (RST) without answering.
  static ServerAction Reset() {
    ServerAction a;
    a.kind = Kind::kReset;
    return a;
  }
  // Reads the request, sends nothing for `ms` (or until the client closes), then closes.
  static ServerAction Stall(std::chrono::milliseconds ms) {
    ServerAction a;
    a.kind = Kind::kStall;
    a.stall = ms;
    return a;
  }
};

class LoopbackHttpServer {
 public:
  // After the script runs out, every request gets `fallback`.
  explicit LoopbackHttpServer(std::vector<ServerAction> script,
                              ServerAction fallback = ServerAction::Respond(200, "ok"))
      : script_(script.begin(), script.end()), fallback_(std::move(fallback)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0) {
      return;
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackHttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (std::thread& t : connection_threads_) t.join();
    if (listen_fd_ >= 0) close(listen_fd_);
  }
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }
  // The most requests that were being answered at the same moment.
  int max_in_flight() const { return max_in_flight_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections_++;
      connection_threads_.emplace_back([this, fd] { ServeConnection(fd); });
    }
  }

  // Reads until `buffer` holds n bytes; false on EOF, error or stop.
  bool Fill(int fd, std::string& buffer, size_t n) {
    while (buffer.size() < n) {
      pollfd p{fd, POLLIN, 0};
      if (stop_) return false;
      if (poll(&p, 1, 50) <= 0) continue;
      char chunk[65536];
      ssize_t got = read(fd, chunk, sizeof chunk);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }

  void ServeConnection(int fd) {
    std::string buffer;
    for (;;) {
      size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill(fd, buffer, buffer.size() + 1)) {
          close(fd);
          return;
        }
      }
      SeenRequest req;
      std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      req.method = first.substr(0, first.find(' '));
      req.target = first.substr(first.find(' ') + 1);
      req.target = req.target.substr(0, req.target.rfind(' '));
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t next = head.find("\r\n", pos);
        if (next == std::string::npos) next = head.size();
        std::string line = head.substr(pos, next - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          req.headers[name] = value;
        }
        pos = next + 2;
      }
      size_t length = 0;
      if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
        length = std::stoul(it->second);
      }
      if (!Fill(fd, buffer, length)) {
        close(fd);
        return;
      }
      req.body = buffer.substr(0, length);
      buffer.erase(0, length);
      ServerAction action = fallback_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
        if (!script_.empty()) {
          action = script_.front();
          script_.pop_front();
        }
      }
      int now = ++in_flight_;
      for (int seen = max_in_flight_.load(); now > seen;) {
        if (max_in_flight_.compare_exchange_weak(seen, now)) break;
      }
      struct Done {
        std::atomic<int>& n;
        ~Done() { --n; }
      } done{in_flight_};
      switch (action.kind) {
        case ServerAction::Kind::kRespond: {
          std::this_thread::sleep_for(action.delay);
          size_t sent = 0;
          while (sent < action.raw.size()) {
            ssize_t n = send(fd, action.raw.data() + sent, action.raw.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += static_cast<size_t>(n);
          }
          break;
        }
        case ServerAction::Kind::kReset: {
          linger hard{1, 0};  // close() sends RST
          setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
          close(fd);
          return;
        }
        case ServerAction::Kind::kStall: {
          auto until = std::chrono::steady_clock::now() + action.stall;
          // Ends early when the client gives up and closes, so its next attempt is served.
          while (!stop_ && std::chrono::steady_clock::now() < until) {
            pollfd p{fd, POLLIN, 0};
            char sink[4096];
            if (poll(&p, 1, 20) > 0 && read(fd, sink, sizeof sink) <= 0) break;
          }
          close(fd);
          return;
        }
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  mutable std::mutex mu_;
  std::deque<ServerAction> script_;
  ServerAction fallback_;
  std::vector<SeenRequest> requests_;
  std::thread thread_;
  std::vector<std::thread> connection_threads_;  // touched by thread_ only, until it is joined
};

}  // namespace phrfs::remote::testing
