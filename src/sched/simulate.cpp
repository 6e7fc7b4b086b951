#include "sched/simulate.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <queue>
#include <vector>

#include "core/error.hpp"
#include "core/process.hpp"
#include "manifest/manifest.hpp"
#include "sched/dispatch.hpp"

namespace gopcast::sched {

namespace {

// A number in [0, 1) from (seed, index, salt): the same segment gets the same time
// whatever the rank count or the order it is handed out in.
double unit(uint64_t seed, uint64_t index, uint64_t salt) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index * 0xBF58476D1CE4E5B9ull + salt * 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / 9007199254740992.0;
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void check_setup(const SimSetup& s) {
  auto in = [](double v, double lo, double hi, const char* key) {
    if (!(v >= lo && v <= hi)) fail(ErrorCode::OutOfRange, "{}: {} is out of range {}..{}", key, v, lo, hi);
  };
  in(s.ranks, 1, 1'000'000, "--ranks");
  in(static_cast<double>(s.segments), 1, 1e8, "--segments");
  // A simulated segment holds at least one frame: 0 (one segment, for a real job) is no
  // length here.
  if (check_segment_seconds(s.segment_seconds, "--segment-seconds") <= 0)
    fail(ErrorCode::OutOfRange, "--segment-seconds: {} is out of range: a simulated segment needs a length", s.segment_seconds);
  in(s.fps, 1, 1000, "--fps");
  in(s.speed, 1e-3, 1e4, "--speed");
  in(s.jitter, 0, 0.99, "--jitter");
  in(s.audio_fraction, 0, 10, "--audio-fraction");
  in(static_cast<double>(s.segment_bytes), 0, 1e12, "--segment-bytes");
  in(s.gather_bytes_per_second, 1, 1e13, "--gather-bytes-per-second");
  in(s.message_seconds, 0, 10, "--message-seconds");
  in(s.failure_rate, 0, 1, "--failure-rate");
  check_max_attempts(s.max_attempts, "--max-attempts");
}

// Workers on a virtual clock: a task assigned at time t reports back at t + the time
// its message, its encode and its answer take. next() returns the earliest report and
// moves the clock there, so the dispatch loop sees events in the order a cluster would.
class SimTransport final : public Transport {
 public:
  SimTransport(const SimSetup& setup, const std::vector<double>& encode) : setup_(setup), encode_(encode) {
    for (int w = 0; w < setup.ranks; ++w) push(0.0, WorkerEvent{WorkerEvent::Kind::ready, w, {}, {}, {}});
  }
  int size() const override { return setup_.ranks; }
  bool local(int) const override { return false; }  // every worker is a remote rank
  std::string host(int) const override { return "sim"; }
  void assign(int worker, const Task& task) override {
    WorkerEvent ev{WorkerEvent::Kind::done, worker, task, {}, {}};
    double busy = 0;
    if (task.kind == TaskKind::audio) {
      busy = setup_.audio_fraction * video_work_;
    } else {
      const auto i = static_cast<size_t>(task.segment.index);
      busy = encode_[i];
      if (task.attempt == 1 && unit(setup_.seed, i, 2) < setup_.failure_rate) {
        busy /= 2;  // it fails half-way
        ev.kind = WorkerEvent::Kind::failed;
        ev.failure = TaskFailure{ErrorCode::TranscodeFailed, "simulated failure"};
      } else {
        ev.result = TaskResult{setup_.segment_bytes, task.segment.frames(), busy};
      }
    }
    work_ += busy;
    push(now_ + 2 * setup_.message_seconds + busy, std::move(ev));
  }
  void release(int) override {}
  std::optional<WorkerEvent> next(std::chrono::milliseconds) override {
    if (events_.empty()) return std::nullopt;
    Pending p = events_.top();
    events_.pop();
    now_ = std::max(now_, p.at);
    return std::move(p.event);
  }
  void stop() override {}

  double now() const { return now_; }
  double work() const { return work_; }
  void set_video_work(double seconds) { video_work_ = seconds; }

 private:
  struct Pending {
    double at;
    uint64_t order;  // ties: first pushed, first out
    WorkerEvent event;
  };
  struct Later {
    bool operator()(const Pending& a, const Pending& b) const { return a.at != b.at ? a.at > b.at : a.order > b.order; }
  };
  void push(double at, WorkerEvent ev) { events_.push(Pending{at, order_++, std::move(ev)}); }

  const SimSetup& setup_;
  const std::vector<double>& encode_;
  std::priority_queue<Pending, std::vector<Pending>, Later> events_;
  uint64_t order_ = 0;
  double now_ = 0, work_ = 0, video_work_ = 0;
};

// The gather's order: segments are appended in index order once each and the audio
// are done, one after another at the gather's write speed (on the virtual clock).
class SimGather {
 public:
  SimGather(const SimSetup& setup, size_t segments) : setup_(setup), done_(segments, false), audio_done_(setup.audio_fraction <= 0) {}
  void done(const Task& task, double now) {
    if (task.kind == TaskKind::audio) audio_done_ = true;
    else {
      done_[static_cast<size_t>(task.segment.index)] = true;
      ++waiting_;
    }
    if (!audio_done_) {
      peak_waiting_ = std::max(peak_waiting_, waiting_);
      return;
    }
    while (next_ < done_.size() && done_[next_]) {
      clock_ = std::max(clock_, now) + static_cast<double>(setup_.segment_bytes) / setup_.gather_bytes_per_second;
      if (next_ == 0) first_ = clock_;
      ++next_;
      --waiting_;
    }
    peak_waiting_ = std::max(peak_waiting_, waiting_);
  }
  bool complete() const { return audio_done_ && next_ == done_.size(); }
  double clock() const { return clock_; }
  double first() const { return first_; }
  int64_t peak_waiting() const { return peak_waiting_; }

