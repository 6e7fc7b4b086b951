#pragma once
// Sprite sheets: the pure parts (tile layout, sheet names, the WebVTT index that web
// players read for seek previews). ops/stills.cpp decodes and draws.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gopcast::ops {

struct TileRect {
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;
  bool operator==(const TileRect&) const = default;
};

// Tiles fill a sheet row by row. A sheet is
//   width  = 2 * margin + columns * tile_width  + (columns - 1) * padding
//   height = 2 * margin + rows    * tile_height + (rows - 1)    * padding
// and every sheet of a set has the same size (unused cells of the last one stay black).
struct SpriteLayout {
  int tile_width = 0;
  int tile_height = 0;
  int columns = 1;
  int rows = 1;
  int padding = 0;
  int margin = 0;
  int count = 0;  // tiles in all

  int per_sheet() const { return columns * rows; }
  int sheets() const { return count == 0 ? 0 : (count + per_sheet() - 1) / per_sheet(); }
  int sheet_width() const { return 2 * margin + columns * tile_width + (columns - 1) * padding; }
  int sheet_height() const { return 2 * margin + rows * tile_height + (rows - 1) * padding; }
  int sheet_of(int tile) const { return tile / per_sheet(); }
  // Where tile `tile` (0-based over all sheets) lies on its sheet.
  TileRect rect(int tile) const;
};

// `rows` absent: as many as `count` tiles need in `columns` (one sheet).
SpriteLayout sprite_layout(int count, int columns, std::optional<int> rows, int tile_width, int tile_height, int padding,
                           int margin);

// The sheet files: `sheet` itself when there is one, else sheet-1.jpg, sheet-2.jpg...
std::vector<std::filesystem::path> sheet_paths(const std::filesystem::path& sheet, int sheets);

// A reference to a file from a WebVTT file's folder: relative when both are in the same
// tree, with characters outside RFC 3986's unreserved set (and '/') percent-encoded.
std::string vtt_url(const std::filesystem::path& file, const std::filesystem::path& vtt);

// "HH:MM:SS.mmm" for a time in milliseconds.
std::string vtt_timestamp(int64_t ms);

struct VttCue {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string text;  // "sheet.jpg#xywh=0,0,160,90"
};

// Cue i runs from starts[i] to starts[i + 1] (the last to `duration`), in whole
// milliseconds rounded once per boundary, so cues are contiguous from the first start
// to the end; its text names tile i: "<url of its sheet>#xywh=x,y,w,h".
std::vector<VttCue> sprite_cues(const std::vector<double>& starts, double duration, const SpriteLayout& layout,
                                const std::vector<std::string>& sheet_urls);

// The WebVTT file: "WEBVTT", a blank line, then each cue.
std::string vtt_text(const std::vector<VttCue>& cues);

}  // namespace gopcast::ops
