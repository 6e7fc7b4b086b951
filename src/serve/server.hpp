#pragma once
// `gopcast serve`: a small static HTTP/1.1 server over POSIX sockets for output
// folders and the web player. One thread per connection (at most kMaxConnections),
// keep-alive, GET and HEAD with byte ranges. What it answers is decided by
// serve::Site; this only moves bytes.
#include <atomic>
#include <filesystem>
#include <list>
#include <string>

#include "core/fd.hpp"
#include "serve/site.hpp"

namespace gopcast::serve {

inline constexpr int kDefaultPort = 8000;
inline constexpr int kMaxConnections = 64;  // beyond this a new connection gets 503

struct ServeOptions {
  std::filesystem::path root;     // the folder served
  std::filesystem::path web_dir;  // the player's files; empty: default_web_dir()
  std::string bind = "127.0.0.1";  // a numeric IPv4 or IPv6 address
  int port = kDefaultPort;        // 0: any free port
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

  Site site_;
  std::string host_;  // as it goes in a URL ("[::1]" for IPv6)
  int port_ = 0;
  UniqueFd listener_;
  std::list<Connection> connections_;
};

}  // namespace gopcast::serve
