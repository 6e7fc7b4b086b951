#include "engine/task.hpp"

#include <algorithm>
#include <chrono>

#include "core/log.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Enough P frames for x264's running quantiser average to reflect the content (its
// weight on the cold-start value falls below 1% with the first P frame); few enough
// to cost little next to a 10 s segment (8 of 240 frames) and to hold in memory.
constexpr int64_t kPrerollFrames = 8;

}  // namespace

bool segmentable(const plan::OutputPlan& plan, const StreamChoice& streams) {
  return streams.video >= 0 && plan.video.present && !plan.video.copy && !plan.video.palette && !animation(plan.container);
}

JobContext job_context(const fs::path& input, const StreamChoice& streams, std::vector<plan::OutputPlan> plans,
                       std::vector<fs::path> outputs, const plan::ClipWindow& clip, double duration, plan::Timeline timeline) {
  JobContext ctx;
  ctx.input = input;
  ctx.streams = streams;
  ctx.timeline = std::move(timeline);
  ctx.clip = clip;
  ctx.duration = clip.active ? clip.seconds() : duration;
  for (auto& plan : plans) {
    const bool seg = segmentable(plan, ctx.streams);
    // Fixed per-segment threading, never derived from the machine or the rank count.
    if (seg && plan.video.threads == 0) plan.video.threads = 1;
    ctx.plans.push_back(std::move(plan));
    ctx.segmented.push_back(seg);
  }
  const fs::path& first_output = outputs.front();
  ctx.work_dir = first_output.parent_path() / ("." + first_output.filename().string() + ".gopcast-work");
  ctx.outputs = std::move(outputs);
  return ctx;
}

bool JobContext::any_segmented() const { return std::find(segmented.begin(), segmented.end(), true) != segmented.end(); }

fs::path segment_path(const JobContext& ctx, int segment, size_t output) {
  return ctx.work_dir / plan::segment_file_name(segment, static_cast<int>(output));
}
fs::path audio_path(const JobContext& ctx, size_t output) { return ctx.work_dir / fmt::format("audio.o{}.bin", output); }
bool has_audio(const JobContext& ctx, size_t output) {
  return ctx.segmented[output] && ctx.plans[output].audio.present && ctx.streams.audio >= 0;
}

TaskResult run_task(const JobContext& ctx, const Task& task, const std::atomic<bool>* cancel, av::InputCache* inputs,
                    bool inject_failure, const std::function<void(int64_t)>& frames) {
  const double started = now_seconds();
  std::vector<Target> targets;
  std::vector<size_t> outputs;
  for (size_t i = 0; i < ctx.plans.size(); ++i) {
    if (!ctx.segmented[i]) continue;
    Target t;
    t.plan = ctx.plans[i];
    t.name = i < ctx.outputs.size() ? ctx.outputs[i].string() : t.file.string();
    t.segment_file = true;
    t.scratch_dir = ctx.work_dir;
    if (task.kind == TaskKind::segment) {
      t.plan.audio.present = false;
      if (task.segment.entry >= 0) t.plan.video.filters = ctx.timeline.entries.at(static_cast<size_t>(task.segment.entry)).video_filters.at(i);
      t.file = segment_path(ctx, task.segment.index, i);
      // Two-pass logs of concurrent segments must not collide.
      t.scratch_dir = ctx.work_dir / fmt::format("pass-{:06}.o{}", task.segment.index, i);
      fs::create_directories(t.scratch_dir);
    } else if (task.kind == TaskKind::audio) {
      if (!has_audio(ctx, i)) continue;
      t.plan.video.present = false;
      t.file = audio_path(ctx, i);
    } else {
      fail(ErrorCode::Internal, "engine: run_task: whole-input tasks run on the coordinator");
    }
    targets.push_back(std::move(t));
    outputs.push_back(i);
  }
  RunControl control;
  control.cancel = cancel;
  control.decoder_threads = 1;  // the parallelism is in the segments
  control.inputs = inputs;
  if (frames) control.progress = [&frames](const Progress& p) { frames(p.frames); };
  if (inject_failure) {
    if (task.kind != TaskKind::segment)
      fail<MediaError>(ErrorCode::TranscodeFailed, "{}: failpoint: {} failed as GOPCAST_FAILPOINT asks", ctx.input.string(),
                       plan::describe(task));
    control.fail_after_frames = std::max<int64_t>(1, task.segment.frames() / 2);
  }
  StreamChoice streams = ctx.streams;
  fs::path input = ctx.input;
  Span span;
  if (task.kind == TaskKind::audio && ctx.timeline.active()) {
    std::vector<TargetStats> stats = run_timeline_audio(ctx.timeline, targets, control);
    TaskResult r;
    for (const auto& s : stats) r.bytes += s.segment_bytes;
    r.seconds = now_seconds() - started;
    return r;
  }
  if (task.kind == TaskKind::segment) {
    streams.audio = -1;
    const auto& g = task.segment;
    span = Span{g.start_pts, g.end_pts, true};
    span.origin = clip_span(ctx.clip).origin;
    // A rate-control preroll for every segment but the first (which starts cold in a
    // single pass too).
    if (g.index > 0) span.preroll_frames = kPrerollFrames;
    if (g.entry >= 0) {
      const plan::TimelineEntry& e = ctx.timeline.entries.at(static_cast<size_t>(g.entry));
      input = e.path;
      streams.video = e.video;
      span.timeline = true;
      span.timeline_offset = g.entry_offset_us;
      span.end = std::min(g.end_pts, g.entry_end_pts);
    }
  } else {
    streams.video = -1;
    span = clip_span(ctx.clip);
  }
  std::vector<TargetStats> stats = run_pipeline(input, streams, targets, control, span);
  TaskResult r;
  for (const auto& s : stats) r.bytes += s.segment_bytes;
  if (task.kind == TaskKind::segment) {
    r.frames = stats.empty() ? 0 : stats.front().source_frames;
    const int corrupt = stats.empty() ? 0 : stats.front().corrupt_packets;
    if (r.frames != task.segment.frames()) {
      if (corrupt == 0)
        fail<MediaError>(ErrorCode::TranscodeFailed,
                         "{}: segment {}: decoded {} frames of the {} its span holds (frames {}..{}); the input's "
                         "timestamps or keyframe flags do not allow an exact cut here",
                         input.string(), task.segment.index, r.frames, task.segment.frames(), task.segment.first_frame,
                         task.segment.end_frame - 1);
      log::warn("{}: segment {}: {} of {} frames decoded ({} corrupt packets skipped)", input.string(),
                task.segment.index, r.frames, task.segment.frames(), corrupt);
    }
    for (const auto& t : targets) fs::remove_all(t.scratch_dir);
  }
  r.seconds = now_seconds() - started;
  return r;
}

}  // namespace gopcast::engine
