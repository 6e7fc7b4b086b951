#pragma once
// Pipelines: named queues of transcoding jobs, each a TOML file mapping onto Slurm
// options (partition, account, QOS, ranks, nodes, time limit), a concurrency limit,
// an initial state and notification settings. See slurm/pipelines/ for examples.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "jobs/state.hpp"
#include "notify/address.hpp"

namespace gopcast::slurm {

enum class PipelineState { Active, Paused };
const EnumNames<PipelineState>& enum_names(PipelineState);  // "active" | "paused"

// How a job's ranks are started inside its allocation.
enum class Launcher {
  Mpirun,   // mpirun gopcast-mpi: Open MPI takes its ranks from the Slurm allocation
  Srun,     // srun gopcast-mpi: needs Slurm's PMIx/PMI2 set up for Open MPI
  Threads,  // the local engine with threads on the first node (no MPI)
};
const EnumNames<Launcher>& enum_names(Launcher);

struct NotifySettings {
  std::string url;                  // http:// or https://
  std::string secret;               // HMAC key (from `secret`, `secret_file` or `secret_env`)
  std::vector<jobs::JobState> events;  // job states that notify; empty = all
  int attempts = 4;
  double timeout_seconds = 5;
  double backoff_seconds = 1;
  std::vector<notify::AddressClass> allow;  // loopback and/or private besides public addresses
};

struct Pipeline {
  std::string name;
  std::string description;
  std::filesystem::path file;
  PipelineState state = PipelineState::Active;  // as configured; `pipelines pause` overrides it
  // Slurm resources of each job.
  std::string partition;  // "" = the cluster's default
  std::string account;
  std::string qos;
  int ranks = 1;          // MPI ranks (Slurm tasks) per job
  int nodes = 1;
  int cpus_per_rank = 1;
  std::string time_limit;  // Slurm's format ("2:00:00", "1-00:00:00"); "" = partition default
  std::string memory;      // per node ("8G"); "" = default
  std::vector<std::string> sbatch_options;  // extra options, each "--name[=value]"
  // Concurrency: at most max_concurrent of the pipeline's jobs run at once (0 = no limit),
  // enforced by Slurm through a license pool (see slurm/README.md).
  int max_concurrent = 0;
  std::string license;     // default "gopcast_<name>"
  // Priority P (1..10) becomes sbatch --nice=(10-P)*nice_step.
  int nice_step = 1000;
  Launcher launcher = Launcher::Mpirun;
  std::filesystem::path script_template;  // "" = the shipped slurm/job.sbatch.in
  std::optional<NotifySettings> notify;
  // The Slurm job name shared by all jobs of this pipeline (how gopcast finds them in squeue).
  std::string slurm_job_name() const { return "gopcast-" + name; }
};

// Reads and validates a pipeline file; errors name the file, key and reason.
Pipeline load_pipeline(const std::filesystem::path& file);

// Whether a pipeline name is well formed: [a-z0-9][a-z0-9_-]{0,62}.
bool valid_pipeline_name(std::string_view name);

// Priority 1..10 (10 highest) as a Slurm nice value (0 for 10).
int nice_for_priority(int priority, int nice_step);

// How many units of a license pool of `pool` each job takes so that exactly `limit` jobs
// fit: units = pool / limit, exact when limit * (limit + 1) <= pool. Throws OutOfRange
// (naming the pool size needed) when the pool is too small for an exact cap.
long license_units(long pool, int limit, std::string_view license);
// The smallest pool that caps `limit` jobs exactly.
long license_pool_needed(int limit);

}  // namespace gopcast::slurm
