// gopcast-mpi: a job on the segment-parallel engine across MPI ranks.
//   mpirun -n N gopcast-mpi JOB.toml [--set k=v] [--segment-seconds S] [--max-attempts A] [--manifest PATH] [--json]
// A thin caller of the one run path (app/run.hpp): rank 0 resolves the job and runs it
// with the other ranks as remote workers (mpi/transport.hpp) beside one worker thread
// of its own; ranks 1..N-1 resolve the same job and encode the tasks they are sent.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/report.hpp"
#include "app/run.hpp"
#include "av/check.hpp"
#include "comm.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "spec/job.hpp"
#include "transport.hpp"

namespace {

using namespace gopcast;

std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel = true; }

struct Options {
  std::string job;
  app::RunOptions run;
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

app::RunRequest resolve(const Options& o) { return app::resolve(load_job(o.job), o.run); }

// One line on stderr (and the JSON error on stdout), from rank 0 only.
int report(const Options& o, ErrorCode code, const std::string& message) {
  if (o.json) std::cout << app::error_json(code, message).dump(2) << "\n";
  std::fprintf(stderr, "gopcast-mpi: error: %s: %s\n", std::string(error_code_info(code).name).c_str(), message.c_str());
  return error_code_info(code).exit_status;
}

int run(int argc, char** argv) {
  mpi::Communicator comm(&argc, &argv);
  CLI::App cli{"gopcast-mpi: segment-parallel transcoding of one job across MPI ranks"};
  cli.set_version_flag("--version", std::string("gopcast-mpi ") + GOPCAST_VERSION_STRING);
  Options o;
  o.run.segment_seconds_key = "--segment-seconds";
  o.run.max_attempts_key = "--max-attempts";
  cli.add_option("JOB", o.job, "Job file (TOML)")->required();
  cli.add_option("--set", o.run.sets, "Override a field of every output's template (repeatable)");
  cli.add_option("--segment-seconds", o.run.segment_seconds,
                 fmt::format("Target segment length, cut at keyframes (default {} s; 0: one segment)", kDefaultSegmentSeconds));
  cli.add_option("--max-attempts", o.run.max_attempts, fmt::format("Tries of a segment before it fails the job (default {})",
                                                                   kDefaultMaxAttempts));
  cli.add_flag("--wait-lock", o.run.wait_lock, app::kWaitLockHelp);
  std::string manifest;
  cli.add_option("--manifest", manifest, "Segment manifest (HDF5) path (default: <first output>.manifest.h5)");
  cli.add_flag("--json", o.json, "Machine-readable JSON result on stdout");
  cli.add_flag("-q,--quiet", o.quiet, "No warnings");
  cli.add_flag("-v,--verbose", o.verbose, "More detail (repeat for libav's own log)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return comm.rank() == 0 ? cli.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    const auto& info = error_code_info(ErrorCode::Usage);
    if (comm.rank() == 0)
      std::fprintf(stderr, "gopcast-mpi: error: %s: %s (see gopcast-mpi --help)\n", std::string(info.name).c_str(), e.what());
    return info.exit_status;
  }
  o.run.manifest = manifest;
  log::set_level(log::level_for(o.quiet, o.verbose));
  av::configure_logging();

  // srun without an MPI plugin that reaches Open MPI starts N singletons, each a whole
  // job of its own writing the same outputs: refuse that instead of racing.
  if (const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS"); comm.size() == 1 && step_tasks && std::atoi(step_tasks) > 1)
    return report(o, ErrorCode::Usage,
                  fmt::format("Slurm started {} tasks but MPI sees 1 rank: srun's MPI plugin does not reach Open MPI (set "
                              "slurm.launcher = \"mpirun\", or MpiDefault=pmix / srun --mpi=pmix)",
                              step_tasks));

  // Rank 0 resolves the job first; the others learn the verdict ("" = go, else an exit
  // status) so that one line reports a bad job, not N.
  std::optional<app::RunRequest> request;
  std::string verdict;
  int status = 0;
  if (comm.rank() == 0) {
    try {
      request = resolve(o);
    } catch (const Error& e) {
      status = report(o, e.code(), e.what());
      verdict = std::to_string(status);
    }
  }
  comm.broadcast(verdict, 0);
  if (comm.rank() != 0) {
    if (!verdict.empty()) return std::stoi(verdict);
    mpi::MpiChannel channel(comm);
    try {
      app::serve(resolve(o), channel, &g_cancel);
    } catch (const Error& e) {
      // The job rank 0 resolved does not resolve here (a file only it can read): every
      // task this rank is given fails with the reason, and rank 0 reports it.
      sched::serve(channel, [&](const sched::Task&) -> sched::TaskResult { throw e; });
    }
    return 0;
  }
  if (status != 0) return status;

  mpi::MpiWorkers workers(comm);
  try {
    app::RunControl control;
    control.cancel = &g_cancel;
    const app::RunResult r = app::run(*request, control, &workers);
    if (o.json) {
      std::cout << app::result_json(r).dump(2) << "\n";
    } else {
      for (const auto& out : r.outputs) std::cout << "output: " << out.path.string() << "\n";
      for (const auto& w : r.snapshots) std::cout << ops::summary(w);
      if (r.parallel)
        std::cout << fmt::format("segments: {} on {} ranks in {:.2f} s\nmanifest: {}\n", r.parallel->segments, r.parallel->workers,
                                 r.seconds, r.parallel->manifest.string());
    }
    return 0;
  } catch (const Error& e) {
    // Ranks that died or were signalled will never reach MPI_Finalize; the others wait
    // for a task until told there is none.
    if (g_cancel) comm.leave_unfinalized();
    else workers.release_all();
    return report(o, e.code(), e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gopcast-mpi: error: InternalError: %s\n", e.what());
    return 1;
  }
}
