// `gopcast serve` over real sockets: idle and slow connections cannot lock players out
// (issue 17 item 10: with ~200 idle TCP connections a real request got 503).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../test_support.hpp"
#include "core/fd.hpp"
#include "serve/server.hpp"

namespace gopcast::serve {
namespace {

using namespace std::chrono_literals;
using test::TempDir;
using test::write_file;

// A server on 127.0.0.1 and a free port, serving in a thread of this process.
struct Running {
  TempDir dir;
  std::atomic<bool> stop{false};
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(ServeOptions options) {
    write_file(dir / "out" / "a.ts", "segment bytes");
    write_file(dir / "web" / "player.html", "page");
    write_file(dir / "web" / "hls.min.js", "hls");
    options.root = dir / "out";
    options.web_dir = dir / "web";
    options.port = 0;
    server = std::make_unique<Server>(options);
    thread = std::thread([this] { server->run(stop); });
  }
  ~Running() {
    stop = true;
    thread.join();
  }
};

// A TCP connection to the server from `source` (any 127.0.0.0/8 address is this machine).
UniqueFd connect_to(int port, const char* source = "127.0.0.1") {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
    throw std::runtime_error("test: cannot connect");
  return fd;
}

// What the server sends until it closes the connection or `wait` passes.
std::string read_all(int fd, std::chrono::milliseconds wait = 10s) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + wait;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void send_text(int fd, const std::string& text) { ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size())); }

// One request on a new connection; the status line of the answer.
std::string status_of_get(int port, const char* source = "127.0.0.1") {
  const UniqueFd fd = connect_to(port, source);
  send_text(fd.get(), "GET /a.ts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string answer = read_all(fd.get());
  return answer.substr(0, answer.find("\r\n"));
}

TEST(ServeServer, IdleConnectionsMakeRoomForARealRequest) {
  ServeOptions options;
  options.max_connections = 64;
  options.max_per_client = 16;
  Running r(options);
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(connect_to(r.server->port()));
  std::this_thread::sleep_for(300ms);  // accepted, each waiting for a request
  EXPECT_EQ(status_of_get(r.server->port()), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_of_get(r.server->port(), "127.0.0.2"), "HTTP/1.1 200 OK");
  // The longest idle ones were closed: the server is not holding 200 threads.
  int closed = 0;
  for (const auto& fd : idle) {
    pollfd p{fd.get(), POLLIN, 0};
    char c;
    if (::poll(&p, 1, 0) > 0 && ::recv(fd.get(), &c, 1, MSG_DONTWAIT) == 0) ++closed;
  }
  EXPECT_GE(closed, 200 - options.max_per_client);
}

TEST(ServeServer, SlowHeadersAreTimedOutAndLimitedPerClient) {
  ServeOptions options;
  options.max_per_client = 4;
  options.header_timeout_seconds = 1;
  Running r(options);
  // Four clients' worth of started requests from one address: a fifth connection from
  // it has no idle one to take the place of, and is told so; another address is served.
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(connect_to(r.server->port()));
    send_text(slow.back().get(), "GET /a.ts HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(status_of_get(r.server->port()), "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(status_of_get(r.server->port(), "127.0.0.2"), "HTTP/1.1 200 OK");
  // Each slow head is answered 408 and closed once header_timeout has passed since its
  // first byte, even though bytes keep coming (a slow-header client).
  const auto start = std::chrono::steady_clock::now();
  send_text(slow[0].get(), "X-Drip: 1\r\n");
  for (auto& fd : slow) EXPECT_EQ(read_all(fd.get(), 5s).substr(0, 12), "HTTP/1.1 408");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(status_of_get(r.server->port()), "HTTP/1.1 200 OK");
}

}  // namespace
}  // namespace gopcast::serve
