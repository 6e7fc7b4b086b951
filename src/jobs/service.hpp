#pragma once
// Pipelines and jobs on Slurm: the operations behind `gopcast submit`, `gopcast jobs`
// and `gopcast pipelines` (and the Python module). Slurm does the scheduling; gopcast
// keeps the job store, generates the scripts and records what happened.
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jobs/store.hpp"
#include "slurm/pipeline.hpp"

namespace gopcast::jobs {

// Pipelines live in $GOPCAST_HOME/pipelines/NAME.toml.
std::vector<slurm::Pipeline> list_pipelines(const Store& store);
slurm::Pipeline find_pipeline(const Store& store, const std::string& name);  // PipelineNotFound

struct PipelineStatus {
  slurm::Pipeline pipeline;
  slurm::PipelineState state;  // the file's state unless paused/resumed since
  int pending = 0, running = 0, held = 0;  // the pipeline's jobs in Slurm's queue now
};
PipelineStatus pipeline_status(const Store& store, const std::string& name);
// Pause: Slurm starts none of the pipeline's pending jobs (they are held) and new
// submissions are submitted held; running jobs go on. Resume releases them.
PipelineStatus pause_pipeline(const Store& store, const std::string& name);
PipelineStatus resume_pipeline(const Store& store, const std::string& name);

struct SubmitRequest {
  std::filesystem::path job_file;
  std::string pipeline;
  int priority = 6;  // 1..10, 10 highest
  std::string user_data;
  std::vector<std::string> sets;  // template overrides for every output
};
// Validates the job (file, templates, input present), stores it and submits it to Slurm.
JobRecord submit(Store& store, const SubmitRequest& request);

struct BatchRequest {
  std::filesystem::path inputs;  // a folder (its files) or a list file (one path per line)
  std::filesystem::path job_template;  // a job file; {name} {ext} {dir} name each input's outputs
  std::string pipeline;
  int priority = 6;
  std::string user_data;
  std::vector<std::string> sets;
};
struct BatchResult {
  std::string batch_id;
  std::vector<std::string> slurm_array_ids;  // one per Slurm array (MaxArraySize splits big batches)
  std::vector<JobRecord> jobs;
};
BatchResult submit_batch(Store& store, const BatchRequest& request);

struct JobFilter {
  std::string pipeline;
  std::optional<JobState> state;
  std::string batch_id;
};
// Records, brought up to date with Slurm first (jobs Slurm ended without a word from
// gopcast, e.g. on node failure, time limit or scancel, get their final state).
std::vector<JobRecord> list_jobs(Store& store, const JobFilter& filter = {});
JobRecord show_job(Store& store, const std::string& id);
// Cancels a job: a waiting one ends TranscodeCancelled at once, a running one is
// signalled through Slurm and ends TranscodeCancelled when its ranks have stopped.
JobRecord cancel_job(Store& store, const std::string& id);
// Waits until the job ends; throws WaitTimeout after `timeout_seconds` (if given).
JobRecord wait_job(Store& store, const std::string& id, std::optional<double> timeout_seconds,
                   const std::atomic<bool>* stop = nullptr);

// Runs a stored job inside its Slurm allocation (what the generated script calls):
// records Transcoding, runs the engine through the pipeline's launcher, records the
// result and notifies. `signalled` is set by the caller's SIGTERM handler.
// Returns the exit status for the script.
int exec_job(Store& store, const std::string& id, const std::atomic<bool>* signalled);
// Forwards a signal to the engine exec_job started (mpirun/srun); async-signal-safe,
// for the runner's signal handler.
void forward_signal_to_engine(int sig);
// The id of batch member `index` (for array tasks).
std::string batch_member_id(const std::string& batch_id, long index);

}  // namespace gopcast::jobs
