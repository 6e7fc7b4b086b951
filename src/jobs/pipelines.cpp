#include "jobs/pipelines.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/files.hpp"
#include "slurm/slurm.hpp"

namespace fs = std::filesystem;

namespace gopcast::jobs {

using slurm::Pipeline;
using slurm::PipelineState;

namespace {
fs::path pipeline_state_file(const Store& s, const std::string& name) { return s.state_dir() / "pipelines" / (name + ".json"); }
}  // namespace

fs::path pipeline_lock_file(const Store& s, const std::string& name) { return s.state_dir() / "pipelines" / (name + ".lock"); }

void ensure_state_dir(const Store& s) {
  std::error_code ec;
  fs::create_directories(s.state_dir() / "pipelines", ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot create: {}", (s.state_dir() / "pipelines").string(), ec.message());
}

PipelineState effective_state(const Store& s, const Pipeline& p) {
  std::error_code ec;
  const fs::path f = pipeline_state_file(s, p.name);
  if (!fs::exists(f, ec)) return p.state;
  try {
    auto j = nlohmann::json::parse(files::read(f));
    return parse_enum<PipelineState>(j.value("state", "active")).value_or(p.state);
  } catch (const std::exception&) {
    return p.state;
  }
}


std::optional<Pipeline> try_pipeline(const Store& s, const std::string& name) {
  try {
    return find_pipeline(s, name);
  } catch (const Error&) {
    return std::nullopt;
  }
}


std::vector<Pipeline> list_pipelines(const Store& store) {
  std::vector<fs::path> files_found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store.pipelines_dir(), ec))
    if (e.path().extension() == ".toml") files_found.push_back(e.path());
  std::sort(files_found.begin(), files_found.end());
  std::vector<Pipeline> out;
  for (const auto& f : files_found) out.push_back(slurm::load_pipeline(f));
  return out;
}

Pipeline find_pipeline(const Store& store, const std::string& name) {
  std::error_code ec;
  const fs::path f = store.pipelines_dir() / (name + ".toml");
  if (!slurm::valid_pipeline_name(name) || !fs::is_regular_file(f, ec)) {
    std::string known;
    for (const auto& e : fs::directory_iterator(store.pipelines_dir(), ec))
      if (e.path().extension() == ".toml") known += (known.empty() ? "" : ", ") + e.path().stem().string();
    fail(ErrorCode::PipelineNotFound, "pipeline {}: no {} ({})", name, f.string(),
         known.empty() ? "no pipelines defined; see slurm/pipelines/ for examples" : "known: " + known);
  }
  Pipeline p = slurm::load_pipeline(f);
  if (p.name != name) fail(ErrorCode::InvalidKey, "{}: name: \"{}\" differs from the file name", f.string(), p.name);
  return p;
}

PipelineStatus pipeline_status(const Store& store, const std::string& name) {
  PipelineStatus st{find_pipeline(store, name), PipelineState::Active};
  st.state = effective_state(store, st.pipeline);
  slurm::Slurm sl;
  for (const auto& e : sl.queue({st.pipeline.slurm_job_name()})) {
    if (e.state == "PENDING") {
      ++st.pending;
      if (e.reason.starts_with("JobHeld")) ++st.held;
    } else if (e.state == "RUNNING" || e.state == "COMPLETING") {
      ++st.running;
    }
  }
  return st;
}

namespace {

PipelineStatus set_pipeline_state(const Store& store, const std::string& name, PipelineState state) {
  Pipeline p = find_pipeline(store, name);
  ensure_state_dir(store);
  slurm::Slurm sl;
  {
    // Exclusive against submissions (shared), so no job slips past a pause unheld.
    files::Lock lock(pipeline_lock_file(store, name), files::Lock::Mode::Exclusive);
    files::write_atomic(pipeline_state_file(store, name),
                        nlohmann::json{{"state", to_string(state)}, {"at", now_iso8601()}}.dump() + "\n");
    std::vector<slurm::QueueEntry> jobs;
    for (auto& e : sl.queue({p.slurm_job_name()})) {
      if (e.state != "PENDING") continue;
      const bool held = e.reason.starts_with("JobHeld");
      if (state == PipelineState::Paused ? !held : held) jobs.push_back(std::move(e));
    }
    // scontrol releases one job after another, and a scheduling pass may fall between
    // two: releasing in start order (lowest nice, then oldest) keeps the priorities.
    std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) {
      return a.nice != b.nice ? a.nice < b.nice : slurm::job_id_less(a.id, b.id);
    });
    std::vector<std::string> ids;
    for (const auto& e : jobs) ids.push_back(e.id);
    if (state == PipelineState::Paused) sl.hold(ids);
    else sl.release(ids);
  }
  return pipeline_status(store, name);
}

}  // namespace

PipelineStatus pause_pipeline(const Store& store, const std::string& name) {
  return set_pipeline_state(store, name, PipelineState::Paused);
}

PipelineStatus resume_pipeline(const Store& store, const std::string& name) {
  return set_pipeline_state(store, name, PipelineState::Active);
}

}  // namespace gopcast::jobs
