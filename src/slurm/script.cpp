#include "slurm/script.hpp"

#include "core/error.hpp"

namespace gopcast::slurm {

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  out += "'";
  return out;
}

std::vector<std::string> sbatch_directives(const Pipeline& p, const JobDirectives& j) {
  std::vector<std::string> d;
  d.push_back("--job-name=" + p.slurm_job_name());
  if (!p.partition.empty()) d.push_back("--partition=" + p.partition);
  if (!p.account.empty()) d.push_back("--account=" + p.account);
  if (!p.qos.empty()) d.push_back("--qos=" + p.qos);
  d.push_back(fmt::format("--ntasks={}", p.ranks));
  d.push_back(fmt::format("--nodes={}", p.nodes));
  d.push_back(fmt::format("--cpus-per-task={}", p.cpus_per_rank));
  if (!p.time_limit.empty()) d.push_back("--time=" + p.time_limit);
  if (!p.memory.empty()) d.push_back("--mem=" + p.memory);
  // A requeued or preempted job runs this script again and resumes from its manifest.
  d.push_back("--requeue");
  d.push_back("--open-mode=append");
  d.push_back(fmt::format("--nice={}", j.nice));
  if (j.license_units > 0) d.push_back(fmt::format("--licenses={}:{}", p.license, j.license_units));
  if (!j.comment.empty()) d.push_back("--comment=gopcast:" + j.comment);
  return d;
}

std::string render_script(std::string_view tmpl, std::string_view template_name, const std::vector<std::string>& directives,
                          const std::vector<std::string>& command, std::string_view raw_tail) {
  static constexpr std::string_view kSbatch = "@SBATCH@", kCommand = "@COMMAND@";
  auto once = [&](std::string_view key) {
    size_t at = tmpl.find(key);
    if (at == std::string_view::npos || tmpl.find(key, at + 1) != std::string_view::npos)
      fail<SpecError>(ErrorCode::InvalidKey, "{}: the script template must contain {} exactly once", template_name, key);
    return at;
  };
  const size_t s = once(kSbatch), c = once(kCommand);
  std::string sbatch;
  for (size_t i = 0; i < directives.size(); ++i) sbatch += (i ? "\n#SBATCH " : "#SBATCH ") + directives[i];
  std::string cmd = "exec";
  for (const auto& w : command) cmd += " " + shell_quote(w);
  if (!raw_tail.empty()) cmd += " " + std::string(raw_tail);
  std::string out(tmpl);
  // Replace the later placeholder first so the earlier offset stays valid.
  if (s > c) {
    out.replace(s, kSbatch.size(), sbatch);
    out.replace(c, kCommand.size(), cmd);
  } else {
    out.replace(c, kCommand.size(), cmd);
    out.replace(s, kSbatch.size(), sbatch);
  }
  return out;
}

}  // namespace gopcast::slurm
