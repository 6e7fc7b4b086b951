#include "ops/subtitles.hpp"
#include "ops/watermark.hpp"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"

namespace fs = std::filesystem;

namespace gopcast::ops {

const EnumNames<SubtitleFormat>& enum_names(SubtitleFormat) {
  static const EnumNames<SubtitleFormat> names{{SubtitleFormat::srt, "srt"}, {SubtitleFormat::webvtt, "webvtt"}, {SubtitleFormat::ass, "ass"}};
  return names;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view strip_bom(std::string_view s) {
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
      static_cast<unsigned char>(s[2]) == 0xBF)
    s.remove_prefix(3);
  return s;
}

// Lines without their ends, whatever the ends are (LF, CRLF, CR).
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(std::move(cur));
      cur.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// An HTML/WebVTT character reference at the start of `s` ("&lt;", "&#233;"...): its
// UTF-8 text and length, or nothing.
std::optional<std::pair<std::string, size_t>> entity_at(std::string_view s) {
  const size_t semi = s.find(';');
  if (s.empty() || s[0] != '&' || semi == std::string_view::npos || semi > 10) return std::nullopt;
  const std::string name = lower(s.substr(1, semi - 1));
  static const std::pair<const char*, uint32_t> named[] = {{"lt", '<'},       {"gt", '>'},       {"amp", '&'},
                                                          {"quot", '"'},     {"apos", '\''},    {"nbsp", 0xA0},
                                                          {"lrm", 0x200E},   {"rlm", 0x200F}};
  std::string out;
  for (const auto& [n, cp] : named)
    if (name == n) {
      append_utf8(out, cp);
      return std::make_pair(out, semi + 1);
    }
  if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x';
    const std::string digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 7) return std::nullopt;
    for (char c : digits)
      if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)))) return std::nullopt;
    const unsigned long cp = std::stoul(digits, nullptr, hex ? 16 : 10);
    if (cp == 0 || cp >= 0x110000) return std::nullopt;
    append_utf8(out, static_cast<uint32_t>(cp));
    return std::make_pair(out, semi + 1);
  }
  return std::nullopt;
}

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
}

// One line of SRT or WebVTT cue text to the canonical form (see Cue::text).
std::string canonical_line(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '<') {
      const size_t close = s.find('>', i);
      if (close == std::string_view::npos) {
        out += "&lt;";
        ++i;
        continue;
      }
      std::string_view tag = trim(s.substr(i + 1, close - i - 1));
      const bool closing = !tag.empty() && tag[0] == '/';
      if (closing) tag.remove_prefix(1);
      size_t n = 0;
      while (n < tag.size() && std::isalnum(static_cast<unsigned char>(tag[n]))) ++n;
      const std::string name = lower(tag.substr(0, n));
      if (name == "i" || name == "b" || name == "u") out += fmt::format("<{}{}>", closing ? "/" : "", name);
      i = close + 1;  // every other tag goes, its text stays
    } else if (c == '{' && i + 1 < s.size() && s[i + 1] == '\\' && s.find('}', i) != std::string_view::npos) {
      i = s.find('}', i) + 1;  // ASS override blocks some SRT files carry ({\an8})
    } else if (c == '&') {
      if (auto e = entity_at(s.substr(i))) {
        append_escaped(out, e->first);
        i += e->second;
      } else {
        out += "&amp;";
        ++i;
      }
    } else if (c == '>') {
      out += "&gt;";
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// ASS Dialogue text to the canonical form: \i \b \u tags kept as <i> <b> <u>, the other
// override tags dropped, \N and \n as line breaks, \h as a no-break space.
std::string canonical_from_ass(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '{') {
      const size_t close = s.find('}', i);
      if (close == std::string_view::npos) break;
      const std::string_view block = s.substr(i + 1, close - i - 1);
      for (size_t k = block.find('\\'); k != std::string_view::npos; k = block.find('\\', k + 1)) {
        const std::string_view t = block.substr(k + 1);
        if (t.empty() || (t[0] != 'i' && t[0] != 'b' && t[0] != 'u')) continue;
        const std::string_view arg = t.substr(1);
        size_t digits = 0;
        while (digits < arg.size() && std::isdigit(static_cast<unsigned char>(arg[digits]))) ++digits;
        if (digits == 0 && !arg.empty() && arg[0] != '\\') continue;  // \iclip, \bord, \blur...
        const bool on = digits == 0 || arg.substr(0, digits) != "0";
        out += fmt::format("<{}{}>", on ? "" : "/", t[0]);
      }
      i = close + 1;
    } else if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'N' || s[i + 1] == 'n')) {
      out += '\n';
      i += 2;
    } else if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'h') {
      out += "\xC2\xA0";
      i += 2;
    } else {
      append_escaped(out, s.substr(i, 1));
      ++i;
    }
  }
  return std::string(trim(out));
}

