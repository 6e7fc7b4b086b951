#include "cli/stills_cli.hpp"

#include <iostream>

#include "core/error.hpp"
#include "ops/stills.hpp"

namespace gopcast::cli {

void StillsCli::add_picture_options(CLI::App* cmd, Args& a) {
  cmd->add_option("INPUT", a.input, "Input media file")->required();
  cmd->add_option("--width", a.width, "Picture width in pixels (alone: the height follows the display aspect ratio)");
  cmd->add_option("--height", a.height, "Picture height in pixels (alone: the width follows the display aspect ratio)");
  cmd->add_option("--format", a.format, "Image format: jpg or png (default: by the output's extension)")
      ->check(CLI::IsMember({"jpg", "png"}));
  cmd->add_option("--quality", a.quality, fmt::format("JPEG quality 1..100 (default {})", kDefaultJpegQuality));
  cmd->add_option("--video-stream", a.video_stream, "Video stream to use, e.g. 0:v:1 (default: the best)");
}

StillsCli::StillsCli(CLI::App& app, bool& json, std::atomic<bool>& cancel) : json_(json), cancel_(cancel) {
  snapshot_ = app.add_subcommand("snapshot", "Write JPG/PNG images of the video at given times (returns when they exist)");
  add_picture_options(snapshot_, snap_);
  snapshot_->add_option("-o,--output", snap_.output,
                        "Image file, pattern with %d or %05d (numbered from 1) or folder; {name} {ext} {dir} expand")
      ->required();
  auto* t = snapshot_->add_option("--time", snap_.time, "One time, seconds from the start");
  auto* ts = snapshot_->add_option("--times", snap_.times, "Several times, comma-separated")->delimiter(',');
  auto* ev = snapshot_->add_option("--every", snap_.every, "One image every S seconds from 0");
  auto* ct = snapshot_->add_option("--count", snap_.count, "N images spread evenly (the middles of N equal parts)");
  t->excludes(ts, ev, ct);
  ts->excludes(ev, ct);
  ev->excludes(ct);
  snapshot_->add_option("--mode", snap_.mode, "exact (the frame at the time) or keyframe (the nearest keyframe; fast)")
      ->check(CLI::IsMember({"exact", "keyframe"}))
      ->capture_default_str();
  snapshot_->add_flag("--json", json_, "Machine-readable JSON on stdout");

  sprite_ = app.add_subcommand("sprite", "Write a sprite sheet of N tiles and a WebVTT index for seek previews");
  add_picture_options(sprite_, sprite_args_);
  sprite_->add_option("-o,--output", sprite_args_.output, "Sheet image (sheet-1.jpg, sheet-2.jpg... when rows run out)")->required();
  auto* sc = sprite_->add_option("--count", sprite_args_.count, "Tiles: the middles of N equal parts of the duration");
  auto* se = sprite_->add_option("--every", sprite_args_.every, "Tiles: one every S seconds from 0");
  sc->excludes(se);
  sprite_->add_option("--columns", sprite_args_.columns, "Tiles per row")->required();
  sprite_->add_option("--rows", sprite_args_.rows, "Rows per sheet (default: all tiles on one sheet)");
  sprite_->add_option("--padding", sprite_args_.padding, "Pixels between tiles (default 0)");
  sprite_->add_option("--margin", sprite_args_.margin, "Pixels around the grid (default 0)");
  sprite_->add_option("--vtt", sprite_args_.vtt, "WebVTT index to write (time ranges to sheet.jpg#xywh=x,y,w,h)");
  sprite_->add_option("--mode", sprite_args_.mode, "exact or keyframe")->check(CLI::IsMember({"exact", "keyframe"}))->capture_default_str();
  sprite_->add_flag("--json", json_, "Machine-readable JSON on stdout");

  cover_ = app.add_subcommand("cover", "Pick the most representative frame and write it as the cover image");
  add_picture_options(cover_, cover_args_);
  cover_->add_option("-o,--output", cover_args_.output, "Cover image file")->required();
  cover_->add_option("--candidates", cover_args_.candidates,
                     fmt::format("Frames to score, spread over the input (default {})", kDefaultCoverCandidates));
  cover_->add_flag("--json", json_, "Machine-readable JSON on stdout, with every candidate's component scores");
}

SnapshotSpec StillsCli::spec_of(const Args& a, SnapshotKind kind) const {
  SnapshotSpec s;
  s.kind = kind;
  s.origin = std::string(to_string(kind) == "frames" ? "snapshot" : to_string(kind));
  s.path = a.output;
  if (a.time) s.times.push_back(*a.time);
  for (double t : a.times) s.times.push_back(t);
  s.every = a.every;
  s.count = a.count;
  s.mode = a.mode == "keyframe" ? SnapshotMode::Keyframe : SnapshotMode::Exact;
  s.width = a.width;
  s.height = a.height;
  s.format = a.format == "png" ? ImageFormat::Png : a.format == "jpg" ? ImageFormat::Jpg : ImageFormat::Auto;
  if (a.quality) s.quality = *a.quality;
  if (a.columns) s.columns = *a.columns;
  s.rows = a.rows;
  if (a.padding) s.padding = *a.padding;
  if (a.margin) s.margin = *a.margin;
  s.vtt = a.vtt;
  if (a.candidates) s.candidates = *a.candidates;
  s.video_stream = a.video_stream;
  if (kind == SnapshotKind::Frames && s.times.empty() && !s.every && !s.count)
    fail(ErrorCode::Usage, "snapshot: say when: --time, --times, --every or --count");
  if (kind == SnapshotKind::Sprite && !s.every && !s.count) fail(ErrorCode::Usage, "sprite: say how many tiles: --count or --every");
  return s;
}

std::optional<int> StillsCli::dispatch() {
  const Args* a = nullptr;
  SnapshotKind kind = SnapshotKind::Frames;
  if (*snapshot_) a = &snap_;
  else if (*sprite_) a = &sprite_args_, kind = SnapshotKind::Sprite;
  else if (*cover_) a = &cover_args_, kind = SnapshotKind::Cover;
  else return std::nullopt;
  const ops::StillsResult r = ops::take_stills(a->input, spec_of(*a, kind), &cancel_);
  if (json_) std::cout << ops::to_json(r).dump(2) << "\n";
  else std::cout << ops::summary(r);
  return 0;
}

}  // namespace gopcast::cli
