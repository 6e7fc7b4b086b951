// gopcast.run: a job on this machine through the one run path (app/run.hpp), as
// `gopcast run` does.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <mutex>

#include "bindings.hpp"
#include "app/report.hpp"
#include "app/run.hpp"
#include "spec.hpp"

namespace fs = std::filesystem;

namespace gopcast::python {
namespace {

// Calls the Python progress callback from the engine's threads: with the GIL, at most
// ten times a second (the last call, at the end, always), only with progress beyond
// what it was last given. An exception in the callback stops the run and is raised.
class ProgressRelay {
 public:
  ProgressRelay(py::object callback, std::atomic<bool>& stop) : callback_(std::move(callback)), stop_(stop) {}
  void operator()(const app::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      const bool last = p.seconds_total > 0 && p.seconds_done >= p.seconds_total;
      if (p.seconds_done < last_done_ || p.frames < last_frames_) return;
      if (p.seconds_done == last_done_ && p.frames == last_frames_) return;  // nothing new
      if (!last && now - last_call_ < std::chrono::milliseconds(100)) return;
      if (last && last_was_final_) return;
      last_done_ = p.seconds_done;
      last_frames_ = p.frames;
      last_call_ = now;
      last_was_final_ = last;
    }
    py::gil_scoped_acquire gil;
    if (error_.error) return;
    try {
      callback_(p);
    } catch (py::error_already_set& e) {
      error_.error.emplace(std::move(e));
      stop_ = true;
    }
  }

  CallbackError& error() { return error_; }

 private:
  py::object callback_;
  std::atomic<bool>& stop_;
  std::mutex mutex_;
  double last_done_ = -1;
  int64_t last_frames_ = -1;
  bool last_was_final_ = false;
  std::chrono::steady_clock::time_point last_call_{};
  CallbackError error_;
};

app::RunResult run_job(JobArg job, int workers, std::optional<double> segment_seconds, std::optional<int> max_attempts,
                       OptPathArg manifest, ProgressArg progress, OverridesArg overrides, bool wait_lock) {
  app::RunOptions options;
  options.wait_lock = wait_lock;
  options.workers = workers;
  options.segment_seconds = segment_seconds;
  options.max_attempts = max_attempts;
  if (!manifest.is_none()) options.manifest = to_path(manifest, true);
  options.sets = set_strings(overrides);
  const app::RunRequest request = app::resolve(job_from_python(job), options);

  std::atomic<bool> stop{false};
  app::RunControl control;
  control.cancel = &stop;
  std::optional<ProgressRelay> relay;
  if (!progress.is_none()) {
    relay.emplace(std::move(progress.obj), stop);
    control.progress = [&relay](const app::Progress& p) { (*relay)(p); };
  }
  app::RunResult result;
  try {
    run_interruptible([&] { result = app::run(request, control); }, stop);
  } catch (...) {
    if (relay) relay->error().rethrow_if_set();  // the callback's own exception, not the Cancelled it caused
    throw;
  }
  return result;
}

py::object output_info(const app::OutputResult& o) { return to_python(to_json(o.info)); }

}  // namespace

