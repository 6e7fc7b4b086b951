#include "jobs/submit.hpp"

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
#include "app/request.hpp"
#include "jobs/events.hpp"
#include "slurm/script.hpp"
#include "slurm/slurm.hpp"
#include "spec/catalog.hpp"
#include "spec/job.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;

namespace gopcast::jobs {
namespace {

using slurm::Pipeline;
using slurm::PipelineState;

void check_priority(int priority) {
  if (priority < 1 || priority > 10) fail(ErrorCode::OutOfRange, "--priority: {} is outside 1..10 (10 starts first)", priority);
}

// The license units each job of `p` takes, checking that Slurm has the pool.
long license_units_for(const slurm::Slurm& sl, const Pipeline& p) {
  if (p.max_concurrent <= 0) return 0;
  auto total = sl.license_total(p.license);
  if (!total)
    throw SlurmError(ErrorCode::SchedulerFailed,
                     fmt::format("pipeline {}: slurm.max_concurrent needs the license pool {}, which Slurm does not have; "
                                 "a site administrator adds Licenses={}:{} to slurm.conf (see slurm/README.md)",
                                 p.name, p.license, p.license, std::max(1000L, slurm::license_pool_needed(p.max_concurrent))));
  return slurm::license_units(*total, p.max_concurrent, p.license);
}

fs::path script_template_path(const Pipeline& p) {
  if (!p.script_template.empty()) return p.script_template;
  if (const char* env = std::getenv("GOPCAST_SBATCH_TEMPLATE"); env && *env) return env;
  std::error_code ec;
  const auto dirs = data_dir_candidates("slurm", GOPCAST_SLURM_DIR_BUILD, GOPCAST_SLURM_DIR_INSTALL);
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / "job.sbatch.in", ec)) return d / "job.sbatch.in";
  return dirs.back() / "job.sbatch.in";
}

std::string write_script(const Pipeline& p, const fs::path& where, const slurm::JobDirectives& d,
                         const std::vector<std::string>& command) {
  const fs::path tmpl = script_template_path(p);
  std::error_code ec;
  if (!fs::is_regular_file(tmpl, ec)) fail(ErrorCode::ResourceNotFound, "{}: no such sbatch script template", tmpl.string());
  std::string text = slurm::render_script(files::read(tmpl), tmpl.string(), slurm::sbatch_directives(p, d), command);
  files::write_atomic(where, text, 0755);
  return text;
}

// The gopcast program the job script runs: $GOPCAST_BIN, else this program when it is
// gopcast (not, say, the Python interpreter the module was loaded into), else gopcast on PATH.
std::vector<std::string> runner_command(const Store& s) {
  std::string self;
  if (const char* env = std::getenv("GOPCAST_BIN"); env && *env) self = fs::absolute(env).string();
  else if (const std::string exe = process::self_exe(); fs::path(exe).filename() == "gopcast") self = exe;
  else self = process::which("gopcast").value_or("gopcast");
  return {self, "jobs", "exec", "--home", fs::absolute(s.home()).string()};
}

// The job as it will run, validated now: outputs expanded, templates resolved,
// the manifest path fixed, and the stored copy written with absolute paths only.
struct PreparedJob {
  Job stored;
  std::vector<std::string> outputs;
  std::string manifest;
  std::string input;
};

