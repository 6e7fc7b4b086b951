#include "app/request.hpp"

#include "av/input.hpp"
#include "av/probe.hpp"
#include "core/error.hpp"
#include "core/paths.hpp"
#include "plan/ladder.hpp"
#include "spec/ladder.hpp"

namespace fs = std::filesystem;

namespace gopcast::app {

namespace {

// The height of the video a ladder starts from (0 when there is none).
int source_height(const Job& job) {
  av::Input input = av::Input::open(job.input.path);
  const int v = input.select(AVMEDIA_TYPE_VIDEO, job.input.video_stream, "video_stream");
  if (v < 0) return 0;
  return describe(input).streams[static_cast<size_t>(v)].height;
}

// A ladder output becomes one HLS output per rendition the source gets, beside its
// master playlist, every one with the ladder's HLS segment length.
void expand_ladder(JobOutput& o, const fs::path& master, const Catalog& catalog, const std::vector<std::string>& sets, int height,
                   TranscodeRequest& req) {
  if (master.extension() != ".m3u8")
    fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: the master playlist must be an .m3u8 path, not {}", o.origin, o.ladder,
                    master.string());
  const Ladder ladder = load_ladder(catalog, o.ladder);
  std::vector<plan::Rendition> all;
  for (const auto& r : ladder.renditions) {
    JobOutput copy = o;
    copy.template_name = r;
    copy.origin = fmt::format("{} (ladder {}, {})", o.origin, ladder.name, r);
    Template t = resolve_output_template(catalog, copy, master, sets);
    t.mux.hls_segment_seconds = ladder.hls_segment_seconds;
    all.push_back({r, std::move(t)});
  }
  plan::check_renditions(all, o.origin, ladder.name);
  LadderOutput lo{master, ladder.name, o.user_data, {}, ladder.hls_segment_seconds};
  for (auto& r : plan::renditions_for_source(std::move(all), height)) {
    TranscodeOutput out;
    out.path = plan::rendition_path(master, r);
    for (const auto& other : req.outputs)
      if (other.path == out.path)
        fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: two renditions would both write {}", o.origin, ladder.name,
                        out.path.string());
    out.tmpl = std::move(r.tmpl);
    out.user_data = o.user_data;
    out.marks = o.marks;
    out.subtitles = o.subtitles;
    lo.outputs.push_back(req.outputs.size());
    req.outputs.push_back(std::move(out));
  }
  req.ladders.push_back(std::move(lo));
}

TranscodeRequest transcode_request(Job job, const Catalog& catalog, const std::vector<std::string>& sets) {
  TranscodeRequest req;
  if (job.input.concat.active()) {
    // The timeline: intro, input.path, the concat inputs, outro; names expand from the
    // first main input.
    const Concat& c = job.input.concat;
    if (!c.intro.empty()) req.timeline.push_back(c.intro);
    req.reference = req.timeline.size();
    if (!job.input.path.empty()) req.timeline.push_back(job.input.path);
    req.timeline.insert(req.timeline.end(), c.inputs.begin(), c.inputs.end());
    if (req.timeline.size() == req.reference)
      fail<SpecError>(ErrorCode::InvalidKey, "{}: input.concat: no main inputs (give input.path, inputs or list)",
                      job.file.empty() ? std::string("concat") : job.file.string());
    if (!c.outro.empty()) req.timeline.push_back(c.outro);
    req.has_outro = !c.outro.empty();
    req.fill_silence = c.fill_silence;
    job.input.path = req.timeline[req.reference];
  }
  req.input = job.input.path;
  req.video_stream = job.input.video_stream;
  req.audio_stream = job.input.audio_stream;
  req.clip = job.input.clip;
  req.mix = job.input.mix;
  std::optional<int> height;  // probed once, only for ladders
  for (size_t i = 0; i < job.outputs.size(); ++i) {
    auto& o = job.outputs[i];
    const fs::path path = expand_output_pattern(o.path, job.input.path, fmt::format("outputs[{}].path", i));
    if (!o.ladder.empty()) {
      if (!height) height = source_height(job);
      expand_ladder(o, path, catalog, sets, *height, req);
      continue;
    }
    TranscodeOutput out;
    out.path = path;
    out.tmpl = resolve_output_template(catalog, o, out.path, sets);
    out.user_data = o.user_data;
    out.marks = std::move(o.marks);
    out.subtitles = o.subtitles;
    req.outputs.push_back(std::move(out));
  }
  return req;
}

}  // namespace

RunRequest resolve(Job job, const RunOptions& options, const Catalog& catalog) {
  RunRequest r;
  // What the job's inputs may read besides themselves, before any of them is opened
  // (every rank resolves the same job, so each sets the same policy; a job without the
  // keys sets the default back).
  av::set_input_policy({job.input.special_files, job.input.hls_allow});
  // The caller's values first: one line names a bad one before any file is read.
  if (options.workers) r.parallel.workers = check_workers(*options.workers, options.workers_key);
  const auto seconds = options.segment_seconds ? options.segment_seconds : job.parallel.segment_seconds;
  if (options.segment_seconds) check_segment_seconds(*options.segment_seconds, options.segment_seconds_key);
  r.parallel.segment_seconds = seconds.value_or(kDefaultSegmentSeconds);
  if (options.max_attempts) check_max_attempts(*options.max_attempts, options.max_attempts_key);
  r.parallel.max_attempts = options.max_attempts.value_or(job.parallel.max_attempts.value_or(kDefaultMaxAttempts));
  r.parallel.manifest = options.manifest.empty() ? job.parallel.manifest : options.manifest;
  r.snapshots = job.snapshots;
  r.wait_lock = options.wait_lock;
  r.transcode = transcode_request(std::move(job), catalog, options.sets);
  return r;
}

fs::path default_manifest_path(const TranscodeRequest& request) {
  const fs::path& first = request.outputs.front().path;
  return first.parent_path() / (first.filename().string() + ".manifest.h5");
}

}  // namespace gopcast::app
