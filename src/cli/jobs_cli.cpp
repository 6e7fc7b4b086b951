#include "cli/jobs_cli.hpp"

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "core/error.hpp"
#include "jobs/exec.hpp"
#include "jobs/submit.hpp"

namespace gopcast::cli {
namespace {

std::atomic<bool> g_exec_signalled{false};
extern "C" void on_exec_signal(int sig) {
  g_exec_signalled = true;
  jobs::forward_signal_to_engine(sig);
}

std::string cell(std::string s, size_t width) {
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  return s;
}

// `jobs list`: rows are printed as the store reads them, so memory stays flat at any count.
void print_jobs(jobs::Store& store, const jobs::JobFilter& f, bool json) {
  std::string out;
  size_t n = 0;
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  };
  if (!json) out = fmt::format("{:<26} {:<12} {:<18} {:>3} {:<12} {}\n", "ID", "PIPELINE", "STATE", "PRI", "SLURM", "INPUT");
  else out = "[";
  jobs::for_each_job(store, f, [&](const jobs::JobRow& r) {
    if (json) {
      out += n ? ",\n  " : "\n  ";
      out += r.json;  // the record as stored: the same JSON `jobs show --json` prints
    } else {
      fmt::format_to(std::back_inserter(out), "{:<26} {:<12} {:<18} {:>3} {:<12} {}\n", r.id, cell(std::string(r.pipeline), 12),
                     r.state, r.priority, cell(std::string(r.slurm_job_id), 12), r.input);
    }
    if (++n % 256 == 0) flush();
  });
  if (json) out += n ? "\n]\n" : "]\n";
  flush();
  std::fflush(stdout);
}

std::string job_text(const jobs::JobRecord& r) {
  std::string out;
  auto line = [&](std::string_view k, const std::string& v) {
    if (!v.empty()) out += fmt::format("{:<14} {}\n", k, v);
  };
  line("id", r.id);
  line("pipeline", r.pipeline);
  line("state", std::string(to_string(r.state)));
  line("priority", std::to_string(r.priority));
  line("input", r.input);
  for (const auto& o : r.outputs) line("output", o);
  line("manifest", r.manifest);
  line("slurm job", r.slurm_job_id);
  line("batch", r.batch_id);
  line("submitted", r.submitted_at);
  line("started", r.started_at);
  line("finished", r.finished_at);
  line("host", r.host);
  if (r.attempts > 1) line("attempts", std::to_string(r.attempts));
  if (r.resumed_segments > 0) line("resumed", fmt::format("{} segments from the manifest", r.resumed_segments));
  line("user data", r.user_data);
  if (!r.error_code.empty()) line("error", r.error_code + ": " + r.error_message);
  return out;
}

nlohmann::json pipeline_json(const jobs::PipelineStatus& s) {
  const auto& p = s.pipeline;
  nlohmann::json j = {{"name", p.name},
                      {"description", p.description},
                      {"file", p.file.string()},
                      {"state", to_string(s.state)},
                      {"partition", p.partition},
                      {"account", p.account},
                      {"qos", p.qos},
                      {"ranks", p.ranks},
                      {"nodes", p.nodes},
                      {"cpus_per_rank", p.cpus_per_rank},
                      {"time_limit", p.time_limit},
                      {"max_concurrent", p.max_concurrent},
                      {"license", p.max_concurrent > 0 ? p.license : ""},
                      {"launcher", to_string(p.launcher)},
                      {"slurm_job_name", p.slurm_job_name()},
                      {"jobs", {{"pending", s.pending}, {"held", s.held}, {"running", s.running}}}};
  // The secret never leaves the pipeline file.
  j["notify"] = p.notify ? nlohmann::json{{"url", p.notify->url}, {"signed", !p.notify->secret.empty()}, {"events", [&] {
                                                      std::vector<std::string> names;
                                                      for (auto e : p.notify->events) names.emplace_back(to_string(e));
                                                      return names;
                                                    }()}}
                         : nlohmann::json(nullptr);
  return j;
}

std::string pipeline_text(const nlohmann::json& j) {
  std::string out;
  for (const char* k : {"name", "description", "state", "partition", "account", "qos", "ranks", "nodes", "cpus_per_rank",
                        "time_limit", "max_concurrent", "license", "launcher", "file"}) {
    const auto& v = j[k];
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    if (!s.empty()) out += fmt::format("{:<14} {}\n", k, s);
  }
  out += fmt::format("{:<14} {} running, {} pending ({} held)\n", "jobs", j["jobs"]["running"].get<int>(),
                     j["jobs"]["pending"].get<int>(), j["jobs"]["held"].get<int>());
  if (!j["notify"].is_null()) out += fmt::format("{:<14} {}{}\n", "notify", j["notify"]["url"].get<std::string>(),
                                                 j["notify"]["signed"].get<bool>() ? " (signed)" : "");
  return out;
}

}  // namespace

