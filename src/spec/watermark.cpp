#include "spec/watermark.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/error.hpp"
#include "spec/catalog.hpp"

namespace fs = std::filesystem;

namespace gopcast {

const EnumNames<MarkPosition>& enum_names(MarkPosition) {
  static const EnumNames<MarkPosition> names{{MarkPosition::top_left, "top-left"},       {MarkPosition::top_right, "top-right"},
                                             {MarkPosition::bottom_left, "bottom-left"}, {MarkPosition::bottom_right, "bottom-right"},
                                             {MarkPosition::centre, "centre"},           {MarkPosition::centre, "center", true}};
  return names;
}

namespace {

constexpr double kMaxPixels = 16384;
constexpr double kMaxSeconds = 1e7;

// Pixels (an integer or a number) or "N%" of the frame.
std::optional<Length> read_length(spec::TableReader& r, std::string_view key, bool zero_ok) {
  const toml::node* n = r.raw(key);
  if (!n) return std::nullopt;
  Length l;
  if (auto s = n->as_string()) {
    const std::string& text = s->get();
    double v = 0;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || p + 1 != end || *p != '%' || !std::isfinite(v))
      r.fail_at(key, ErrorCode::InvalidKey, fmt::format("\"{}\" is neither pixels (16) nor a percentage of the frame (\"2.5%\")", text));
    if (v < 0 || v > 100 || (!zero_ok && v == 0))
      r.fail_at(key, ErrorCode::OutOfRange, fmt::format("{}% is out of range {}..100%", v, zero_ok ? "0" : "above 0"));
    l = {v, true};
  } else {
    const double v = *r.number(key, zero_ok ? 0 : 1, kMaxPixels);
    l = {v, false};
  }
  return l;
}

fs::path relative_to(const fs::path& base, const std::string& p) {
  return (fs::path(p).is_relative() && !base.empty() ? base / p : fs::path(p)).lexically_normal();
}

bool is_font_file(const std::string& font) {
  return font.find('/') != std::string::npos || font.ends_with(".ttf") || font.ends_with(".otf") ||
         font.ends_with(".ttc") || font.ends_with(".TTF") || font.ends_with(".OTF");
}

// The keys a watermark template may hold: where and how big, and the text style.
void read_style(spec::TableReader& r, WatermarkSpec& w, const fs::path& base) {
  if (auto p = r.enumerated<MarkPosition>("position")) w.position = *p;
  if (auto v = read_length(r, "dx", true)) w.dx = *v;
  if (auto v = read_length(r, "dy", true)) w.dy = *v;
  if (auto v = read_length(r, "width", false)) w.width = *v;
  if (auto v = read_length(r, "height", false)) w.height = *v;
  if (auto v = r.number("opacity", 0, 1)) w.opacity = *v;
  if (auto v = r.string("font")) {
    if (v->empty()) r.fail_at("font", ErrorCode::OutOfRange, "empty (a font file or a fontconfig family name)");
    w.font = is_font_file(*v) ? relative_to(base, *v).string() : *v;
  }
  if (auto v = r.integer("font_size", 4, 1000)) w.font_size = static_cast<int>(*v);
  if (auto v = r.string("color")) w.color = *v;
}

void read_window(spec::TableReader& r, std::optional<double>& start, std::optional<double>& duration) {
  start = r.number("start", 0, kMaxSeconds);
  duration = r.number("duration", 0.001, kMaxSeconds);
}

}  // namespace

fs::path locate_watermark_template(const Catalog& catalog, const std::string& name, const fs::path& base) {
  std::error_code ec;
  fs::path file;
  if (name.find('/') != std::string::npos || name.ends_with(".toml")) {
    file = relative_to(base, name);
  } else {
    for (const auto& dir : catalog.dirs())
      if (fs::is_regular_file(dir / "watermarks" / (name + ".toml"), ec)) return dir / "watermarks" / (name + ".toml");
  }
  if (file.empty() || !fs::is_regular_file(file, ec))
    fail<SpecError>(ErrorCode::TemplateNotFound, "watermark template \"{}\" not found (they live in templates/watermarks/)", name);
  return file;
}

