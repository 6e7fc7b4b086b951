#pragma once
// Pipelines as the job store sees them: their files in $GOPCAST_HOME/pipelines, their
// paused or active state, and the lock that keeps a submission from slipping past a
// pause.
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
// The pipeline of that name, or nothing.
std::optional<slurm::Pipeline> try_pipeline(const Store& store, const std::string& name);
// Whether submissions are held now (`gopcast pipelines pause` wins over the file).
slurm::PipelineState effective_state(const Store& store, const slurm::Pipeline& p);
// Taken shared by submissions and exclusive by pause and resume.
std::filesystem::path pipeline_lock_file(const Store& store, const std::string& name);
// Creates the store's state folder (state/pipelines).
void ensure_state_dir(const Store& store);

}  // namespace gopcast::jobs
