#pragma once
// The segment-parallel run of a prepared request: index the input's keyframes, cut the
// timeline into segments, take over what an interrupted run of the same job finished
// (its manifest and work folder), hand tasks to the workers through the one dispatch
// loop (sched/dispatch.hpp), gather finished segments in order into the outputs while
// later ones are still being encoded, record every segment in the HDF5 manifest, and
// publish. Each part has its own module; this is the part that joins them.
#include "app/prepare.hpp"
#include "app/run.hpp"

namespace gopcast::app {

// `local_workers` threads of this process, and `remote` workers if any; `started`: when
// the run began (now_seconds()), for its phases and wall-clock time.
RunResult run_segmented(const RunRequest& request, PreparedTranscode& prepared, engine::JobContext context,
                        const RunControl& control, int local_workers, sched::Transport* remote, double started);

// Seconds on the steady clock: what `started` counts in.
double now_seconds();

}  // namespace gopcast::app
