#pragma once
// Slurm behind a small interface: each call runs one Slurm command (no shell) and
// turns a failure into SlurmError naming the command and its stderr.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gopcast::slurm {

struct QueueEntry {
  std::string id;      // "123", or "123_4" for an array task
  std::string state;   // PENDING, RUNNING, COMPLETING, ...
  std::string reason;  // why it waits (JobHeldUser, Licenses, Priority, ...)
  std::string name;    // the Slurm job name
  long nice = 0;
};

// Orders job ids as Slurm would start them at equal nice: by job id, then array index.
bool job_id_less(const std::string& a, const std::string& b);

class Slurm {
 public:
  // Submits a script; `args` are extra sbatch options given as argv. Returns the job id.
  std::string sbatch(const std::filesystem::path& script, const std::vector<std::string>& args) const;
  // Jobs in the queue (pending, running, completing), array tasks one per line;
  // only those with one of `job_names` (all when empty). One squeue call.
  std::vector<QueueEntry> queue(const std::vector<std::string>& job_names = {}) const;
  // The same, and jobs that ended less than MinJobAge ago (COMPLETED, CANCELLED,
  // TIMEOUT, NODE_FAIL, FAILED...): what Slurm still knows. With `ids` (at most a few
  // hundred), only those jobs; a job Slurm has forgotten is simply not there. One call.
  std::vector<QueueEntry> known(const std::vector<std::string>& job_names, const std::vector<std::string>& ids = {}) const;
  void hold(const std::vector<std::string>& ids) const;
  void release(const std::vector<std::string>& ids) const;
  void cancel(const std::string& id) const;
  void cancel(const std::vector<std::string>& ids) const;
  // The total of a license pool, nothing when Slurm has no such license.
  std::optional<long> license_total(const std::string& name) const;
  // One value of `scontrol show config` (e.g. MaxArraySize).
  std::optional<std::string> config_value(const std::string& key) const;
  // A numeric value of `scontrol show config`, or `fallback` (Slurm's default).
  long config_number(const std::string& key, long fallback) const;
};

// Parses "Key=Value Key2=Value2 ..." (scontrol -o output) into a map.
std::map<std::string, std::string> parse_scontrol_line(const std::string& line);

}  // namespace gopcast::slurm