JobsCli::JobsCli(CLI::App& app, bool& json, std::atomic<bool>& cancel) : json_(json), cancel_(cancel) {
  auto add_json = [&](CLI::App* c) { c->add_flag("--json", json_, "Machine-readable JSON on stdout"); };

  submit_ = app.add_subcommand("submit", "Submit a job (or, with --batch, one per input) to a pipeline on Slurm");
  submit_->add_option("JOB", job_file_, "Job file (TOML); with --batch, the job template for every input")->required();
  submit_->add_option("--pipeline", pipeline_, "Pipeline to submit to (see `gopcast pipelines list`)")->required();
  submit_->add_option("--priority", priority_, "1 to 10, 10 starts first (default 6)")->check(CLI::Range(1, 10));
  submit_->add_option("--user-data", user_data_, "Free text carried into the job record and its notifications");
  submit_->add_option("--batch", batch_, "A folder of inputs or a list file (one path per line): one Slurm job array");
  submit_->add_option("--set", sets_, "Override a field of every output's template (repeatable)");
  add_json(submit_);

  jobs_ = app.add_subcommand("jobs", "List, show, cancel and wait for submitted jobs");
  jobs_->require_subcommand(1);
  jlist_ = jobs_->add_subcommand("list", "List jobs, oldest first");
  jlist_->add_option("--pipeline", filter_pipeline_, "Only this pipeline's jobs");
  jlist_->add_option("--state", filter_state_, "Only jobs in this state")
      ->check(CLI::IsMember(enum_names(jobs::JobState{}).names()));
  jlist_->add_option("--batch", filter_batch_, "Only the jobs of this batch");
  add_json(jlist_);
  jshow_ = jobs_->add_subcommand("show", "Show one job");
  jshow_->add_option("ID", id_, "Job id")->required();
  add_json(jshow_);
  jcancel_ = jobs_->add_subcommand("cancel", "Cancel a job (waiting or running)");
  jcancel_->add_option("ID", id_, "Job id")->required();
  add_json(jcancel_);
  jwait_ = jobs_->add_subcommand("wait", "Wait until a job ends; exit 0 if it succeeded, its error's status if not");
  jwait_->add_option("ID", id_, "Job id")->required();
  jwait_->add_option("--timeout", timeout_, "Give up after this many seconds (exit 124)")->check(CLI::Range(0.0, 1e9));
  add_json(jwait_);
  // What the generated sbatch scripts run; not for people.
  jexec_ = jobs_->add_subcommand("exec", "Run a stored job inside its Slurm allocation (used by the job scripts)");
  jexec_->group("");
  jexec_->add_option("ID", id_, "Job id");
  jexec_->add_option("--home", exec_home_, "The job store (GOPCAST_HOME)");
  jexec_->add_option("--batch", exec_batch_, "Batch id: the member is picked by SLURM_ARRAY_TASK_ID");
  jexec_->add_option("--offset", exec_offset_, "Index of this array's first member in the batch");

  pipelines_ = app.add_subcommand("pipelines", "List, show, pause and resume pipelines");
  pipelines_->require_subcommand(1);
  plist_ = pipelines_->add_subcommand("list", "List pipelines with their state and jobs");
  add_json(plist_);
  pshow_ = pipelines_->add_subcommand("show", "Show one pipeline");
  pshow_->add_option("NAME", name_, "Pipeline name")->required();
  add_json(pshow_);
  ppause_ = pipelines_->add_subcommand("pause", "Stop Slurm from starting the pipeline's waiting jobs (running ones go on)");
  ppause_->add_option("NAME", name_, "Pipeline name")->required();
  add_json(ppause_);
  presume_ = pipelines_->add_subcommand("resume", "Let Slurm start the pipeline's waiting jobs again");
  presume_->add_option("NAME", name_, "Pipeline name")->required();
  add_json(presume_);
}

