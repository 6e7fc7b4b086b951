#include "engine/timeline.hpp"

#include <algorithm>

#include "av/input.hpp"
#include "core/error.hpp"
#include "engine/transcode.hpp"
#include "ops/watermark.hpp"

namespace fs = std::filesystem;

namespace gopcast {

namespace {

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

}  // namespace

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
    engine::TimelineEntry e;
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
    engine::OutputPlan plan = plan_transcode_output(out, vsrc, asrc, request.input.string(), {}, seconds, request.mix);
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
    const engine::VideoPlan& v = pt.plans[o].video;
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
      engine::VideoPlan ev = engine::plan_output(t, &s, nullptr, e.path.string(), marks, seconds).video;
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

}  // namespace gopcast
