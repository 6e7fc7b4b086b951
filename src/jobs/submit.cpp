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
  if (!fs::is_regular_file(stored.input.path, ec))
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
  r.job_file = job_file.string();
  r.submitted_at = now_iso8601();
  set_state(r, JobState::Submitted);
  return r;
}

void write_job_file(const fs::path& where, const Job& job) {
  std::ostringstream text;
  text << "# The job as submitted to gopcast, with absolute paths.\n" << job_to_table(job, true) << "\n";
  files::write_atomic(where, text.str());
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

void reconcile(Store& store, std::vector<JobRecord>& records) {
  std::set<std::string> names;
  for (const auto& r : records)
    if (!is_final(r.state) && !r.slurm_job_id.empty()) names.insert("gopcast-" + r.pipeline);
  if (names.empty()) return;
  slurm::Slurm sl;
  std::set<std::string> queued;
  for (const auto& e : sl.queue({names.begin(), names.end()})) queued.insert(e.id);
  std::unique_ptr<notify::Notifier> notifier;
  for (auto& r : records) {
    if (is_final(r.state) || r.slurm_job_id.empty() || queued.count(r.slurm_job_id)) continue;
    // Slurm shows array tasks that have not started yet under the array's own line only
    // when not expanded; --array expands them, so absence means ended.
    auto slurm_state = sl.job_state(r.slurm_job_id);
    if (slurm_state && (*slurm_state == "PENDING" || *slurm_state == "RUNNING" || *slurm_state == "COMPLETING" ||
                        *slurm_state == "REQUEUED" || *slurm_state == "SUSPENDED" || *slurm_state == "CONFIGURING"))
      continue;
    auto [state, message] = ended_by_slurm(slurm_state, r.slurm_job_id);
    JobState previous = r.state;
    bool changed = false;
    r = store.update(r.id, [&](JobRecord& x) {
      if (is_final(x.state)) return false;  // the job recorded its own end meanwhile
      previous = x.state;
      if (x.cancel_requested) state = JobState::TranscodeCancelled, message = "cancelled by user";
      x.finished_at = now_iso8601();
      if (state == JobState::TranscodeFail) {
        x.error_code = std::string(error_code_info(ErrorCode::TranscodeFailed).name);
        x.error_message = message;
      }
      set_state(x, state, message);
      changed = true;
      return true;
    });
    if (changed) {
      if (!notifier) notifier = make_notifier(store);
      auto p = try_pipeline(store, r.pipeline);
      post_event(*notifier, p ? &*p : nullptr, r, previous);
    }
  }
  if (notifier) notifier->flush(kCommandNotifyDeadline);
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
    write_job_file(dir / "job.toml", pj.stored);
    JobRecord r = new_record(id, p.name, req.priority, req.user_data, pj, dir / "job.toml");
    store.put(r);
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
    for (const auto& e : fs::directory_iterator(req.inputs, ec))
      if (e.is_regular_file(ec) && !e.path().filename().string().starts_with(".")) inputs.push_back(fs::absolute(e.path()));
  } else if (fs::is_regular_file(req.inputs, ec)) {
    for (const auto& f : read_path_list(req.inputs, "batch list")) inputs.push_back(fs::absolute(f).lexically_normal());
  } else {
    fail(ErrorCode::ResourceNotFound, "{}: no such folder or list file", req.inputs.string());
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) fail(ErrorCode::ResourceNotFound, "{}: no input files in it", req.inputs.string());

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
  // A batch id is a job id that owns no record: its members are "<batch>-NNNNNN".
  result.batch_id = store.create_id();
  std::vector<std::string> created = {result.batch_id};
  try {
    for (size_t i = 0; i < prepared.size(); ++i) {
      const std::string id = batch_member_id(result.batch_id, static_cast<long>(i));
      store.create_dir(id);
      created.push_back(id);
      write_job_file(store.job_dir(id) / "job.toml", prepared[i].stored);
      JobRecord r = new_record(id, p.name, req.priority, req.user_data, prepared[i], store.job_dir(id) / "job.toml");
      r.batch_id = result.batch_id;
      store.put(r);
      result.jobs.push_back(std::move(r));
    }
    // Slurm caps array indices (MaxArraySize); larger batches become several arrays.
    long max_array = 1001;
    if (auto v = sl.config_value("MaxArraySize")) try {
        max_array = std::max(2L, std::stol(*v));
      } catch (...) {
      }
    const long chunk = max_array;  // indices 0..MaxArraySize-1
    ensure_state_dir(store);
    files::Lock lock(pipeline_lock_file(store, p.name), files::Lock::Mode::Shared);
    const bool paused = effective_state(store, p) == PipelineState::Paused;
    for (long offset = 0; offset < static_cast<long>(prepared.size()); offset += chunk) {
      const long count = std::min<long>(chunk, static_cast<long>(prepared.size()) - offset);
      auto command = runner_command(store);
      command.insert(command.end(), {"--batch", result.batch_id, "--offset", std::to_string(offset)});
      const fs::path script = store.job_dir(result.batch_id) / fmt::format("array-{:06d}.sbatch", offset);
      write_script(p, script, {slurm::nice_for_priority(req.priority, p.nice_step), units, result.batch_id}, command);
      auto args = submit_args(store.job_dir(result.batch_id) / "slurm-%A_%a.log", paused, p);
      args.push_back(fmt::format("--array=0-{}", count - 1));
      const std::string array_id = sl.sbatch(script, args);
      result.slurm_array_ids.push_back(array_id);
      for (long k = 0; k < count; ++k) {
        auto& r = result.jobs[static_cast<size_t>(offset + k)];
        r = store.update(r.id, [&](JobRecord& x) {
          if (x.slurm_job_id.empty()) x.slurm_job_id = fmt::format("{}_{}", array_id, k);
          x.held = paused;
          return true;
        });
      }
    }
  } catch (...) {
    for (const auto& id : created) store.remove(id);
    throw;
  }
  auto notifier = make_notifier(store);
  for (const auto& r : result.jobs) post_event(*notifier, &p, r, JobState::Submitted);
  notifier->flush(kCommandNotifyDeadline);
  return result;
}

std::vector<JobRecord> list_jobs(Store& store, const JobFilter& f) {
  std::vector<JobRecord> all = store.list();
  std::vector<JobRecord> out;
  for (auto& r : all)
    if ((f.pipeline.empty() || r.pipeline == f.pipeline) && (f.batch_id.empty() || r.batch_id == f.batch_id)) out.push_back(std::move(r));
  reconcile(store, out);
  if (f.state) std::erase_if(out, [&](const JobRecord& r) { return r.state != *f.state; });
  return out;
}

JobRecord show_job(Store& store, const std::string& id) {
  std::vector<JobRecord> one = {store.get(id)};
  reconcile(store, one);
  return one.front();
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
