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
constexpr timeval kSendTimeout = {30, 0};           // a client that stops reading is dropped

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

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

// Where a connection is: waiting for a request (and so may be closed to make room),
// inside one, or closed to make room.
enum class Phase { Idle, Busy, Evicted };

struct Peer {
  std::atomic<Phase> phase{Phase::Idle};
  std::atomic<Clock::rep> idle_since{Clock::now().time_since_epoch().count()};
  std::string client;  // the peer's address
};

// Moves a connection to `to` unless the server closed it to make room (false then).
bool set_phase(Peer& peer, Phase to) {
  Phase now = peer.phase.load();
  while (now != Phase::Evicted && !peer.phase.compare_exchange_weak(now, to)) {
  }
  return now != Phase::Evicted;
}

void serve_connection(int fd, Peer& peer, const Site& site, const ServeOptions& options, const std::atomic<bool>& stop) {
  std::string buffer;
  char chunk[4096];
  for (;;) {
    std::optional<std::size_t> end;
    auto deadline = Clock::now() + seconds(options.idle_timeout_seconds);
    std::optional<Clock::time_point> head_deadline;  // set by a request's first byte
    if (buffer.empty()) {
      peer.idle_since = Clock::now().time_since_epoch().count();
      if (!set_phase(peer, Phase::Idle)) return;
    }
    while (!(end = find_head_end(buffer))) {
      if (buffer.size() > kMaxHeadBytes) {
        send_response(fd, error_response(431, "request line and headers are limited to 16 KiB"), false);
        return;
      }
      if (!head_deadline && !buffer.empty()) head_deadline = Clock::now() + seconds(options.header_timeout_seconds);
      if (!wait_readable(fd, stop, head_deadline ? std::min(deadline, *head_deadline) : deadline)) {
        if (head_deadline && !stop && Clock::now() >= *head_deadline)
          send_response(fd, error_response(408, "the request's head did not arrive in time"), false);
        return;
      }
      // The first bytes of a request: from now on the connection is not idle, unless the
      // server closed it to make room a moment ago.
      if (buffer.empty() && !set_phase(peer, Phase::Busy)) return;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      deadline = Clock::now() + seconds(options.idle_timeout_seconds);
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

// The peer's address as text ("127.0.0.1", "::1").
std::string peer_address(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr, text, sizeof text);
  else if (a.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, text, sizeof text);
  return text;
}

}  // namespace

struct Server::Connection {
  UniqueFd fd;  // owned here, not by the thread: run() may shut it down to end a stalled send
  std::thread thread;
  std::atomic<bool> done{false};
  Peer peer;
};

Server::Server(const ServeOptions& options)
    : options_(options), site_(options.root, options.web_dir.empty() ? default_web_dir() : options.web_dir) {
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
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    UniqueFd fd(::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&from), &from_len, SOCK_CLOEXEC));
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
    const std::string client = peer_address(from);
    if (!make_room(client)) {
      log::warn("serve: {}: too many connections inside a request; answered 503", client);
      send_response(fd.get(), error_response(503, "too many connections"), false);
      continue;
    }
    Connection& c = connections_.emplace_back();
    c.fd = std::move(fd);
    c.peer.client = client;
    try {
      c.thread = std::thread([&c, this, &stop] {
        try {
          serve_connection(c.fd.get(), c.peer, site_, options_, stop);
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

bool Server::make_room(const std::string& client) {
  auto evict = [](Connection* c) {
    Phase idle = Phase::Idle;
    if (!c || !c->peer.phase.compare_exchange_strong(idle, Phase::Evicted)) return false;
    ::shutdown(c->fd.get(), SHUT_RDWR);  // its thread sees the end of the stream and returns
    return true;
  };
  for (;;) {
    // The open connections (those closed to make room are on their way out), and the
    // longest idle one, of all and of this client.
    int open = 0, from_client = 0;
    Connection* idlest = nullptr;
    Connection* idlest_of_client = nullptr;
    auto older = [](const Connection* a, const Connection& b) { return !a || b.peer.idle_since < a->peer.idle_since; };
    for (auto& c : connections_) {
      if (c.done || c.peer.phase == Phase::Evicted) continue;
      ++open;
      const bool mine = c.peer.client == client;
      from_client += mine ? 1 : 0;
      if (c.peer.phase != Phase::Idle) continue;
      if (older(idlest, c)) idlest = &c;
      if (mine && older(idlest_of_client, c)) idlest_of_client = &c;
    }
    if (from_client >= options_.max_per_client) {
      if (!evict(idlest_of_client)) return false;
    } else if (open >= options_.max_connections) {
      if (!evict(idlest)) return false;
    } else {
      return true;
    }
  }
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
