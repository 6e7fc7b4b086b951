#pragma once
// The text of a job's sbatch script: pure functions, unit-tested, no I/O.
#include <string>
#include <string_view>
#include <vector>

#include "slurm/pipeline.hpp"

namespace gopcast::slurm {

// One shell word that bash reads back as exactly `s`, whatever it holds (spaces,
// quotes, $(...), backticks, newlines, non-ASCII): '...' with each ' as '\''.
std::string shell_quote(std::string_view s);

// Per-job values that go into the #SBATCH lines.
struct JobDirectives {
  int nice = 0;             // from the priority
  long license_units = 0;   // 0 = no license (no concurrency limit)
  std::string comment;      // the gopcast job (or batch) id; [A-Za-z0-9_.-] only
};

// The #SBATCH options of a pipeline's job ("--partition=debug", ...), in a fixed order.
// Every value comes from validated pipeline fields or numbers, so none needs quoting.
std::vector<std::string> sbatch_directives(const Pipeline& p, const JobDirectives& j);

// Fills a script template: @SBATCH@ becomes one "#SBATCH <option>" line per directive,
// @COMMAND@ becomes "exec" and the quoted words of `command`, followed by `raw_tail`
// (shell text gopcast itself writes, e.g. an array index expansion; never user input).
// Throws SpecError if the template lacks either placeholder; `template_name` names it.
std::string render_script(std::string_view template_text, std::string_view template_name,
                          const std::vector<std::string>& directives, const std::vector<std::string>& command,
                          std::string_view raw_tail = {});

}  // namespace gopcast::slurm
