#pragma once
// A task of the segment-parallel engine on one worker: one segment's video for every
// segmented output, or the whole timeline's audio, encoded from the input into segment
// files in the job's work folder (engine/segment_file.hpp). Every rank derives the same
// JobContext from the same request, opens the input itself (a shared filesystem on a
// cluster) once, keeps it open and seeks to the keyframe before each of its segments.
//
// Determinism: the plan depends only on the input, the templates and the segment
// length, and every segment encoder's threading is fixed (the template's video.threads,
// 1 when it says automatic), so the video is byte-identical whatever the number of
// workers or ranks.
#include <atomic>
#include <functional>
#include <filesystem>
#include <vector>

#include "engine/pipeline.hpp"
#include "plan/output.hpp"
#include "plan/task.hpp"
#include "plan/timeline.hpp"

namespace gopcast::engine {

using plan::Task;
using plan::TaskKind;
using plan::TaskResult;

// What every rank derives identically from the same request.
struct JobContext {
  std::filesystem::path input;
  StreamChoice streams;
  std::vector<plan::OutputPlan> plans;  // per output; segmented ones with fixed encoder threading
  std::vector<bool> segmented;          // per output
  std::vector<std::filesystem::path> outputs;  // per output: its path, for messages
  std::filesystem::path work_dir;       // segment files: beside the first output, hidden
  plan::ClipWindow clip;                // the part of the input the outputs hold
  double duration = 0;                  // of that part
  // A concatenation's inputs and their per-output filters; the coordinator also knows
  // where each sits (other ranks learn it per task).
  plan::Timeline timeline;
  bool any_segmented() const;
};

// True when an output is encoded by segments: re-encoded video that needs no look at the
// whole stream first (a GIF's palette). The rest run in one pass.
bool segmentable(const plan::OutputPlan& plan, const StreamChoice& streams);

// The context of outputs planned against their input: which are segmented (their
// encoders' threading fixed) and the work folder (beside the first of `outputs`).
JobContext job_context(const std::filesystem::path& input, const StreamChoice& streams, std::vector<plan::OutputPlan> plans,
                       std::vector<std::filesystem::path> outputs, const plan::ClipWindow& clip, double duration,
                       plan::Timeline timeline = {});

// One function names each file, so every rank and the resume agree.
std::filesystem::path segment_path(const JobContext& ctx, int segment, size_t output);
std::filesystem::path audio_path(const JobContext& ctx, size_t output);
bool has_audio(const JobContext& ctx, size_t output);

// Runs an audio or segment task (never a whole task) on this rank. `inputs`: the
// worker's kept inputs (one open per worker and input; null: the task opens its own).
// `inject_failure`: the task fails part-way (GOPCAST_FAILPOINT, sched/failpoint.hpp).
// `frames`: called as source frames go into the encoders (their count so far).
TaskResult run_task(const JobContext& ctx, const Task& task, const std::atomic<bool>* cancel, av::InputCache* inputs = nullptr,
                    bool inject_failure = false, const std::function<void(int64_t)>& frames = {});

}  // namespace gopcast::engine
