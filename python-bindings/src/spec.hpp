#pragma once
// Templates and jobs as Python objects. Every change is validated at once by the
// library's own readers (template_from_table, the catalogue), so a bad value raises
// where it is set, with the message the CLI would print for it.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "spec/job.hpp"

namespace gopcast::python {

struct TemplateObj {
  Template tmpl;                               // always valid
  std::string source;                          // catalogue name or file it was loaded from ("" = built here)
  std::optional<std::filesystem::path> path;  // the file it was loaded from or saved to
  bool changed = false;                        // changed since loaded or saved

  // Applies `change` to the resolved table and validates; nothing changes on error.
  // `label` names where values without a file position came from.
  void edit(const std::function<void(toml::table&)>& change);
  std::string label() const { return tmpl.name.empty() ? "template" : tmpl.name; }
  // What a job output names this template by: the catalogue name or the file.
  std::string reference() const;
};

struct JobObj;

struct OutputObj {
  JobOutput out;             // path pattern, template name or file, override table, user data
  bool from_file = false;    // out.origin names the job file
  std::weak_ptr<JobObj> job; // the job it belongs to, if any

  std::string origin() const;
  // Applies `change` to a copy, validates the copy (its template with the overrides,
  // the path's placeholders) and keeps it; nothing changes on error.
  void edit(const std::function<void(JobOutput&)>& change);
};

struct JobObj : std::enable_shared_from_this<JobObj> {
  std::filesystem::path file;  // loaded from or saved to ("" = built here)
  JobInput input;
  JobParallel parallel;
  std::vector<std::shared_ptr<OutputObj>> outputs;

  // The library's Job: a copy, with every output's origin for messages.
  Job to_job() const;
};

// A Job object, or a job file path (str / os.PathLike), as the library's Job.
// Files are read with load_job, so errors name file:line:col as the CLI's do.
Job job_from_python(py::handle job);
// Writes `job` to `file` as TOML (job_to_table).
void write_job(const Job& job, const std::filesystem::path& file);

}  // namespace gopcast::python