WatermarkSpec read_watermark(spec::TableReader& r, const std::string& origin, const fs::path& base, const Catalog& catalog) {
  WatermarkSpec w;
  w.origin = origin;
  if (auto t = r.string("template")) {
    fs::path file;
    try {
      file = locate_watermark_template(catalog, *t, base);
    } catch (const SpecError& e) {
      r.fail_at("template", e.code(), e.what());
    }
    toml::table table = spec::parse_file(file);
    spec::TableReader tr(&table, "", file.string());
    (void)tr.string("description");
    read_style(tr, w, file.parent_path());
    tr.finish();
    w.template_name = *t;
  }
  read_style(r, w, base);
  if (auto v = r.string("image")) {
    if (v->empty()) r.fail_at("image", ErrorCode::OutOfRange, "empty (the watermark's image file)");
    w.image = relative_to(base, *v);
  }
  if (auto v = r.string("text")) {
    if (v->empty()) r.fail_at("text", ErrorCode::OutOfRange, "empty (the watermark's text)");
    w.text = *v;
  }
  read_window(r, w.start, w.duration);
  r.finish();
  if (w.image.empty() == w.text.empty())
    fail<SpecError>(ErrorCode::InvalidKey, "{}: give exactly one of image or text", origin);
  if (!w.text.empty() && (w.width || w.height))
    fail<SpecError>(ErrorCode::Incompatible, "{}: width and height size images; text is sized by font_size", origin);
  return w;
}

DelogoSpec read_delogo(spec::TableReader& r, const std::string& origin) {
  DelogoSpec d;
  d.origin = origin;
  auto need = [&](std::string_view key, int64_t min) {
    auto v = r.integer(key, min, static_cast<int64_t>(kMaxPixels));
    if (!v) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: missing (the rectangle is x, y, w, h in input pixels)", origin, key);
    return static_cast<int>(*v);
  };
  d.x = need("x", 0);
  d.y = need("y", 0);
  d.w = need("w", 1);
  d.h = need("h", 1);
  read_window(r, d.start, d.duration);
  r.finish();
  return d;
}

namespace {
void put_length(toml::table& t, std::string_view key, const Length& l) {
  if (l.percent) t.insert(key, fmt::format("{}%", l.value));
  else if (l.value == std::floor(l.value)) t.insert(key, static_cast<int64_t>(l.value));
  else t.insert(key, l.value);
}
void put_window(toml::table& t, const std::optional<double>& start, const std::optional<double>& duration) {
  if (start) t.insert("start", *start);
  if (duration) t.insert("duration", *duration);
}
}  // namespace

toml::table watermark_to_table(const WatermarkSpec& w) {
  // Fully resolved: the template's values are written out, so the table stands alone.
  toml::table t;
  if (!w.image.empty()) t.insert("image", w.image.string());
  else t.insert("text", w.text);
  t.insert("position", std::string(to_string(w.position)));
  put_length(t, "dx", w.dx);
  put_length(t, "dy", w.dy);
  if (w.width) put_length(t, "width", *w.width);
  if (w.height) put_length(t, "height", *w.height);
  if (w.opacity != 1.0) t.insert("opacity", w.opacity);
  if (!w.text.empty()) {
    t.insert("font", w.font);
    t.insert("font_size", static_cast<int64_t>(w.font_size));
    t.insert("color", w.color);
  }
  put_window(t, w.start, w.duration);
  return t;
}

toml::table delogo_to_table(const DelogoSpec& d) {
  toml::table t{{"x", d.x}, {"y", d.y}, {"w", d.w}, {"h", d.h}};
  put_window(t, d.start, d.duration);
  return t;
}

OutputMarks read_output_marks(spec::TableReader& out, const std::string& origin, const fs::path& base, const Catalog& catalog) {
  OutputMarks m;
  auto each = [&](std::string_view key, auto&& read) {
    const toml::node* n = out.raw(key);
    if (!n) return;
    const toml::array* list = n->as_array();
    if (!list) out.fail_at(key, ErrorCode::InvalidKey, fmt::format("expected [[...{}]] tables", key));
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      const std::string k = out.full_key(fmt::format("{}[{}]", key, i));
      if (!t) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: expected a table", spec::where((*list)[i], origin), k);
      spec::TableReader r(t, k, origin);
      read(r, fmt::format("{}: {}", spec::where(*t, origin), k));
    }
  };
  each("watermarks", [&](spec::TableReader& r, const std::string& o) {
    m.watermarks.push_back(read_watermark(r, o, base, catalog));
  });
  each("delogo", [&](spec::TableReader& r, const std::string& o) { m.delogo.push_back(read_delogo(r, o)); });
  if (m.watermarks.size() > static_cast<size_t>(kMaxWatermarks))
    out.fail_at("watermarks", ErrorCode::OutOfRange, fmt::format("{} watermarks; at most {} per output", m.watermarks.size(), kMaxWatermarks));
  return m;
}