PreparedJob prepare_job(const fs::path& job_file, bool input_optional, const std::optional<fs::path>& input,
                        const std::vector<std::string>& sets) {
  Job check = load_job(job_file, input_optional);
  if (input) check.input.path = fs::absolute(*input).lexically_normal();
  Job stored = load_job(job_file, input_optional);
  stored.input.path = check.input.path;
  if (!stored.input.path.is_absolute()) stored.input.path = fs::absolute(stored.input.path).lexically_normal();
  std::error_code ec;
  if (!fs::exists(stored.input.path, ec))
    fail(ErrorCode::ResourceNotFound, "{}: no such input file", stored.input.path.string());
  app::RunOptions options;
  options.sets = sets;
  const app::TranscodeRequest req = app::resolve(std::move(check), options).transcode;
  PreparedJob pj;
  pj.input = stored.input.path.string();
  auto claim = [&](const fs::path& p) {
    const fs::path out = fs::absolute(p).lexically_normal();
    if (out == stored.input.path) fail(ErrorCode::OutputNotWritable, "{}: the output would overwrite the input", out.string());
    pj.outputs.push_back(out.string());
  };
  for (const auto& o : req.outputs) claim(o.path);
  for (const auto& l : req.ladders) claim(l.master);
  // The stored job names each output by its expanded path (a ladder by its master).
  for (size_t i = 0; i < stored.outputs.size(); ++i) {
    auto& o = stored.outputs[i];
    o.path = fs::absolute(expand_output_pattern(o.path, stored.input.path, fmt::format("outputs[{}].path", i))).lexically_normal().string();
    for (const auto& set : sets) spec::apply_override(o.override_table, set);
  }
  fs::path manifest = stored.parallel.manifest.empty() ? app::default_manifest_path(req) : stored.parallel.manifest;
  pj.manifest = fs::absolute(manifest).lexically_normal().string();
  stored.parallel.manifest = pj.manifest;
  pj.stored = std::move(stored);
  return pj;
}

JobRecord new_record(const std::string& id, const std::string& pipeline, int priority, const std::string& user_data,
                     const PreparedJob& pj, const fs::path& job_file) {
  JobRecord r;
  r.id = id;
  r.pipeline = pipeline;
  r.priority = priority;
  r.user_data = user_data;
  r.input = pj.input;
  r.outputs = pj.outputs;
  r.manifest = pj.manifest;
  r.job_file = job_file.string();  // written when the job starts (jobs exec), from the store
  r.submitted_at = now_iso8601();
  set_state(r, JobState::Submitted);
  return r;
}

std::string stored_job_text(const Job& job) {
  std::ostringstream text;
  text << "# The job as submitted to gopcast, with absolute paths.\n" << job_to_table(job, true) << "\n";
  return text.str();
}

// sbatch options given as argv (never through the script text): the log path may hold anything.
std::vector<std::string> submit_args(const fs::path& log, bool paused, const Pipeline& p) {
  std::vector<std::string> args;
  if (paused) args.push_back("--hold");
  args.push_back("--output=" + log.string());
  for (const auto& o : p.sbatch_options) args.push_back(o);
  return args;
}

// --- reconciliation with Slurm -----------------------------------------------------

// The final state of a job Slurm ended without gopcast recording it, from Slurm's own word.
std::pair<JobState, std::string> ended_by_slurm(const std::optional<std::string>& slurm_state, const std::string& id) {
  if (!slurm_state)
    return {JobState::TranscodeFail,
            fmt::format("Slurm job {} ended without gopcast recording a result (Slurm no longer knows it: node failure "
                        "or killed); resubmit to resume from the manifest",
                        id)};
  const std::string& st = *slurm_state;
  if (st == "CANCELLED") return {JobState::TranscodeCancelled, fmt::format("Slurm job {} was cancelled in Slurm", id)};
  if (st == "TIMEOUT")
    return {JobState::TranscodeFail, fmt::format("Slurm job {} reached its time limit; resubmit to resume from the manifest", id)};
  if (st == "NODE_FAIL" || st == "BOOT_FAIL")
    return {JobState::TranscodeFail, fmt::format("Slurm job {} ended with {} (node failure); resubmit to resume from the manifest", id, st)};
  if (st == "PREEMPTED")
    return {JobState::TranscodeFail, fmt::format("Slurm job {} was preempted and not requeued; resubmit to resume", id)};
  if (st == "OUT_OF_MEMORY") return {JobState::TranscodeFail, fmt::format("Slurm job {} ran out of memory", id)};
  return {JobState::TranscodeFail, fmt::format("Slurm job {} ended ({}) without gopcast recording a result", id, st)};
}

