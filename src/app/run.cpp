#include "app/run.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "app/prepare.hpp"
#include "app/publish.hpp"
#include "app/segmented.hpp"
#include "av/input.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "sched/failpoint.hpp"

namespace gopcast::app {

namespace {

// Outputs with nothing to cut (remuxes, audio only, GIF): one pass straight into their
// staged files.
RunResult run_single_pass(const TranscodeRequest& request, PreparedTranscode& prepared, const RunControl& control, double started) {
  auto stats = engine::run_pipeline(request.input, prepared.streams, prepared.targets, control, engine::clip_span(prepared.clip));
  std::vector<int64_t> frames;
  for (const auto& s : stats) frames.push_back(s.video_frames);
  RunResult result;
  result.input = request.input;
  result.media_seconds = prepared.clip.active ? prepared.clip.seconds() : prepared.source.duration;
  result.outputs = publish(request, prepared, frames);
  result.seconds = now_seconds() - started;
  return result;
}

}  // namespace

RunResult run(const RunRequest& request, const RunControl& control, sched::Transport* remote) {
  const TranscodeRequest& tr = request.transcode;
  if (tr.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", tr.input.string());
  // A failpoint that does not parse fails the run before anything starts.
  (void)sched::failpoint();
  // The job's still images first: they are quick, a bad one fails the job before any
  // encoding, and they are published only once the outputs are.
  std::vector<ops::StagedStills> stills;
  for (const auto& s : request.snapshots) stills.push_back(ops::stage_stills(tr.input, s, control.cancel));

  const double started = now_seconds();
  PreparedTranscode prepared = prepare(tr);
  // One run per output (once the output folders are known to be usable): the locks are
  // held until the outputs are published or the run failed, taken in path order so two
  // jobs sharing outputs never wait on each other in a circle.
  const auto claimed = claimed_outputs(tr);
  std::vector<files::OutputLock> locks;
  for (const auto& p : claimed) locks.emplace_back(p, request.wait_lock);
  for (auto& s : stills)
    for (StagedOutput* o : s.outputs()) prepared.stills.push_back(o);
  recover_outputs(claimed, prepared);
  engine::JobContext ctx = job_context(tr, prepared);
  RunResult result;
  if (ctx.any_segmented()) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // Beside remote workers the coordinator's process encodes on one thread of its own.
    const int local = remote ? 1 : request.parallel.workers > 0 ? request.parallel.workers : static_cast<int>(cores);
    result = run_segmented(request, prepared, std::move(ctx), control, local, remote, started);
  } else {
    // Nothing for remote workers to do.
    if (remote)
      for (int w = 0; w < remote->size(); ++w) remote->release(w);
    result = run_single_pass(tr, prepared, control, started);
  }
  for (auto& s : stills) result.snapshots.push_back(s.result());  // published with the outputs
  result.warnings = prepared.warnings;
  return result;
}

void serve(const RunRequest& request, sched::WorkerChannel& channel, const std::atomic<bool>* cancel) {
  // The plans are derived on the first task: a job with nothing to cut releases its
  // workers at once, before they probe anything.
  std::optional<engine::JobContext> ctx;
  av::InputCache inputs;  // this rank's: opened once, seeked from task to task
  const auto& failpoint = sched::failpoint();
  sched::serve(channel, [&](const plan::Task& task) {
    if (!ctx) ctx = job_context(request.transcode);
    return engine::run_task(*ctx, task, cancel, &inputs, failpoint && failpoint->matches(task));
  });
}

}  // namespace gopcast::app
