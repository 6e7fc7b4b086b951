#pragma once
// The one run path: a resolved request (app/request.hpp) run to its published outputs.
// Jobs with an output that re-encodes video run on the segment-parallel engine
// (app/segmented.hpp: worker threads of this process, and MPI ranks when the caller
// gives a remote transport); the rest (remuxes, audio only, GIF) in one pass. Either
// way the job's still images are staged first and published with the outputs, and a
// failure leaves nothing at any output path.
#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/publish.hpp"
#include "app/request.hpp"
#include "engine/pipeline.hpp"
#include "ops/stills.hpp"
#include "sched/transport.hpp"

namespace gopcast::app {

using engine::Progress;
using engine::RunControl;

// How a segment-parallel run went (absent for single-pass runs).
struct ParallelSummary {
  std::string engine;  // "local" or "mpi"
  int workers = 0;
  int segments = 0;
  int resumed_segments = 0;  // taken from an earlier run's manifest, not re-encoded
  int retried_segments = 0;  // segments that needed more than one attempt in this run
  std::filesystem::path manifest;
  std::map<std::string, double> phases;  // wall-clock seconds: index, encode, gather, mux
  int64_t coordinator_peak_rss_kib = 0;  // the coordinating process (MPI rank 0), workers included if local
};

// One input of a concatenation as it landed on the output's timeline.
struct TimelineResult {
  std::filesystem::path input;
  double start = 0;  // seconds on the output's timeline
  double duration = 0;
  bool silence = false;  // no audio of its own: silence filled its window
};

struct RunResult {
  std::filesystem::path input;
  std::vector<TimelineResult> timeline;  // a concatenation's inputs
  double seconds = 0;        // wall-clock time
  double media_seconds = 0;  // the input's duration (a clip's, a timeline's)
  std::vector<OutputResult> outputs;
  std::optional<ParallelSummary> parallel;
  std::vector<ops::StillsResult> snapshots;  // the job's [[snapshots]]
  // Where the result is not quite what was asked, found while planning (an input's
  // audio that cannot be decoded, glyphs no font has): each also a warning on stderr.
  std::vector<std::string> warnings;
};

// Runs `request` here. `remote`: further workers (MPI ranks), used by the segment-parallel
// engine beside one worker thread of this process; they are released at the end.
RunResult run(const RunRequest& request, const RunControl& control = {}, sched::Transport* remote = nullptr);

// A remote worker's part of a run (an MPI rank but the first): tasks from `channel`
// until released, each on the plans derived from the same request.
void serve(const RunRequest& request, sched::WorkerChannel& channel, const std::atomic<bool>* cancel);

}  // namespace gopcast::app
