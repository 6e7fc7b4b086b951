#pragma once
// Execution: the runner inside a Slurm allocation (what the generated script calls,
// `gopcast jobs exec`). It records the job's life in the job store and runs it through
// the one run path (app/run.hpp): in this process for the "threads" launcher, through
// gopcast-mpi on the allocation's ranks otherwise.
#include <atomic>
#include <string>

#include "jobs/store.hpp"

namespace gopcast::jobs {

// Runs a stored job inside its Slurm allocation (what the generated script calls):
// records Transcoding, runs the engine through the pipeline's launcher, records the
// result and notifies. `signalled` is set by the caller's SIGTERM handler.
// Returns the exit status for the script.
int exec_job(Store& store, const std::string& id, const std::atomic<bool>* signalled);
// Forwards a signal to the engine exec_job started (mpirun/srun); async-signal-safe,
// for the runner's signal handler.
void forward_signal_to_engine(int sig);

}  // namespace gopcast::jobs