void add_output_marks(toml::table& output, const OutputMarks& marks) {
  if (!marks.watermarks.empty()) {
    toml::array a;
    for (const auto& w : marks.watermarks) a.push_back(watermark_to_table(w));
    output.insert("watermarks", std::move(a));
  }
  if (!marks.delogo.empty()) {
    toml::array a;
    for (const auto& d : marks.delogo) a.push_back(delogo_to_table(d));
    output.insert("delogo", std::move(a));
  }
}

namespace {

std::vector<std::string> split_items(std::string_view arg) {
  std::vector<std::string> items(1);
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] == '\\' && i + 1 < arg.size() && (arg[i + 1] == ',' || arg[i + 1] == '\\')) {
      items.back() += arg[++i];
    } else if (arg[i] == ',') {
      items.emplace_back();
    } else {
      items.back() += arg[i];
    }
  }
  return items;
}

void insert_value(toml::table& t, const std::string& key, const std::string& value, bool text) {
  if (!text) {
    int64_t i = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), i);
    if (ec == std::errc() && p == value.data() + value.size()) {
      t.insert_or_assign(key, i);
      return;
    }
    double d = 0;
    auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), d);
    if (ec2 == std::errc() && q == value.data() + value.size()) {
      t.insert_or_assign(key, d);
      return;
    }
  }
  t.insert_or_assign(key, value);
}

}  // namespace

toml::table parse_mark_option(std::string_view arg, std::string_view first_key) {
  toml::table t;
  const auto items = split_items(arg);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& item = items[i];
    const auto eq = item.find('=');
    std::string key, value;
    if (i == 0 && eq == std::string::npos) {
      key = first_key;
      value = item;
    } else if (eq == std::string::npos || eq == 0) {
      fail<SpecError>(ErrorCode::Usage, "\"{}\": expected key=value items separated by commas (got \"{}\")", arg, item);
    } else {
      key = item.substr(0, eq);
      value = item.substr(eq + 1);
    }
    if (key == "size") key = "font_size";  // the short form on the command line
    const bool text = key == "image" || key == "text" || key == "font" || key == "template" || key == "color" ||
                      key == "position";
    insert_value(t, key, value, text);
  }
  return t;
}

toml::table parse_delogo_option(std::string_view arg) {
  const auto items = split_items(arg);
  if (items.size() != 4 && items.size() != 6)
    fail<SpecError>(ErrorCode::Usage, "--delogo \"{}\": expected x,y,w,h or x,y,w,h,start,duration", arg);
  static const char* keys[] = {"x", "y", "w", "h", "start", "duration"};
  toml::table t;
  for (size_t i = 0; i < items.size(); ++i) insert_value(t, keys[i], items[i], false);
  return t;
}

OutputMarks marks_from_options(const std::vector<std::string>& images, const std::vector<std::string>& texts,
                               const std::vector<std::string>& delogo, const Catalog& catalog) {
  OutputMarks m;
  auto read = [&](const std::string& option, const std::string& arg, std::string_view first_key) {
    const std::string origin = fmt::format("{} \"{}\"", option, arg);
    toml::table t = parse_mark_option(arg, first_key);
    spec::TableReader r(&t, "", origin);
    WatermarkSpec w = read_watermark(r, origin, {}, catalog);
    m.watermarks.push_back(std::move(w));
  };
  for (const auto& a : images) read("--watermark", a, "image");
  for (const auto& a : texts) read("--text-watermark", a, "text");
  for (const auto& a : delogo) {
    const std::string origin = fmt::format("--delogo \"{}\"", a);
    toml::table t = parse_delogo_option(a);
    spec::TableReader r(&t, "", origin);
    m.delogo.push_back(read_delogo(r, origin));
  }
  if (m.watermarks.size() > static_cast<size_t>(kMaxWatermarks))
    fail<SpecError>(ErrorCode::OutOfRange, "{} watermarks; at most {} per output", m.watermarks.size(), kMaxWatermarks);
  return m;
}

}  // namespace gopcast
