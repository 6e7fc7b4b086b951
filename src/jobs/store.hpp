#pragma once
// The job store: one folder per job under $GOPCAST_HOME/jobs on the shared
// filesystem, holding record.json (the state), job.toml (the job as submitted, with
// absolute paths), the generated sbatch script and Slurm's log. Records are replaced
// atomically under a per-job flock, so submissions, the running job, `jobs cancel`
// and readers on any node never see a torn or lost update.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/state.hpp"

namespace gopcast::jobs {


struct StateChange {
  JobState state;
  std::string at;    // ISO 8601 UTC
  std::string note;  // why (requeued by Slurm, cancelled by user...)
};

struct JobRecord {
  std::string id;
  std::string pipeline;
  JobState state = JobState::Submitted;
  int priority = 6;
  std::string user_data;
  std::string input;
  std::vector<std::string> outputs;
  std::string manifest;
  std::string job_file;      // the stored job.toml
  std::string slurm_job_id;  // "123" or "123_4"
  std::string batch_id;      // "" unless submitted with --batch
  std::string submitted_at, started_at, finished_at;
  std::string host;          // where rank 0 ran
  int attempts = 0;          // times the job started (a requeue starts it again)
  int resumed_segments = 0;  // segments taken from the manifest on the last start
  bool cancel_requested = false;
  bool held = false;         // submitted or held while its pipeline was paused
  std::string error_code, error_message;
  std::vector<StateChange> history;
};

nlohmann::json to_json(const JobRecord& r);
JobRecord record_from_json(const nlohmann::json& j);

std::string now_iso8601();

// GOPCAST_HOME, else ~/.gopcast.
std::filesystem::path default_home();

class Store {
 public:
  explicit Store(std::filesystem::path home);
  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path job_dir(std::string_view id) const;
  std::filesystem::path pipelines_dir() const { return home_ / "pipelines"; }
  std::filesystem::path state_dir() const { return home_ / "state"; }
  std::filesystem::path undelivered_log() const { return home_ / "notify" / "undelivered.jsonl"; }

  // A new, unique id ("20261125-061502-3fa9c1d2"), its folder created exclusively.
  std::string create_id();
  // A given id (batch members: "<batch>-000042"); throws if it exists.
  void create_dir(std::string_view id);
  void put(const JobRecord& r);  // create or replace (caller holds no lock)
  JobRecord get(std::string_view id) const;  // throws JobNotFound
  // Reads, changes and writes one record under its lock; returns the record written.
  // `change` may return false to leave the record as it is.
  JobRecord update(std::string_view id, const std::function<bool(JobRecord&)>& change);
  // Every record, oldest first (ids sort by submission time).
  std::vector<JobRecord> list() const;
  void remove(std::string_view id);

 private:
  std::filesystem::path home_;
};

// Sets a new state, its timestamp and a history entry.
void set_state(JobRecord& r, JobState s, std::string note = {});

}  // namespace gopcast::jobs
