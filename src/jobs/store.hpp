#pragma once
// The job store: $GOPCAST_HOME/jobs.db on the shared filesystem, one SQLite database
// that holds every record (indexed by id, state, pipeline and batch) and the job as
// submitted, and a folder per job or batch under $GOPCAST_HOME/jobs for the generated
// sbatch scripts, Slurm's logs and the job file the engine reads. Each change is one
// transaction, so submissions, the running job, `jobs cancel` and readers on any node
// never see a torn or lost update, and a batch's records appear all at once or not at all.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/state.hpp"

namespace gopcast::sqlite {
class Db;
}

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

// Which records: all of a pipeline, of a state, of a batch (any left empty matches all).
struct JobFilter {
  std::string pipeline;
  std::optional<JobState> state;
  std::string batch_id;
};

// A listed record: the columns a table shows, and the record's JSON as stored (what
// `jobs show --json` prints), without parsing it. Valid during the callback only.
struct JobRow {
  std::string_view id, pipeline, state, slurm_job_id, input, json;
  int priority = 0;
};

// What reconciling with Slurm needs of a record that has not ended.
struct OpenJob {
  std::string id, pipeline, slurm_job_id, submitted_at;
};

class Store {
 public:
  explicit Store(std::filesystem::path home);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path database() const { return home_ / "jobs.db"; }
  std::filesystem::path job_dir(std::string_view id) const;
  std::filesystem::path pipelines_dir() const { return home_ / "pipelines"; }
  std::filesystem::path state_dir() const { return home_ / "state"; }
  std::filesystem::path undelivered_log() const { return home_ / "notify" / "undelivered.jsonl"; }

  // A new, unique id ("20261125-061502-3fa9c1d2"), its folder created exclusively.
  std::string create_id();
  // New records with the job each runs (TOML), in one transaction: all or none.
  // Throws if an id exists.
  void insert(const std::vector<JobRecord>& records, const std::vector<std::string>& jobs);
  void put(const JobRecord& r);  // replace an existing record
  JobRecord get(std::string_view id) const;  // throws JobNotFound
  // The job a record runs, as submitted (TOML with absolute paths).
  std::string job_text(std::string_view id) const;
  // Reads, changes and writes one record in one transaction; returns the record as it
  // is now. `change` may return false to leave the record as it is.
  JobRecord update(std::string_view id, const std::function<bool(JobRecord&)>& change);
  // The same for many records in one transaction (one commit, one fsync); returns the
  // records `change` changed. Ids not in the store are skipped.
  std::vector<JobRecord> update_many(const std::vector<std::string>& ids, const std::function<bool(JobRecord&)>& change);
  // Sets the Slurm job ids (and the held flag) of many records in one transaction.
  void set_slurm_ids(const std::vector<std::pair<std::string, std::string>>& id_to_slurm, bool held);
  // Matching records, oldest first (ids sort by submission), one at a time: memory
  // stays flat however many there are.
  void for_each(const JobFilter& filter, const std::function<void(const JobRow&)>& row) const;
  std::vector<JobRecord> list(const JobFilter& filter = {}) const;
  // Matching records that have not ended.
  std::vector<OpenJob> open_jobs(const JobFilter& filter) const;
  // Removes a record (and its folder), or a batch's records (and the batch's folder).
  void remove(std::string_view id);
  void remove_batch(std::string_view batch_id);

 private:
  void import_folders();
  std::filesystem::path home_;
  std::unique_ptr<sqlite::Db> db_;
};

// Sets a new state, its timestamp and a history entry.
void set_state(JobRecord& r, JobState s, std::string note = {});

}  // namespace gopcast::jobs
