#include "ops/stills.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "av/image.hpp"
#include "av/probe.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::ops {

namespace {

// The printf-style number directive of a file name: position and width (-1: none).
struct Directive {
  size_t pos = std::string::npos;
  size_t len = 0;
  int width = 0;
};

Directive find_directive(const std::string& name, const std::string& origin) {
  Directive d;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') continue;
    if (i + 1 < name.size() && name[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    int width = 0;
    while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) width = width * 10 + (name[j++] - '0');
    if (j >= name.size() || name[j] != 'd' || width > 12)
      fail<SpecError>(ErrorCode::InvalidKey, "{}: path: \"{}\": only %d or %0Nd may follow % (%% for a percent sign)", origin, name);
    if (d.pos != std::string::npos)
      fail<SpecError>(ErrorCode::InvalidKey, "{}: path: \"{}\" has more than one %d", origin, name);
    d = {i, j + 1 - i, width};
    i = j;
  }
  return d;
}

std::string unescape_percent(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == '%' && i + 1 < s.size() && s[i + 1] == '%') ++i;
  }
  return out;
}

ImageFormat format_of(const fs::path& file, ImageFormat given, const std::string& origin) {
  if (given != ImageFormat::Auto) return given;
  std::string ext = file.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::Jpg;
  if (ext == ".png") return ImageFormat::Png;
  fail<SpecError>(ErrorCode::OutOfRange, "{}: {}: the image format follows the extension: .jpg, .jpeg or .png (or give format)",
                  origin, file.string());
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", file.string(), std::strerror(errno));
}

std::string encode(const RgbFrame& f, ImageFormat format, int quality) {
  return av::encode_image(f.pixels.data(), f.width, f.height, format == ImageFormat::Png ? av::ImageCodec::Png : av::ImageCodec::Jpeg,
                          quality);
}

// The staged folder of `final` (one per folder: every file of a set is published with it).
StagedOutput& stage(std::vector<std::unique_ptr<StagedOutput>>& staged, const fs::path& final, const fs::path& input) {
  staged.push_back(std::make_unique<StagedOutput>(final, input));
  return *staged.back();
}

StillImage image_of(const fs::path& path, const RgbFrame& f) { return {path, f.requested, f.seconds(), f.width, f.height, {}}; }

SnapshotOptions grab_options(const SnapshotSpec& spec, const std::atomic<bool>* cancel) {
  SnapshotOptions o;
  o.size = {spec.width, spec.height};
  o.video_stream = spec.video_stream;
  o.keyframe = spec.mode == SnapshotMode::Keyframe;
  o.cancel = cancel;
  return o;
}

void stage_frames(std::vector<std::unique_ptr<StagedOutput>>& staged, StillsResult& r, const fs::path& input,
                  const SnapshotSpec& spec, double duration, const std::atomic<bool>* cancel) {
  const std::vector<double> times = snapshot_times(spec, duration);
  const ImageTargets targets = image_targets(spec.path, input, times.size(), spec.format, spec.origin);
  StagedOutput& st = stage(staged, targets.files.front(), input);
  const std::vector<RgbFrame> frames = grab_frames(input, times, grab_options(spec, cancel));
  for (size_t i = 0; i < frames.size(); ++i) {
    write_bytes(st.staging_dir() / targets.files[i].filename(), encode(frames[i], targets.format, spec.quality));
    r.images.push_back(image_of(targets.files[i], frames[i]));
  }
  r.files = targets.files;
}

