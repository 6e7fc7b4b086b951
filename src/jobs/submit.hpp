#pragma once
// Submission and queries: the operations behind `gopcast submit`, `gopcast jobs` (and the
// Python module) on the client side. Slurm does the scheduling; gopcast keeps the job
// store, generates the scripts and reads back what happened. The runner inside the
// allocation is jobs/exec.hpp.
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jobs/pipelines.hpp"
#include "jobs/store.hpp"

namespace gopcast::jobs {

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

// Records, brought up to date with Slurm first (jobs Slurm ended without a word from
// gopcast, e.g. on node failure, time limit or scancel, get their final state; one
// squeue call for all of them).
std::vector<JobRecord> list_jobs(Store& store, const JobFilter& filter = {});
// The same, one row at a time (what `jobs list` prints; memory stays flat).
void for_each_job(Store& store, const JobFilter& filter, const std::function<void(const JobRow&)>& row);
JobRecord show_job(Store& store, const std::string& id);
// Cancels a job: a waiting one ends TranscodeCancelled at once, a running one is
// signalled through Slurm and ends TranscodeCancelled when its ranks have stopped.
JobRecord cancel_job(Store& store, const std::string& id);
// Waits until the job ends; throws WaitTimeout after `timeout_seconds` (if given).
JobRecord wait_job(Store& store, const std::string& id, std::optional<double> timeout_seconds,
                   const std::atomic<bool>* stop = nullptr);
// The id of batch member `index` (for array tasks).
std::string batch_member_id(const std::string& batch_id, long index);

}  // namespace gopcast::jobs
