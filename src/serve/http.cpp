#include "serve/http.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

namespace gopcast::serve {

namespace {

constexpr std::string_view kSpaces = " \t";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kSpaces);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpaces) - first + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 9110 token characters: what method and header names are made of.
bool is_token(std::string_view s) {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || extra.find(c) != std::string_view::npos;
  });
}

bool is_visible(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Splits off the next line (without its CRLF or LF) from `rest`.
std::string_view next_line(std::string_view& rest) {
  const auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// A run of decimal digits; values beyond uint64 saturate (a range past any file).
std::optional<std::uint64_t> parse_count(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
  return v;
}

}  // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return std::string_view(v);
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const { return find_header(headers, name); }

bool Request::keep_alive() const {
  const auto connection = header("connection");
  // Connection is a list of tokens ("keep-alive, Upgrade"); look for the one that decides.
  auto has = [&](std::string_view token) {
    if (!connection) return false;
    std::string_view rest = *connection;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (iequals(trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    return false;
  };
  return minor_version >= 1 ? !has("close") : has("keep-alive");
}

std::optional<std::size_t> find_head_end(std::string_view buffer) {
  // Empty lines before a request line are allowed (RFC 9112 section 2.2).
  const std::size_t start = std::min(buffer.find_first_not_of("\r\n"), buffer.size());
  for (std::size_t nl = buffer.find('\n', start); nl != std::string_view::npos; nl = buffer.find('\n', nl + 1)) {
    if (nl + 1 < buffer.size() && buffer[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < buffer.size() && buffer[nl + 1] == '\r' && buffer[nl + 2] == '\n') return nl + 3;
  }
  return std::nullopt;
}

Request parse_request(std::string_view head) {
  std::string_view rest = head.substr(std::min(head.find_first_not_of("\r\n"), head.size()));
  const std::string_view line = next_line(rest);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    throw HttpError(400, "request line is not METHOD TARGET VERSION");
  Request req;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method)) throw HttpError(400, "bad method");
  if (!is_visible(req.target)) throw HttpError(400, "bad request target");
  if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7]))
    throw HttpError(400, "bad HTTP version");
  if (version[5] != '1') throw HttpError(505, fmt::format("{} is not supported", version));
  req.minor_version = version[7] - '0';

  while (!rest.empty()) {
    const std::string_view h = next_line(rest);
    if (h.empty()) break;
    // A line starting with white space continues the previous one (obsolete folding): refused.
    if (h.front() == ' ' || h.front() == '\t') throw HttpError(400, "folded header line");
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon)))
      throw HttpError(400, "malformed header line");
    req.headers.emplace_back(lowered(h.substr(0, colon)), std::string(trim(h.substr(colon + 1))));
  }
  if (req.minor_version >= 1 && !req.header("host")) throw HttpError(400, "HTTP/1.1 request without Host");
  if (auto length = req.header("content-length"); length && !parse_count(*length))
    throw HttpError(400, "bad Content-Length");
  return req;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (lo < 0) throw HttpError(400, "bad percent escape");
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') throw HttpError(400, "encoded NUL in path");
    out += c;
    i += 2;
  }
  return out;
}

std::string target_path(std::string_view target) {
  if (!target.starts_with('/')) throw HttpError(400, "request target is not a path");
  return percent_decode(target.substr(0, target.find_first_of("?#")));
}

