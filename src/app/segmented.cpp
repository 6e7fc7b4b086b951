#include "app/segmented.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "av/input.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "engine/gather.hpp"
#include "engine/keyframes.hpp"
#include "engine/segment_file.hpp"
#include "manifest/manifest.hpp"
#include "sched/dispatch.hpp"
#include "sched/failpoint.hpp"
#include "sched/live.hpp"
#include "sched/job_key.hpp"
#include "sched/resume.hpp"

namespace fs = std::filesystem;

namespace gopcast::app {

namespace {


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

// What the gather waits on: which tasks are done, written by the dispatch loop.
class DoneBoard {
 public:
  explicit DoneBoard(size_t rows) : rows_(rows, false) {}
  void done(const plan::Task& t) {
    {
      std::lock_guard lock(mutex_);
      if (t.kind == plan::TaskKind::audio) audio_ = true;
      else if (t.kind == plan::TaskKind::whole) whole_ = true;
      else rows_.at(static_cast<size_t>(t.segment.index)) = true;
    }
    changed_.notify_all();
  }
  void preset(bool audio_done, bool whole_done, const std::vector<bool>& rows) {
    std::lock_guard lock(mutex_);
    audio_ = audio_done;
    whole_ = whole_done;
    rows_ = rows;
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    changed_.notify_all();
  }
  // Until row `row` and the audio are done (or, with `row` < 0, the whole task); false
  // when the job stopped first.
  bool wait(long row) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || (row < 0 ? whole_ : audio_ && rows_[static_cast<size_t>(row)]); });
    return !stopped_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<bool> rows_;
  bool audio_ = false, whole_ = false, stopped_ = false;
};

// Interruptions (Ctrl-C, SIGTERM) and failures part-way (a rank lost, an encoder's
// crash) keep the manifest and the work folder for a rerun to resume; a process killed
// outright keeps them too, having no chance to clean. Everything else leaves neither:
// bad input has nothing to resume, and a full or read-only file system
// (OutputNotWritable) would stay full of what the work folder holds.
bool resumable(ErrorCode code) {
  return code == ErrorCode::Cancelled || code == ErrorCode::TranscodeFailed || code == ErrorCode::Internal;
}

ErrorCode code_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    return err.code();
  } catch (...) {
    return ErrorCode::Internal;
  }
}

// The plan of the run: one keyframe grid for every HLS output (their segments are
// shared), whether a live playlist asks for its first segments early, the index and
// the segments.
struct SegmentPlan {
  double grid = 0;
  bool live = false;
  plan::KeyframeIndex index;
  std::vector<plan::Segment> segments;
};

SegmentPlan plan_run(const TranscodeRequest& request, engine::JobContext& ctx, const ParallelSettings& options,
                     const RunControl& control) {
  SegmentPlan sp;
  for (size_t i = 0; i < ctx.plans.size(); ++i) {
    if (!ctx.segmented[i] || ctx.plans[i].video.keyframe_grid <= 0) continue;
    const double g = ctx.plans[i].video.keyframe_grid;
    if (sp.grid > 0 && std::abs(g - sp.grid) > 1e-9)
      fail(ErrorCode::Incompatible, "{}: outputs with different HLS segment lengths ({} s and {} s) cannot share segments",
           request.outputs[i].path.string(), sp.grid, g);
    sp.grid = g;
  }
  // A live playlist is playable once its first HLS segment is out: that one is planned
  // as a short parallel segment and segments are handed out in order, not longest first.
  for (size_t i = 0; i < ctx.plans.size(); ++i)
    sp.live = sp.live || (ctx.segmented[i] && ctx.plans[i].hls.playlist == HlsPlaylistType::event);
  const plan::PlanOptions plan_options{options.segment_seconds, sp.grid, sp.live ? sp.grid : 0.0};
  if (ctx.timeline.active()) {
    plan::TimelineCut cut = plan::cut_timeline(
        ctx.timeline,
        [&](size_t k, double start) {
          if (control.cancel && control.cancel->load()) fail(ErrorCode::Cancelled, "{}: cancelled", request.input.string());
          const auto& e = ctx.timeline.entries[k];
          return engine::index_keyframes(e.path, e.video, sp.grid, {}, start, options.segment_seconds);
        },
        plan_options);
    sp.index = std::move(cut.index);
    sp.segments = std::move(cut.segments);
    ctx.duration = static_cast<double>(sp.index.end_pts) / 1e6;
  } else {
    sp.index = engine::index_keyframes(ctx.input, ctx.streams.video, sp.grid, ctx.clip, -1, options.segment_seconds);
    sp.segments = plan::plan_segments(sp.index, plan_options);
  }
  if (sp.segments.empty()) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: no video frames to encode", request.input.string());
  return sp;
}

