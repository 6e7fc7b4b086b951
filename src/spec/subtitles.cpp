#include "spec/subtitles.hpp"

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast {

const EnumNames<SubtitleMode>& enum_names(SubtitleMode) {
  static const EnumNames<SubtitleMode> names{{SubtitleMode::soft, "soft"}, {SubtitleMode::burn, "burn"}};
  return names;
}

namespace {

void check(const SubtitleSpec& s) {
  if (s.path.empty()) fail<SpecError>(ErrorCode::InvalidKey, "{}: path: missing (the subtitle file)", s.origin);
  // ISO 639-2 is what MP4 and Matroska store; HLS gets its BCP 47 form.
  const bool lang_ok = s.lang.empty() || (s.lang.size() == 3 && std::all_of(s.lang.begin(), s.lang.end(), [](char c) {
                                            return c >= 'a' && c <= 'z';
                                          }));
  if (!lang_ok)
    fail<SpecError>(ErrorCode::OutOfRange, "{}: lang: \"{}\" is not an ISO 639-2 code (three lowercase letters, e.g. eng, spa, chi)",
                    s.origin, s.lang);
  if (s.font_size < 0 || s.font_size > kMaxSubtitleFontSize)
    fail<SpecError>(ErrorCode::OutOfRange, "{}: font_size: {} is out of range 0..{}", s.origin, s.font_size, kMaxSubtitleFontSize);
  if (s.mode == SubtitleMode::soft && (!s.font.empty() || s.font_size))
    fail<SpecError>(ErrorCode::Incompatible, "{}: font and font_size style burned-in subtitles (mode = \"burn\")", s.origin);
}

}  // namespace

SubtitleSpec read_subtitle_spec(spec::TableReader& r, std::string origin,
                                const std::function<fs::path(const std::string&)>& resolve) {
  SubtitleSpec s;
  s.origin = std::move(origin);
  if (auto v = r.string("path")) s.path = resolve(*v);
  if (auto v = r.string("charset")) s.charset = *v;
  if (auto v = r.enumerated<SubtitleMode>("mode")) s.mode = *v;
  if (auto v = r.string("lang")) s.lang = *v;
  if (auto v = r.string("title")) s.title = *v;
  if (auto v = r.string("font")) s.font = *v;
  if (auto v = r.integer("font_size", 0, kMaxSubtitleFontSize)) s.font_size = static_cast<int>(*v);
  r.finish();
  check(s);
  return s;
}

toml::table subtitle_to_table(const SubtitleSpec& s) {
  toml::table t{{"path", s.path.string()}, {"charset", s.charset}, {"mode", std::string(to_string(s.mode))}};
  if (!s.lang.empty()) t.insert("lang", s.lang);
  if (!s.title.empty()) t.insert("title", s.title);
  if (!s.font.empty()) t.insert("font", s.font);
  if (s.font_size) t.insert("font_size", s.font_size);
  return t;
}

SubtitleSpec parse_subtitle_option(std::string_view text) {
  SubtitleSpec s;
  s.origin = fmt::format("--subtitles {}", text);
  static constexpr std::string_view keys[] = {"charset", "mode", "lang", "title", "font", "font_size"};
  auto known = [](std::string_view k) { return std::find(std::begin(keys), std::end(keys), k) != std::end(keys); };
  std::string_view path = text, options;
  if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    const std::string_view rest = text.substr(colon + 1);
    const size_t eq = rest.find('=');
    if (eq != std::string_view::npos && known(rest.substr(0, eq))) {
      path = text.substr(0, colon);
      options = rest;
    }
  }
  s.path = fs::path(path);
  while (!options.empty()) {
    const size_t comma = options.find(',');
    const std::string_view item = options.substr(0, comma);
    options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (eq == std::string_view::npos || !known(key))
      fail<SpecError>(ErrorCode::InvalidKey, "{}: \"{}\": expected key=value with keys charset, mode, lang, title, font, font_size",
                      s.origin, item);
    const std::string value(item.substr(eq + 1));
    if (key == "charset") s.charset = value;
    else if (key == "lang") s.lang = value;
    else if (key == "title") s.title = value;
    else if (key == "font") s.font = value;
    else if (key == "mode") {
      if (value != "soft" && value != "burn")
        fail<SpecError>(ErrorCode::OutOfRange, "{}: mode: \"{}\" is not one of soft, burn", s.origin, value);
      s.mode = value == "burn" ? SubtitleMode::burn : SubtitleMode::soft;
    } else if (key == "font_size") {
      const bool digits = !value.empty() && value.size() < 6 && std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (!digits) fail<SpecError>(ErrorCode::OutOfRange, "{}: font_size: \"{}\" is not a number of pixels", s.origin, value);
      s.font_size = std::stoi(value);
    }
  }
  check(s);
  return s;
}

}  // namespace gopcast
