#include "plan/subtitles.hpp"

#include <fmt/format.h>

namespace gopcast::plan {

std::string vtt_time(int64_t ms) {
  return fmt::format("{:02}:{:02}:{:02}.{:03}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

std::string render_webvtt(const std::vector<Cue>& cues, int64_t from_ms, int64_t to_ms, int64_t mpegts) {
  std::string s = "WEBVTT\n";
  if (mpegts >= 0) s += fmt::format("X-TIMESTAMP-MAP=MPEGTS:{},LOCAL:00:00:00.000\n", mpegts);
  for (const auto& c : cues) {
    if (c.start_ms >= to_ms || c.end_ms <= from_ms) continue;
    s += fmt::format("\n{} --> {}\n{}\n", vtt_time(c.start_ms), vtt_time(c.end_ms), c.text);
  }
  return s;
}

}  // namespace gopcast::plan
