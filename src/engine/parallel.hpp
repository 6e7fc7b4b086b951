#pragma once
// The segment-parallel engine. The coordinator (one thread of one process: the local
// engine's caller, or MPI rank 0) indexes the input's keyframes by demuxing, plans
// segments, hands tasks out dynamically (longest segment first), records every
// segment in the HDF5 manifest, and gathers the encoded segments in order into the
// outputs while later segments are still being encoded. Workers (local threads or
// MPI ranks) open the input themselves, decode from the segment's keyframe and
// encode exactly the frames of their segment into a segment file in the job's work
// folder. Audio is encoded once over the whole timeline, as one task beside them.
//
// Determinism: the plan depends only on the input, the templates and the segment
// length, and every segment encoder's threading is fixed (the template's
// video.threads, 1 when it says automatic), so the video stream is byte-identical
// whatever the number of workers or ranks.
//
// Resume: segment files are renamed into place when whole, the manifest records them
// as done, and a later run of the same job (same input, outputs, templates and plan)
// re-encodes only what the manifest does not record as done.
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/transcode.hpp"
#include "manifest/manifest.hpp"
#include "plan/segments.hpp"

namespace gopcast {

// Long enough that the extra keyframe and the encoder's cold start at each boundary
// cost under 1% of size (docs/benchmarks.md), short enough to keep 16 ranks busy on a
// few minutes of video.
constexpr double kDefaultSegmentSeconds = 10;

struct ParallelOptions {
  int workers = 0;                                   // local workers; 0 = one per core
  double segment_seconds = kDefaultSegmentSeconds;   // <= 0: the whole input as one segment
  std::filesystem::path manifest;                    // "" = beside the first output: <output>.manifest.h5
};

// The manifest path a request gets by default.
std::filesystem::path default_manifest_path(const TranscodeRequest& request);

// True when some output of the request is encoded by segments (a re-encoded video
// stream that needs no whole-stream analysis, such as a GIF palette). Requests with
// none run in one pass.
bool has_segmented_outputs(const TranscodeRequest& request);

// The local engine: `workers` threads in this process. Threads rather than processes:
// each worker has its own demuxer, decoder and encoder (libav contexts are never
// shared), packets never cross a process boundary, one flag cancels everything, and
// the Python module runs it in-process; a crash costs the run, which resumes.
TranscodeResult transcode_parallel(const TranscodeRequest& request, const ParallelOptions& options,
                                   const engine::RunControl& control = {});

namespace engine {

enum class TaskKind : int { whole = 0, audio = 1, segment = 2 };

// One unit of work, plain data (an MPI message carries it).
struct TaskSpec {
  TaskKind kind = TaskKind::segment;
  plan::Segment segment;  // for segment tasks
};

struct TaskResult {
  int64_t bytes = 0;    // encoded bytes written
  int64_t frames = 0;   // source frames encoded
  double seconds = 0;   // wall-clock time on the worker
};

// What every rank derives identically from the same request.
struct JobContext {
  std::filesystem::path input;
  StreamChoice streams;
  std::vector<OutputPlan> plans;  // per output; segmented ones with fixed encoder threading
  std::vector<bool> segmented;    // per output
  std::filesystem::path work_dir; // segment files: beside the first output, hidden
  ClipWindow clip;                // the part of the input the outputs hold
  double duration = 0;            // of that part
  // A concatenation's inputs and their per-output filters; the coordinator also knows
  // where each sits (other ranks learn it per task).
  Timeline timeline;
};
JobContext job_context(const TranscodeRequest& request);
// The same from what the coordinator already probed and planned.
JobContext job_context(const TranscodeRequest& request, const StreamChoice& streams, double duration,
                       std::vector<OutputPlan> plans, Timeline timeline = {});

// Runs an audio or segment task (never a whole task) on this rank.
TaskResult run_task(const JobContext& context, const TaskSpec& task, const std::atomic<bool>* cancel);

struct InFlight {
  TaskSpec task;
  int rank = -1;
  std::string host;
};

// The coordinator's state, shared by the threads of rank 0 (dispatcher, gather,
// local worker). All methods are thread-safe.
class Coordinator {
 public:
  // Validates the request (nothing is written before it passes), stages the outputs,
  // indexes and plans, and takes what an earlier run's manifest records as done.
  Coordinator(const TranscodeRequest& request, const ParallelOptions& options, const RunControl& control,
              std::string engine_name, int workers);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  const JobContext& context() const { return context_; }
  const std::vector<plan::Segment>& segments() const { return segments_; }

  // The next task for a worker (`local`: this process, which alone runs the whole
  // task); nullopt when none is left or the job is stopping.
  std::optional<TaskSpec> take(int rank, const std::string& host, bool local);
  // Runs a task taken with local = true, in this process.
  TaskResult run_local(const TaskSpec& task);
  void done(const TaskSpec& task, const TaskResult& result, int rank);
  // Records the first failure and stops the job; later failures are consequences.
  void failed(std::exception_ptr error);
  bool stopping() const { return stop_.load(); }
  // The flag workers of this process watch (set on failure or cancellation).
  const std::atomic<bool>* stop_flag() const { return &stop_; }
  std::vector<InFlight> in_flight() const;

  // Gathers every segmented output in order while segments are still being encoded;
  // returns when all tasks are done and the packets are written. Call on one thread.
  // Throws the job's first error (or Cancelled) when the job stops.
  void gather();
  // Reports progress, notices cancellation and writes manifest changes held back by
  // the once-a-second limit; call periodically from one thread.
  void tick();

  // After gather(): publishes the outputs and writes the final manifest.
  TranscodeResult finish();
  // After a failure with `code`: an interruption or a failure part-way writes the
  // manifest (state "failed" or "cancelled") and keeps the work folder for a resume;
  // bad input (nothing to resume) removes both. The staged outputs always go.
  void abandon(ErrorCode code);
  // The job's first error, to rethrow.
  std::exception_ptr error() const;

 private:
  void write_manifest(bool force);
  void wait_done(size_t row);
  void plan_timeline_segments(double grid, bool live);
  TranscodeRequest request_;
  ParallelOptions options_;
  RunControl control_;
  PreparedTranscode prepared_;
  JobContext context_;
  plan::KeyframeIndex index_;
  std::vector<plan::Segment> segments_;
  std::string job_key_;
  std::filesystem::path manifest_path_;
  std::string engine_name_;
  int workers_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<manifest::SegmentRecord> rows_;
  std::vector<size_t> queue_;     // segment rows, longest first (in order for live), not yet taken
  bool in_order_ = false;         // a live playlist: hand segments out in timeline order
  size_t next_ = 0;
  bool whole_pending_ = false, audio_pending_ = false;
  bool whole_done_ = true, audio_done_ = true;
  std::vector<InFlight> in_flight_;
  int resumed_ = 0;
  int64_t frames_done_ = 0;
  std::exception_ptr error_;
  std::atomic<bool> stop_{false};
  std::vector<TargetStats> whole_stats_;
  std::vector<int64_t> gathered_frames_;
  double t_start_ = 0, t_index_ = 0, t_encoded_ = 0, t_gathered_ = 0;
  double last_manifest_write_ = -1e9;
  std::string state_;                           // the manifest's final state, once known
  std::map<std::string, double> final_phases_;  // the result's phases, once known
  bool manifest_dirty_ = false;
  std::mutex progress_mutex_;
};

}  // namespace engine
}  // namespace gopcast