void stage_sprite(std::vector<std::unique_ptr<StagedOutput>>& staged, StillsResult& r, const fs::path& input,
                  const SnapshotSpec& spec, double duration, const std::atomic<bool>* cancel) {
  const std::vector<double> times = snapshot_times(spec, duration);
  // Each tile stands for a time range: from its own time (every) or from the start of
  // its equal part (count, whose pictures are the parts' middles) to the next one.
  std::vector<double> starts;
  for (size_t i = 0; i < times.size(); ++i)
    starts.push_back(spec.count ? static_cast<double>(i) * duration / static_cast<double>(times.size()) : times[i]);
  const fs::path sheet = expand_output_pattern(spec.path, input, spec.origin + ": path");
  if (sheet.filename().empty())
    fail<SpecError>(ErrorCode::InvalidKey, "{}: path: {} names a folder: give the sheet's file name", spec.origin, sheet.string());
  const ImageFormat format = format_of(sheet, spec.format, spec.origin);
  SnapshotSpec tile_spec = spec;
  if (!spec.width && !spec.height) tile_spec.width = kDefaultSpriteTileWidth;
  // The sheets are staged once the tile size (so their number) is known; a missing
  // folder is refused before any decoding.
  if (!fs::is_directory(sheet.parent_path().empty() ? fs::path(".") : sheet.parent_path()))
    fail(ErrorCode::OutputNotWritable, "{}: output folder {} does not exist", sheet.string(), sheet.parent_path().string());
  const std::vector<RgbFrame> frames = grab_frames(input, times, grab_options(tile_spec, cancel));
  const SpriteLayout layout = sprite_layout(static_cast<int>(frames.size()), spec.columns, spec.rows, frames.front().width,
                                            frames.front().height, spec.padding, spec.margin);
  const std::vector<fs::path> sheets = sheet_paths(sheet, layout.sheets());
  StagedOutput& st = stage(staged, sheets.front(), input);
  const int sw = layout.sheet_width(), sh = layout.sheet_height();
  for (int s = 0; s < layout.sheets(); ++s) {
    RgbFrame canvas;
    canvas.width = sw;
    canvas.height = sh;
    canvas.pixels.assign(static_cast<size_t>(sw) * static_cast<size_t>(sh) * 3, 0);
    for (int t = s * layout.per_sheet(); t < std::min(layout.count, (s + 1) * layout.per_sheet()); ++t) {
      const RgbFrame& f = frames[static_cast<size_t>(t)];
      const TileRect rect = layout.rect(t);
      for (int y = 0; y < f.height; ++y)
        std::memcpy(canvas.pixels.data() + (static_cast<size_t>(rect.y + y) * static_cast<size_t>(sw) + static_cast<size_t>(rect.x)) * 3,
                    f.pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(f.width) * 3, static_cast<size_t>(f.width) * 3);
      StillImage img = image_of(sheets[static_cast<size_t>(s)], f);
      img.tile = rect;
      r.images.push_back(img);
    }
    write_bytes(st.staging_dir() / sheets[static_cast<size_t>(s)].filename(), encode(canvas, format, spec.quality));
  }
  r.files = sheets;
  r.layout = layout;
  if (!spec.vtt.empty()) {
    const fs::path vtt = expand_output_pattern(spec.vtt, input, spec.origin + ": vtt");
    std::vector<std::string> urls;
    for (const auto& p : sheets) urls.push_back(vtt_url(p, vtt));
    StagedOutput& vst = stage(staged, vtt, input);
    write_bytes(vst.staging_file(), vtt_text(sprite_cues(starts, duration, layout, urls)));
    r.vtt = vtt;
    r.files.push_back(vtt);
  }
}

void stage_cover(std::vector<std::unique_ptr<StagedOutput>>& staged, StillsResult& r, const fs::path& input,
                 const SnapshotSpec& spec, const std::atomic<bool>* cancel) {
  const fs::path file = expand_output_pattern(spec.path, input, spec.origin + ": path");
  const ImageFormat format = format_of(file, spec.format, spec.origin);
  StagedOutput& st = stage(staged, file, input);
  CoverOptions o;
  o.candidates = spec.candidates;
  o.size = {spec.width, spec.height};
  o.video_stream = spec.video_stream;
  o.cancel = cancel;
  CoverPick pick = pick_cover(input, o);
  write_bytes(st.staging_file(), encode(pick.frame, format, spec.quality));
  r.images.push_back(image_of(file, pick.frame));
  r.images.back().requested = pick.frame.seconds();
  r.files = {file};
  r.cover = pick.score;
  r.candidates = std::move(pick.candidates);
}

}  // namespace

ImageTargets image_targets(const std::string& path, const fs::path& input, size_t count, ImageFormat format,
                           const std::string& origin) {
  const fs::path expanded = expand_output_pattern(path, input, origin + ": path");
  ImageTargets t;
  std::error_code ec;
  const bool folder = path.ends_with('/') || fs::is_directory(expanded, ec);
  if (folder) {
    t.format = format == ImageFormat::Auto ? ImageFormat::Jpg : format;
    const std::string ext = t.format == ImageFormat::Png ? "png" : "jpg";
    for (size_t i = 1; i <= count; ++i) t.files.push_back(expanded / fmt::format("{}-{:05}.{}", input.stem().string(), i, ext));
    return t;
  }
  const std::string name = expanded.filename().string();
  if (expanded.parent_path().string().find('%') != std::string::npos && find_directive(expanded.parent_path().string(), origin).pos != std::string::npos)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: path: {}: %d may only number the file name, not a folder", origin, expanded.string());
  const Directive d = find_directive(name, origin);
  t.format = format_of(expanded, format, origin);
  if (d.pos == std::string::npos) {
    if (count != 1)
      fail<SpecError>(ErrorCode::Usage, "{}: path: {} names one file for {} images: number them with %d or %05d, or give a folder",
                      origin, expanded.string(), count);
    t.files.push_back(expanded.parent_path() / unescape_percent(name));
    return t;
  }
  for (size_t i = 1; i <= count; ++i) {
    const std::string number = fmt::format("{:0{}}", i, d.width);
    t.files.push_back(expanded.parent_path() /
                      (unescape_percent(name.substr(0, d.pos)) + number + unescape_percent(name.substr(d.pos + d.len))));
  }
  return t;
}

