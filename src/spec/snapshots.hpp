#pragma once
// Snapshot requests as plain data: still images of an input (frames at times, sprite
// sheets with a WebVTT index, the best cover frame), from `gopcast snapshot|sprite|cover`
// or a job file's [[snapshots]] tables. The same struct and checks serve both.
#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"

#include "spec/value.hpp"

namespace gopcast {

enum class SnapshotKind { Frames, Sprite, Cover };
enum class SnapshotMode { Exact, Keyframe };  // frame-exact, or the nearest keyframe's picture only
enum class ImageFormat { Auto, Jpg, Png };     // Auto: by the output's extension (a folder: jpg)

const EnumNames<SnapshotKind>& enum_names(SnapshotKind);
const EnumNames<SnapshotMode>& enum_names(SnapshotMode);
const EnumNames<ImageFormat>& enum_names(ImageFormat);

// Ranges, shared by the TOML reader, the command line and the docs.
constexpr int kMaxSnapshotCount = 10000;
constexpr int kMaxSpriteGrid = 1000;      // columns, rows
constexpr int kMaxSpriteSpacing = 1000;   // padding, margin (pixels)
constexpr int kMaxCoverCandidates = 1000;
constexpr int kDefaultSpriteTileWidth = 160;
constexpr int kDefaultCoverCandidates = 24;
constexpr int kDefaultJpegQuality = 90;

struct SnapshotSpec {
  SnapshotKind kind = SnapshotKind::Frames;
  // Frames: one file, a pattern with one printf-style %d / %0Nd (numbered from 1), or a
  // folder (an existing one, or a path ending in '/'). Sprite: the sheet (sheet-1.jpg,
  // sheet-2.jpg... when there are several). Cover: the image. {name} {ext} {dir} expand.
  std::string path;
  // When (frames; sprites take every or count): exactly one of these.
  std::vector<double> times;    // seconds from the container's start
  std::optional<double> every;  // one image every S seconds from 0
  std::optional<int> count;     // N images at the middles of N equal parts of the duration
  SnapshotMode mode = SnapshotMode::Exact;
  std::optional<int> width;  // one of them: the other follows the display aspect ratio
  std::optional<int> height;
  ImageFormat format = ImageFormat::Auto;
  int quality = kDefaultJpegQuality;  // JPEG 1..100
  // Sprite sheets.
  int columns = 0;
  std::optional<int> rows;  // default: as many as the tiles need (one sheet)
  int padding = 0;          // pixels between tiles
  int margin = 0;           // pixels around the grid
  std::string vtt;          // WebVTT index path ("" = none)
  // Cover.
  int candidates = kDefaultCoverCandidates;
  std::string video_stream;  // selector, "" = the best video stream
  std::string origin = "snapshot";  // "job.toml: snapshots[0]" in messages
};

// Checks one request on its own (no media needed): exactly one kind of time for frames,
// every or count for sprites, columns for sprites, every value in range, the format known.
// Errors name the origin and key: OutOfRange for values, InvalidKey for missing or
// conflicting keys.
void validate(const SnapshotSpec& spec);

// Reads one [[snapshots]] table (keys: kind, path, time, times, every, count, mode,
// width, height, format, quality, columns, rows, padding, margin, vtt, candidates,
// video_stream) and validates it. Paths are kept as written (the job makes them absolute).
SnapshotSpec read_snapshot_spec(spec::TableReader& reader, std::string origin);
toml::table snapshot_to_table(const SnapshotSpec& spec);

// The times a request asks for, given the input's duration (seconds): pure.
// every S: 0, S, 2S... before the end; count N: (i + 0.5) * duration / N.
// More than kMaxSnapshotCount images from `every` is OutOfRange.
std::vector<double> snapshot_times(const SnapshotSpec& spec, double duration);

}  // namespace gopcast
