#pragma once
// The scheduler of a segment-parallel run: which task a free worker takes next, what is
// done, and what is tried again. Pure: no threads, no clocks, no I/O; the dispatch loop
// (sched/dispatch.hpp) calls it from one thread, and the unit tests drive it directly.
//
// Order: the whole-input task (outputs that cannot be cut) goes to the first local
// worker, the audio task (which the gather needs from the start) to the first worker
// that may run it, then tasks to retry, then segments longest first (a live playlist's
// in timeline order, so its first segments are out early). A task that fails with a
// retryable error goes back to the front of the queue until it has failed
// `max_attempts` times in this run; then it fails the job.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"
#include "plan/task.hpp"

namespace gopcast::sched {

using plan::Task;
using plan::TaskKind;
using plan::TaskResult;

// What the run starts from.
struct SchedulerSetup {
  // The plan's segments, in index order, as the manifest records them: rows an earlier
  // run finished (resume) are done and are not handed out again.
  std::vector<manifest::SegmentRecord> rows;
  bool whole = false;        // a whole-input task to run
  bool audio = false;        // an audio task to run
  bool audio_local = false;  // it needs the coordinator's own process (a concatenation's audio)
  bool in_order = false;     // hand segments out in timeline order, not longest first
  int max_attempts = 3;      // tries of one task in this run (the manifest's attempts count every run)
};

struct InFlight {
  Task task;
  int worker = -1;
  std::string host;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerSetup setup);

  // The next task for `worker` on `host`; `local`: the worker is in the coordinator's
  // process (the only place the whole task, and local-only audio, may run). nullopt
  // when nothing is waiting for such a worker now (tasks in flight may still fail and
  // come back).
  std::optional<Task> take(int worker, const std::string& host, bool local);
  void done(const Task& task, int worker, const TaskResult& result);
  // Records a failure. True when the task goes back to be tried again; false when it
  // fails the job (not retryable, or its last attempt).
  bool failed(const Task& task, int worker, bool retryable);

  bool finished() const;  // every task done
  bool idle() const { return in_flight_.empty(); }
  bool segment_done(size_t row) const { return rows_[row].status == manifest::SegmentStatus::done; }
  bool audio_done() const { return audio_done_; }
  bool whole_done() const { return whole_done_; }
  int64_t frames_done() const { return frames_done_; }
  size_t resumed() const { return resumed_; }
  // Segments tried more than once in this run.
  size_t retried() const;
  const std::vector<manifest::SegmentRecord>& rows() const { return rows_; }
  // What each busy worker holds (a worker holds one task at a time).
  std::vector<InFlight> in_flight() const;
  // The task `worker` holds, if any (a map lookup: cheap enough for every tick).
  const Task* task_of(int worker) const;
  int max_attempts() const { return max_attempts_; }

  // For the manifest of a run that stops: segments in flight are pending again.
  void abandon();

 private:
  void settle(const Task& task, int worker);
  std::vector<manifest::SegmentRecord> rows_;
  std::vector<int> tries_;  // per row, in this run
  std::vector<size_t> queue_;
  size_t next_ = 0;
  std::deque<size_t> retry_;  // rows to try again, before the queue
  bool whole_pending_ = false, audio_pending_ = false;
  bool whole_done_ = true, audio_done_ = true;
  int whole_tries_ = 0, audio_tries_ = 0;
  bool audio_local_ = false;
  int max_attempts_ = 3;
  size_t done_rows_ = 0;
  size_t resumed_ = 0;
  int64_t frames_done_ = 0;
  std::map<int, InFlight> in_flight_;  // by worker
};

}  // namespace gopcast::sched
