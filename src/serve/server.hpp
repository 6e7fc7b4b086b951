#pragma once
// `gopcast serve`: a small static HTTP/1.1 server over POSIX sockets for output
// folders and the web player. One thread per connection, keep-alive, GET and HEAD
// with byte ranges. What it answers is decided by serve::Site; this only moves bytes.
//
// Idle connections cannot lock players out: when the server or one client address is
// at its connection limit, the connection idle longest (waiting for a request, none
// begun) is closed to make room, as a browser expects of keep-alive; only when every
// connection is inside a request does a new one get 503. A request's head must arrive
// whole within header_timeout of its first byte (408 otherwise: slow-header clients).
#include <atomic>
#include <filesystem>
#include <list>
#include <string>

#include "core/fd.hpp"
#include "serve/site.hpp"

namespace gopcast::serve {

inline constexpr int kDefaultPort = 8000;

struct ServeOptions {
  std::filesystem::path root;     // the folder served
  std::filesystem::path web_dir;  // the player's files; empty: default_web_dir()
  std::string bind = "127.0.0.1";  // a numeric IPv4 or IPv6 address
  int port = kDefaultPort;        // 0: any free port
  int max_connections = 64;       // open at once, all clients
  int max_per_client = 16;        // open at once from one address (a browser uses 6)
  double header_timeout_seconds = 10;  // from a request's first byte to the end of its head
  double idle_timeout_seconds = 15;    // a keep-alive connection with no request is closed
};

class Server {
 public:
  // Checks the folder, finds the player and listens. Throws ResourceNotFound (no such
  // folder, no player files), Usage (not a numeric address) or OutputNotWritable (the
  // port is taken or may not be bound).
  explicit Server(const ServeOptions& options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  const std::filesystem::path& root() const { return site_.root(); }
  int port() const { return port_; }
  // Where a browser on this machine reaches the page: http://127.0.0.1:PORT/ for a
  // wildcard or loopback bind, the bound address otherwise.
  std::string url() const;

  // Serves until `stop` turns true (looked at every 200 ms), then ends every
  // connection and returns.
  void run(const std::atomic<bool>& stop);

 private:
  struct Connection;
  void reap(bool all);
  // Makes room for a connection from `client`; false when every connection that
  // counts against a limit is inside a request.
  bool make_room(const std::string& client);

  ServeOptions options_;
  Site site_;
  std::string host_;  // as it goes in a URL ("[::1]" for IPv6)
  int port_ = 0;
  UniqueFd listener_;
  std::list<Connection> connections_;
};

}  // namespace gopcast::serve