std::optional<int> JobsCli::dispatch() {
  if (!*submit_ && !*jobs_ && !*pipelines_) return std::nullopt;
  if (*jexec_) {
    jobs::Store store(exec_home_.empty() ? jobs::default_home() : std::filesystem::path(exec_home_));
    std::string id = id_;
    if (!exec_batch_.empty()) {
      const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
      if (!task) fail(ErrorCode::Usage, "jobs exec --batch: SLURM_ARRAY_TASK_ID is not set (run by a Slurm job array)");
      id = jobs::batch_member_id(exec_batch_, exec_offset_ + std::stol(task));
    }
    if (id.empty()) fail(ErrorCode::Usage, "jobs exec: give a job id or --batch");
    std::signal(SIGTERM, on_exec_signal);
    std::signal(SIGINT, on_exec_signal);
    return jobs::exec_job(store, id, &g_exec_signalled);
  }
  jobs::Store store(jobs::default_home());
  auto emit = [&](const nlohmann::json& j, const std::string& text) {
    if (json_) std::cout << j.dump(2) << "\n";
    else std::cout << text;
  };
  if (*submit_) {
    if (!batch_.empty()) {
      auto r = jobs::submit_batch(store, {batch_, job_file_, pipeline_, priority_, user_data_, sets_});
      nlohmann::json ids = nlohmann::json::array();
      for (const auto& j : r.jobs) ids.push_back(j.id);
      emit({{"batch_id", r.batch_id}, {"slurm_array_ids", r.slurm_array_ids}, {"jobs", ids}},
           fmt::format("batch {}: {} jobs in Slurm array {}\n", r.batch_id, r.jobs.size(), fmt::join(r.slurm_array_ids, ", ")));
    } else {
      auto r = jobs::submit(store, {job_file_, pipeline_, priority_, user_data_, sets_});
      emit(jobs::to_json(r), r.id + "\n");
    }
  } else if (*jlist_) {
    jobs::JobFilter f{filter_pipeline_, filter_state_.empty() ? std::nullopt : parse_enum<jobs::JobState>(filter_state_), filter_batch_};
    print_jobs(store, f, json_);
  } else if (*jshow_) {
    auto r = jobs::show_job(store, id_);
    emit(jobs::to_json(r), job_text(r));
  } else if (*jcancel_) {
    auto r = jobs::cancel_job(store, id_);
    emit(jobs::to_json(r), fmt::format("{}: {}\n", r.id, to_string(r.state)));
  } else if (*jwait_) {
    auto r = jobs::wait_job(store, id_, timeout_, &cancel_);
    emit(jobs::to_json(r), job_text(r));
    if (r.state == jobs::JobState::TranscodeSuccess) return 0;
    if (r.state == jobs::JobState::TranscodeCancelled) return error_code_info(ErrorCode::Cancelled).exit_status;
    for (const auto& c : error_codes())
      if (c.name == r.error_code) return c.exit_status;
    return error_code_info(ErrorCode::TranscodeFailed).exit_status;
  } else if (*plist_) {
    nlohmann::json list = nlohmann::json::array();
    std::string text = fmt::format("{:<16} {:<7} {:<10} {:>5} {:>4} {:>8} {:>8}  {}\n", "NAME", "STATE", "PARTITION", "RANKS", "MAX",
                                   "RUNNING", "PENDING", "DESCRIPTION");
    for (const auto& p : jobs::list_pipelines(store)) {
      auto st = jobs::pipeline_status(store, p.name);
      list.push_back(pipeline_json(st));
      text += fmt::format("{:<16} {:<7} {:<10} {:>5} {:>4} {:>8} {:>8}  {}\n", p.name, to_string(st.state),
                          p.partition.empty() ? "(default)" : p.partition, p.ranks,
                          p.max_concurrent ? std::to_string(p.max_concurrent) : "-", st.running, st.pending, p.description);
    }
    emit(list, text);
  } else if (*pshow_ || *ppause_ || *presume_) {
    auto st = *ppause_ ? jobs::pause_pipeline(store, name_) : *presume_ ? jobs::resume_pipeline(store, name_) : jobs::pipeline_status(store, name_);
    auto j = pipeline_json(st);
    emit(j, pipeline_text(j));
  }
  return 0;
}

}  // namespace gopcast::cli