void register_run(py::module_& m) {
  py::class_<app::Progress>(m, "Progress", "How far a run is: given to run()'s progress callback.")
      .def_readonly("seconds_done", &app::Progress::seconds_done, "Media seconds done.")
      .def_readonly("seconds_total", &app::Progress::seconds_total, "The input's duration, seconds.")
      .def_readonly("frames", &app::Progress::frames, "Video frames done.")
      .def_property_readonly(
          "fraction",
          [](const app::Progress& p) { return p.seconds_total > 0 ? std::min(1.0, p.seconds_done / p.seconds_total) : 0.0; },
          "Done, 0.0 to 1.0.")
      .def("__repr__", [](const app::Progress& p) {
        return fmt::format("<gopcast.Progress {:.1f}/{:.1f} s, {} frames>", p.seconds_done, p.seconds_total, p.frames);
      });

  py::class_<app::OutputResult>(m, "OutputResult", "One written output of a run.")
      .def_readonly("path", &app::OutputResult::path)
      .def_readonly("template", &app::OutputResult::template_name, "The template's name.")
      .def_readonly("user_data", &app::OutputResult::user_data)
      .def_readonly("video_frames", &app::OutputResult::video_frames, "Video frames written.")
      .def_readonly("files", &app::OutputResult::files, "Every file written: the output, then e.g. HLS segments.")
      .def_readonly("bytes", &app::OutputResult::bytes, "Their total size.")
      .def_property_readonly("media_info", &output_info, "gopcast.probe() of the written output.")
      .def("__repr__", [](const app::OutputResult& o) {
        return fmt::format("<gopcast.OutputResult {} ({} frames, {} bytes)>", o.path.string(), o.video_frames, o.bytes);
      });

  py::class_<app::RunResult>(m, "RunResult", "What run() did: outputs, timings and the segment manifest.")
      .def_readonly("input", &app::RunResult::input)
      .def_readonly("seconds", &app::RunResult::seconds, "Wall-clock seconds of the whole run.")
      .def_readonly("media_seconds", &app::RunResult::media_seconds, "The input's duration (a concatenation's: its timeline's).")
      .def_property_readonly(
          "timeline",
          [](const app::RunResult& r) {
            py::list out;
            for (const auto& e : r.timeline) {
              py::dict d;
              d["input"] = e.input;
              d["start"] = e.start;
              d["duration"] = e.duration;
              d["audio"] = e.silence ? "silence" : "source";
              out.append(d);
            }
            return out;
          },
          "A concatenation's inputs as they landed on the output: dicts of input, start, duration (seconds) and\n"
          "audio (\"source\" or \"silence\"); empty for a single input.")
      .def_property_readonly(
          "speed", [](const app::RunResult& r) { return r.seconds > 0 ? r.media_seconds / r.seconds : 0.0; },
          "Media seconds per wall-clock second.")
      .def_readonly("outputs", &app::RunResult::outputs)
      .def_property_readonly(
          "manifest",
          [](const app::RunResult& r) { return r.parallel ? std::optional<fs::path>(r.parallel->manifest) : std::nullopt; },
          "The segment manifest (HDF5; open it with gopcast.Manifest), or None for a one-pass run.")
      .def_property_readonly(
          "timings",
          [](const app::RunResult& r) {
            std::map<std::string, double> t = r.parallel ? r.parallel->phases : std::map<std::string, double>{};
            t["total"] = r.seconds;
            return t;
          },
          "Wall-clock seconds: \"total\", and for segment-parallel runs each phase (index, encode, gather, mux).")
      .def_property_readonly(
          "workers", [](const app::RunResult& r) { return r.parallel ? r.parallel->workers : 0; }, "Local workers (0: one pass).")
      .def_property_readonly(
          "segments", [](const app::RunResult& r) { return r.parallel ? r.parallel->segments : 0; }, "Segments of the plan.")
      .def_property_readonly(
          "resumed_segments", [](const app::RunResult& r) { return r.parallel ? r.parallel->resumed_segments : 0; },
          "Segments taken from an earlier, interrupted run's manifest.")
      .def_property_readonly(
          "retried_segments", [](const app::RunResult& r) { return r.parallel ? r.parallel->retried_segments : 0; },
          "Segments that failed and were encoded again in this run (GOPCAST_FAILPOINT, a transient fault).")
      .def_property_readonly(
          "snapshots",
          [](const app::RunResult& r) {
            py::list out;
            for (const auto& s : r.snapshots) out.append(to_python(ops::to_json(s)));
            return out;
          },
          "The job's [[snapshots]] as written: dicts as `gopcast snapshot --json` prints them.")
      .def(
          "to_dict", [](const app::RunResult& r) { return to_python(app::result_json(r)); },
          "The result as `gopcast run --json` prints it (schema \"gopcast.result/1\").")
      .def("__repr__", [](const app::RunResult& r) {
        return fmt::format("<gopcast.RunResult {} -> {} output{} in {:.2f} s>", r.input.string(), r.outputs.size(),
                           r.outputs.size() == 1 ? "" : "s", r.seconds);
      });

  m.def("run", &run_job, py::arg("job"), py::arg("workers") = 0, py::arg("segment_seconds") = py::none(),
        py::arg("max_attempts") = py::none(), py::arg("manifest") = py::none(), py::arg("progress") = py::none(), py::arg("overrides") = py::none(),
        py::arg("wait_lock") = false, doc_string(fmt::format(R"doc(Runs a job on this machine and returns a RunResult; what `gopcast run` does.

job: a Job, or the path of a job file.
workers: local worker threads encoding segments at once (0: one per core).
segment_seconds: target segment length (default: the job's [parallel] segment_seconds, else {};
    0: the whole input as one segment).
max_attempts: tries of a segment before it fails the job (default: the job's [parallel]
    max_attempts, else {}).
manifest: where the HDF5 segment manifest goes (default: <first output>.manifest.h5).
progress: called as progress(p) with a gopcast.Progress (p.fraction, p.seconds_done,
    p.seconds_total, p.frames), at most ten times a second, never going back; an exception
    it raises stops the run and is raised here.
overrides: template overrides for every output, like `--set`: {{"video.crf": 20}}.
wait_lock: wait while another run writes the same output, like `--wait-lock`; otherwise
    gopcast.OutputLocked is raised at once, naming that run (pid, host, Slurm job).

Outputs with re-encoded video run on the segment-parallel engine (local worker threads,
a manifest, resume after an interruption); the rest (remuxes, audio only, GIF) in one pass.
The GIL is released while it runs. Ctrl-C stops it cleanly: KeyboardInterrupt is raised
and nothing is left at any output path (the manifest and work folder stay for a resume).
Errors raise gopcast.Error subclasses with the CLI's messages.)doc", kDefaultSegmentSeconds, kDefaultMaxAttempts)));
}

}  // namespace gopcast::python
