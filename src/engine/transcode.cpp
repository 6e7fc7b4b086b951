#include "engine/transcode.hpp"

#include <chrono>
#include <memory>

#include "av/input.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"

namespace fs = std::filesystem;

namespace gopcast {

TranscodeResult transcode(const TranscodeRequest& request, const engine::RunControl& control) {
  const auto started = std::chrono::steady_clock::now();
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  MediaInfo source;
  engine::StreamChoice streams;
  {
    av::Input input = av::Input::open(request.input);
    source = describe(input);
    streams.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
    streams.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
  }
  const StreamInfo* vsrc = streams.video >= 0 ? &source.streams[static_cast<size_t>(streams.video)] : nullptr;
  const StreamInfo* asrc = streams.audio >= 0 ? &source.streams[static_cast<size_t>(streams.audio)] : nullptr;

  std::vector<std::unique_ptr<StagedOutput>> staged;
  std::vector<engine::Target> targets;
  for (const auto& out : request.outputs) {
    for (const auto& s : staged)
      if (s->final_path() == out.path) fail(ErrorCode::OutputNotWritable, "{}: named by two outputs", out.path.string());
    engine::Target target;
    target.plan = engine::plan_output(out.tmpl, vsrc, asrc, request.input.string());
    staged.push_back(std::make_unique<StagedOutput>(out.path, request.input));
    target.file = staged.back()->staging_file();
    target.scratch_dir = staged.back()->scratch_dir();
    targets.push_back(std::move(target));
  }

  auto stats = engine::run_pipeline(request.input, streams, targets, control);

  TranscodeResult result;
  result.input = request.input;
  result.media_seconds = source.duration;
  for (size_t i = 0; i < staged.size(); ++i) {
    OutputResult r;
    // HLS writes its segments beside the playlist; everything else is one file.
    r.files = staged[i]->commit();
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.outputs[i].path;
    r.template_name = request.outputs[i].tmpl.name;
    r.user_data = request.outputs[i].user_data;
    r.video_frames = stats[i].video_frames;
    r.info = probe(r.path);
    result.outputs.push_back(std::move(r));
  }
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
  return {{"schema", "gopcast.result/1"},
          {"input", r.input.string()},
          {"seconds", r.seconds},
          {"media_seconds", r.media_seconds},
          {"speed", r.seconds > 0 ? r.media_seconds / r.seconds : 0.0},
          {"outputs", outputs}};
}

}  // namespace gopcast
