#include "ops/sprite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace fs = std::filesystem;

namespace gopcast::ops {

TileRect SpriteLayout::rect(int tile) const {
  const int cell = tile % per_sheet();
  const int col = cell % columns;
  const int row = cell / columns;
  return {margin + col * (tile_width + padding), margin + row * (tile_height + padding), tile_width, tile_height};
}

SpriteLayout sprite_layout(int count, int columns, std::optional<int> rows, int tile_width, int tile_height, int padding,
                           int margin) {
  SpriteLayout l;
  l.count = count;
  l.tile_width = tile_width;
  l.tile_height = tile_height;
  l.columns = std::max(1, columns);
  l.rows = rows ? std::max(1, *rows) : std::max(1, (count + l.columns - 1) / l.columns);
  l.padding = padding;
  l.margin = margin;
  return l;
}

std::vector<fs::path> sheet_paths(const fs::path& sheet, int sheets) {
  if (sheets <= 1) return {sheet};
  std::vector<fs::path> out;
  for (int i = 1; i <= sheets; ++i)
    out.push_back(sheet.parent_path() / fmt::format("{}-{}{}", sheet.stem().string(), i, sheet.extension().string()));
  return out;
}

std::string vtt_url(const fs::path& file, const fs::path& vtt) {
  const fs::path from = fs::absolute(vtt).lexically_normal().parent_path();
  const fs::path to = fs::absolute(file).lexically_normal();
  fs::path rel = to.lexically_relative(from);
  if (rel.empty()) rel = to;
  std::string out;
  for (unsigned char c : rel.generic_string()) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string vtt_timestamp(int64_t ms) {
  ms = std::max<int64_t>(0, ms);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

std::vector<VttCue> sprite_cues(const std::vector<double>& starts, double duration, const SpriteLayout& layout,
                                const std::vector<std::string>& sheet_urls) {
  std::vector<VttCue> cues;
  auto ms = [](double s) { return static_cast<int64_t>(std::llround(s * 1000)); };
  for (size_t i = 0; i < starts.size(); ++i) {
    const int tile = static_cast<int>(i);
    const TileRect r = layout.rect(tile);
    VttCue c;
    c.start_ms = ms(starts[i]);
    c.end_ms = i + 1 < starts.size() ? ms(starts[i + 1]) : std::max(ms(duration), c.start_ms + 1);
    c.text = fmt::format("{}#xywh={},{},{},{}", sheet_urls.at(static_cast<size_t>(layout.sheet_of(tile))), r.x, r.y, r.w, r.h);
    cues.push_back(std::move(c));
  }
  return cues;
}

std::string vtt_text(const std::vector<VttCue>& cues) {
  std::string out = "WEBVTT\n\n";
  for (const auto& c : cues) out += fmt::format("{} --> {}\n{}\n\n", vtt_timestamp(c.start_ms), vtt_timestamp(c.end_ms), c.text);
  return out;
}

}  // namespace gopcast::ops
