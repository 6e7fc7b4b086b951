#include "serve/site.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

#include "core/error.hpp"
#include "core/paths.hpp"

namespace fs = std::filesystem;

namespace gopcast::serve {

namespace {

// Player files without which `serve` would show a page that cannot play.
constexpr std::string_view kPage = "player.html";
constexpr std::string_view kHlsJs = "hls.min.js";
// Bounds on the playlist listing, so a huge folder cannot stall the page.
constexpr std::size_t kMaxPlaylists = 1000;
constexpr std::uintmax_t kMaxPlaylistBytes = 4 << 20;

Response text_response(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

// A file's bytes, all or the one range asked for.
Response file_response(const fs::path& path, const Request& req) {
  // O_NONBLOCK: opening a FIFO someone left in the folder must not hang the connection.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return error_response(errno == EACCES ? 403 : 404);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return error_response(404);
  const auto size = static_cast<std::uint64_t>(st.st_size);

  Response r;
  r.headers.emplace_back("Content-Type", std::string(mime_type(path)));
  r.headers.emplace_back("Accept-Ranges", "bytes");
  if (is_manifest(path)) r.headers.emplace_back("Cache-Control", "no-cache");
  const auto range_header = req.header("range");
  // If-Range asks for the range only if the file is unchanged; with no validators to
  // compare, the whole file is the safe answer.
  const RangeRequest range = range_header && !req.header("if-range") ? parse_range(*range_header, size) : RangeRequest{};
  switch (range.kind) {
    case RangeKind::Whole:
      r.length = size;
      break;
    case RangeKind::Partial:
      r.status = 206;
      r.offset = range.range.first;
      r.length = range.range.length();
      r.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", range.range.first, range.range.last, size));
      break;
    case RangeKind::Unsatisfiable:
      r = error_response(416);
      r.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
      return r;
  }
  r.file = std::move(fd);
  return r;
}

// The first kMaxPlaylistBytes of a file: enough of any real playlist to classify it.
std::string read_start(const fs::path& path) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  std::string text(ec ? 0 : static_cast<std::size_t>(std::min<std::uintmax_t>(size, kMaxPlaylistBytes)), '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// A name that starts with a dot: work and staging folders (.NAME.gopcast-*), locks,
// editor and version-control files.
bool hidden(const fs::path& p) {
  for (const auto& part : p)
    if (part.string().starts_with('.') && part != "." && part != "..") return true;
  return false;
}

// A key is served only when a playlist beside it names it: a player that may load the
// playlist needs it; any other key in the folder is nobody's business.
bool named_by_a_playlist(const fs::path& key) {
  const std::string name = key.filename().string();
  std::error_code ec;
  std::size_t looked = 0;
  for (fs::directory_iterator it(key.parent_path(), ec); !ec && it != fs::directory_iterator() && looked < kMaxPlaylists;
       it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code fec;
    if (lowercase_extension(p) != ".m3u8" || hidden(p.filename()) || !it->is_regular_file(fec)) continue;
    ++looked;
    const std::string text = read_start(p);
    for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
      const std::size_t end = at + name.size();
      const bool starts = at > 0 && (text[at - 1] == '"' || text[at - 1] == '/');
      const std::size_t line = text.rfind('\n', at);
      const std::string_view tag = std::string_view(text).substr(line == std::string::npos ? 0 : line + 1);
      if (starts && end < text.size() && text[end] == '"' &&
          (tag.starts_with("#EXT-X-KEY:") || tag.starts_with("#EXT-X-SESSION-KEY:")))
        return true;
    }
  }
  return false;
}

// Whether a file under the served folder is one a player needs: media, playlists and
// the keys they name; never hidden files or folders, manifests (*.manifest.h5 holds
// input paths and host names) or anything else. `requested` is the path as asked,
// `resolved` where it leads.
bool servable(const fs::path& root, std::string_view requested, const fs::path& resolved) {
  if (hidden(fs::path(requested)) || hidden(resolved.lexically_relative(root))) return false;
  switch (file_kind(resolved)) {
    case FileKind::Media:
    case FileKind::Playlist:
      return true;
    case FileKind::Key:
      return named_by_a_playlist(resolved);
    case FileKind::Player:
    case FileKind::Other:
      return false;
  }
  return false;
}

}  // namespace

Response error_response(int status, std::string_view detail) {
  std::string body = fmt::format("{} {}", status, reason_phrase(status));
  if (!detail.empty()) body += fmt::format(": {}", detail);
  return text_response(status, body + "\n", "text/plain; charset=utf-8");
}

std::optional<fs::path> resolve_under(const fs::path& canonical_root, std::string_view decoded_path) {
  // Leading slashes dropped: root / "/etc" would be "/etc".
  while (decoded_path.starts_with('/')) decoded_path.remove_prefix(1);
  std::error_code ec;
  // weakly_canonical resolves the symlinks of the part that exists and ".." everywhere,
  // so what is compared is where the file really is.
  const fs::path resolved = fs::weakly_canonical(canonical_root / fs::path(decoded_path), ec);
  if (ec) return std::nullopt;
  // Component by component: "/srv/out2" is not inside "/srv/out".
  auto [in_root, in_path] = std::mismatch(canonical_root.begin(), canonical_root.end(), resolved.begin(), resolved.end());
  if (in_root != canonical_root.end()) return std::nullopt;
  return resolved;
}

std::vector<PlaylistEntry> find_playlists(const fs::path& canonical_root) {
  std::vector<PlaylistEntry> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(canonical_root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator() && out.size() < kMaxPlaylists; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code fec;
    if (hidden(p.filename())) {  // work and staging folders hold unfinished outputs
      if (it->is_directory(fec)) it.disable_recursion_pending();
      continue;
    }
    if (lowercase_extension(p) != ".m3u8" || !it->is_regular_file(fec)) continue;
    const std::string rel = p.lexically_relative(canonical_root).generic_string();
    if (!resolve_under(canonical_root, rel)) continue;  // a symlink out of the folder
    const std::string text = read_start(p);
    PlaylistEntry e{rel, text.find("#EXT-X-STREAM-INF") != std::string::npos, false};
    e.live = !e.master && text.find("#EXT-X-ENDLIST") == std::string::npos;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const PlaylistEntry& a, const PlaylistEntry& b) {
    return a.master != b.master ? a.master : a.path < b.path;
  });
  return out;
}

nlohmann::json to_json(const std::vector<PlaylistEntry>& playlists) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : playlists) list.push_back({{"path", p.path}, {"master", p.master}, {"live", p.live}});
  return {{"playlists", list}};
}