bool is_timing_line(std::string_view line, int64_t& start, int64_t& end) {
  const size_t arrow = line.find("-->");
  if (arrow == std::string_view::npos) return false;
  std::string_view right = trim(line.substr(arrow + 3));
  const size_t space = right.find_first_of(" \t");
  start = parse_timestamp(trim(line.substr(0, arrow)));
  end = parse_timestamp(right.substr(0, space));
  return start >= 0 && end >= 0;
}

bool starts_block(std::string_view line, std::string_view word) {
  return line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t');
}

void parse_text_cues(const std::vector<std::string>& lines, bool vtt, SubtitleDoc& doc) {
  std::vector<size_t> timings;
  std::vector<std::pair<int64_t, int64_t>> times;
  for (size_t i = 0; i < lines.size(); ++i) {
    int64_t s = 0, e = 0;
    if (is_timing_line(lines[i], s, e)) {
      timings.push_back(i);
      times.emplace_back(s, e);
    }
  }
  auto blank = [&](size_t i) { return trim(lines[i]).empty(); };
  for (size_t k = 0; k < timings.size(); ++k) {
    size_t end = k + 1 < timings.size() ? timings[k + 1] : lines.size();
    // The next cue's number (SRT) or identifier (WebVTT, after a blank line) is not text.
    if (k + 1 < timings.size() && end > timings[k] + 1) {
      const std::string_view prev = trim(lines[end - 1]);
      const bool after_blank = end - 1 == timings[k] + 1 || blank(end - 2);
      if (!prev.empty() && (all_digits(prev) || (vtt && after_blank))) --end;
    }
    std::string text;
    bool skipping = false;  // a WebVTT NOTE/STYLE/REGION block between cues
    for (size_t i = timings[k] + 1; i < end; ++i) {
      const std::string_view line = trim(lines[i]);
      if (line.empty()) {
        skipping = false;
        continue;
      }
      if (vtt && i > timings[k] + 1 && blank(i - 1) &&
          (starts_block(line, "NOTE") || starts_block(line, "STYLE") || starts_block(line, "REGION")))
        skipping = true;
      if (skipping) continue;
      const std::string c = canonical_line(lines[i]);
      if (c.empty()) continue;
      text += (text.empty() ? "" : "\n") + c;
    }
    Cue cue;
    cue.start_ms = times[k].first;
    cue.end_ms = times[k].second;
    cue.text = std::move(text);
    if (cue.text.empty()) continue;
    if (cue.end_ms <= cue.start_ms) {
      log::warn("subtitles: cue at {} ends before it starts; left out", plan::vtt_time(cue.start_ms));
      continue;
    }
    doc.cues.push_back(std::move(cue));
  }
}

// Splits "a, b, c" into at most `n` trimmed fields, the last taking the rest as written.
std::vector<std::string> split_fields(std::string_view s, size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    const size_t comma = s.find(',');
    if (comma == std::string_view::npos) break;
    out.emplace_back(trim(s.substr(0, comma)));
    s.remove_prefix(comma + 1);
  }
  out.emplace_back(out.size() + 1 == n ? s : trim(s));
  return out;
}

