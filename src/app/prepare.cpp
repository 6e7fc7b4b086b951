#include "app/prepare.hpp"

#include <unistd.h>

#include <cmath>

#include "av/capabilities.hpp"
#include "av/input.hpp"
#include "av/probe.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "ops/subtitles.hpp"
#include "ops/watermark.hpp"

namespace fs = std::filesystem;

namespace gopcast::app {

namespace {

// Templates are planned against what this build's libav can do, and marks by ops/.
plan::OutputPlan plan_against(const Template& t, const StreamInfo* video, const StreamInfo* audio, const std::string& input_name,
                              const OutputMarks& marks, double duration) {
  return plan::plan_output(t, video, audio, input_name, av::capabilities(), marks,
                           [](const OutputMarks& m, const plan::MarkGeometry& g) { return ops::plan_marks(m, g); }, duration);
}

// One output's plan against the source: its template and marks resolved, then its
// subtitle files read and checked (their cues on the clip's timeline).
plan::OutputPlan plan_transcode_output(const TranscodeOutput& output, const StreamInfo* video, const StreamInfo* audio,
                                       const std::string& input_name, const plan::ClipWindow& clip, double source_seconds,
                                       const AudioMix& mix) {
  // A clip's frames are timed from its start; the marks' windows move there with them.
  const double length = clip.active ? clip.seconds() : source_seconds;
  plan::OutputPlan plan = plan_against(output.tmpl, video, audio, input_name,
                                       ops::on_clip_timeline(output.marks, clip.active ? clip.start : 0, length), length);
  if (clip.active)
    ops::attach_subtitles(plan, output.subtitles, output.path, std::llround(clip.start * 1000), std::llround(clip.end * 1000));
  else
    ops::attach_subtitles(plan, output.subtitles, output.path);
  if (mix.active() && plan.audio.present) {
    if (plan.audio.copy)
      fail<SpecError>(ErrorCode::Incompatible, "{}: input.mix: mixing needs re-encoded audio (the template {} copies it)",
                      output.path.string(), output.tmpl.name);
    plan.audio.mix = mix;
  }
  return plan;
}

// "concat input 3 of 52", "the intro", "the outro": how messages name a timeline input.
std::string entry_name(const TranscodeRequest& request, size_t k) {
  const size_t main_first = request.reference;
  const size_t n = request.timeline.size();
  if (k < main_first) return "the intro";
  if (request.has_outro && k + 1 == n) return "the outro";
  const size_t mains = n - main_first - (request.has_outro ? 1 : 0);
  return fmt::format("concat input {} of {}", k - main_first + 1, mains);
}

// The output's frame rate: the template's, or the reference's own (its average where
// the container's time base would pass for one, as in FLV).
Rational timeline_rate(const Template& t, const StreamInfo& reference) {
  if (t.video.fps) return *t.video.fps;
  if (reference.avg_frame_rate.valid() && reference.avg_frame_rate.value() <= 240) return reference.avg_frame_rate;
  if (reference.real_frame_rate.valid() && reference.real_frame_rate.value() <= 240) return reference.real_frame_rate;
  return Rational{25, 1};
}

// A concatenation planned: every input probed and checked (each needs video, and audio
// unless silence may fill in; a clip, stream copies, animations, audio-only outputs
// and logo removal are refused), the outputs planned against the reference inputs, and
// each input's own video filters per output.
struct PlannedTimeline {
  plan::Timeline timeline;
  MediaInfo reference;           // the first main input
  engine::StreamChoice streams;  // its video; audio 0 when the outputs have audio, else -1
  double seconds = 0;            // the inputs' probed durations together
  std::vector<plan::OutputPlan> plans;
};

PlannedTimeline plan_timeline(const TranscodeRequest& request) {
  if (request.clip.active())
    fail(ErrorCode::Usage, "{}: input.start/duration/end_offset (--start/--duration/--end-offset): a concatenation cannot be "
         "clipped (clip its inputs first)",
         request.input.string());
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  PlannedTimeline pt;
  const size_t n = request.timeline.size();
  pt.timeline.reference = request.reference;
  std::vector<MediaInfo> infos(n);
  double seconds = 0;
  for (size_t k = 0; k < n; ++k) {
    plan::TimelineEntry e;
    e.path = request.timeline[k];
    {
      av::Input input = av::Input::open(e.path);
      infos[k] = describe(input);
      e.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
      e.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
    }
    if (e.video < 0 && e.audio < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: {} has no video or audio stream", e.path.string(),
                       entry_name(request, k));
    if (e.video < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: {} has no video stream (every input of a concatenation needs pictures)",
                       e.path.string(), entry_name(request, k));
    seconds += infos[k].duration;
    pt.timeline.entries.push_back(std::move(e));
  }
  pt.seconds = seconds;

  // What the templates leave to the source comes from the first main input; the audio's
  // from the first main input with audio (or, failing that, the first input with any).
  const size_t ref = request.reference;
  const auto& entries = pt.timeline.entries;
  size_t audio_ref = n;
  for (size_t k = ref; k < n && audio_ref == n; ++k)
    if (entries[k].audio >= 0) audio_ref = k;
  for (size_t k = 0; k < ref && audio_ref == n; ++k)
    if (entries[k].audio >= 0) audio_ref = k;
  pt.reference = infos[ref];
  pt.streams.video = entries[ref].video;
  pt.streams.audio = audio_ref < n ? 0 : -1;  // a flag here: which stream differs per input
  const StreamInfo* vsrc = &infos[ref].streams[static_cast<size_t>(entries[ref].video)];
  const StreamInfo* asrc = audio_ref < n ? &infos[audio_ref].streams[static_cast<size_t>(entries[audio_ref].audio)] : nullptr;

  for (const auto& out : request.outputs) {
    plan::OutputPlan plan = plan_transcode_output(out, vsrc, asrc, request.input.string(), {}, seconds, request.mix);
    const bool segmentable = plan.video.present && !plan.video.copy && !plan.video.palette && !animation(plan.container);
    if (!segmentable)
      fail<SpecError>(ErrorCode::Incompatible, "{}: a concatenation is encoded as one timeline of re-encoded video; the template {} "
                      "gives {} (use a video template such as default-mp4)", out.path.string(), out.tmpl.name,
                      !plan.video.present ? "no video" : plan.video.copy ? "video.codec = \"copy\"" : "an animation");
    if (plan.audio.present && plan.audio.copy)
      fail<SpecError>(ErrorCode::Incompatible, "{}: audio.codec = \"copy\": a concatenation's inputs differ, so its audio is "
                      "re-encoded (template {})", out.path.string(), out.tmpl.name);
    if (!out.marks.delogo.empty())
      fail<SpecError>(ErrorCode::Incompatible, "{}: delogo hides a rectangle of one source's picture; a concatenation has "
                      "several (remove the logo from that input first)", out.marks.delogo.front().origin);
    if (plan.audio.present && !request.fill_silence)
      for (size_t k = 0; k < n; ++k)
        if (entries[k].audio < 0)
          fail<MediaError>(ErrorCode::ResourceContentBad, "{}: {} has no audio stream (--fill-silence, or fill_silence = true "
                           "in [input.concat], puts silence in its place)", entries[k].path.string(), entry_name(request, k));
    pt.plans.push_back(std::move(plan));
  }

  // Each input's own way to the output's frames: the output's template with its frame
  // size, rate and format fixed, fitted (never rescaled to a size of its own), planned
  // against that input's stream (its size, aspect, rotation).
  for (size_t o = 0; o < request.outputs.size(); ++o) {
    const TranscodeOutput& out = request.outputs[o];
    const plan::VideoPlan& v = pt.plans[o].video;
    Template t = out.tmpl;
    t.video.width = v.width;
    t.video.height = v.height;
    t.video.fps = timeline_rate(out.tmpl, *vsrc);
    t.video.pix_fmt = v.pix_fmt;
    t.trans.no_upscale = false;
    if (t.trans.aspect == AspectMode::rescale) t.trans.aspect = AspectMode::pad;
    const OutputMarks marks = ops::on_clip_timeline(out.marks, 0, seconds);
    for (size_t k = 0; k < n; ++k) {
      auto& e = pt.timeline.entries[k];
      const StreamInfo& s = infos[k].streams[static_cast<size_t>(e.video)];
      plan::VideoPlan ev = plan_against(t, &s, nullptr, e.path.string(), marks, seconds).video;
      if (ev.width != v.width || ev.height != v.height)
        fail(ErrorCode::Internal, "{}: {} planned at {}x{} instead of {}x{}", e.path.string(), entry_name(request, k), ev.width,
             ev.height, v.width, v.height);
      // Unscaled pictures keep their own aspect flag; the output has one for all.
      e.video_filters.push_back(ev.filters + ",setsar=1");
    }
    pt.plans[o].video.filters = pt.timeline.entries[ref].video_filters[o];
  }
  return pt;
}

// A shortfall found while planning: said now, and kept for the result.
void shortfall(std::vector<std::string>& warnings, std::string text) {
  log::warn("{}", text);
  warnings.push_back(std::move(text));
}

// An input whose audio streams are all unusable (no channel count or sample rate: the
// decoder cannot open them) gives outputs without audio: never without saying so.
void warn_unusable_audio(const MediaInfo& source, std::vector<std::string>& warnings) {
  for (const auto& s : source.streams) {
    if (s.type != "audio") continue;
    const char* why = s.channels <= 0 ? "states no channel count" : s.sample_rate <= 0 ? "states no sample rate" : "is not usable";
    shortfall(warnings, fmt::format("{}: audio stream {} ({}) {} and cannot be decoded: the outputs have no audio", source.path,
                                    s.index, s.codec, why));
  }
}

}  // namespace

PreparedTranscode prepare(const TranscodeRequest& request) {
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  PreparedTranscode p;
  std::vector<plan::OutputPlan> concat_plans;
  if (request.concat()) {
    PlannedTimeline planned = plan_timeline(request);
    p.source = std::move(planned.reference);
    p.source.duration = planned.seconds;
    p.streams = planned.streams;
    p.timeline = std::move(planned.timeline);
    concat_plans = std::move(planned.plans);
  } else {
    av::Input input = av::Input::open(request.input);
    p.source = describe(input);
    p.streams.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
    p.streams.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
    if (p.streams.audio < 0) warn_unusable_audio(p.source, p.warnings);
  }
  p.clip = plan::resolve_clip(request.clip, p.source.duration, request.input);
  if (request.mix.active()) {
    // Found out now, not after the video is encoded: the music must open and hold audio.
    av::Input music = av::Input::open(request.mix.path);
    if (music.select(AVMEDIA_TYPE_AUDIO, "", "input.mix") < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: input.mix: has no audio stream to mix in", request.mix.path.string());
    if (p.streams.audio < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: input.mix: the input has no audio to mix {} under",
                       request.input.string(), request.mix.path.string());
  }
  const StreamInfo* vsrc = p.streams.video >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.video)] : nullptr;
  const StreamInfo* asrc = p.streams.audio >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.audio)] : nullptr;
  for (const auto& out : request.outputs) {
    for (const auto& s : p.staged)
      if (s->final_path() == out.path) fail(ErrorCode::OutputNotWritable, "{}: named by two outputs", out.path.string());
    engine::Target target;
    target.plan = request.concat() ? concat_plans[p.targets.size()]
                                   : plan_transcode_output(out, vsrc, asrc, request.input.string(), p.clip, p.source.duration, request.mix);
    if (p.clip.active && target.plan.video.present && target.plan.video.copy)
      fail<SpecError>(ErrorCode::Incompatible, "{}: input.start/duration/end_offset: a clip is cut frame-exactly, which needs "
                      "re-encoded video (the template {} copies it)", out.path.string(), out.tmpl.name);
    if (!out.tmpl.hls.key_dir.empty() && out.tmpl.hls.encryption == HlsEncryption::aes128) {
      // Found out now, not after the encode: the key folder must exist and be writable.
      const fs::path dir = engine::hls_key_dir(out.tmpl.hls, out.path);
      std::error_code ec;
      if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0)
        fail(ErrorCode::OutputNotWritable, "{}: hls.key_dir {} does not exist or is not writable", out.path.string(), dir.string());
    }
    for (const auto& s : target.plan.shortfalls) shortfall(p.warnings, s);
    p.staged.push_back(std::make_unique<StagedOutput>(out.path, request.input));
    target.file = p.staged.back()->staging_file();
    target.name = out.path.string();
    target.scratch_dir = p.staged.back()->scratch_dir();
    p.targets.push_back(std::move(target));
  }
  for (const auto& l : request.ladders) p.masters.push_back(std::make_unique<StagedOutput>(l.master, request.input));
  return p;
}

