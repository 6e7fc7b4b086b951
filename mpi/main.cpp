// gopcast-mpi: the segment-parallel engine across MPI ranks.
//   mpirun -n N gopcast-mpi JOB.toml [--segment-seconds S] [--manifest PATH] [--set k=v] [--json]
// Rank 0 validates the job, indexes and plans, hands segments out (a free rank takes
// the next one, longest first), encodes segments itself on a worker thread, and
// gathers the encoded segments in order into the outputs while the others still
// encode. Ranks 1..N-1 open the input themselves (shared filesystem) and encode the
// segments they are sent into the job's work folder.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>

#include "av/check.hpp"
#include "comm.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "engine/parallel.hpp"
#include "ops/stills.hpp"
#include "spec/catalog.hpp"
#include "spec/job.hpp"

namespace {

using namespace gopcast;
namespace eng = gopcast::engine;

std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel = true; }

enum Tag : int { kReady = 1, kTask = 2, kDone = 3, kFail = 4, kStop = 5 };

// Plain fixed-width records: every rank runs the same build of gopcast-mpi.
template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
template <typename T>
T get(const std::string& in, size_t& pos) {
  if (pos + sizeof(T) > in.size()) fail(ErrorCode::Internal, "mpi: message too short");
  T v;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}

std::string encode_task(const eng::TaskSpec& t) {
  std::string s;
  put<int32_t>(s, static_cast<int32_t>(t.kind));
  const auto& g = t.segment;
  for (int64_t v : {int64_t{g.index}, g.first_frame, g.end_frame, g.start_pts, g.end_pts, int64_t{g.time_base.num},
                    int64_t{g.time_base.den}, int64_t{g.entry}, g.entry_offset_us, g.entry_end_pts})
    put(s, v);
  return s;
}
eng::TaskSpec decode_task(const std::string& s) {
  size_t pos = 0;
  eng::TaskSpec t;
  t.kind = static_cast<eng::TaskKind>(get<int32_t>(s, pos));
  auto& g = t.segment;
  g.index = static_cast<int>(get<int64_t>(s, pos));
  g.first_frame = get<int64_t>(s, pos);
  g.end_frame = get<int64_t>(s, pos);
  g.start_pts = get<int64_t>(s, pos);
  g.end_pts = get<int64_t>(s, pos);
  g.time_base.num = static_cast<int>(get<int64_t>(s, pos));
  g.time_base.den = static_cast<int>(get<int64_t>(s, pos));
  g.entry = static_cast<int>(get<int64_t>(s, pos));
  g.entry_offset_us = get<int64_t>(s, pos);
  g.entry_end_pts = get<int64_t>(s, pos);
  return t;
}

std::string encode_done(const eng::TaskSpec& t, const eng::TaskResult& r) {
  std::string s = encode_task(t);
  put(s, r.bytes);
  put(s, r.frames);
  put(s, r.seconds);
  return s;
}

std::string encode_error(const Error& e) {
  std::string s;
  put<int32_t>(s, static_cast<int32_t>(e.code()));
  s += e.what();
  return s;
}
Error decode_error(const std::string& s, int rank) {
  size_t pos = 0;
  auto code = static_cast<ErrorCode>(get<int32_t>(s, pos));
  return Error(code, s.substr(pos) + fmt::format(" (on rank {})", rank));
}

