#include "jobs/exec.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"
#include "app/report.hpp"
#include "app/run.hpp"
#include "jobs/events.hpp"
#include "jobs/pipelines.hpp"
#include "spec/job.hpp"

namespace fs = std::filesystem;

namespace gopcast::jobs {
namespace {

using slurm::Pipeline;


std::string gopcast_mpi_binary() {
  if (const char* env = std::getenv("GOPCAST_MPI_BIN"); env && *env) return env;
  const fs::path self = process::self_exe();
  std::error_code ec;
  for (const fs::path& cand : {self.parent_path() / "gopcast-mpi", self.parent_path().parent_path() / "mpi" / "gopcast-mpi"})
    if (fs::is_regular_file(cand, ec)) return cand.string();
  return "gopcast-mpi";
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  try {
    return std::stoi(v);
  } catch (...) {
    return fallback;
  }
}

struct RunOutcome {
  int status = 0;
  nlohmann::json result;  // the engine's result or {"error": {...}}
};

RunOutcome run_engine_threads(const JobRecord& r, const std::atomic<bool>* signalled) {
  RunOutcome o;
  try {
    app::RunOptions options;
    options.workers = env_int("SLURM_CPUS_ON_NODE", 0);
    app::RunControl control;
    control.cancel = signalled;
    o.result = app::result_json(app::run(app::resolve(load_job(r.job_file), options), control));
  } catch (const Error& e) {
    o.status = e.exit_status();
    o.result = app::error_json(e);
  }
  return o;
}

// The child whose signals we forward (mpirun or srun); read by the signal handler.
std::atomic<pid_t> g_child{-1};

RunOutcome run_engine_mpi(const Pipeline& p, const JobRecord& r) {
  const int ranks = env_int("SLURM_NTASKS", p.ranks);
  std::vector<std::string> argv;
  if (p.launcher == slurm::Launcher::Srun) {
    argv = {"srun", fmt::format("--ntasks={}", ranks), "--kill-on-bad-exit=1"};
  } else {
    argv = {"mpirun"};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    argv.insert(argv.end(), {"-n", std::to_string(ranks)});
  }
  argv.insert(argv.end(), {gopcast_mpi_binary(), r.job_file, "--json"});
  log::info("jobs: {}: running {}", r.id, fmt::join(argv, " "));
  RunOutcome o;
  std::string out;
  {
    process::Child child(argv);
    g_child = child.pid();
    o.status = child.wait(out);
    g_child = -1;
  }
  // gopcast-mpi prints one JSON document (its result or its error) on rank 0's stdout.
  // (Several documents when srun started singletons that each refused: the first will do.)
  auto brace = out.find('{');
  if (brace != std::string::npos) {
    try {
      std::istringstream in(out.substr(brace));
      in >> o.result;
    } catch (const std::exception&) {
      o.result = nlohmann::json();
    }
  }
  if (o.status == 0 && !o.result.contains("outputs")) o.status = 1;
  return o;
}

}  // namespace

int exec_job(Store& store, const std::string& id, const std::atomic<bool>* signalled) {
  JobRecord r = store.get(id);
  // The engine reads the job from a file: a batch member's is written now, from the
  // store (submission wrote none, to keep a batch one transaction).
  {
    std::error_code ec;
    if (!fs::is_regular_file(r.job_file, ec)) {
      fs::create_directories(fs::path(r.job_file).parent_path(), ec);
      files::write_atomic(r.job_file, store.job_text(id));
    }
  }
  auto p = try_pipeline(store, r.pipeline);
  if (!p) {
    log::warn("jobs: {}: pipeline {} is gone; running with one rank and no notifications", id, r.pipeline);
    p = Pipeline{};
    p->name = r.pipeline;
  }
  auto notifier = make_notifier(store);
  std::string slurm_id;
  const char* array_job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* array_task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (array_job && *array_job && array_task && *array_task) slurm_id = fmt::format("{}_{}", array_job, array_task);
  else if (const char* j = std::getenv("SLURM_JOB_ID")) slurm_id = j;
  const std::string host = process::host_name();

  JobState previous = r.state;
  bool start = false;
  r = store.update(id, [&](JobRecord& x) {
    if (is_final(x.state) || x.cancel_requested) return false;
    previous = x.state;
    x.started_at = now_iso8601();
    x.finished_at.clear();
    x.attempts += 1;
    x.host = host;
    x.held = false;
    if (!slurm_id.empty()) x.slurm_job_id = slurm_id;
    set_state(x, JobState::Transcoding, x.attempts > 1 ? fmt::format("started again (attempt {}), resuming from the manifest", x.attempts) : "");
    start = true;
    return true;
  });
  if (!start) {
    log::info("jobs: {}: {} already; nothing to run", id, to_string(r.state));
    return 0;
  }
  post_event(*notifier, &*p, r, previous);

  RunOutcome o;
  try {
    o = p->launcher == slurm::Launcher::Threads ? run_engine_threads(r, signalled) : run_engine_mpi(*p, r);
  } catch (const Error& e) {  // mpirun or srun missing, and the like: the job fails with the reason
    o.status = e.exit_status();
    o.result = app::error_json(e);
  }

  const bool interrupted = signalled && *signalled;
  previous = r.state;
  r = store.update(id, [&](JobRecord& x) {
    x.finished_at = now_iso8601();
    if (o.status == 0) {
      x.outputs.clear();
      for (const auto& out : o.result["outputs"]) x.outputs.push_back(out.value("path", ""));
      if (o.result.contains("parallel")) {
        x.manifest = o.result["parallel"].value("manifest", x.manifest);
        x.resumed_segments = o.result["parallel"].value("resumed_segments", 0);
      }
      x.error_code.clear();
      x.error_message.clear();
      set_state(x, JobState::TranscodeSuccess);
    } else if (x.cancel_requested) {
      set_state(x, JobState::TranscodeCancelled, "cancelled by user");
    } else if (interrupted) {
      // Slurm stopped the job without a cancel from gopcast: a requeue, preemption,
      // time limit or scancel. A requeued job starts again and resumes from the
      // manifest; otherwise `jobs show` settles it from Slurm's word.
      x.finished_at.clear();
      set_state(x, JobState::Submitted, "interrupted by Slurm (requeue, preemption, time limit or scancel)");
    } else {
      const auto err = o.result.contains("error") ? o.result["error"] : nlohmann::json::object();
      x.error_code = err.value("code", std::string(error_code_info(ErrorCode::TranscodeFailed).name));
      const std::string log_file =
          x.batch_id.empty() ? (store.job_dir(id) / fmt::format("slurm-{}.log", slurm_id.empty() ? "*" : slurm_id)).string()
                             : (store.job_dir(x.batch_id) / fmt::format("slurm-{}.log", slurm_id.empty() ? "*" : slurm_id)).string();
      std::string why = fmt::format("the engine exited with status {} without a result", o.status);
      if (p->launcher == slurm::Launcher::Srun)
        why += " (srun could not start gopcast-mpi: Open MPI needs Slurm's PMIx, MpiDefault=pmix; or use slurm.launcher = \"mpirun\")";
      x.error_message = err.value("message", fmt::format("{}; see {}", why, log_file));
      set_state(x, JobState::TranscodeFail);
    }
    return true;
  });
  post_event(*notifier, &*p, r, previous);
  // Bounded: a receiver that is down costs at most this, and the event is logged.
  notifier->flush(std::chrono::seconds(20));
  if (r.state == JobState::TranscodeSuccess) return 0;
  return o.status != 0 ? o.status : 1;
}

void forward_signal_to_engine(int sig) {
  pid_t c = g_child.load();
  if (c > 0) ::kill(c, sig);
}

}  // namespace gopcast::jobs