 private:
  const SimSetup& setup_;
  std::vector<bool> done_;
  bool audio_done_;
  size_t next_ = 0;
  int64_t waiting_ = 0, peak_waiting_ = 0;
  double clock_ = 0, first_ = 0;
};

}  // namespace

SimReport simulate(const SimSetup& setup) {
  check_setup(setup);
  const double cpu_start = cpu_seconds();
  const auto n = static_cast<size_t>(setup.segments);
  const auto frames = std::max<int64_t>(1, std::llround(setup.segment_seconds * setup.fps));
  const Rational tb{1, static_cast<int>(std::llround(setup.fps))};

  std::vector<manifest::SegmentRecord> rows(n);
  std::vector<double> encode(n);
  double video_work = 0;
  for (size_t i = 0; i < n; ++i) {
    auto& s = rows[i].segment;
    s.index = static_cast<int>(i);
    s.first_frame = static_cast<int64_t>(i) * frames;
    s.end_frame = s.first_frame + frames;
    s.start_pts = s.first_frame;
    s.end_pts = s.end_frame;
    s.time_base = tb;
    encode[i] = setup.segment_seconds / setup.speed * (1 + setup.jitter * (2 * unit(setup.seed, i, 1) - 1));
    video_work += encode[i];
  }

  SchedulerSetup ss;
  ss.rows = std::move(rows);  // the scheduler's rows are the run's only copy, as in a real run
  ss.audio = setup.audio_fraction > 0;
  ss.in_order = setup.in_order;
  ss.max_attempts = setup.max_attempts;
  Scheduler scheduler(std::move(ss));
  SimTransport transport(setup, encode);
  transport.set_video_work(video_work);
  SimGather gather(setup, n);

  std::optional<manifest::Log> log;
  if (!setup.manifest.empty()) {
    manifest::ManifestInfo info;
    info.job_key = "simulation";
    info.input = "simulation";
    info.engine = "simulation";
    info.workers = setup.ranks;
    info.segment_seconds = setup.segment_seconds;
    info.gopcast_version = GOPCAST_VERSION;
    plan::KeyframeIndex index;
    index.time_base = tb;
    index.end_pts = static_cast<int64_t>(n) * frames;
    index.total_frames = index.end_pts;
    log.emplace(setup.manifest, std::move(info), std::move(index));
    log->write(scheduler.rows(), "running", {}, true);
  }

  DispatchHooks hooks;
  hooks.done = [&](const Task& task, int) {
    gather.done(task, transport.now());
    if (log) log->write(scheduler.rows(), "running", {}, false);
  };
  hooks.taken = [&](const Task&, int) {
    if (log) log->write(scheduler.rows(), "running", {}, false);
  };
  hooks.tick = [&] {
    if (log && log->dirty()) log->write(scheduler.rows(), "running", {}, false);
  };
  std::exception_ptr error = dispatch(scheduler, transport, hooks);
  if (log) log->write(scheduler.rows(), error ? "failed" : "done", {}, true);

  SimReport r;
  r.setup = setup;
  r.work_seconds = transport.work();
  r.makespan_seconds = std::max(transport.now(), gather.clock());
  r.speedup = r.makespan_seconds > 0 ? r.work_seconds / r.makespan_seconds : 0;
  r.efficiency = r.speedup / setup.ranks;
  r.first_segment_seconds = gather.first();
  r.peak_waiting = gather.peak_waiting();
  r.retried = static_cast<int64_t>(scheduler.retried());
  r.manifest_writes = log ? static_cast<int64_t>(log->writes()) : 0;
  if (r.manifest_writes > 0) r.manifest_write_seconds = log->write_seconds() / static_cast<double>(r.manifest_writes);
  r.ok = !error && scheduler.finished() && gather.complete();
  r.coordinator_cpu_seconds = cpu_seconds() - cpu_start;
  r.coordinator_us_per_segment = r.coordinator_cpu_seconds / static_cast<double>(n) * 1e6;
  r.peak_rss_kib = process::peak_rss_kib();
  if (error) std::rethrow_exception(error);
  return r;
}

nlohmann::json to_json(const SimReport& r) {
  const SimSetup& s = r.setup;
  return nlohmann::json{
      {"schema", "gopcast.simulation/1"},
      {"setup",
       {{"ranks", s.ranks},
        {"segments", s.segments},
        {"segment_seconds", s.segment_seconds},
        {"fps", s.fps},
        {"speed", s.speed},
        {"jitter", s.jitter},
        {"audio_fraction", s.audio_fraction},
        {"segment_bytes", s.segment_bytes},
        {"gather_bytes_per_second", s.gather_bytes_per_second},
        {"message_seconds", s.message_seconds},
        {"failure_rate", s.failure_rate},
        {"max_attempts", s.max_attempts},
        {"in_order", s.in_order},
        {"manifest", s.manifest.string()},
        {"seed", s.seed}}},
      {"ok", r.ok},
      {"work_seconds", r.work_seconds},
      {"makespan_seconds", r.makespan_seconds},
      {"speedup", r.speedup},
      {"efficiency", r.efficiency},
      {"first_segment_seconds", r.first_segment_seconds},
      {"peak_waiting_segments", r.peak_waiting},
      {"retried_segments", r.retried},
      {"manifest_writes", r.manifest_writes},
      {"manifest_write_seconds", r.manifest_write_seconds},
      {"coordinator_cpu_seconds", r.coordinator_cpu_seconds},
      {"coordinator_us_per_segment", r.coordinator_us_per_segment},
      {"peak_rss_kib", r.peak_rss_kib}};
}

}  // namespace gopcast::sched