namespace {
std::vector<fs::path> output_paths(const TranscodeRequest& request) {
  std::vector<fs::path> paths;
  for (const auto& o : request.outputs) paths.push_back(o.path);
  return paths;
}
}  // namespace

engine::JobContext job_context(const TranscodeRequest& request, const PreparedTranscode& prepared) {
  std::vector<plan::OutputPlan> plans;
  for (const auto& t : prepared.targets) plans.push_back(t.plan);
  return engine::job_context(request.input, prepared.streams, std::move(plans), output_paths(request), prepared.clip,
                             prepared.source.duration, prepared.timeline);
}

engine::JobContext job_context(const TranscodeRequest& request) {
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  if (request.concat()) {
    PlannedTimeline planned = plan_timeline(request);
    return engine::job_context(request.input, planned.streams, std::move(planned.plans), output_paths(request), {},
                               planned.seconds, std::move(planned.timeline));
  }
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
  std::vector<plan::OutputPlan> plans;
  const plan::ClipWindow clip = plan::resolve_clip(request.clip, source.duration, request.input);
  for (const auto& out : request.outputs)
    plans.push_back(plan_transcode_output(out, vsrc, asrc, request.input.string(), clip, source.duration, request.mix));
  return engine::job_context(request.input, streams, std::move(plans), output_paths(request), clip, source.duration);
}

}  // namespace gopcast::app
