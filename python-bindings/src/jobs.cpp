// gopcast.submit, gopcast.jobs, gopcast.job, gopcast.pipelines and JobRecord: the job
// store and pipelines of src/jobs/service.hpp.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <stdlib.h>

#include <cstdlib>

#include "bindings.hpp"
#include "core/error.hpp"
#include "core/process.hpp"
#include "jobs/exec.hpp"
#include "jobs/submit.hpp"
#include "spec.hpp"

namespace fs = std::filesystem;

namespace gopcast::python {
namespace {

fs::path home_of(py::handle home) { return home.is_none() ? jobs::default_home() : to_path(home, true); }

struct JobRecordObj {
  jobs::JobRecord record;
  fs::path home;
};

// Runs op(store, stop) on the job store at `home` with the GIL released and returns what
// it returns; Ctrl-C raises KeyboardInterrupt once it has returned (waits see `stop` and
// return at once).
template <typename Op>
auto with_store(const fs::path& home, Op op) {
  std::invoke_result_t<Op, jobs::Store&, std::atomic<bool>&> result{};
  std::atomic<bool> stop{false};
  // Slurm's commands are started from the helper thread: no blocked signals for them.
  run_interruptible(
      [&] {
        jobs::Store store(home);
        result = op(store, stop);
      },
      stop, false);
  return result;
}
using Stop = std::atomic<bool>;

// The gopcast program that the job script runs (`gopcast jobs exec`): GOPCAST_BIN, else
// the one of this build tree, else the installed one, else the one on PATH.
std::string gopcast_program() {
  if (const char* env = std::getenv("GOPCAST_BIN"); env && *env) return env;
  std::error_code ec;
  for (const char* candidate : {GOPCAST_CLI_BUILD, GOPCAST_CLI_INSTALL})
    if (fs::is_regular_file(candidate, ec)) return candidate;
  if (auto found = process::which("gopcast")) return *found;
  fail(ErrorCode::ResourceNotFound, "submit: the gopcast program was not found (set GOPCAST_BIN to its path)");
}

// A folder of its own under the temp folder, removed with its contents.
struct TempFolder {
  fs::path path;
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "gopcast-py-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail(ErrorCode::OutputNotWritable, "{}: cannot create a temporary folder", pattern);
    path = pattern;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
};

// Submits through the gopcast program rather than jobs::submit in this process: the
// Slurm script runs the submitting program's own executable (`<it> jobs exec ID`),
// which here would be the Python interpreter. Errors come back as the program's
// --json error object (same code and message).
jobs::JobRecord submit_with_program(const fs::path& home, const fs::path& job_file, const std::string& pipeline, int priority,
                                    const std::string& user_data, const std::vector<std::string>& sets) {
  std::vector<std::string> argv = {"/usr/bin/env", "GOPCAST_HOME=" + home.string(), gopcast_program(), "submit",
                                   job_file.string(), "--pipeline", pipeline, "--priority", std::to_string(priority), "--json"};
  if (!user_data.empty()) argv.insert(argv.end(), {"--user-data", user_data});
  for (const auto& s : sets) argv.insert(argv.end(), {"--set", s});
  process::Output out = process::run(argv, std::chrono::minutes(5));
  nlohmann::json j = nlohmann::json::parse(out.out, nullptr, false);
  if (out.status == 0 && j.is_object() && j.contains("id")) return jobs::record_from_json(j);
  if (j.is_object() && j.contains("error"))
    raise_error(j["error"].value("code", "InternalError"), j["error"].value("message", out.err));
  fail(ErrorCode::Internal, "submit: {} exited {}: {}", argv[2], out.status, out.err);
}

jobs::JobRecord submit(py::handle job, const std::string& pipeline, int priority, const std::string& user_data,
                       py::handle overrides, py::handle home) {
  if (priority < 1 || priority > 10) fail(ErrorCode::OutOfRange, "priority: {} is outside 1..10 (10 starts first)", priority);
  const auto sets = set_strings(overrides);
  const fs::path store_home = home_of(home);
  std::optional<TempFolder> temp;
  fs::path file;
  if (py::isinstance<JobObj>(job)) {
    // A job built in Python goes through a file too; submit stores its own copy.
    temp.emplace();
    file = temp->path / "job.toml";
    write_job(job.cast<JobObj&>().to_job(), file);
  } else {
    file = to_path(job, true);
  }
  return with_store(store_home, [&](jobs::Store&, Stop&) {
    return submit_with_program(store_home, file, pipeline, priority, user_data, sets);
  });
}

py::object history_of(const jobs::JobRecord& r) {
  py::list out;
  for (const auto& h : r.history) {
    py::dict d;
    d["state"] = std::string(to_string(h.state));
    d["at"] = h.at;
    d["note"] = h.note;
    out.append(d);
  }
  return out;
}

py::dict pipeline_dict(const jobs::PipelineStatus& s) {
  const auto& p = s.pipeline;
  py::dict d;
  d["name"] = p.name;
  d["description"] = p.description;
  d["file"] = p.file.string();
  d["state"] = std::string(to_string(s.state));
  d["partition"] = p.partition;
  d["account"] = p.account;
  d["qos"] = p.qos;
  d["ranks"] = p.ranks;
  d["nodes"] = p.nodes;
  d["cpus_per_rank"] = p.cpus_per_rank;
  d["time_limit"] = p.time_limit;
  d["max_concurrent"] = p.max_concurrent;
  d["launcher"] = std::string(to_string(p.launcher));
  d["jobs"] = py::dict(py::arg("pending") = s.pending, py::arg("held") = s.held, py::arg("running") = s.running);
  d["notify_url"] = p.notify ? py::object(py::str(p.notify->url)) : py::object(py::none());  // never the secret
  return d;
}

}  // namespace

void register_jobs(py::module_& m) {
  py::class_<JobRecordObj>(m, "JobRecord", R"doc(
A job submitted to a pipeline, as the job store records it (`gopcast jobs show`).
Its fields are as they were when read: refresh() reads them again, wait() until it ends.)doc")
      .def_property_readonly("id", [](const JobRecordObj& j) { return j.record.id; })
      .def_property_readonly(
          "state", [](const JobRecordObj& j) { return std::string(to_string(j.record.state)); },
          "Submitted, Transcoding, TranscodeSuccess, TranscodeFail or TranscodeCancelled.")
      .def_property_readonly(
          "done", [](const JobRecordObj& j) { return jobs::is_final(j.record.state); }, "Whether it has ended (in any way).")
      .def_property_readonly(
          "ok", [](const JobRecordObj& j) { return j.record.state == jobs::JobState::TranscodeSuccess; }, "Whether it succeeded.")
      .def_property_readonly("pipeline", [](const JobRecordObj& j) { return j.record.pipeline; })
      .def_property_readonly("priority", [](const JobRecordObj& j) { return j.record.priority; })
      .def_property_readonly("user_data", [](const JobRecordObj& j) { return j.record.user_data; })
      .def_property_readonly("input", [](const JobRecordObj& j) { return j.record.input; })
      .def_property_readonly("outputs", [](const JobRecordObj& j) { return j.record.outputs; })
      .def_property_readonly("manifest", [](const JobRecordObj& j) { return j.record.manifest; }, "Its segment manifest's path.")
      .def_property_readonly("job_file", [](const JobRecordObj& j) { return j.record.job_file; }, "The stored job.toml.")
      .def_property_readonly("slurm_job_id", [](const JobRecordObj& j) { return j.record.slurm_job_id; })
      .def_property_readonly("batch_id", [](const JobRecordObj& j) { return j.record.batch_id; })
      .def_property_readonly("submitted_at", [](const JobRecordObj& j) { return j.record.submitted_at; })
      .def_property_readonly("started_at", [](const JobRecordObj& j) { return j.record.started_at; })
      .def_property_readonly("finished_at", [](const JobRecordObj& j) { return j.record.finished_at; })
      .def_property_readonly("host", [](const JobRecordObj& j) { return j.record.host; })
      .def_property_readonly("attempts", [](const JobRecordObj& j) { return j.record.attempts; })
      .def_property_readonly("error_code", [](const JobRecordObj& j) { return j.record.error_code; }, "For failures: the code.")
      .def_property_readonly("error_message", [](const JobRecordObj& j) { return j.record.error_message; })
      .def_property_readonly(
          "history", [](const JobRecordObj& j) { return history_of(j.record); }, "[{state, at, note}, ...], oldest first.")
      .def_property_readonly("home", [](const JobRecordObj& j) { return j.home; }, "The job store (GOPCAST_HOME) it is in.")
      .def(
          "refresh",
          [](JobRecordObj& j) -> JobRecordObj& {
            j.record = with_store(j.home, [&](jobs::Store& s, Stop&) { return jobs::show_job(s, j.record.id); });
            return j;
          },
          py::return_value_policy::reference_internal, "Reads the record again (brought up to date with Slurm); returns self.")
      .def(
          "wait",
          [](JobRecordObj& j, std::optional<double> timeout) -> JobRecordObj& {
            if (timeout && !(*timeout >= 0)) fail(ErrorCode::OutOfRange, "timeout: {} is not a number of seconds >= 0", *timeout);
            j.record = with_store(j.home, [&](jobs::Store& s, Stop& stop) { return jobs::wait_job(s, j.record.id, timeout, &stop); });
            return j;
          },
          py::arg("timeout") = py::none(), py::return_value_policy::reference_internal,
          "Waits until the job ends (any final state) and returns self; check .ok or .state.\n"
          "Raises WaitTimeout (a TimeoutError) after `timeout` seconds; Ctrl-C stops waiting\n"
          "(KeyboardInterrupt), the job goes on.")
      .def(
          "cancel",
          [](JobRecordObj& j) -> JobRecordObj& {
            j.record = with_store(j.home, [&](jobs::Store& s, Stop&) { return jobs::cancel_job(s, j.record.id); });
            return j;
          },
          py::return_value_policy::reference_internal,
          "Cancels the job (`gopcast jobs cancel`): a waiting one ends at once, a running one when its\n"
          "ranks have stopped. Returns self, read again.")
      .def(
          "to_dict", [](const JobRecordObj& j) { return to_python(jobs::to_json(j.record)); },
          "The record as `gopcast jobs show --json` prints it.")
      .def("__repr__", [](const JobRecordObj& j) {
        return fmt::format("<gopcast.JobRecord {} {} on {}>", j.record.id, to_string(j.record.state), j.record.pipeline);
      });

  m.def(
      "submit",
      [](JobArg job, const std::string& pipeline, int priority, const std::string& user_data, OverridesArg overrides,
         OptPathArg home) { return JobRecordObj{submit(job, pipeline, priority, user_data, overrides, home), home_of(home)}; },
      py::arg("job"), py::kw_only(), py::arg("pipeline"), py::arg("priority") = 6, py::arg("user_data") = "",
      py::arg("overrides") = py::none(), py::arg("home") = py::none(),
      R"doc(Submits a job to a pipeline on Slurm and returns its JobRecord (`gopcast submit`).

job: a Job (written to a temporary job file; the store keeps its own copy) or a job file path.
pipeline: the pipeline's name ($GOPCAST_HOME/pipelines/NAME.toml).
priority: 1 to 10, 10 starts first.
user_data: free text carried into the record and its notifications.
overrides: template overrides for every output, like `--set`.
home: the job store (default: $GOPCAST_HOME, else ~/.gopcast).)doc");

  m.def(
      "jobs",
      [](std::optional<std::string> pipeline, std::optional<std::string> state, std::optional<std::string> batch,
         OptPathArg home) {
        jobs::JobFilter filter;
        filter.pipeline = pipeline.value_or("");
        filter.batch_id = batch.value_or("");
        if (state) {
          filter.state = parse_enum<jobs::JobState>(*state);
          if (!filter.state)
            fail(ErrorCode::OutOfRange, "state: \"{}\" is not one of {}", *state, enum_names(jobs::JobState{}).list());
        }
        const fs::path store_home = home_of(home);
        std::vector<JobRecordObj> out;
        for (auto& r : with_store(store_home, [&](jobs::Store& s, Stop&) { return jobs::list_jobs(s, filter); }))
          out.push_back({std::move(r), store_home});
        return out;
      },
      py::arg("pipeline") = py::none(), py::arg("state") = py::none(), py::arg("batch") = py::none(), py::arg("home") = py::none(),
      "The jobs in the store, oldest first, brought up to date with Slurm (`gopcast jobs list`),\n"
      "optionally only one pipeline's, one state's or one batch's.");

  m.def(
      "job",
      [](const std::string& id, OptPathArg home) {
        const fs::path store_home = home_of(home);
        return JobRecordObj{with_store(store_home, [&](jobs::Store& s, Stop&) { return jobs::show_job(s, id); }), store_home};
      },
      py::arg("id"), py::arg("home") = py::none(),
      "One job by id (`gopcast jobs show`); raises JobNotFound (a LookupError) for an unknown id.");

  m.def(
      "pipelines",
      [](OptPathArg home) {
        const fs::path store_home = home_of(home);
        auto found = with_store(store_home, [](jobs::Store& s, Stop&) {
          std::vector<jobs::PipelineStatus> status;
          for (const auto& p : jobs::list_pipelines(s)) status.push_back(jobs::pipeline_status(s, p.name));
          return status;
        });
        py::list out;
        for (const auto& st : found) out.append(pipeline_dict(st));
        return out;
      },
      py::arg("home") = py::none(),
      "The pipelines of the store with their state and how many of their jobs Slurm has\n"
      "pending, held and running (`gopcast pipelines list`), as dicts.");
}

}  // namespace gopcast::python
