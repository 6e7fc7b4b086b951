#include "engine/parallel.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "av/check.hpp"
#include "av/input.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "engine/hls.hpp"
#include "engine/keyframes.hpp"
#include "engine/segment_file.hpp"
#include "ops/watermark.hpp"
#include "engine/subtitles.hpp"

namespace fs = std::filesystem;

namespace gopcast {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool segmentable(const engine::OutputPlan& plan, const engine::StreamChoice& streams) {
  return streams.video >= 0 && plan.video.present && !plan.video.copy && !plan.video.palette && !animation(plan.container);
}

// FNV-1a: a stable hash across processes, hosts and builds (std::hash is none of these).
std::string stable_hash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

// A file as a job depends on it: where it is, its size and its modification time.
std::string file_identity(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  return fmt::format("{}\n{}\n{}", fs::absolute(path).string(), size, mtime);
}

std::string templates_text(const TranscodeRequest& request) {
  std::ostringstream out;
  for (const auto& o : request.outputs) out << "# " << o.path.string() << "\n" << o.tmpl.to_table() << "\n\n";
  return out.str();
}

}  // namespace

fs::path default_manifest_path(const TranscodeRequest& request) {
  const fs::path& first = request.outputs.front().path;
  return first.parent_path() / (first.filename().string() + ".manifest.h5");
}

bool has_segmented_outputs(const TranscodeRequest& request) {
  // A concatenation is always segmented (its planning refuses outputs that are not).
  if (request.concat()) return true;
  engine::JobContext ctx = engine::job_context(request);
  return std::find(ctx.segmented.begin(), ctx.segmented.end(), true) != ctx.segmented.end();
}

