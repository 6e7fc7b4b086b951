#include "app/report.hpp"

namespace gopcast::app {

nlohmann::json result_json(const RunResult& r) {
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& o : r.outputs)
    outputs.push_back({{"path", o.path.string()},
                       {"template", o.template_name},
                       {"user_data", o.user_data},
                       {"video_frames", o.video_frames},
                       {"bytes", o.bytes},
                       {"files", [&] {
                          std::vector<std::string> v;
                          for (const auto& f : o.files) v.push_back(f.string());
                          return v;
                        }()},
                       {"media_info", to_json(o.info)}});
  nlohmann::json j = {{"schema", "gopcast.result/1"},
                       {"input", r.input.string()},
                       {"seconds", r.seconds},
                       {"media_seconds", r.media_seconds},
                       {"speed", r.seconds > 0 ? r.media_seconds / r.seconds : 0.0},
                       {"outputs", outputs},
                       {"warnings", r.warnings}};
  if (!r.timeline.empty()) {
    nlohmann::json timeline = nlohmann::json::array();
    for (const auto& e : r.timeline)
      timeline.push_back({{"input", e.input.string()}, {"start", e.start}, {"duration", e.duration},
                          {"audio", e.silence ? "silence" : "source"}});
    j["timeline"] = std::move(timeline);
  }
  if (r.parallel) {
    const auto& p = *r.parallel;
    j["parallel"] = {{"engine", p.engine},
                     {"workers", p.workers},
                     {"segments", p.segments},
                     {"resumed_segments", p.resumed_segments},
                     {"retried_segments", p.retried_segments},
                     {"manifest", p.manifest.string()},
                     {"phases", p.phases},
                     {"coordinator_peak_rss_kib", p.coordinator_peak_rss_kib}};
  }
  if (!r.snapshots.empty()) {
    j["snapshots"] = nlohmann::json::array();
    for (const auto& s : r.snapshots) j["snapshots"].push_back(ops::to_json(s));
  }
  return j;
}

nlohmann::json error_json(ErrorCode code, const std::string& message) {
  const ErrorCodeInfo& info = error_code_info(code);
  return {{"error", {{"code", info.name}, {"message", message}, {"exit_status", info.exit_status}}}};
}

nlohmann::json error_json(const Error& error) { return error_json(error.code(), error.what()); }

nlohmann::json error_codes_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : error_codes()) list.push_back({{"code", c.name}, {"exit_status", c.exit_status}, {"meaning", c.meaning}});
  return list;
}

}  // namespace gopcast::app