RangeRequest parse_range(std::string_view value, std::uint64_t size) {
  value = trim(value);
  constexpr std::string_view unit = "bytes=";
  if (value.size() < unit.size() || !iequals(value.substr(0, unit.size()), unit)) return {};
  const std::string_view spec = trim(value.substr(unit.size()));
  // Several ranges would need a multipart answer; sending the whole file instead is allowed.
  if (spec.find(',') != std::string_view::npos) return {};
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const auto first = dash == 0 ? std::optional<std::uint64_t>{} : parse_count(spec.substr(0, dash));
  const auto last = dash + 1 == spec.size() ? std::optional<std::uint64_t>{} : parse_count(spec.substr(dash + 1));
  if ((dash != 0 && !first) || (dash + 1 != spec.size() && !last) || (!first && !last)) return {};
  if (!first) {  // "-N": the last N bytes
    if (*last == 0 || size == 0) return {RangeKind::Unsatisfiable, {}};
    return {RangeKind::Partial, {size - std::min(*last, size), size - 1}};
  }
  if (last && *last < *first) return {};  // invalid: ignored, as RFC 9110 says
  if (*first >= size) return {RangeKind::Unsatisfiable, {}};
  return {RangeKind::Partial, {*first, last ? std::min(*last, size - 1) : size - 1}};
}

std::string lowercase_extension(const std::filesystem::path& file) { return lowered(file.extension().string()); }

namespace {

struct FileType {
  std::string_view extension;
  std::string_view mime;
  FileKind kind;
};

// Every type `serve` knows; what is not here is application/octet-stream and Other.
constexpr std::array<FileType, 32> kTypes = {{
    {".m3u8", "application/vnd.apple.mpegurl", FileKind::Playlist},
    {".m3u", "application/vnd.apple.mpegurl", FileKind::Playlist},
    {".mpd", "application/dash+xml", FileKind::Playlist},
    {".ts", "video/mp2t", FileKind::Media},
    {".m4s", "video/iso.segment", FileKind::Media},
    {".mp4", "video/mp4", FileKind::Media},
    {".m4v", "video/mp4", FileKind::Media},
    {".m4a", "audio/mp4", FileKind::Media},
    {".mov", "video/quicktime", FileKind::Media},
    {".mkv", "video/x-matroska", FileKind::Media},
    {".webm", "video/webm", FileKind::Media},
    {".flv", "video/x-flv", FileKind::Media},
    {".aac", "audio/aac", FileKind::Media},
    {".mp3", "audio/mpeg", FileKind::Media},
    {".ogg", "audio/ogg", FileKind::Media},
    {".flac", "audio/flac", FileKind::Media},
    {".vtt", "text/vtt", FileKind::Media},
    {".png", "image/png", FileKind::Media},
    {".jpg", "image/jpeg", FileKind::Media},
    {".jpeg", "image/jpeg", FileKind::Media},
    {".gif", "image/gif", FileKind::Media},
    {".webp", "image/webp", FileKind::Media},
    {".key", "application/octet-stream", FileKind::Key},
    {".html", "text/html; charset=utf-8", FileKind::Player},
    {".htm", "text/html; charset=utf-8", FileKind::Player},
    {".js", "text/javascript; charset=utf-8", FileKind::Player},
    {".mjs", "text/javascript; charset=utf-8", FileKind::Player},
    {".css", "text/css; charset=utf-8", FileKind::Player},
    {".svg", "image/svg+xml", FileKind::Player},
    {".json", "application/json", FileKind::Other},
    {".txt", "text/plain; charset=utf-8", FileKind::Other},
    {".h5", "application/x-hdf5", FileKind::Other},  // manifests: input paths and host names
}};

const FileType* find_type(const std::filesystem::path& file) {
  const std::string ext = lowercase_extension(file);
  for (const auto& t : kTypes)
    if (t.extension == ext) return &t;
  return nullptr;
}

}  // namespace

std::string_view mime_type(const std::filesystem::path& file) {
  const FileType* t = find_type(file);
  return t ? t->mime : "application/octet-stream";
}

FileKind file_kind(const std::filesystem::path& file) {
  const FileType* t = find_type(file);
  return t ? t->kind : FileKind::Other;
}

bool is_manifest(const std::filesystem::path& file) { return file_kind(file) == FileKind::Playlist; }

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string format_response_head(int status, const Headers& headers, std::uint64_t content_length) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
  for (const auto& [name, value] : headers) out += fmt::format("{}: {}\r\n", name, value);
  out += fmt::format("Content-Length: {}\r\n\r\n", content_length);
  return out;
}

}  // namespace gopcast::serve
