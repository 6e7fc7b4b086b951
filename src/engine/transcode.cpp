#include "engine/transcode.hpp"

#include <chrono>
#include <memory>

#include "av/input.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"

namespace fs = std::filesystem;

namespace gopcast {

PreparedTranscode prepare_transcode(const TranscodeRequest& request) {
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  PreparedTranscode p;
  {
    av::Input input = av::Input::open(request.input);
    p.source = describe(input);
    p.streams.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
    p.streams.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
  }
  const StreamInfo* vsrc = p.streams.video >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.video)] : nullptr;
  const StreamInfo* asrc = p.streams.audio >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.audio)] : nullptr;
  for (const auto& out : request.outputs) {
    for (const auto& s : p.staged)
      if (s->final_path() == out.path) fail(ErrorCode::OutputNotWritable, "{}: named by two outputs", out.path.string());
    engine::Target target;
    target.plan = engine::plan_output(out.tmpl, vsrc, asrc, request.input.string());
    p.staged.push_back(std::make_unique<StagedOutput>(out.path, request.input));
    target.file = p.staged.back()->staging_file();
    target.scratch_dir = p.staged.back()->scratch_dir();
    p.targets.push_back(std::move(target));
  }
  return p;
}

std::vector<OutputResult> publish_outputs(const TranscodeRequest& request, PreparedTranscode& prepared,
                                          const std::vector<int64_t>& video_frames) {
  std::vector<OutputResult> results;
  for (size_t i = 0; i < prepared.staged.size(); ++i) {
    OutputResult r;
    // HLS writes its segments beside the playlist; everything else is one file.
    r.files = prepared.staged[i]->commit();
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.outputs[i].path;
    r.template_name = request.outputs[i].tmpl.name;
    r.user_data = request.outputs[i].user_data;
    r.video_frames = video_frames[i];
    r.info = probe(r.path);
    results.push_back(std::move(r));
  }
  return results;
}

TranscodeResult transcode(const TranscodeRequest& request, const engine::RunControl& control) {
  const auto started = std::chrono::steady_clock::now();
  PreparedTranscode prepared = prepare_transcode(request);
  auto stats = engine::run_pipeline(request.input, prepared.streams, prepared.targets, control);
  std::vector<int64_t> frames;
  for (const auto& s : stats) frames.push_back(s.video_frames);
  TranscodeResult result;
  result.input = request.input;
  result.media_seconds = prepared.source.duration;
  result.outputs = publish_outputs(request, prepared, frames);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

TranscodeRequest request_for_job(Job job, const Catalog& catalog, const std::vector<std::string>& extra) {
  TranscodeRequest req;
  req.input = job.input.path;
  req.video_stream = job.input.video_stream;
  req.audio_stream = job.input.audio_stream;
  for (size_t i = 0; i < job.outputs.size(); ++i) {
    auto& o = job.outputs[i];
    TranscodeOutput out;
    out.path = expand_output_pattern(o.path, job.input.path, fmt::format("outputs[{}].path", i));
    out.tmpl = resolve_output_template(catalog, o, out.path, extra);
    out.user_data = o.user_data;
    req.outputs.push_back(std::move(out));
  }
  return req;
}

nlohmann::json to_json(const TranscodeResult& r) {
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
                       {"outputs", outputs}};
  if (r.parallel) {
    const auto& p = *r.parallel;
    j["parallel"] = {{"engine", p.engine},         {"workers", p.workers},   {"segments", p.segments},
                     {"resumed_segments", p.resumed_segments}, {"manifest", p.manifest.string()}, {"phases", p.phases},
                     {"coordinator_peak_rss_kib", p.coordinator_peak_rss_kib}};
  }
  return j;
}

}  // namespace gopcast
