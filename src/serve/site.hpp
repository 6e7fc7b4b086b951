#pragma once
// What `gopcast serve` answers: files under the served folder, the player page and
// its assets, and the list of playlists. Requests in, responses out, no sockets:
// the server (serve/server.hpp) only moves bytes.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fd.hpp"
#include "serve/http.hpp"

namespace gopcast::serve {

// Where the player's files (player.html, player.js, player.css, hls.min.js) are
// served from, under this path prefix; the playlist list is <prefix>playlists.json.
inline constexpr std::string_view kAssetPrefix = "/_gopcast/";

struct Response {
  int status = 200;
  Headers headers;  // Content-Length is added when sent
  std::string body;        // the body, when it is not a file
  UniqueFd file;           // or bytes [offset, offset + length) of this open file
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool send_body = true;   // false for HEAD: the same headers, no body

  std::uint64_t content_length() const { return file ? length : body.size(); }
  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
};

// A short text/plain answer for an error status.
Response error_response(int status, std::string_view detail = {});

// The file `decoded_path` (a request path, already percent-decoded) names under
// `canonical_root`, with every symlink resolved; nullopt when that leaves the root
// ("/../x", "/a/../../x", a symlink pointing outside). The file need not exist.
std::optional<std::filesystem::path> resolve_under(const std::filesystem::path& canonical_root,
                                                   std::string_view decoded_path);

struct PlaylistEntry {
  std::string path;  // relative to the served folder, '/'-separated
  bool master = false;  // has #EXT-X-STREAM-INF (a rendition ladder)
  bool live = false;    // a media playlist without #EXT-X-ENDLIST: still growing
  bool operator==(const PlaylistEntry&) const = default;
};

// Every *.m3u8 under the folder (hidden folders such as work and staging folders
// skipped, symlinks out of it ignored), master playlists first, then by path.
std::vector<PlaylistEntry> find_playlists(const std::filesystem::path& canonical_root);
nlohmann::json to_json(const std::vector<PlaylistEntry>& playlists);

// The installed player files (<prefix>/share/gopcast/web beside the program) or, for
// a program run from its build tree, the build tree's copy. Throws ResourceNotFound
// when the folder lacks the page or hls.js.
std::filesystem::path default_web_dir();

class Site {
 public:
  // Throws ResourceNotFound when `root` is not an existing folder.
  Site(const std::filesystem::path& root, const std::filesystem::path& web_dir);

  const std::filesystem::path& root() const { return root_; }
  Response respond(const Request& request) const;

 private:
  Response route(const Request& request) const;

  std::filesystem::path root_;  // canonical
  std::filesystem::path web_;   // canonical
};

}  // namespace gopcast::serve