// Slurm states after which a job runs no more; any other (PENDING, RUNNING, REQUEUED,
// SUSPENDED, ...) means it may still run and record its own end.
bool slurm_ended(const std::string& st) {
  static const std::set<std::string> ended = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                                              "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"};
  return ended.count(st) > 0;
}

// A record whose submission never reached Slurm (the submitter was killed between
// storing it and sbatch) is settled after this long.
constexpr double kSubmitWindowSeconds = 600;

double seconds_since(const std::string& iso8601) {
  std::tm tm{};
  if (!strptime(iso8601.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

// Asking for jobs by id is cheaper than listing a pipeline's whole queue, up to this many.
constexpr size_t kMaxIdsPerQuery = 100;

// Settles the jobs among `open` that Slurm ended without gopcast recording it, from one
// squeue call for all of them; changed records are written in one transaction.
void reconcile(Store& store, const std::vector<OpenJob>& open) {
  std::set<std::string> names;
  std::vector<std::string> ids;
  std::map<std::string, std::pair<JobState, std::string>> settle;  // job id -> final state, why
  for (const auto& o : open) {
    if (!o.slurm_job_id.empty()) {
      names.insert("gopcast-" + o.pipeline);
      ids.push_back(o.slurm_job_id);
    } else if (seconds_since(o.submitted_at) > kSubmitWindowSeconds) {
      settle[o.id] = {JobState::TranscodeFail, "the submission was interrupted before Slurm took the job; submit it again"};
    }
  }
  if (!ids.empty()) {
    slurm::Slurm sl;
    std::map<std::string, std::string> known;  // Slurm job id -> state
    for (auto& e : sl.known({names.begin(), names.end()}, ids.size() <= kMaxIdsPerQuery ? ids : std::vector<std::string>{}))
      known[e.id] = e.state;
    for (const auto& o : open) {
      if (o.slurm_job_id.empty()) continue;
      auto it = known.find(o.slurm_job_id);
      if (it != known.end() && !slurm_ended(it->second)) continue;
      settle[o.id] = ended_by_slurm(it == known.end() ? std::nullopt : std::optional<std::string>(it->second), o.slurm_job_id);
    }
  }
  if (settle.empty()) return;
  std::vector<std::string> settle_ids;
  for (const auto& [id, _] : settle) settle_ids.push_back(id);
  std::map<std::string, JobState> previous;
  auto changed = store.update_many(settle_ids, [&](JobRecord& x) {
    if (is_final(x.state)) return false;  // the job recorded its own end meanwhile
    auto [state, message] = settle.at(x.id);
    previous[x.id] = x.state;
    if (x.cancel_requested) state = JobState::TranscodeCancelled, message = "cancelled by user";
    x.finished_at = now_iso8601();
    if (state == JobState::TranscodeFail) {
      x.error_code = std::string(error_code_info(ErrorCode::TranscodeFailed).name);
      x.error_message = message;
    }
    set_state(x, state, message);
    return true;
  });
  if (changed.empty()) return;
  auto notifier = make_notifier(store);
  std::map<std::string, std::optional<Pipeline>> pipelines;
  for (const auto& r : changed) {
    auto it = pipelines.find(r.pipeline);
    if (it == pipelines.end()) it = pipelines.emplace(r.pipeline, try_pipeline(store, r.pipeline)).first;
    post_event(*notifier, it->second ? &*it->second : nullptr, r, previous.at(r.id));
  }
  notifier->flush(kCommandNotifyDeadline);
}

// What Slurm lets one batch be: arrays of at most MaxArraySize tasks (indices
// 0..MaxArraySize-1), and no more jobs than MaxJobCount leaves room for now.
struct BatchLimits {
  long max_array = 1001;
};

BatchLimits batch_limits(const slurm::Slurm& sl, long inputs, const fs::path& where) {
  BatchLimits l;
  l.max_array = sl.config_number("MaxArraySize", 1001);
  if (l.max_array < 1)
    fail(ErrorCode::SchedulerLimit, "--batch {}: Slurm's MaxArraySize is {}: job arrays are off on this cluster", where.string(), l.max_array);
  const long max_jobs = sl.config_number("MaxJobCount", 10000);
  // Every array task is a job for MaxJobCount, and so is every job Slurm still keeps
  // (pending, running, or ended less than MinJobAge ago), whoever submitted it.
  const long known = static_cast<long>(sl.known({}).size());
  if (inputs > max_jobs - known)
    fail(ErrorCode::SchedulerLimit,
         "--batch {}: {} inputs, but Slurm takes at most {} more jobs now (MaxJobCount={}, {} jobs in slurmctld); "
         "split the batch, wait for the queue to drain, or have the site raise MaxJobCount",
         where.string(), inputs, std::max(0L, max_jobs - known), max_jobs, known);
  return l;
}

}  // namespace


JobRecord submit(Store& store, const SubmitRequest& req) {
  check_priority(req.priority);
  Pipeline p = find_pipeline(store, req.pipeline);
  slurm::Slurm sl;
  const long units = license_units_for(sl, p);
  PreparedJob pj = prepare_job(req.job_file, false, std::nullopt, req.sets);

  const std::string id = store.create_id();
  const fs::path dir = store.job_dir(id);
  try {
    const std::string job = stored_job_text(pj.stored);
    files::write_atomic(dir / "job.toml", job);
    JobRecord r = new_record(id, p.name, req.priority, req.user_data, pj, dir / "job.toml");
    store.insert({r}, {job});
    auto command = runner_command(store);
    command.push_back(id);
    write_script(p, dir / "job.sbatch", {slurm::nice_for_priority(req.priority, p.nice_step), units, id}, command);
    ensure_state_dir(store);
    std::string slurm_id;
    bool paused = false;
    {
      files::Lock lock(pipeline_lock_file(store, p.name), files::Lock::Mode::Shared);
      paused = effective_state(store, p) == PipelineState::Paused;
      slurm_id = sl.sbatch(dir / "job.sbatch", submit_args(dir / "slurm-%j.log", paused, p));
    }
    r = store.update(id, [&](JobRecord& x) {
      if (x.slurm_job_id.empty()) x.slurm_job_id = slurm_id;  // the job may have started already
      x.held = paused;
      return true;
    });
    auto notifier = make_notifier(store);
    post_event(*notifier, &p, r, JobState::Submitted);
    notifier->flush(kCommandNotifyDeadline);
    return r;
  } catch (...) {
    store.remove(id);  // nothing half-submitted stays in the store
    throw;
  }
}

std::string batch_member_id(const std::string& batch_id, long index) { return fmt::format("{}-{:06d}", batch_id, index); }

BatchResult submit_batch(Store& store, const BatchRequest& req) {
  check_priority(req.priority);
  Pipeline p = find_pipeline(store, req.pipeline);
  slurm::Slurm sl;
  const long units = license_units_for(sl, p);

  std::error_code ec;
  std::vector<fs::path> inputs;
  if (fs::is_directory(req.inputs, ec)) {
    for (const auto& e : fs::directory_iterator(req.inputs, ec)) {
      if (e.path().filename().string().starts_with(".")) continue;
      if (e.is_regular_file(ec)) inputs.push_back(fs::absolute(e.path()));
      // A FIFO, socket or device in the folder would hang or read forever: not an input.
      else if (!e.is_directory(ec)) log::warn("{}: skipped: not a regular file (a FIFO, socket or device)", e.path().string());
    }
  } else if (fs::is_regular_file(req.inputs, ec)) {
    for (const auto& f : read_path_list(req.inputs, "batch list")) inputs.push_back(fs::absolute(f).lexically_normal());
  } else {
    fail(ErrorCode::ResourceNotFound, "{}: no such folder or list file", req.inputs.string());
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) fail(ErrorCode::ResourceNotFound, "{}: no input files in it", req.inputs.string());
  const BatchLimits limits = batch_limits(sl, static_cast<long>(inputs.size()), req.inputs);

  // Everything is validated before anything is submitted: one bad input fails the batch.
  std::vector<PreparedJob> prepared;
  std::map<std::string, std::string> claimed;  // output -> input
  for (const auto& in : inputs) {
    prepared.push_back(prepare_job(req.job_template, true, in, req.sets));
    for (const auto& o : prepared.back().outputs) {
      auto [it, fresh] = claimed.emplace(o, in.string());
      if (!fresh)
        fail(ErrorCode::OutputNotWritable, "{}: both {} and {} would write it; name outputs with {{name}} (and {{dir}})", o,
             it->second, in.string());
    }
  }

  BatchResult result;
  // A batch id is a job id that owns no record: its members are "<batch>-NNNNNN". Its
  // folder holds the arrays' scripts and Slurm's logs; each member's job file is written
  // when it starts, from the store.
  result.batch_id = store.create_id();
  std::vector<std::string> jobs;
  jobs.reserve(prepared.size());
  for (size_t i = 0; i < prepared.size(); ++i) {
    const std::string id = batch_member_id(result.batch_id, static_cast<long>(i));
    JobRecord r = new_record(id, p.name, req.priority, req.user_data, prepared[i], store.job_dir(id) / "job.toml");
    r.batch_id = result.batch_id;
    r.held = true;  // until every array is in Slurm and the records hold their ids
    result.jobs.push_back(std::move(r));
    jobs.push_back(stored_job_text(prepared[i].stored));
  }
  prepared.clear();

  // All or nothing: the records are stored first (one transaction), then every array
  // is submitted held, then the records get their Slurm ids (one transaction) and the
  // arrays are released. A failure on the way cancels what Slurm has and removes the
  // records; a submitter killed on the way leaves records without a Slurm id, which
  // `jobs list` settles as failed (and held arrays that find their records ended).
  std::vector<std::string> arrays;
  auto undo = [&] {
    try {
      sl.cancel(arrays);
    } catch (const Error& e) {
      log::warn("batch {}: could not cancel Slurm arrays {}: {}", result.batch_id, fmt::join(arrays, ","), e.what());
    }
    store.remove_batch(result.batch_id);
  };
  bool paused = false;
  try {
    store.insert(result.jobs, jobs);
    jobs.clear();
    ensure_state_dir(store);
    files::Lock lock(pipeline_lock_file(store, p.name), files::Lock::Mode::Shared);
    paused = effective_state(store, p) == PipelineState::Paused;
    const long total = static_cast<long>(result.jobs.size());
    for (long offset = 0; offset < total; offset += limits.max_array) {
      const long count = std::min<long>(limits.max_array, total - offset);
      auto command = runner_command(store);
      command.insert(command.end(), {"--batch", result.batch_id, "--offset", std::to_string(offset)});
      const fs::path script = store.job_dir(result.batch_id) / fmt::format("array-{:06d}.sbatch", offset);
      write_script(p, script, {slurm::nice_for_priority(req.priority, p.nice_step), units, result.batch_id}, command);
      auto args = submit_args(store.job_dir(result.batch_id) / "slurm-%A_%a.log", true, p);
      args.push_back(fmt::format("--array=0-{}", count - 1));
      try {
        arrays.push_back(sl.sbatch(script, args));
      } catch (const Error& e) {
        throw SlurmError(ErrorCode::SchedulerFailed,
                         fmt::format("batch of {} inputs: Slurm refused array {} of {} (inputs {}..{}): {}; nothing was submitted "
                                     "(the {} array(s) Slurm had taken were cancelled)",
                                     total, offset / limits.max_array + 1, (total + limits.max_array - 1) / limits.max_array,
                                     offset, offset + count - 1, e.what(), arrays.size()));
      }
    }
    std::vector<std::pair<std::string, std::string>> slurm_ids;
    slurm_ids.reserve(result.jobs.size());
    for (size_t i = 0; i < result.jobs.size(); ++i) {
      auto& r = result.jobs[i];
      r.slurm_job_id = fmt::format("{}_{}", arrays[i / static_cast<size_t>(limits.max_array)], i % static_cast<size_t>(limits.max_array));
      r.held = paused;
      slurm_ids.emplace_back(r.id, r.slurm_job_id);
    }
    store.set_slurm_ids(slurm_ids, paused);
    if (!paused) sl.release(arrays);
  } catch (...) {
    undo();
    throw;
  }
  result.slurm_array_ids = arrays;
  auto notifier = make_notifier(store);
  for (const auto& r : result.jobs) post_event(*notifier, &p, r, JobState::Submitted);
  notifier->flush(kCommandNotifyDeadline);
  return result;
}

std::vector<JobRecord> list_jobs(Store& store, const JobFilter& f) {
  reconcile(store, store.open_jobs(f));
  return store.list(f);
}

void for_each_job(Store& store, const JobFilter& f, const std::function<void(const JobRow&)>& row) {
  reconcile(store, store.open_jobs(f));
  store.for_each(f, row);
}

JobRecord show_job(Store& store, const std::string& id) {
  JobRecord r = store.get(id);
  if (is_final(r.state)) return r;
  reconcile(store, {{r.id, r.pipeline, r.slurm_job_id, r.submitted_at}});
  return store.get(id);
}

JobRecord cancel_job(Store& store, const std::string& id) {
  JobRecord r = store.get(id);
  if (is_final(r.state)) return r;
  auto p = try_pipeline(store, r.pipeline);
  JobState previous = r.state;
  bool ended_now = false;
  r = store.update(id, [&](JobRecord& x) {
    if (is_final(x.state)) return false;
    previous = x.state;
    x.cancel_requested = true;
    // A job that has not started ends here; a running one ends when its ranks stop.
    if (x.state == JobState::Submitted) {
      x.finished_at = now_iso8601();
      set_state(x, JobState::TranscodeCancelled, "cancelled by user before it started");
      ended_now = true;
    }
    return true;
  });
  if (!r.slurm_job_id.empty()) slurm::Slurm().cancel(r.slurm_job_id);
  if (ended_now) {
    auto notifier = make_notifier(store);
    post_event(*notifier, p ? &*p : nullptr, r, previous);
    notifier->flush(kCommandNotifyDeadline);
    return r;
  }
  // Give a running job the time its ranks take to stop (Slurm's KillWait), then
  // settle it from Slurm's word if the job itself could not record its end.
  try {
    return wait_job(store, id, 60.0);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::WaitTimeout) throw;
    return show_job(store, id);
  }
}

JobRecord wait_job(Store& store, const std::string& id, std::optional<double> timeout, const std::atomic<bool>* stop) {
  const auto start = std::chrono::steady_clock::now();
  auto last_reconcile = start;
  JobRecord r = show_job(store, id);
  for (;;) {
    if (is_final(r.state)) return r;
    if (stop && *stop) fail(ErrorCode::Cancelled, "jobs wait: interrupted (the job {} goes on)", id);
    const auto now = std::chrono::steady_clock::now();
    if (timeout && std::chrono::duration<double>(now - start).count() >= *timeout)
      fail(ErrorCode::WaitTimeout, "job {}: still {} after {:g} s", id, to_string(r.state), *timeout);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    // The record changes as the job runs; Slurm is asked only every few seconds.
    if (std::chrono::steady_clock::now() - last_reconcile > std::chrono::seconds(3)) {
      r = show_job(store, id);
      last_reconcile = std::chrono::steady_clock::now();
    } else {
      r = store.get(id);
    }
  }
}

}  // namespace gopcast::jobs
