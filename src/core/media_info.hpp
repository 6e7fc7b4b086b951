#pragma once
// Media information as plain data: what a file holds, as ffprobe reports it
// (`gopcast probe`, docs/probe-json.md). av/probe.hpp reads it; planners, the CLI and
// the Python module take it without seeing libav.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/rational.hpp"

namespace gopcast {

struct StreamInfo {
  int index = 0;
  std::string type;  // "video", "audio", "subtitle", "data", "attachment"
  std::string codec;  // libavcodec short name, as ffprobe's codec_name
  std::string codec_long;
  std::optional<std::string> profile;
  std::optional<int> level;
  std::optional<double> start_time;
  std::optional<double> duration;
  std::optional<int64_t> bit_rate;
  std::optional<int64_t> frame_count;  // only where the container states it
  std::optional<std::string> language;
  bool is_default = false;
  bool attached_picture = false;
  // video
  int width = 0;
  int height = 0;
  std::optional<Rational> sample_aspect_ratio;
  std::optional<Rational> display_aspect_ratio;
  Rational avg_frame_rate;
  Rational real_frame_rate;
  std::optional<std::string> pix_fmt;
  std::optional<std::string> color_range, color_space, color_transfer, color_primaries;
  int rotation = 0;  // degrees clockwise to turn the picture upright: 0, 90, 180 or 270
  // audio
  int sample_rate = 0;
  int channels = 0;
  std::optional<std::string> channel_layout;
  std::optional<std::string> sample_fmt;
};

struct MediaInfo {
  std::string path;
  std::string format;  // libavformat demuxer name, as ffprobe's format_name
  std::string format_long;
  double duration = 0;
  double start_time = 0;
  int64_t size = 0;
  int64_t bit_rate = 0;
  std::map<std::string, std::string> tags;
  std::vector<StreamInfo> streams;

  const StreamInfo* first(const std::string& type) const;
};

// The documented JSON form (docs/probe-json.md, schema "gopcast.probe/1").
nlohmann::json to_json(const MediaInfo& info);

}  // namespace gopcast
