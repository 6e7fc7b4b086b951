#include "spec/snapshots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace gopcast {

const EnumNames<SnapshotKind>& enum_names(SnapshotKind) {
  static const EnumNames<SnapshotKind> names{{SnapshotKind::Frames, "frames"}, {SnapshotKind::Sprite, "sprite"}, {SnapshotKind::Cover, "cover"}};
  return names;
}
const EnumNames<SnapshotMode>& enum_names(SnapshotMode) {
  static const EnumNames<SnapshotMode> names{{SnapshotMode::Exact, "exact"}, {SnapshotMode::Keyframe, "keyframe"}};
  return names;
}
const EnumNames<ImageFormat>& enum_names(ImageFormat) {
  // "auto" is the default's name (by the file's extension), never written in a job.
  static const EnumNames<ImageFormat> names{{ImageFormat::Jpg, "jpg"}, {ImageFormat::Png, "png"}, {ImageFormat::Auto, "auto"}};
  return names;
}

namespace {

template <typename... Args>
[[noreturn]] void bad(const SnapshotSpec& s, ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw SpecError(code, s.origin + ": " + fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
void in_range(const SnapshotSpec& s, std::string_view key, T v, T lo, T hi) {
  if (!(v >= lo && v <= hi)) bad(s, ErrorCode::OutOfRange, "{}: {} is out of range {}..{}", key, v, lo, hi);
}

}  // namespace

void validate(const SnapshotSpec& s) {
  if (s.path.empty()) bad(s, ErrorCode::InvalidKey, "path: missing (where the image goes)");
  const int when = (s.times.empty() ? 0 : 1) + (s.every ? 1 : 0) + (s.count ? 1 : 0);
  for (double t : s.times) {
    if (!std::isfinite(t) || t < 0) bad(s, ErrorCode::OutOfRange, "time: {} s is negative or not a number", t);
  }
  if (s.every) in_range(s, "every", *s.every, 0.001, 86400.0);
  if (s.count) in_range(s, "count", *s.count, 1, kMaxSnapshotCount);
  if (s.width) in_range(s, "width", *s.width, 1, 16384);
  if (s.height) in_range(s, "height", *s.height, 1, 16384);
  in_range(s, "quality", s.quality, 1, 100);
  switch (s.kind) {
    case SnapshotKind::Frames:
      if (when != 1) bad(s, ErrorCode::InvalidKey, "give exactly one of time(s), every or count");
      break;
    case SnapshotKind::Sprite:
      if (!s.times.empty() || when != 1) bad(s, ErrorCode::InvalidKey, "a sprite sheet takes exactly one of every or count");
      in_range(s, "columns", s.columns, 1, kMaxSpriteGrid);
      if (s.rows) in_range(s, "rows", *s.rows, 1, kMaxSpriteGrid);
      in_range(s, "padding", s.padding, 0, kMaxSpriteSpacing);
      in_range(s, "margin", s.margin, 0, kMaxSpriteSpacing);
      break;
    case SnapshotKind::Cover:
      if (when != 0) bad(s, ErrorCode::InvalidKey, "a cover is chosen among candidates: time(s), every and count do not apply");
      in_range(s, "candidates", s.candidates, 1, kMaxCoverCandidates);
      break;
  }
  if (s.kind != SnapshotKind::Sprite && !s.vtt.empty()) bad(s, ErrorCode::InvalidKey, "vtt: only sprite sheets have a WebVTT index");
}

SnapshotSpec read_snapshot_spec(spec::TableReader& r, std::string origin) {
  SnapshotSpec s;
  s.origin = std::move(origin);
  if (auto v = r.enumerated<SnapshotKind>("kind")) s.kind = *v;
  if (auto v = r.string("path")) s.path = *v;
  if (auto v = r.number("time", -1e9, 1e9)) s.times.push_back(*v);
  if (const toml::node* n = r.raw("times")) {
    const toml::array* a = n->as_array();
    if (!a) r.fail_at("times", ErrorCode::InvalidKey, "expected an array of seconds");
    for (const auto& e : *a) {
      auto v = e.value<double>();
      if (!v) r.fail_at("times", ErrorCode::InvalidKey, "expected an array of seconds");
      s.times.push_back(*v);
    }
  }
  s.every = r.number("every", 0.001, 86400);
  if (auto v = r.integer("count", 1, kMaxSnapshotCount)) s.count = static_cast<int>(*v);
  if (auto v = r.enumerated<SnapshotMode>("mode")) s.mode = *v;
  if (auto v = r.integer("width", 1, 16384)) s.width = static_cast<int>(*v);
  if (auto v = r.integer("height", 1, 16384)) s.height = static_cast<int>(*v);
  if (auto v = r.enumerated<ImageFormat>("format")) s.format = *v;
  if (auto v = r.integer("quality", 1, 100)) s.quality = static_cast<int>(*v);
  if (auto v = r.integer("columns", 1, kMaxSpriteGrid)) s.columns = static_cast<int>(*v);
  if (auto v = r.integer("rows", 1, kMaxSpriteGrid)) s.rows = static_cast<int>(*v);
  if (auto v = r.integer("padding", 0, kMaxSpriteSpacing)) s.padding = static_cast<int>(*v);
  if (auto v = r.integer("margin", 0, kMaxSpriteSpacing)) s.margin = static_cast<int>(*v);
  if (auto v = r.string("vtt")) s.vtt = *v;
  if (auto v = r.integer("candidates", 1, kMaxCoverCandidates)) s.candidates = static_cast<int>(*v);
  if (auto v = r.string("video_stream")) s.video_stream = *v;
  r.finish();
  validate(s);
  return s;
}

toml::table snapshot_to_table(const SnapshotSpec& s) {
  toml::table t{{"kind", std::string(to_string(s.kind))}, {"path", s.path}};
  if (!s.times.empty()) {
    toml::array a;
    for (double v : s.times) a.push_back(v);
    t.insert("times", std::move(a));
  }
  if (s.every) t.insert("every", *s.every);
  if (s.count) t.insert("count", *s.count);
  if (s.mode != SnapshotMode::Exact) t.insert("mode", std::string(to_string(s.mode)));
  if (s.width) t.insert("width", *s.width);
  if (s.height) t.insert("height", *s.height);
  if (s.format != ImageFormat::Auto) t.insert("format", std::string(to_string(s.format)));
  if (s.quality != kDefaultJpegQuality) t.insert("quality", s.quality);
  if (s.kind == SnapshotKind::Sprite) {
    t.insert("columns", s.columns);
    if (s.rows) t.insert("rows", *s.rows);
    if (s.padding) t.insert("padding", s.padding);
    if (s.margin) t.insert("margin", s.margin);
    if (!s.vtt.empty()) t.insert("vtt", s.vtt);
  }
  if (s.kind == SnapshotKind::Cover && s.candidates != kDefaultCoverCandidates) t.insert("candidates", s.candidates);
  if (!s.video_stream.empty()) t.insert("video_stream", s.video_stream);
  return t;
}

std::vector<double> snapshot_times(const SnapshotSpec& s, double duration) {
  if (s.every) {
    const double n = std::max(1.0, std::ceil(duration / *s.every));
    if (n > kMaxSnapshotCount)
      bad(s, ErrorCode::OutOfRange, "every: {} s gives {} images over {:.3f} s, more than {}", *s.every, n, duration,
          kMaxSnapshotCount);
    std::vector<double> out;
    // k * every rather than a running sum: no drift over thousands of steps.
    for (int64_t k = 0; k == 0 || static_cast<double>(k) * *s.every < duration; ++k) out.push_back(static_cast<double>(k) * *s.every);
    return out;
  }
  if (s.count) {
    std::vector<double> out;
    for (int i = 0; i < *s.count; ++i) out.push_back((i + 0.5) * duration / *s.count);
    return out;
  }
  return s.times;
}

}  // namespace gopcast
