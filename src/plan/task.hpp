#pragma once
// Tasks: the units of work of a segment-parallel run, as plain data (the scheduler hands
// them out, the engine runs them, and sched/codec.hpp carries them to MPI ranks).
#include <cstdint>
#include <string>

#include "core/enum_names.hpp"
#include "core/error.hpp"
#include "plan/segments.hpp"

namespace gopcast::plan {

enum class TaskKind {
  whole,    // the outputs that cannot be cut (stream copies, GIF, audio only), in one pass
  audio,    // the audio of every segmented output, over the whole timeline
  segment,  // one segment's video for every segmented output
};
const EnumNames<TaskKind>& enum_names(TaskKind);

struct Task {
  TaskKind kind = TaskKind::segment;
  Segment segment;  // segment tasks
  int attempt = 1;  // 1 for its first try in this run, 2 for the first retry...
};

struct TaskResult {
  int64_t bytes = 0;   // encoded bytes written
  int64_t frames = 0;  // source frames encoded
  double seconds = 0;  // wall-clock time on the worker
};

// A task that failed, as data: the error's code and message (a worker's exception, or a
// remote rank's, which crossed the wire as these two).
struct TaskFailure {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

// "segment 3 (frames 240..479, 10.000-20.000 s)", "the audio", "the one-pass outputs".
std::string describe(const Task& task);

}  // namespace gopcast::plan
