#pragma once
// The pure parts of gopcast's small HTTP/1.1 server: request heads, targets, byte
// ranges, content types and response heads. No sockets here, so all of it is
// unit-tested as plain functions.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gopcast::serve {

// A request line plus headers longer than this is refused (431) before it is parsed.
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;

// A request the server refuses to serve: the status to answer with and why.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& reason) : std::runtime_error(reason), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (compared exactly), if any.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct Request {
  std::string method;  // as sent; methods are case-sensitive
  std::string target;  // as sent: path and query, still percent-encoded
  int minor_version = 1;  // HTTP/1.<minor_version>
  Headers headers;  // names lower-cased, values trimmed

  // The first header of that (lower-case) name, if any.
  std::optional<std::string_view> header(std::string_view name) const;
  // HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 only when told `keep-alive`.
  bool keep_alive() const;
};

// Where a request head ends in `buffer` (the offset just past its blank line), or
// nullopt while it is incomplete. Lines may end in CRLF or a bare LF.
std::optional<std::size_t> find_head_end(std::string_view buffer);

// Parses a request head (request line and header lines, blank line optional).
// Throws HttpError 400 for a malformed head, 505 for an HTTP version other than 1.x.
Request parse_request(std::string_view head);

// Decodes %XX escapes ('+' stays '+': it means a space only in forms). Throws
// HttpError 400 for a truncated or non-hex escape and for an encoded NUL.
std::string percent_decode(std::string_view text);

// The decoded path of an origin-form request target ("/a%20b.ts?x=1" -> "/a b.ts").
// Throws HttpError 400 when the target is not a path starting with '/'.
std::string target_path(std::string_view target);

// An inclusive byte range [first, last] of a file, as HTTP counts them.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

enum class RangeKind {
  Whole,          // no Range header, or one the server may ignore (other unit, several ranges, bad syntax): 200
  Partial,        // one satisfiable range: 206
  Unsatisfiable,  // a well-formed range that starts at or past the end of the file: 416
};

struct RangeRequest {
  RangeKind kind = RangeKind::Whole;
  ByteRange range;  // clipped to the file when kind is Partial
};

// Interprets a Range header value ("bytes=0-99", "bytes=100-", "bytes=-500") against
// a file of `size` bytes, as RFC 9110 section 14 has it.
RangeRequest parse_range(std::string_view value, std::uint64_t size);

// A file's extension in lower case, with its dot (".m3u8"); "" when it has none.
std::string lowercase_extension(const std::filesystem::path& file);

// What a file is to a player, by its extension (case-insensitive).
enum class FileKind {
  Media,     // segments, whole files, subtitles, pictures: what outputs hold
  Playlist,  // HLS playlists and DASH manifests: they change while a live output grows
  Key,       // an HLS AES-128 key
  Player,    // the player's page, scripts and styles (served from its own folder only)
  Other,     // anything else: never served from an output folder
};

// The Content-Type for a file, by its extension (case-insensitive).
std::string_view mime_type(const std::filesystem::path& file);
FileKind file_kind(const std::filesystem::path& file);

// Playlists and manifests change while a live output grows: clients must revalidate them.
bool is_manifest(const std::filesystem::path& file);

std::string_view reason_phrase(int status);

// "HTTP/1.1 <status> <reason>\r\n" + each header + "Content-Length" + blank line.
std::string format_response_head(int status, const Headers& headers, std::uint64_t content_length);

}  // namespace gopcast::serve
