#include "serve/server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"

namespace gopcast::serve {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 200;                        // how often waiting threads look at the stop flag
constexpr auto kIdleTimeout = std::chrono::seconds(15);  // a quiet keep-alive connection is closed
constexpr timeval kSendTimeout = {30, 0};           // a client that stops reading is dropped

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// Sends all of `data`; false when the peer is gone or stalled.
bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool send_response(int fd, const Response& r, bool keep_alive) {
  auto headers = r.headers;
  if (!keep_alive) headers.emplace_back("Connection", "close");
  const std::string head = format_response_head(r.status, headers, r.content_length());
  if (!send_all(fd, head.data(), head.size())) return false;
  if (!r.send_body) return true;
  if (!r.file) return send_all(fd, r.body.data(), r.body.size());
  // pread + send rather than sendfile: send's MSG_NOSIGNAL keeps a vanished client
  // from raising SIGPIPE in the whole process.
  std::string buf(64 * 1024, '\0');
  std::uint64_t offset = r.offset;
  for (std::uint64_t left = r.length; left > 0;) {
    const ssize_t n = ::pread(r.file.get(), buf.data(), std::min<std::uint64_t>(left, buf.size()), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // the file shrank under us: the promised length cannot be kept
    if (!send_all(fd, buf.data(), static_cast<std::size_t>(n))) return false;
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  return true;
}

// Waits until `fd` can be read; false on stop, idle timeout or error.
bool wait_readable(int fd, const std::atomic<bool>& stop, Clock::time_point deadline) {
  while (!stop && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, kPollMs);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
  return false;
}

void serve_connection(int fd, const Site& site, const std::atomic<bool>& stop) {
  std::string buffer;
  char chunk[4096];
  for (;;) {
    std::optional<std::size_t> end;
    auto deadline = Clock::now() + kIdleTimeout;
    while (!(end = find_head_end(buffer))) {
      if (buffer.size() > kMaxHeadBytes) {
        send_response(fd, error_response(431, "request line and headers are limited to 16 KiB"), false);
        return;
      }
      if (!wait_readable(fd, stop, deadline)) return;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      deadline = Clock::now() + kIdleTimeout;
    }
    if (*end > kMaxHeadBytes) {
      send_response(fd, error_response(431, "request line and headers are limited to 16 KiB"), false);
      return;
    }
    Request request;
    try {
      request = parse_request(std::string_view(buffer).substr(0, *end));
    } catch (const HttpError& e) {
      send_response(fd, error_response(e.status(), e.what()), false);
      return;
    }
    buffer.erase(0, *end);
    const Response response = site.respond(request);
    log::info("serve: {} {} {} {}", request.method, request.target, response.status, response.content_length());
    // A request body (which GET and HEAD have no use for) is not read, so the next
    // request could not be found after it: such a connection ends here.
    const auto length = request.header("content-length");
    const bool has_body = request.header("transfer-encoding") || (length && *length != "0");
    const bool keep_alive = request.keep_alive() && !has_body && !stop;
    if (!send_response(fd, response, keep_alive) || !keep_alive) return;
  }
}

}  // namespace

struct Server::Connection {
  UniqueFd fd;  // owned here, not by the thread: run() may shut it down to end a stalled send
  std::thread thread;
  std::atomic<bool> done{false};
};

Server::Server(const ServeOptions& options)
    : site_(options.root, options.web_dir.empty() ? default_web_dir() : options.web_dir) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (::getaddrinfo(options.bind.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    fail(ErrorCode::Usage, "--bind {}: not a numeric IPv4 or IPv6 address", options.bind);
  const AddrInfoPtr addr(found);

  listener_.reset(::socket(addr->ai_family, addr->ai_socktype | SOCK_CLOEXEC, addr->ai_protocol));
  if (!listener_) fail(ErrorCode::Internal, "serve: socket: {}", std::strerror(errno));
  // Lets a restarted server take its port back from connections still in TIME_WAIT;
  // on Linux it never lets two servers listen on one port.
  const int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_.get(), addr->ai_addr, addr->ai_addrlen) != 0) {
    const int err = errno;
    if (err == EADDRINUSE)
      fail(ErrorCode::OutputNotWritable, "serve: port {} on {} is taken (another server? --port 0 picks a free one)",
           options.port, options.bind);
    fail(ErrorCode::OutputNotWritable, "serve: bind {} port {}: {}", options.bind, options.port, std::strerror(err));
  }
  if (::listen(listener_.get(), 64) != 0) fail(ErrorCode::Internal, "serve: listen: {}", std::strerror(errno));

  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  char host[INET6_ADDRSTRLEN] = {};
  if (bound.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&bound);
    port_ = ntohs(a->sin6_port);
    const bool any = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    host_ = any ? "127.0.0.1" : fmt::format("[{}]", host);
  } else {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&bound);
    port_ = ntohs(a->sin_port);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    host_ = a->sin_addr.s_addr == htonl(INADDR_ANY) ? "127.0.0.1" : host;
  }
}

Server::~Server() { reap(true); }

std::string Server::url() const { return fmt::format("http://{}:{}/", host_, port_); }

void Server::run(const std::atomic<bool>& stop) {
  while (!stop) {
    reap(false);
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) {
      // A connection reset before accept, or out of descriptors: keep serving, and give
      // running connections time to end rather than spin on a full descriptor table.
      if (errno == EMFILE || errno == ENFILE) {
        log::warn("serve: accept: {}", std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      }
      continue;
    }
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof kSendTimeout);
    if (connections_.size() >= static_cast<std::size_t>(kMaxConnections)) {
      send_response(fd.get(), error_response(503, "too many connections"), false);
      continue;
    }
    Connection& c = connections_.emplace_back();
    c.fd = std::move(fd);
    try {
      c.thread = std::thread([&c, this, &stop] {
        try {
          serve_connection(c.fd.get(), site_, stop);
        } catch (const std::exception& e) {
          log::warn("serve: connection ended: {}", e.what());
        }
        c.done = true;
      });
    } catch (const std::system_error& e) {  // no thread to be had: drop this connection, not the server
      log::warn("serve: {}", e.what());
      connections_.pop_back();
    }
  }
  reap(true);
}

void Server::reap(bool all) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!all && !it->done) {
      ++it;
      continue;
    }
    // Wakes a thread blocked in send or recv; it then sees the stop flag or a dead socket.
    if (all) ::shutdown(it->fd.get(), SHUT_RDWR);
    if (it->thread.joinable()) it->thread.join();
    it = connections_.erase(it);
  }
}

}  // namespace gopcast::serve