void parse_ass(const std::vector<std::string>& lines, SubtitleDoc& doc) {
  std::vector<std::string> format = {"layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"};
  bool events = false;
  std::string header;
  for (const auto& raw : lines) {
    const std::string_view line = trim(raw);
    if (line.starts_with("[")) {
      events = lower(line) == "[events]";
      if (!events) header += std::string(line) + "\n";
      continue;
    }
    if (!events) {
      header += raw + "\n";
      continue;
    }
    const std::string l = lower(line.substr(0, std::min<size_t>(line.size(), 9)));
    if (l.starts_with("format:")) {
      format.clear();
      for (auto& f : split_fields(line.substr(7), 64)) format.push_back(lower(trim(f)));
      for (auto& f : format) f.erase(std::remove(f.begin(), f.end(), ' '), f.end());
      continue;
    }
    if (!l.starts_with("dialogue:")) continue;
    const auto fields = split_fields(line.substr(9), format.size());
    if (fields.size() != format.size()) continue;
    Cue cue;
    int64_t start = -1, end = -1;
    for (size_t i = 0; i < format.size(); ++i) {
      const auto& f = format[i];
      const auto& v = fields[i];
      if (f == "start") start = parse_timestamp(v);
      else if (f == "end") end = parse_timestamp(v);
      else if (f == "layer") cue.ass_layer = all_digits(v) ? v : "0";
      else if (f == "style") cue.ass_style = v;
      else if (f == "name" || f == "actor") cue.ass_name = v;
      else if (f == "marginl") cue.ass_margin_l = v;
      else if (f == "marginr") cue.ass_margin_r = v;
      else if (f == "marginv") cue.ass_margin_v = v;
      else if (f == "effect") cue.ass_effect = v;
      else if (f == "text") cue.ass_text = v;
    }
    if (start < 0 || end <= start) continue;
    cue.start_ms = start;
    cue.end_ms = end;
    cue.text = canonical_from_ass(cue.ass_text);
    doc.cues.push_back(std::move(cue));
  }
  while (!header.empty() && (header.back() == '\n')) header.pop_back();
  doc.ass_header = header + "\n";
}

}  // namespace

std::string iconv_charset(std::string_view charset) {
  std::string key;
  for (char c : charset)
    if (c != '-' && c != '_' && c != ' ') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key.empty() || key == "utf8") return "UTF-8";
  if (key == "gbk" || key == "cp936") return "GBK";
  if (key == "gb2312") return "GB2312";
  if (key == "gb18030") return "GB18030";
  if (key == "big5") return "BIG5";
  if (key == "big5hkscs") return "BIG5-HKSCS";
  if (key == "shiftjis" || key == "sjis") return "SHIFT_JIS";
  if (key == "cp932" || key == "windows31j") return "CP932";
  if (key == "latin1" || key == "iso88591" || key == "l1") return "ISO-8859-1";
  if (key == "cp1252" || key == "windows1252") return "CP1252";
  std::string upper(charset);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string to_utf8(std::string_view bytes, std::string_view charset, std::string_view origin) {
  const std::string from = iconv_charset(charset);
  iconv_t cd = ::iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1))
    fail(ErrorCode::OutOfRange, "{}: charset \"{}\" is not one iconv knows (e.g. utf-8, gbk, big5, shift-jis, latin-1)", origin,
         charset);
  std::unique_ptr<void, int (*)(iconv_t)> guard(cd, ::iconv_close);
  std::string out(bytes.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* dst = out.data();
  size_t out_left = out.size();
  while (in_left > 0) {
    if (::iconv(cd, &in, &in_left, &dst, &out_left) != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      const size_t used = static_cast<size_t>(dst - out.data());
      out.resize(out.size() * 2);
      dst = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    const size_t at = bytes.size() - in_left;
    std::string seen;
    for (size_t i = at; i < std::min(bytes.size(), at + 4); ++i) seen += fmt::format("{}{:02X}", seen.empty() ? "" : " ", static_cast<unsigned char>(bytes[i]));
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not valid {} text: bytes {} at offset {} (is charset \"{}\" right?)", origin,
                     from, seen, at, charset.empty() ? "utf-8" : std::string(charset));
  }
  out.resize(static_cast<size_t>(dst - out.data()));
  return std::string(strip_bom(out));
}

int64_t parse_timestamp(std::string_view text) {
  text = trim(text);
  if (text.empty()) return -1;
  std::string_view frac;
  const size_t dot = text.find_first_of(",.");
  if (dot != std::string_view::npos) {
    frac = text.substr(dot + 1);
    text = text.substr(0, dot);
    if (!all_digits(frac)) return -1;
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) return -1;
  int64_t value = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!all_digits(parts[i]) || parts[i].size() > 6) return -1;
    const int64_t v = std::stoll(std::string(parts[i]));
    if (i > 0 && v >= 60) return -1;
    value = value * 60 + v;
  }
  // Fraction digits are a decimal fraction of a second: ",1" is 100 ms, ",12" 120 ms.
  int64_t ms = 0;
  for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  return value * 1000 + ms;
}