// What the segments' bytes depend on.
sched::JobKeyParts key_parts(const TranscodeRequest& request, const engine::JobContext& ctx, const ParallelSettings& options,
                             double grid) {
  sched::JobKeyParts key;
  key.input = file_identity(request.input);
  key.video_stream = ctx.streams.video;
  key.audio_stream = ctx.streams.audio;
  key.templates = templates_text(request);
  key.segment_seconds = options.segment_seconds;
  key.grid_seconds = grid;
  key.version = GOPCAST_VERSION;
  key.clip_start = ctx.clip.start;
  key.clip_end = ctx.clip.active ? ctx.clip.end : -1.0;
  for (const auto& p : ctx.plans) key.burned.insert(key.burned.end(), p.video.burn_scripts.begin(), p.video.burn_scripts.end());
  if (request.mix.active())
    key.mix = fmt::format("\nmix:{}:{}:{}", file_identity(request.mix.path), request.mix.gain_db,
                          request.mix.duration == MixDuration::longest);
  for (const auto& e : ctx.timeline.entries) key.timeline.push_back(file_identity(e.path));
  key.concat = ctx.timeline.active();
  key.fill_silence = request.fill_silence;
  return key;
}

// The scheduler of this run, with what an earlier run of the same job finished taken
// over (its manifest rows, whose files are whole) and the work folder ready.
sched::SchedulerSetup resume_run(const engine::JobContext& ctx, const SegmentPlan& sp, const std::string& job_key,
                                 const fs::path& manifest_path, const ParallelSettings& options, size_t& resumed) {
  std::vector<manifest::SegmentRecord> rows(sp.segments.size());
  for (size_t i = 0; i < sp.segments.size(); ++i) rows[i].segment = sp.segments[i];
  std::optional<manifest::Manifest> previous;
  try {
    previous = manifest::read(manifest_path);
  } catch (const Error& e) {
    log::warn("{}; starting over", e.what());
  }
  const sched::Resumed r = sched::resume(previous, job_key, rows, [&](size_t row) {
    for (size_t o = 0; o < ctx.plans.size(); ++o)
      if (ctx.segmented[o] && !engine::segment_file_complete(engine::segment_path(ctx, sp.segments[row].index, o))) return false;
    return true;
  });
  resumed = r.segments;
  std::error_code ec;
  if (previous && !r.same_job) log::warn("{}: manifest of another job or plan; starting over", manifest_path.string());
  if (!r.same_job) fs::remove_all(ctx.work_dir, ec);
  fs::create_directories(ctx.work_dir, ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot create work folder: {}", ctx.work_dir.string(), ec.message());

  sched::SchedulerSetup setup;
  setup.rows = std::move(rows);
  setup.in_order = sp.live;
  setup.max_attempts = options.max_attempts;
  setup.audio_local = ctx.timeline.active();  // a concatenation's audio needs where every input sits
  for (size_t i = 0; i < ctx.plans.size(); ++i) {
    if (!ctx.segmented[i]) setup.whole = true;
    if (engine::has_audio(ctx, i) && !engine::segment_file_complete(engine::audio_path(ctx, i))) setup.audio = true;
  }
  return setup;
}

// The gather on a thread of its own: each segment is appended once it and the audio
// are done (the dispatch loop marks them on the board).
class GatherThread {
 public:
  GatherThread(const engine::JobContext& ctx, PreparedTranscode& prepared, const SegmentPlan& sp, const sched::Scheduler& scheduler)
      : board_(sp.segments.size()), gather_(ctx, prepared.targets, prepared.staged) {
    std::vector<bool> done(sp.segments.size());
    for (size_t i = 0; i < done.size(); ++i) done[i] = scheduler.segment_done(i);
    board_.preset(scheduler.audio_done(), scheduler.whole_done(), done);
    thread_ = std::thread([this, &prepared, &sp] {
      try {
        for (size_t row = 0; row < sp.segments.size(); ++row) {
          if (!board_.wait(static_cast<long>(row))) return;
          gather_.append(sp.segments[row].index);
        }
        if (!board_.wait(-1)) return;  // the whole task may still be running
        prepared.hls = gather_.finish();
        finished_at_ = now_seconds();
        done_ = true;
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
      }
    });
  }
  ~GatherThread() { stop(); }
  void mark(const plan::Task& task) { board_.done(task); }
  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  bool done() const { return done_; }
  double finished_at() const { return finished_at_; }
  const std::vector<int64_t>& frames() const { return gather_.frames(); }
  void stop() {
    board_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  DoneBoard board_;
  engine::Gather gather_;
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> done_{false};
  std::atomic<double> finished_at_{0};
  std::thread thread_;
};

// How this process's workers run a task: segments and audio on the engine, the
// whole-input task (outputs that cannot be cut) straight into their staged files.
struct LocalRunner {
  const engine::JobContext& ctx;
  PreparedTranscode& prepared;
  std::vector<av::InputCache> inputs;      // per worker: opened once, seeked from task to task
  std::vector<engine::TargetStats> whole;  // per output, written by the whole task
  sched::LiveFrames& live;                 // frames of the segment each worker is encoding

  plan::TaskResult operator()(const plan::Task& task, int worker, const std::atomic<bool>& stop) {
    const auto& failpoint = sched::failpoint();
    if (task.kind != plan::TaskKind::whole) {
      live.start(worker, task);
      return engine::run_task(ctx, task, &stop, &inputs.at(static_cast<size_t>(worker)), failpoint && failpoint->matches(task),
                              [&](int64_t frames) { live.report(worker, frames); });
    }
    const double started = now_seconds();
    std::vector<engine::Target> targets;
    std::vector<size_t> which;
    for (size_t i = 0; i < prepared.targets.size(); ++i)
      if (!ctx.segmented[i]) {
        targets.push_back(prepared.targets[i]);
        which.push_back(i);
      }
    RunControl c;
    c.cancel = &stop;
    auto stats = engine::run_pipeline(ctx.input, prepared.streams, targets, c, engine::clip_span(ctx.clip));
    whole.assign(prepared.targets.size(), engine::TargetStats{});
    for (size_t k = 0; k < which.size(); ++k) whole[which[k]] = stats[k];
    return plan::TaskResult{0, 0, now_seconds() - started};
  }
};

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

RunResult run_segmented(const RunRequest& run_request, PreparedTranscode& prepared, engine::JobContext ctx,
                        const RunControl& control, int local_workers, sched::Transport* remote, double t_start) {
  const TranscodeRequest& request = run_request.transcode;
  const ParallelSettings& options = run_request.parallel;
  const std::string engine_name = remote ? "mpi" : "local";
  const int workers = local_workers + (remote ? remote->size() : 0);
  const fs::path manifest_path = options.manifest.empty() ? default_manifest_path(request) : options.manifest;
  if (!fs::is_directory(manifest_path.parent_path().empty() ? "." : manifest_path.parent_path()))
    fail(ErrorCode::OutputNotWritable, "{}: manifest folder does not exist", manifest_path.string());

  const SegmentPlan sp = plan_run(request, ctx, options, control);
  const sched::JobKeyParts key = key_parts(request, ctx, options, sp.grid);
  const std::string job_key = sched::job_key(key);
  size_t resumed = 0;
  sched::Scheduler scheduler(resume_run(ctx, sp, job_key, manifest_path, options, resumed));
  if (resumed > 0) log::info("{}: resuming: {} of {} segments already done", request.input.string(), resumed, sp.segments.size());
  manifest::RunTimes times;
  times.start = t_start;
  times.indexed = now_seconds();

  std::error_code ec;
  manifest::ManifestInfo info;
  info.job_key = job_key;
  info.input = request.input.string();
  info.input_bytes = static_cast<int64_t>(fs::file_size(request.input, ec));
  info.templates = key.templates;
  for (const auto& o : request.outputs) info.outputs.push_back(o.path.string());
  info.gopcast_version = GOPCAST_VERSION;
  info.segment_seconds = options.segment_seconds;
  info.grid_seconds = sp.grid;
  info.workers = workers;
  info.engine = engine_name;
  info.resumed_segments = static_cast<int>(resumed);
  manifest::Log log_file(manifest_path, info, sp.index);

  auto gather = std::make_unique<GatherThread>(ctx, prepared, sp, scheduler);
  auto phases = [&] {
    times.gathered = gather->finished_at();
    return manifest::phases(times);
  };
  log_file.write(scheduler.rows(), "running", phases(), true);

  // The workers: threads of this process, and the remote ones.
  sched::LiveFrames live(local_workers);
  LocalRunner runner{ctx, prepared, std::vector<av::InputCache>(static_cast<size_t>(local_workers)), {}, live};
  auto local = std::make_unique<sched::LocalTransport>(local_workers, std::ref(runner), process::host_name());
  std::unique_ptr<sched::CombinedTransport> combined;
  if (remote) combined = std::make_unique<sched::CombinedTransport>(*local, *remote);
  sched::Transport& transport = combined ? static_cast<sched::Transport&>(*combined) : *local;

  const std::string cancelled = request.input.string() + ": cancelled by a signal; rerun the same command to resume";
  sched::DispatchHooks hooks;
  hooks.taken = [&](const plan::Task&, int) { log_file.write(scheduler.rows(), "running", phases(), false); };
  hooks.done = [&](const plan::Task& task, int) {
    if (scheduler.finished()) times.encoded = now_seconds();
    gather->mark(task);
    log_file.write(scheduler.rows(), "running", phases(), false);
  };
  int64_t shown_frames = 0;
  hooks.tick = [&] {
    if (log_file.dirty()) log_file.write(scheduler.rows(), "running", phases(), false);
    if (!control.progress) return;
    Progress p;
    // Finished segments, and what local workers have done of theirs; never going back
    // (a failed attempt's frames are done again).
    int64_t frames = scheduler.frames_done();
    for (int w = 0; w < local_workers; ++w)
      if (const plan::Task* t = scheduler.task_of(w)) frames += live.frames(w, *t);
    shown_frames = std::max(shown_frames, std::min(frames, sp.index.total_frames));
    p.frames = shown_frames;
    p.seconds_total = ctx.duration;
    p.seconds_done = sp.index.total_frames > 0
                         ? ctx.duration * static_cast<double>(p.frames) / static_cast<double>(sp.index.total_frames)
                         : 0;
    control.progress(p);
  };
  hooks.interrupt = [&]() -> std::optional<sched::Interrupt> {
    if (control.cancel && control.cancel->load()) {
      // A signal reaches every rank (mpirun forwards it, or sends it when a rank dies):
      // name a rank that is gone and the task it held, when one is.
      if (auto f = transport.diagnose(scheduler.in_flight()))
        return sched::Interrupt{std::make_exception_ptr(Error(f->code, f->message)), true};
      return sched::Interrupt{std::make_exception_ptr(Error(ErrorCode::Cancelled, cancelled)), true};
    }
    if (auto e = gather->error()) return sched::Interrupt{e, false};
    return std::nullopt;
  };
  std::exception_ptr error = sched::dispatch(scheduler, transport, hooks);
  if (times.encoded == 0) times.encoded = now_seconds();  // every segment came from an earlier run
  // Every task is done (or the job stopped): the gather writes what is left.
  while (!error && !gather->done()) {
    if (auto e = gather->error()) error = e;
    else if (control.cancel && control.cancel->load()) error = std::make_exception_ptr(Error(ErrorCode::Cancelled, cancelled));
    else {
      hooks.tick();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  gather->stop();
  if (!error && !gather->done()) error = gather->error();
  if (!error && control.progress) {
    // The last line says 100 %, however quickly the run went between two ticks.
    Progress p;
    p.frames = scheduler.frames_done();
    p.seconds_done = p.seconds_total = ctx.duration;
    control.progress(p);
  }
  // Every worker thread of this process ends before anything is cleaned up.
  combined.reset();
  local.reset();

  if (error) {
    const ErrorCode code = code_of(error);
    if (!resumable(code)) {
      fs::remove_all(ctx.work_dir, ec);
      fs::remove(manifest_path, ec);
    } else {
      scheduler.abandon();
      try {
        log_file.write(scheduler.rows(), code == ErrorCode::Cancelled ? "cancelled" : "failed", phases(), true);
      } catch (const std::exception& e) {
        log::warn("{}", e.what());
      }
    }
    std::rethrow_exception(error);
  }

  std::vector<int64_t> frames(ctx.plans.size(), 0);
  for (size_t i = 0; i < frames.size(); ++i)
    frames[i] = ctx.segmented[i] ? gather->frames()[i] : (runner.whole.empty() ? 0 : runner.whole[i].video_frames);
  RunResult result;
  result.input = request.input;
  result.outputs = publish(request, prepared, frames);
  times.muxed = now_seconds();
  result.media_seconds = ctx.duration;
  for (const auto& e : ctx.timeline.entries)
    result.timeline.push_back(TimelineResult{e.path, static_cast<double>(e.offset_us) / 1e6, static_cast<double>(e.length_us) / 1e6,
                                             e.audio < 0});
  ParallelSummary summary;
  summary.engine = engine_name;
  summary.workers = workers;
  summary.segments = static_cast<int>(sp.segments.size());
  summary.resumed_segments = static_cast<int>(resumed);
  summary.retried_segments = static_cast<int>(scheduler.retried());
  summary.manifest = manifest_path;
  summary.phases = phases();
  log_file.write(scheduler.rows(), "done", summary.phases, true);
  fs::remove_all(ctx.work_dir, ec);
  summary.coordinator_peak_rss_kib = process::peak_rss_kib();
  result.parallel = summary;
  result.seconds = now_seconds() - t_start;
  return result;
}

}  // namespace gopcast::app