fs::path default_web_dir() {
  const auto candidates = data_dir_candidates("web", GOPCAST_WEB_DIR_BUILD, GOPCAST_WEB_DIR_INSTALL);
  std::error_code ec;
  for (const auto& dir : candidates) {
    if (!fs::is_regular_file(dir / kPage, ec)) continue;
    if (!fs::is_regular_file(dir / kHlsJs, ec))
      fail(ErrorCode::ResourceNotFound, "{}: no {} beside the player page (the build vendors it from npm: rebuild gopcast)",
           dir.string(), kHlsJs);
    return dir;
  }
  fail(ErrorCode::ResourceNotFound, "web player files not found in {} or {} (build and install gopcast with its web/ folder)",
       candidates.front().string(), GOPCAST_WEB_DIR_INSTALL);
}

Site::Site(const fs::path& root, const fs::path& web_dir) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(ErrorCode::ResourceNotFound, "{}: no such folder", root.string());
  root_ = fs::canonical(root);
  web_ = fs::canonical(web_dir);
}

Response Site::respond(const Request& request) const {
  Response r;
  try {
    r = route(request);
  } catch (const HttpError& e) {
    r = error_response(e.status(), e.what());
  }
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.send_body = request.method != "HEAD";
  return r;
}

Response Site::route(const Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = error_response(405);
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string path = target_path(request.target);
  if (path == "/" || path == "/player.html") return file_response(web_ / kPage, request);
  if (path.starts_with(kAssetPrefix)) {
    const std::string_view name = std::string_view(path).substr(kAssetPrefix.size());
    if (name == "playlists.json") {
      Response r = text_response(200, to_json(find_playlists(root_)).dump(), "application/json");
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    }
    const auto file = resolve_under(web_, name);
    return file ? file_response(*file, request) : error_response(403, "outside the player's folder");
  }
  const auto file = resolve_under(root_, path);
  if (!file) return error_response(403, "outside the served folder");
  // Not found, as for a file that is not there: what else the folder holds is not said.
  if (!servable(root_, path, *file)) return error_response(404);
  return file_response(*file, request);
}

}  // namespace gopcast::serve