StagedStills stage_stills(const fs::path& input, const SnapshotSpec& spec, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  validate(spec);
  const MediaInfo info = probe(input);  // ResourceNotFound / ResourceContentBad first
  StagedStills out;
  StillsResult& r = out.result_;
  r.kind = spec.kind;
  r.mode = spec.mode;
  r.input = input;
  switch (spec.kind) {
    case SnapshotKind::Frames: stage_frames(out.staged_, r, input, spec, info.duration, cancel); break;
    case SnapshotKind::Sprite: stage_sprite(out.staged_, r, input, spec, info.duration, cancel); break;
    case SnapshotKind::Cover: stage_cover(out.staged_, r, input, spec, cancel); break;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::vector<StagedOutput*> StagedStills::outputs() const {
  std::vector<StagedOutput*> out;
  for (const auto& s : staged_) out.push_back(s.get());
  return out;
}

StillsResult StagedStills::commit() {
  for (auto& s : staged_) s->commit();
  staged_.clear();
  return result_;
}

nlohmann::json to_json(const CoverScore& s) {
  return nlohmann::json{{"total", s.total},       {"exposure", s.exposure},
                        {"contrast", s.contrast}, {"sharpness", s.sharpness},
                        {"detail", s.detail},     {"colour", s.colour},
                        {"transition", s.transition},
                        {"measures", {{"luma_mean", s.luma_mean}, {"luma_std", s.luma_std},
                                      {"laplacian_variance", s.laplacian_variance}, {"entropy_bits", s.entropy_bits},
                                      {"colourfulness", s.colourfulness}, {"change", s.change}, {"residual", s.residual}}}};
}

nlohmann::json to_json(const StillsResult& r) {
  nlohmann::json images = nlohmann::json::array();
  for (const auto& i : r.images) {
    nlohmann::json j{{"path", i.path.string()}, {"requested", i.requested}, {"time", i.time}, {"width", i.width}, {"height", i.height}};
    if (i.tile) j["tile"] = {{"x", i.tile->x}, {"y", i.tile->y}, {"w", i.tile->w}, {"h", i.tile->h}};
    images.push_back(std::move(j));
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : r.files) files.push_back(f.string());
  nlohmann::json j{{"kind", to_string(r.kind)}, {"input", r.input.string()}, {"images", std::move(images)},
                   {"files", std::move(files)}, {"seconds", r.seconds}};
  if (r.kind == SnapshotKind::Frames) j["mode"] = to_string(r.mode);
  if (r.layout) {
    j["sheet"] = {{"width", r.layout->sheet_width()}, {"height", r.layout->sheet_height()}, {"columns", r.layout->columns},
                  {"rows", r.layout->rows}, {"sheets", r.layout->sheets()}, {"tile_width", r.layout->tile_width},
                  {"tile_height", r.layout->tile_height}, {"padding", r.layout->padding}, {"margin", r.layout->margin}};
    j["vtt"] = r.vtt.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.vtt.string());
  }
  if (r.cover) {
    j["time"] = r.images.at(0).time;
    j["score"] = to_json(*r.cover);
    nlohmann::json c = nlohmann::json::array();
    for (const auto& cand : r.candidates) c.push_back({{"time", cand.time}, {"score", to_json(cand.score)}});
    j["candidates"] = std::move(c);
  }
  return j;
}

std::string summary(const StillsResult& r) {
  std::string out;
  for (const auto& i : r.images) {
    if (r.cover) {
      out += fmt::format("{}  frame={:.3f} s  {}x{}  score={:.3f}\n", i.path.string(), i.time, i.width, i.height, r.cover->total);
    } else if (i.tile) {
      out += fmt::format("{}#xywh={},{},{},{}  t={:.3f} s  frame={:.3f} s\n", i.path.string(), i.tile->x, i.tile->y, i.tile->w,
                         i.tile->h, i.requested, i.time);
    } else {
      out += fmt::format("{}  t={:.3f} s  frame={:.3f} s  {}x{}\n", i.path.string(), i.requested, i.time, i.width, i.height);
    }
  }
  if (!r.vtt.empty()) out += fmt::format("{}  WebVTT index of {} tiles\n", r.vtt.string(), r.images.size());
  return out;
}

}  // namespace gopcast::ops