SubtitleDoc parse_subtitles(std::string_view utf8, std::string_view origin) {
  utf8 = strip_bom(utf8);
  const std::vector<std::string> lines = split_lines(utf8);
  SubtitleDoc doc;
  size_t first = 0;
  while (first < lines.size() && trim(lines[first]).empty()) ++first;
  bool ass = false;
  for (const auto& l : lines) {
    const std::string t = lower(trim(l));
    if (t == "[script info]" || t == "[events]") ass = true;
  }
  if (first < lines.size() && lines[first].starts_with("WEBVTT")) {
    doc.format = SubtitleFormat::webvtt;
    // The header block (WEBVTT line and what follows up to a blank line) holds no cue.
    size_t body = first;
    while (body < lines.size() && !trim(lines[body]).empty() && lines[body].find("-->") == std::string::npos) ++body;
    parse_text_cues(std::vector<std::string>(lines.begin() + static_cast<std::ptrdiff_t>(body), lines.end()), true, doc);
  } else if (ass) {
    doc.format = SubtitleFormat::ass;
    parse_ass(lines, doc);
  } else {
    doc.format = SubtitleFormat::srt;
    parse_text_cues(lines, false, doc);
  }
  if (doc.cues.empty())
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not a subtitle file (no SRT, WebVTT or ASS cue found)", origin);
  std::stable_sort(doc.cues.begin(), doc.cues.end(), [](const Cue& a, const Cue& b) { return a.start_ms < b.start_ms; });
  return doc;
}

SubtitleDoc load_subtitles(const fs::path& path, std::string_view charset) {
  const std::string origin = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(ErrorCode::ResourceNotFound, "{}: subtitle file not found", origin);
  if (fs::is_directory(path, ec)) fail(ErrorCode::ResourceNotFound, "{}: is a folder, not a subtitle file", origin);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::ResourceNotFound, "{}: subtitle file cannot be read", origin);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) fail(ErrorCode::ResourceNotFound, "{}: subtitle file cannot be read", origin);
  const std::string bytes = buf.str();
  const std::string cs = iconv_charset(charset);
  // Text in these charsets never holds NUL bytes; a file that does is binary (an image,
  // a video), whatever its name says.
  if (!cs.starts_with("UTF-16") && !cs.starts_with("UTF-32") && !cs.starts_with("UCS") &&
      bytes.find('\0') != std::string::npos)
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not a subtitle file (binary data)", origin);
  return parse_subtitles(to_utf8(bytes, charset, origin), origin);
}

std::vector<Cue> clip_cues(const std::vector<Cue>& cues, int64_t from_ms, int64_t to_ms) {
  std::vector<Cue> out;
  for (const auto& c : cues) {
    if (c.end_ms <= from_ms || c.start_ms >= to_ms) continue;
    Cue k = c;
    k.start_ms = std::max(c.start_ms, from_ms) - from_ms;
    k.end_ms = std::min(c.end_ms, to_ms) - from_ms;
    out.push_back(std::move(k));
  }
  return out;
}

std::string plain_text(std::string_view cue_text) {
  std::string out;
  for (size_t i = 0; i < cue_text.size();) {
    if (cue_text[i] == '<') {
      const size_t close = cue_text.find('>', i);
      i = close == std::string_view::npos ? cue_text.size() : close + 1;
    } else if (auto e = cue_text[i] == '&' ? entity_at(cue_text.substr(i)) : std::nullopt) {
      out += e->first;
      i += e->second;
    } else {
      out += cue_text[i++];
    }
  }
  return out;
}

