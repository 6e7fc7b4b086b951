#include "core/media_info.hpp"

#include <fmt/format.h>

namespace gopcast {

const StreamInfo* MediaInfo::first(const std::string& type) const {
  for (const auto& s : streams)
    if (s.type == type && !s.attached_picture) return &s;
  return nullptr;
}

namespace {
template <typename T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json rat(const Rational& r) { return r.valid() ? nlohmann::json(fmt::format("{}/{}", r.num, r.den)) : nlohmann::json(nullptr); }
nlohmann::json rat(const std::optional<Rational>& r) { return r ? rat(*r) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json to_json(const MediaInfo& m) {
  nlohmann::json streams = nlohmann::json::array();
  for (const auto& s : m.streams) {
    nlohmann::json j = {{"index", s.index},
                        {"type", s.type},
                        {"codec", s.codec},
                        {"codec_long", s.codec_long},
                        {"profile", opt(s.profile)},
                        {"level", opt(s.level)},
                        {"start_time", opt(s.start_time)},
                        {"duration", opt(s.duration)},
                        {"bit_rate", opt(s.bit_rate)},
                        {"frame_count", opt(s.frame_count)},
                        {"language", opt(s.language)},
                        {"default", s.is_default},
                        {"attached_picture", s.attached_picture}};
    if (s.type == "video") {
      j["width"] = s.width;
      j["height"] = s.height;
      j["sample_aspect_ratio"] = rat(s.sample_aspect_ratio);
      j["display_aspect_ratio"] = rat(s.display_aspect_ratio);
      j["avg_frame_rate"] = rat(s.avg_frame_rate);
      j["real_frame_rate"] = rat(s.real_frame_rate);
      j["pix_fmt"] = opt(s.pix_fmt);
      j["color"] = {{"range", opt(s.color_range)},
                    {"space", opt(s.color_space)},
                    {"transfer", opt(s.color_transfer)},
                    {"primaries", opt(s.color_primaries)}};
      j["rotation"] = s.rotation;
    } else if (s.type == "audio") {
      j["sample_rate"] = s.sample_rate;
      j["channels"] = s.channels;
      j["channel_layout"] = opt(s.channel_layout);
      j["sample_fmt"] = opt(s.sample_fmt);
    }
    streams.push_back(std::move(j));
  }
  return {{"schema", "gopcast.probe/1"},
          {"path", m.path},
          {"format",
           {{"name", m.format},
            {"long_name", m.format_long},
            {"duration", m.duration},
            {"start_time", m.start_time},
            {"size", m.size},
            {"bit_rate", m.bit_rate},
            {"tags", m.tags}}},
          {"streams", streams}};
}

}  // namespace gopcast