namespace engine {

JobContext job_context(const TranscodeRequest& request, const StreamChoice& streams, double duration,
                       std::vector<OutputPlan> plans, Timeline timeline) {
  JobContext ctx;
  ctx.input = request.input;
  ctx.streams = streams;
  ctx.timeline = std::move(timeline);
  ctx.clip = resolve_clip(request.clip, duration, request.input);
  ctx.duration = ctx.clip.active ? ctx.clip.seconds() : duration;
  for (auto& plan : plans) {
    const bool seg = segmentable(plan, ctx.streams);
    // Fixed per-segment threading, never derived from the machine or the rank count.
    if (seg && plan.video.threads == 0) plan.video.threads = 1;
    ctx.plans.push_back(std::move(plan));
    ctx.segmented.push_back(seg);
  }
  const fs::path& first = request.outputs.front().path;
  ctx.work_dir = first.parent_path() / ("." + first.filename().string() + ".gopcast-work");
  return ctx;
}

JobContext job_context(const TranscodeRequest& request) {
  if (request.concat()) {
    PlannedTimeline planned = plan_timeline(request);
    return job_context(request, planned.streams, planned.seconds, std::move(planned.plans), std::move(planned.timeline));
  }
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  MediaInfo source;
  StreamChoice streams;
  {
    av::Input input = av::Input::open(request.input);
    source = describe(input);
    streams.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
    streams.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
  }
  const StreamInfo* vsrc = streams.video >= 0 ? &source.streams[static_cast<size_t>(streams.video)] : nullptr;
  const StreamInfo* asrc = streams.audio >= 0 ? &source.streams[static_cast<size_t>(streams.audio)] : nullptr;
  std::vector<OutputPlan> plans;
  const ClipWindow clip = resolve_clip(request.clip, source.duration, request.input);
  for (const auto& out : request.outputs)
    plans.push_back(plan_transcode_output(out, vsrc, asrc, request.input.string(), clip, source.duration, request.mix));
  return job_context(request, streams, source.duration, std::move(plans));
}

namespace {

// Enough P frames for x264's running quantiser average to reflect the content (its
// weight on the cold-start value falls below 1% with the first P frame); few enough
// to cost little next to a 10 s segment (8 of 240 frames) and to hold in memory.
constexpr int64_t kPrerollFrames = 8;

fs::path segment_path(const JobContext& ctx, int segment, size_t output) {
  return ctx.work_dir / plan::segment_file_name(segment, static_cast<int>(output));
}
fs::path audio_path(const JobContext& ctx, size_t output) {
  return ctx.work_dir / fmt::format("audio.o{}.bin", output);
}
bool has_audio(const JobContext& ctx, size_t output) {
  return ctx.segmented[output] && ctx.plans[output].audio.present && ctx.streams.audio >= 0;
}

}  // namespace

TaskResult run_task(const JobContext& ctx, const TaskSpec& task, const std::atomic<bool>* cancel) {
  const double started = now_seconds();
  std::vector<Target> targets;
  std::vector<size_t> outputs;
  for (size_t i = 0; i < ctx.plans.size(); ++i) {
    if (!ctx.segmented[i]) continue;
    Target t;
    t.plan = ctx.plans[i];
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
      const TimelineEntry& e = ctx.timeline.entries.at(static_cast<size_t>(g.entry));
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

namespace {
// What the audio of a job with background audio depends on: the file (as a file: its
// size and time) and how it is mixed.
std::string mix_identity(const AudioMix& mix) {
  if (!mix.active()) return {};
  return fmt::format("\nmix:{}:{}:{}", file_identity(mix.path), mix.gain_db, mix.duration == MixDuration::longest);
}
}  // namespace

Coordinator::Coordinator(const TranscodeRequest& request, const ParallelOptions& options, const RunControl& control,
                         std::string engine_name, int workers)
    : request_(request), options_(options), control_(control), engine_name_(std::move(engine_name)), workers_(workers) {
  t_start_ = now_seconds();
  // Everything a user can get wrong is checked here, before anything is written.
  prepared_ = prepare_transcode(request_);
  std::vector<OutputPlan> plans;
  for (const auto& t : prepared_.targets) plans.push_back(t.plan);
  context_ = job_context(request_, prepared_.streams, prepared_.source.duration, std::move(plans), prepared_.timeline);
  manifest_path_ = options_.manifest.empty() ? default_manifest_path(request_) : options_.manifest;
  if (!fs::is_directory(manifest_path_.parent_path().empty() ? "." : manifest_path_.parent_path()))
    fail(ErrorCode::OutputNotWritable, "{}: manifest folder does not exist", manifest_path_.string());

  double grid = 0;
  for (size_t i = 0; i < context_.plans.size(); ++i) {
    if (!context_.segmented[i] || context_.plans[i].video.keyframe_grid <= 0) continue;
    const double g = context_.plans[i].video.keyframe_grid;
    if (grid > 0 && std::abs(g - grid) > 1e-9)
      fail(ErrorCode::Incompatible, "{}: outputs with different HLS segment lengths ({} s and {} s) cannot share segments",
           request_.outputs[i].path.string(), grid, g);
    grid = g;
  }

  // A live playlist is playable once its first HLS segment is out: that one is planned
  // as a short parallel segment and segments are handed out in order, not longest first.
  bool live = false;
  for (size_t i = 0; i < context_.plans.size(); ++i)
    live = live || (context_.segmented[i] && context_.plans[i].hls.playlist == HlsPlaylistType::event);
  in_order_ = live;
  if (context_.timeline.active()) {
    plan_timeline_segments(grid, live);
  } else {
    index_ = index_keyframes(context_.input, context_.streams.video, grid, context_.clip);
    segments_ = plan::plan_segments(index_, {options_.segment_seconds, grid, live ? grid : 0.0});
  }
  if (segments_.empty()) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: no video frames to encode", request_.input.string());

  std::error_code ec;
  // A concatenation is its inputs, in order, with or without silence for missing audio.
  std::string timeline;
  for (const auto& e : context_.timeline.entries) timeline += "\n" + file_identity(e.path);
  if (context_.timeline.active()) timeline += fmt::format("\nfill_silence:{}", request_.fill_silence);
  // Burned-in subtitles are part of the segments' pictures: a changed subtitle file is another job.
  std::string burned;
  for (const auto& p : context_.plans)
    for (const auto& script : p.video.burn_scripts) burned += stable_hash(script);
  job_key_ = stable_hash(fmt::format("{}\n{}:{}\n{}\n{}\n{}\n{}\n{}:{}{}", file_identity(request_.input), context_.streams.video, context_.streams.audio, templates_text(request_),
                                     options_.segment_seconds, grid, GOPCAST_VERSION, context_.clip.start,
                                     context_.clip.active ? context_.clip.end : -1.0, burned + mix_identity(request_.mix) + timeline));
  // (A live output's plan differs, and so does its template text, hashed above.)

  rows_.resize(segments_.size());
  for (size_t i = 0; i < segments_.size(); ++i) rows_[i].segment = segments_[i];

  // Resume: rows an earlier run of this same job recorded as done, whose files are whole.
  std::optional<manifest::Manifest> previous;
  try {
    previous = manifest::read(manifest_path_);
  } catch (const Error& e) {
    log::warn("{}; starting over", e.what());
  }
  const bool same_job = previous && previous->info.job_key == job_key_ && previous->segments.size() == rows_.size();
  if (previous && !same_job) log::warn("{}: manifest of another job or plan; starting over", manifest_path_.string());
  if (!same_job) fs::remove_all(context_.work_dir, ec);
  fs::create_directories(context_.work_dir, ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot create work folder: {}", context_.work_dir.string(), ec.message());
  if (same_job) {
    for (size_t i = 0; i < rows_.size(); ++i) {
      const auto& old = previous->segments[i];
      rows_[i].attempts = old.attempts;
      if (old.status != manifest::SegmentStatus::done) continue;
      bool whole = true;
      for (size_t o = 0; o < context_.plans.size(); ++o)
        if (context_.segmented[o]) whole = whole && segment_file_complete(segment_path(context_, segments_[i].index, o));
      if (!whole) continue;
      rows_[i] = old;
      rows_[i].segment = segments_[i];  // as planned now (the manifest keeps no input's end)
      ++resumed_;
      frames_done_ += old.segment.frames();
    }
  }

  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].status != manifest::SegmentStatus::done) queue_.push_back(i);
  if (!in_order_)
    std::stable_sort(queue_.begin(), queue_.end(),
                     [&](size_t a, size_t b) { return segments_[a].frames() > segments_[b].frames(); });

  for (size_t i = 0; i < context_.plans.size(); ++i) {
    if (!context_.segmented[i]) whole_pending_ = true;
    if (has_audio(context_, i) && !segment_file_complete(audio_path(context_, i))) audio_pending_ = true;
  }
  whole_done_ = !whole_pending_;
  audio_done_ = !audio_pending_;
  t_index_ = now_seconds();
  if (resumed_ > 0) log::info("{}: resuming: {} of {} segments already done", request_.input.string(), resumed_, rows_.size());
  std::lock_guard lock(mutex_);
  write_manifest(true);
}

Coordinator::~Coordinator() = default;

void Coordinator::plan_timeline_segments(double grid, bool live) {
  // Every input is indexed and cut on its own, so no segment crosses a join. The
  // manifest's index is the timeline's: every input's keyframes, in microseconds.
  auto& entries = context_.timeline.entries;
  index_ = plan::KeyframeIndex{};
  index_.time_base = Rational{1, AV_TIME_BASE};
  int64_t offset = 0;
  for (size_t k = 0; k < entries.size(); ++k) {
    if (control_.cancel && control_.cancel->load()) fail(ErrorCode::Cancelled, "{}: cancelled", request_.input.string());
    TimelineEntry& e = entries[k];
    const plan::KeyframeIndex idx = index_keyframes(e.path, e.video, grid, {}, static_cast<double>(offset) / AV_TIME_BASE);
    if (idx.total_frames == 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: has no video frames to concatenate", e.path.string());
    const AVRational tb{idx.time_base.num, idx.time_base.den};
    auto us = [&](int64_t pts) { return av_rescale_q(pts, tb, AV_TIME_BASE_Q); };
    e.start_us = us(idx.first_pts);
    e.offset_us = offset;
    e.length_us = us(idx.end_pts) - e.start_us;
    std::vector<plan::Segment> cut = plan::plan_segments(idx, {options_.segment_seconds, grid, live && k == 0 ? grid : 0.0});
    for (auto& g : cut) {
      g.index = static_cast<int>(segments_.size());
      g.first_frame += index_.total_frames;
      g.end_frame += index_.total_frames;
      g.entry = static_cast<int>(k);
      g.entry_offset_us = offset - e.start_us;
      g.entry_end_pts = idx.end_pts;
      segments_.push_back(g);
    }
    for (plan::Keyframe kf : idx.keyframes) {
      kf.pts = offset + us(kf.pts) - e.start_us;
      index_.keyframes.push_back(kf);
    }
    index_.total_frames += idx.total_frames;
    offset += e.length_us;
  }
  index_.end_pts = offset;
  context_.duration = static_cast<double>(offset) / AV_TIME_BASE;
}

std::optional<TaskSpec> Coordinator::take(int rank, const std::string& host, bool local) {
  std::lock_guard lock(mutex_);
  if (stop_) return std::nullopt;
  std::optional<TaskSpec> task;
  if (local && whole_pending_) {
    whole_pending_ = false;
    task = TaskSpec{TaskKind::whole, {}};
  } else if (audio_pending_ && (local || !context_.timeline.active())) {
    // (A concatenation's audio task needs where every input sits, which only the
    // coordinator's process knows.)
    // First: it spans the whole timeline and the gather needs it from the start.
    audio_pending_ = false;
    task = TaskSpec{TaskKind::audio, {}};
  } else if (next_ < queue_.size()) {
    auto& row = rows_[queue_[next_++]];
    row.status = manifest::SegmentStatus::running;
    row.rank = rank;
    row.host = host;
    ++row.attempts;
    task = TaskSpec{TaskKind::segment, row.segment};
    write_manifest(false);
  }
  if (task) in_flight_.push_back(InFlight{*task, rank, host});
  return task;
}

TaskResult Coordinator::run_local(const TaskSpec& task) {
  if (task.kind != TaskKind::whole) return run_task(context_, task, &stop_);
  // Outputs that cannot be cut (stream copies, GIF palettes, audio only) in one pass,
  // straight into their staged files.
  const double started = now_seconds();
  std::vector<Target> targets;
  std::vector<size_t> which;
  for (size_t i = 0; i < prepared_.targets.size(); ++i)
    if (!context_.segmented[i]) {
      targets.push_back(prepared_.targets[i]);
      which.push_back(i);
    }
  RunControl control;
  control.cancel = &stop_;
  auto stats = run_pipeline(context_.input, prepared_.streams, targets, control, clip_span(context_.clip));
  std::lock_guard lock(mutex_);
  whole_stats_.assign(prepared_.targets.size(), TargetStats{});
  for (size_t k = 0; k < which.size(); ++k) whole_stats_[which[k]] = stats[k];
  return TaskResult{0, 0, now_seconds() - started};
}

void Coordinator::done(const TaskSpec& task, const TaskResult& result, int rank) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(), [&](const InFlight& f) {
    return f.rank == rank && f.task.kind == task.kind && f.task.segment.index == task.segment.index;
  });
  if (it != in_flight_.end()) in_flight_.erase(it);
  if (task.kind == TaskKind::whole) whole_done_ = true;
  else if (task.kind == TaskKind::audio) audio_done_ = true;
  else {
    auto& row = rows_[static_cast<size_t>(task.segment.index)];
    row.status = manifest::SegmentStatus::done;
    row.bytes = result.bytes;
    row.encode_seconds = result.seconds;
    frames_done_ += row.segment.frames();
    write_manifest(false);
  }
  const bool all = whole_done_ && audio_done_ &&
                   std::all_of(rows_.begin(), rows_.end(), [](const auto& r) { return r.status == manifest::SegmentStatus::done; });
  if (all) t_encoded_ = now_seconds();
  changed_.notify_all();
}

void Coordinator::failed(std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = error;
  stop_ = true;
  changed_.notify_all();
}

std::exception_ptr Coordinator::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

std::vector<InFlight> Coordinator::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

void Coordinator::tick() {
  if (control_.cancel && control_.cancel->load() && !stop_) {
    try {
      fail(ErrorCode::Cancelled, "{}: cancelled", request_.input.string());
    } catch (...) {
      failed(std::current_exception());
    }
  }
  int64_t done;
  {
    std::lock_guard lock(mutex_);
    if (manifest_dirty_ && !stop_) write_manifest(false);
    done = frames_done_;
  }
  if (!control_.progress) return;
  std::lock_guard lock(progress_mutex_);
  Progress p;
  p.frames = done;
  p.seconds_total = context_.duration;
  p.seconds_done = index_.total_frames > 0 ? context_.duration * static_cast<double>(done) / static_cast<double>(index_.total_frames) : 0;
  control_.progress(p);
}

void Coordinator::wait_done(size_t row) {
  std::unique_lock lock(mutex_);
  while (!stop_ && !(audio_done_ && rows_[row].status == manifest::SegmentStatus::done)) {
    lock.unlock();
    tick();
    lock.lock();
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  if (stop_) {
    if (error_) std::rethrow_exception(error_);
    fail(ErrorCode::Cancelled, "{}: cancelled", request_.input.string());
  }
}

namespace {

// One segmented output being gathered: video packets from the segment files in
// order, the whole timeline's audio interleaved by decoding time.
class GatherOutput {
 public:
  GatherOutput(const JobContext& ctx, size_t output, const Target& target, StagedOutput& staged)
      : ctx_(ctx), output_(output), target_(target) {
    // HLS is cut, encrypted and listed by gopcast itself; everything else by libavformat.
    if (target.plan.container == Container::m3u8) hls_ = make_playlist_writer(target.file, target.plan, staged);
    else out_ = std::make_unique<av::Output>(target.file, target.plan.muxer.c_str());
    SegmentReader first(segment_path(ctx, 0, output));
    vtb_ = first.time_base(0);
    video_ = add_stream(first.params(0), vtb_, first.frame_rate(0));
    if (has_audio(ctx, output)) {
      audio_reader_.emplace(audio_path(ctx, output));
      atb_ = audio_reader_->time_base(0);
      audio_ = add_stream(audio_reader_->params(0), atb_, {0, 1});
      audio_pending_ = audio_reader_->read(apkt_.get());
    }
    // Soft subtitles: a third stream from the parsed cues (HLS gets WebVTT renditions at the end).
    if (out_ && !target.plan.subtitles.empty()) subtitles_.emplace(*out_, target.plan.subtitles);
    if (hls_) hls_->open();
    else open_muxer(*out_, target.plan, target.file);
  }

  // Appends one segment's packets.
  int64_t append(int segment) {
    SegmentReader reader(segment_path(ctx_, segment, output_));
    int64_t frames = 0;
    while (reader.read(vpkt_.get())) {
      // Each segment's encoder starts its decoding times a reorder delay before its
      // first frame; with variable frame rates that may touch the previous segment's
      // last one. Nudging by one tick keeps them increasing (pts are never touched).
      if (vpkt_->dts != AV_NOPTS_VALUE) {
        if (last_dts_ != AV_NOPTS_VALUE && vpkt_->dts <= last_dts_) vpkt_->dts = last_dts_ + 1;
        if (vpkt_->pts != AV_NOPTS_VALUE && vpkt_->dts > vpkt_->pts)
          fail<MediaError>(ErrorCode::TranscodeFailed, "{}: segment {}: decoding times cannot be joined seamlessly",
                           ctx_.input.string(), segment);
        last_dts_ = vpkt_->dts;
      }
      write_audio_until(vpkt_->dts != AV_NOPTS_VALUE ? vpkt_->dts : vpkt_->pts);
      write(vpkt_.get(), video_, vtb_);
      av_packet_unref(vpkt_.get());
      ++frames;
    }
    return frames;
  }

  void finish() {
    write_audio_until(INT64_MAX);
    if (hls_) {
      hls_->finish();
      hls_stats_ = hls_->stats();
      write_hls_subtitles(target_.file, target_.plan, *hls_stats_);
    } else {
      out_->finish();
    }
  }
  // What an HLS rendition's master-playlist entry needs (after finish).
  std::optional<HlsStats> hls_stats() const { return hls_stats_; }

 private:
  int add_stream(const AVCodecParameters* params, AVRational tb, AVRational fr) {
    return hls_ ? hls_->add_encoded_stream(params, tb, fr) : out_->add_encoded_stream(params, tb, fr);
  }
  void write(AVPacket* p, int stream, AVRational tb) {
    if (hls_) hls_->write(p, stream, tb);
    else out_->write(p, stream, tb);
  }

  void write_audio_until(int64_t vts) {
    if (subtitles_) subtitles_->write_until(vts, vtb_);
    while (audio_pending_ && (vts == INT64_MAX || av_compare_ts(apkt_->dts, atb_, vts, vtb_) <= 0)) {
      write(apkt_.get(), audio_, atb_);
      av_packet_unref(apkt_.get());
      audio_pending_ = audio_reader_->read(apkt_.get());
    }
  }

  const JobContext& ctx_;
  size_t output_;
  const Target& target_;
  std::unique_ptr<av::Output> out_;
  std::optional<SubtitleMux> subtitles_;
  std::optional<HlsStats> hls_stats_;
  std::unique_ptr<PlaylistWriter> hls_;
  std::optional<SegmentReader> audio_reader_;
  av::PacketPtr vpkt_ = av::make_packet();
  av::PacketPtr apkt_ = av::make_packet();
  AVRational vtb_{1, 1}, atb_{1, 1};
  int video_ = -1, audio_ = -1;
  bool audio_pending_ = false;
  int64_t last_dts_ = AV_NOPTS_VALUE;
};

}  // namespace

void Coordinator::gather() {
  std::vector<std::unique_ptr<GatherOutput>> outputs(context_.plans.size());
  gathered_frames_.assign(context_.plans.size(), 0);
  for (size_t row = 0; row < rows_.size(); ++row) {
    wait_done(row);
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (!context_.segmented[o]) continue;
      if (!outputs[o]) outputs[o] = std::make_unique<GatherOutput>(context_, o, prepared_.targets[o], *prepared_.staged[o]);
      gathered_frames_[o] += outputs[o]->append(segments_[row].index);
    }
    if (stop_) wait_done(row);  // rethrows
  }
  // The whole task (if any) may still be running.
  {
    std::unique_lock lock(mutex_);
    while (!stop_ && !whole_done_) {
      lock.unlock();
      tick();
      lock.lock();
      changed_.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  if (stop_) wait_done(0);  // rethrows
  prepared_.hls.assign(outputs.size(), std::nullopt);
  for (size_t o = 0; o < outputs.size(); ++o)
    if (outputs[o]) {
      outputs[o]->finish();
      prepared_.hls[o] = outputs[o]->hls_stats();
    }
  t_gathered_ = now_seconds();
  tick();
}

void Coordinator::write_manifest(bool force) {
  // Caller holds mutex_. A rewrite is linear in the segments; at most one a second
  // keeps the whole job linear too.
  const double now = now_seconds();
  if (!force && now - last_manifest_write_ < 1.0) {
    manifest_dirty_ = true;  // tick() writes it once the second is over
    return;
  }
  last_manifest_write_ = now;
  manifest_dirty_ = false;
  manifest::Manifest m;
  m.info.job_key = job_key_;
  m.info.input = request_.input.string();
  std::error_code ec;
  m.info.input_bytes = static_cast<int64_t>(fs::file_size(request_.input, ec));
  m.info.templates = templates_text(request_);
  for (const auto& o : request_.outputs) m.info.outputs.push_back(o.path.string());
  m.info.gopcast_version = GOPCAST_VERSION;
  m.info.segment_seconds = options_.segment_seconds;
  m.info.grid_seconds = 0;
  for (size_t i = 0; i < context_.plans.size(); ++i)
    if (context_.segmented[i]) m.info.grid_seconds = std::max(m.info.grid_seconds, context_.plans[i].video.keyframe_grid);
  m.info.workers = workers_;
  m.info.engine = engine_name_;
  m.info.state = !state_.empty() ? state_ : error_ ? "failed" : "running";
  if (!final_phases_.empty()) {
    m.info.phases = final_phases_;
  } else {
    m.info.phases["index"] = t_index_ - t_start_;
    if (t_encoded_ > 0) m.info.phases["encode"] = t_encoded_ - t_index_;
    if (t_gathered_ > 0) m.info.phases["gather"] = std::max(0.0, t_gathered_ - t_encoded_);
  }
  m.index = index_;
  m.segments = rows_;
  manifest::write(manifest_path_, m);
}

TranscodeResult Coordinator::finish() {
  std::vector<int64_t> frames(context_.plans.size(), 0);
  for (size_t i = 0; i < frames.size(); ++i)
    frames[i] = context_.segmented[i] ? gathered_frames_[i] : (whole_stats_.empty() ? 0 : whole_stats_[i].video_frames);
  TranscodeResult result;
  result.input = request_.input;
  result.outputs = publish_outputs(request_, prepared_, frames);
  const double t_muxed = now_seconds();
  result.media_seconds = context_.duration;
  for (const auto& e : context_.timeline.entries)
    result.timeline.push_back(TimelineResult{e.path, static_cast<double>(e.offset_us) / AV_TIME_BASE,
                                             static_cast<double>(e.length_us) / AV_TIME_BASE, e.audio < 0});
  ParallelSummary summary;
  summary.engine = engine_name_;
  summary.workers = workers_;
  summary.segments = static_cast<int>(segments_.size());
  summary.resumed_segments = resumed_;
  summary.manifest = manifest_path_;
  summary.phases = {{"index", t_index_ - t_start_},
                    {"encode", t_encoded_ - t_index_},
                    {"gather", std::max(0.0, t_gathered_ - t_encoded_)},
                    {"mux", t_muxed - t_gathered_}};
  {
    std::lock_guard lock(mutex_);
    state_ = "done";
    final_phases_ = summary.phases;
    write_manifest(true);
  }
  std::error_code ec;
  fs::remove_all(context_.work_dir, ec);
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) summary.coordinator_peak_rss_kib = usage.ru_maxrss;
  result.parallel = summary;
  result.seconds = now_seconds() - t_start_;
  return result;
}

void Coordinator::abandon(ErrorCode code) {
  std::lock_guard lock(mutex_);
  // Bad input has nothing to resume: it loses nothing and leaves nothing, work folder
  // and manifest included. Interruptions and failures part-way keep both for a rerun.
  const bool resumable = code == ErrorCode::Cancelled || code == ErrorCode::TranscodeFailed ||
                         code == ErrorCode::Internal || code == ErrorCode::OutputNotWritable;
  std::error_code ec;
  if (!resumable) {
    fs::remove_all(context_.work_dir, ec);
    fs::remove(manifest_path_, ec);
    return;
  }
  for (auto& r : rows_)
    if (r.status == manifest::SegmentStatus::running) r.status = manifest::SegmentStatus::pending;
  state_ = code == ErrorCode::Cancelled ? "cancelled" : "failed";
  try {
    write_manifest(true);
  } catch (const std::exception& e) {
    log::warn("{}", e.what());
  }
}

}  // namespace engine

TranscodeResult transcode_parallel(const TranscodeRequest& request, const ParallelOptions& options,
                                   const engine::RunControl& control) {
  const int workers = options.workers > 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
  engine::Coordinator coord(request, options, control, "local", workers);
  const std::string host = process::host_name();
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&coord, &host, w] {
      try {
        while (auto task = coord.take(w, host, true)) coord.done(*task, coord.run_local(*task), w);
      } catch (...) {
        coord.failed(std::current_exception());
      }
    });
  std::exception_ptr error;
  try {
    coord.gather();
  } catch (...) {
    error = std::current_exception();
    coord.failed(error);
  }
  for (auto& t : pool) t.join();
  if (!error) error = coord.error();
  if (error) {
    ErrorCode code = ErrorCode::Internal;
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      code = e.code();
    } catch (...) {
    }
    coord.abandon(code);
    std::rethrow_exception(error);
  }
  return coord.finish();
}

}  // namespace gopcast