std::string ass_text(std::string_view cue_text) {
  std::string out;
  for (size_t i = 0; i < cue_text.size();) {
    const char c = cue_text[i];
    if (c == '<') {
      const size_t close = cue_text.find('>', i);
      std::string_view tag = cue_text.substr(i + 1, (close == std::string_view::npos ? cue_text.size() : close) - i - 1);
      const bool closing = tag.starts_with("/");
      if (closing) tag.remove_prefix(1);
      if (tag == "i" || tag == "b" || tag == "u") out += fmt::format("{{\\{}{}}}", tag, closing ? 0 : 1);
      i = close == std::string_view::npos ? cue_text.size() : close + 1;
    } else if (auto e = c == '&' ? entity_at(cue_text.substr(i)) : std::nullopt) {
      out += e->first;
      i += e->second;
    } else if (c == '\n') {
      out += "\\N";
      ++i;
    } else if (c == '{' || c == '}') {
      out += c == '{' ? '(' : ')';  // ASS has no escape for override-block braces
      ++i;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

namespace {

std::string ass_time(int64_t ms) {
  const int64_t cs = (ms + 5) / 10;
  return fmt::format("{}:{:02}:{:02}.{:02}", cs / 360000, cs / 6000 % 60, cs / 100 % 60, cs % 100);
}

constexpr const char* kStyleFormat =
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, "
    "StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n";
constexpr const char* kEventFormat = "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n";

}  // namespace

std::string render_ass_script(const SubtitleDoc& doc, const BurnStyle& style, int width, int height) {
  std::string s;
  const bool keep = doc.format == SubtitleFormat::ass;
  if (keep) {
    s = doc.ass_header;
  } else {
    const int size = style.font_size > 0 ? style.font_size : std::max(12, height / 18);
    const int outline = std::max(1, size / 12);
    s = fmt::format("[Script Info]\n; Generated by gopcast\nScriptType: v4.00+\nPlayResX: {}\nPlayResY: {}\nWrapStyle: 0\n"
                    "ScaledBorderAndShadow: yes\nYCbCr Matrix: None\n\n[V4+ Styles]\n{}"
                    "Style: Default,{},{},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,{},0,2,{},{},{},1\n",
                    width, height, kStyleFormat, style.font, size, outline, width / 20, width / 20, height / 20);
  }
  s += "\n[Events]\n";
  s += kEventFormat;
  for (const auto& c : doc.cues) {
    if (keep)
      s += fmt::format("Dialogue: {},{},{},{},{},{},{},{},{},{}\n", c.ass_layer, ass_time(c.start_ms), ass_time(c.end_ms), c.ass_style,
                       c.ass_name, c.ass_margin_l, c.ass_margin_r, c.ass_margin_v, c.ass_effect, c.ass_text);
    else
      s += fmt::format("Dialogue: 0,{},{},Default,,0,0,0,,{}\n", ass_time(c.start_ms), ass_time(c.end_ms), ass_text(c.text));
  }
  return s;
}

std::string default_ass_header() {
  return fmt::format("[Script Info]\n; Generated by gopcast\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n"
                     "ScaledBorderAndShadow: yes\n\n[V4+ Styles]\n{}"
                     "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1\n\n[Events]\n{}",
                     kStyleFormat, kEventFormat);
}

std::string ass_event_for_encoder(const Cue& cue, int read_order, bool keep_ass_styles) {
  if (keep_ass_styles)
    return fmt::format("{},{},{},{},{},{},{},{},{}", read_order, cue.ass_layer, cue.ass_style, cue.ass_name, cue.ass_margin_l,
                       cue.ass_margin_r, cue.ass_margin_v, cue.ass_effect, cue.ass_text);
  return fmt::format("{},0,Default,,0,0,0,,{}", read_order, ass_text(cue.text));
}

namespace {

struct Language {
  const char* b;  // ISO 639-2/B
  const char* t;  // ISO 639-2/T (the same for most)
  const char* bcp47;
  const char* name;
};
constexpr Language kLanguages[] = {
    {"eng", "eng", "en", "English"},   {"spa", "spa", "es", "Español"},   {"fre", "fra", "fr", "Français"},
    {"ger", "deu", "de", "Deutsch"},   {"ita", "ita", "it", "Italiano"},  {"por", "por", "pt", "Português"},
    {"chi", "zho", "zh", "中文"},      {"jpn", "jpn", "ja", "日本語"},    {"kor", "kor", "ko", "한국어"},
    {"rus", "rus", "ru", "Русский"},   {"ara", "ara", "ar", "العربية"},   {"dut", "nld", "nl", "Nederlands"},
};

const Language* find_language(std::string_view code) {
  for (const auto& l : kLanguages)
    if (code == l.b || code == l.t) return &l;
  return nullptr;
}

}  // namespace

std::string bcp47_language(std::string_view iso639_2) {
  const Language* l = find_language(iso639_2);
  return l ? l->bcp47 : std::string(iso639_2);
}

std::string language_name(std::string_view iso639_2) {
  const Language* l = find_language(iso639_2);
  return l ? l->name : iso639_2.empty() ? std::string("Subtitles") : std::string(iso639_2);
}


namespace {

// The soft subtitle codec a container holds, or nothing.
const char* soft_codec(Container c, bool ass_source) {
  switch (c) {
    case Container::mp4:
    case Container::mov: return "mov_text";
    case Container::mkv: return ass_source ? "ass" : "subrip";
    case Container::m3u8: return "webvtt";
    default: return nullptr;
  }
}

}  // namespace

void attach_subtitles(plan::OutputPlan& plan, const std::vector<SubtitleSpec>& specs, const fs::path& output, int64_t from_ms,
                      int64_t to_ms) {
  if (specs.size() > kMaxSubtitleTracks)
    fail<SpecError>(ErrorCode::OutOfRange, "{}: {} subtitle tracks (at most {})", output.string(), specs.size(), kMaxSubtitleTracks);
  for (const auto& s : specs) {
    const std::string file = s.path.string();
    if (s.mode == SubtitleMode::burn) {
      if (!plan.video.present || plan.video.copy)
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: burning subtitles in needs re-encoded video (not video.codec = \"copy\" or no video)",
                        s.origin, file);
    } else {
      if (!soft_codec(plan.container, false))
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: {} cannot hold soft subtitles (use MP4, MOV, MKV or HLS, or mode = \"burn\")",
                        s.origin, file, to_string(plan.container));
      if (plan.container == Container::m3u8 && (!plan.video.present || plan.video.copy))
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: WebVTT subtitles in HLS need re-encoded video (the segment grid)", s.origin, file);
      if (plan.container == Container::m3u8 && plan.hls.playlist == HlsPlaylistType::event)
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: soft subtitles need a VOD playlist (a live playlist has no master to name them)",
                        s.origin, file);
    }
    SubtitleDoc doc = load_subtitles(s.path, s.charset);
    if (from_ms != 0 || to_ms != INT64_MAX) doc.cues = clip_cues(doc.cues, from_ms, to_ms);
    if (s.mode == SubtitleMode::burn) {
      BurnStyle style;
      if (!s.font.empty()) style.font = s.font;
      style.font_size = s.font_size;
      plan.video.burn_scripts.push_back(render_ass_script(doc, style, plan.video.width, plan.video.height));
      std::string text;
      for (const auto& cue : doc.cues) text += cue.text + "\n";
      if (const auto missing = missing_glyphs(style.font, text); !missing.empty()) {
        std::string shown;
        for (size_t i = 0; i < missing.size() && i < 5; ++i) {
          shown += fmt::format("{}U+{:04X} ", i ? ", " : "", static_cast<uint32_t>(missing[i]));
          append_utf8(shown, static_cast<uint32_t>(missing[i]));
        }
        plan.shortfalls.push_back(fmt::format(
            "{}: {}: {} character{} no installed font has a glyph for ({}{}) would burn in as empty boxes; install a font for "
            "the script (Debian: fonts-wqy-microhei for Chinese) or name a font file (font=...)",
            s.origin, file, missing.size(), missing.size() == 1 ? "" : "s", shown, missing.size() > 5 ? ", ..." : ""));
      }
      continue;
    }
    plan::SubtitleTrack t;
    const bool ass = doc.format == SubtitleFormat::ass;
    t.codec = soft_codec(plan.container, ass);
    t.lang = s.lang;
    t.language = bcp47_language(s.lang);
    t.title = s.title.empty() ? language_name(s.lang) : s.title;
    // An ASS source into an ASS stream keeps its header, styles and tags as written.
    const bool keep_ass = ass && t.codec == std::string("ass");
    t.encoder_header = keep_ass ? doc.ass_header + "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                                : default_ass_header();
    int order = 0;
    for (const auto& cue : doc.cues) t.encoder_events.push_back(ass_event_for_encoder(cue, order++, keep_ass));
    t.cues = std::move(doc.cues);
    plan.subtitles.push_back(std::move(t));
  }
}

}  // namespace gopcast::ops