struct Options {
  std::string job;
  std::vector<std::string> sets;
  std::optional<double> segment_seconds;
  std::string manifest;
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

TranscodeRequest request_of(const Options& o, ParallelOptions& p, std::vector<SnapshotSpec>* snapshots = nullptr) {
  Job job = load_job(o.job);
  if (snapshots) *snapshots = job.snapshots;
  p.segment_seconds = o.segment_seconds.value_or(job.parallel.segment_seconds.value_or(kDefaultSegmentSeconds));
  p.manifest = o.manifest.empty() ? job.parallel.manifest : std::filesystem::path(o.manifest);
  return request_for_job(std::move(job), Catalog::standard(), o.sets);
}

// A worker rank: ready, then tasks until told to stop. Failures go to rank 0 as data.
int worker(const mpi::Communicator& comm, const TranscodeRequest& request) {
  std::optional<eng::JobContext> ctx;
  std::string ready;
  put<int64_t>(ready, ::getpid());
  ready += process::host_name();
  comm.send(0, kReady, ready);
  for (;;) {
    mpi::Message m = comm.receive(0);
    if (m.tag == kStop) return 0;
    const eng::TaskSpec task = decode_task(m.bytes);
    try {
      if (!ctx) ctx = eng::job_context(request);
      eng::TaskResult r = eng::run_task(*ctx, task, &g_cancel);
      comm.send(0, kDone, encode_done(task, r));
    } catch (const Error& e) {
      comm.send(0, kFail, encode_error(e));
    } catch (const std::exception& e) {
      comm.send(0, kFail, encode_error(Error(ErrorCode::Internal, e.what())));
    }
  }
}

struct Peer {
  int64_t pid = 0;
  std::string host;
};

// When the job stops on a signal, name a rank of this host that is gone (mpirun
// signals the others when one dies) and the segment it held.
std::optional<Error> dead_rank_error(const eng::Coordinator& coord, const std::vector<Peer>& peers, const std::string& host) {
  for (const auto& f : coord.in_flight()) {
    if (f.rank <= 0 || static_cast<size_t>(f.rank) >= peers.size()) continue;
    const Peer& p = peers[static_cast<size_t>(f.rank)];
    if (p.host != host || p.pid <= 0 || ::kill(static_cast<pid_t>(p.pid), 0) == 0 || errno != ESRCH) continue;
    const auto& s = f.task.segment;
    return Error(ErrorCode::TranscodeFailed,
                 f.task.kind == eng::TaskKind::segment
                     ? fmt::format("rank {} (pid {} on {}) died while encoding segment {} (frames {}..{}); rerun the same "
                                   "command to resume",
                                   f.rank, p.pid, p.host, s.index, s.first_frame, s.end_frame - 1)
                     : fmt::format("rank {} (pid {} on {}) died while encoding the audio; rerun the same command to resume",
                                   f.rank, p.pid, p.host));
  }
  return std::nullopt;
}

// Rank 0: dispatch on the main thread (the only one calling MPI), gather and one
// local worker on threads of their own.
TranscodeResult coordinate(const mpi::Communicator& comm, eng::Coordinator& coord) {
  const std::string host = process::host_name();
  std::thread local([&] {
    try {
      while (auto t = coord.take(0, host, true)) coord.done(*t, coord.run_local(*t), 0);
    } catch (...) {
      coord.failed(std::current_exception());
    }
  });
  std::exception_ptr gather_error;
  std::atomic<bool> gathered{false};
  std::thread gatherer([&] {
    try {
      coord.gather();
    } catch (...) {
      gather_error = std::current_exception();
      coord.failed(gather_error);
    }
    gathered = true;
  });

  std::vector<Peer> peers(static_cast<size_t>(comm.size()));
  int active = comm.size() - 1;
  bool named_dead = false;
  auto hand_out = [&](int rank) {
    auto t = coord.take(rank, peers[static_cast<size_t>(rank)].host, false);
    if (t) {
      comm.send(rank, kTask, encode_task(*t));
    } else {
      comm.send(rank, kStop, "");
      --active;
    }
  };
  while ((active > 0 && !g_cancel) || !gathered) {
    // A signal reaches every rank (mpirun forwards it, or sends it when a rank dies):
    // the workers stop on their own, so rank 0 does not wait for them.
    if (g_cancel && !named_dead) {
      named_dead = true;
      auto e = dead_rank_error(coord, peers, host);
      coord.failed(std::make_exception_ptr(
          e ? *e : Error(ErrorCode::Cancelled, coord.context().input.string() + ": cancelled by a signal; rerun the same command to resume")));
    }
    auto m = active > 0 ? comm.poll() : std::nullopt;
    if (!m) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (m->tag == kReady) {
      size_t pos = 0;
      peers[static_cast<size_t>(m->source)].pid = get<int64_t>(m->bytes, pos);
      peers[static_cast<size_t>(m->source)].host = m->bytes.substr(pos);
    } else if (m->tag == kDone) {
      eng::TaskSpec t = decode_task(m->bytes);
      size_t pos = encode_task(t).size();
      eng::TaskResult r;
      r.bytes = get<int64_t>(m->bytes, pos);
      r.frames = get<int64_t>(m->bytes, pos);
      r.seconds = get<double>(m->bytes, pos);
      coord.done(t, r, m->source);
    } else if (m->tag == kFail) {
      coord.failed(std::make_exception_ptr(decode_error(m->bytes, m->source)));
    }
    hand_out(m->source);
  }
  local.join();
  gatherer.join();
  if (auto e = coord.error()) std::rethrow_exception(e);
  return coord.finish();
}

int run(int argc, char** argv) {
  mpi::Communicator comm(&argc, &argv);
  CLI::App app{"gopcast-mpi: segment-parallel transcoding of one job across MPI ranks"};
  app.set_version_flag("--version", std::string("gopcast-mpi ") + GOPCAST_VERSION_STRING);
  Options o;
  app.add_option("JOB", o.job, "Job file (TOML)")->required();
  app.add_option("--set", o.sets, "Override a field of every output's template (repeatable)");
  app.add_option("--segment-seconds", o.segment_seconds,
                 fmt::format("Target segment length, cut at keyframes (default {} s; 0: one segment)", kDefaultSegmentSeconds))
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--manifest", o.manifest, "Segment manifest (HDF5) path (default: <first output>.manifest.h5)");
  app.add_flag("--json", o.json, "Machine-readable JSON result on stdout");
  app.add_flag("-q,--quiet", o.quiet, "No warnings");
  app.add_flag("-v,--verbose", o.verbose, "More detail (repeat for libav's own log)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return comm.rank() == 0 ? app.exit(e) : 0;
  } catch (const CLI::ParseError& e) {
    const auto& info = error_code_info(ErrorCode::Usage);
    if (comm.rank() == 0)
      std::fprintf(stderr, "gopcast-mpi: error: %s: %s (see gopcast-mpi --help)\n", std::string(info.name).c_str(), e.what());
    return info.exit_status;
  }
  log::set_level(log::level_for(o.quiet, o.verbose));
  av::configure_logging();

  // srun without an MPI plugin that reaches Open MPI starts N singletons, each a whole
  // job of its own writing the same outputs: refuse that instead of racing.
  if (const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS"); comm.size() == 1 && step_tasks && std::atoi(step_tasks) > 1) {
    const auto& info = error_code_info(ErrorCode::Usage);
    const std::string msg = fmt::format(
        "Slurm started {} tasks but MPI sees 1 rank: srun's MPI plugin does not reach Open MPI (set slurm.launcher = \"mpirun\", "
        "or MpiDefault=pmix / srun --mpi=pmix)", step_tasks);
    if (o.json) std::cout << nlohmann::json{{"error", {{"code", info.name}, {"message", msg}, {"exit_status", info.exit_status}}}}.dump(2) << "\n";
    std::fprintf(stderr, "gopcast-mpi: error: %s: %s\n", std::string(info.name).c_str(), msg.c_str());
    return info.exit_status;
  }

  // Rank 0 validates; the others learn the verdict ("" = go, "single" = nothing to
  // segment, else an exit status) so that one line reports a bad job, not N.
  ParallelOptions popts;
  std::optional<eng::Coordinator> coord;
  std::optional<TranscodeRequest> request;
  std::vector<ops::StagedStills> stills;  // the job's [[snapshots]], rank 0's own work
  std::string verdict;
  int status = 0;
  if (comm.rank() == 0) {
    try {
      std::vector<SnapshotSpec> snapshots;
      request = request_of(o, popts, &snapshots);
      if (!has_segmented_outputs(*request)) verdict = "single";
      // The dispatch loop watches the signal flag itself (to name a dead rank first).
      else coord.emplace(*request, popts, eng::RunControl{}, "mpi", comm.size());
      // Still images before the encode (seconds, and a bad one fails the job before any
      // rank starts); published with the outputs.
      for (const auto& s : snapshots) stills.push_back(ops::stage_stills(request->input, s, &g_cancel));
    } catch (const Error& e) {
      if (o.json) std::cout << nlohmann::json{{"error", {{"code", e.code_name()}, {"message", e.what()}, {"exit_status", e.exit_status()}}}}.dump(2) << "\n";
      std::fprintf(stderr, "gopcast-mpi: error: %s: %s\n", std::string(e.code_name()).c_str(), e.what());
      status = e.exit_status();
      verdict = std::to_string(status);
    }
  }
  comm.broadcast(verdict, 0);
  if (comm.rank() != 0) {
    if (!verdict.empty()) return verdict == "single" ? 0 : std::stoi(verdict);
    ParallelOptions ignored;
    TranscodeRequest req = request_of(o, ignored);
    return worker(comm, req);
  }
  if (status != 0) return status;
  try {
    TranscodeResult r = verdict == "single" ? transcode(*request, eng::RunControl{&g_cancel, nullptr, 0}) : coordinate(comm, *coord);
    std::vector<ops::StillsResult> written;
    for (auto& s : stills) written.push_back(s.commit());
    if (o.json) {
      nlohmann::json j = to_json(r);
      if (!written.empty()) {
        j["snapshots"] = nlohmann::json::array();
        for (const auto& w : written) j["snapshots"].push_back(ops::to_json(w));
      }
      std::cout << j.dump(2) << "\n";
    } else {
      for (const auto& out : r.outputs) std::cout << "output: " << out.path.string() << "\n";
      for (const auto& w : written) std::cout << ops::summary(w);
      if (r.parallel)
        std::cout << fmt::format("segments: {} on {} ranks in {:.2f} s\nmanifest: {}\n", r.parallel->segments,
                                 r.parallel->workers, r.seconds, r.parallel->manifest.string());
    }
    return 0;
  } catch (const Error& e) {
    if (coord) coord->abandon(e.code());
    // Ranks that died or were signalled will never reach MPI_Finalize.
    if (g_cancel) comm.leave_unfinalized();
    if (o.json) std::cout << nlohmann::json{{"error", {{"code", e.code_name()}, {"message", e.what()}, {"exit_status", e.exit_status()}}}}.dump(2) << "\n";
    std::fprintf(stderr, "gopcast-mpi: error: %s: %s\n", std::string(e.code_name()).c_str(), e.what());
    return e.exit_status();
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
