#include "slurm/slurm.hpp"

#include <sstream>

#include "core/error.hpp"
#include "core/process.hpp"

namespace gopcast::slurm {
namespace {

std::string first_line(const std::string& s) {
  std::string t = s.substr(0, s.find('\n'));
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

process::Output run(const std::vector<std::string>& argv, bool check = true) {
  process::Output o;
  try {
    o = process::run(argv, std::chrono::seconds(60));
  } catch (const Error& e) {
    throw SlurmError(ErrorCode::SchedulerFailed,
                     fmt::format("slurm: {}: cannot run it (is Slurm installed and on PATH?): {}", argv[0], e.what()));
  }
  if (check && (o.status != 0 || o.timed_out)) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    // sbatch waits and retries while slurmctld cannot take a job (MaxJobCount reached,
    // a controller restarting): say so rather than only "timed out".
    const std::string why = !o.timed_out ? first_line(o.err.empty() ? o.out : o.err)
                            : argv[0] == "sbatch"
                                ? "Slurm did not take the job within 60 s (slurmctld busy or down, or its MaxJobCount reached)"
                                : "Slurm did not answer within 60 s (slurmctld busy or down)";
    throw SlurmError(ErrorCode::SchedulerFailed, fmt::format("slurm: {}: {} (exit {})", cmd, why, o.status));
  }
  return o;
}

std::string join(const std::vector<std::string>& v, char sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : std::string(1, sep)) + x;
  return s;
}

}  // namespace

bool job_id_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& id) {
    long job = 0, task = -1;
    size_t us = id.find('_');
    try {
      job = std::stol(id.substr(0, us));
      if (us != std::string::npos) task = std::stol(id.substr(us + 1));
    } catch (...) {
    }
    return std::pair{job, task};
  };
  return split(a) < split(b);
}

std::map<std::string, std::string> parse_scontrol_line(const std::string& line) {
  std::map<std::string, std::string> m;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq != std::string::npos) m[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return m;
}

std::string Slurm::sbatch(const std::filesystem::path& script, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script.string());
  auto o = run(argv);
  std::string id = first_line(o.out);
  id = id.substr(0, id.find(';'));  // "id;cluster" on multi-cluster set-ups
  if (id.empty()) throw SlurmError(ErrorCode::SchedulerFailed, "slurm: sbatch printed no job id");
  return id;
}

namespace {

std::vector<QueueEntry> parse_queue(const std::string& text) {
  std::vector<QueueEntry> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t start = 0;
    for (int i = 0; i < 4; ++i) {
      size_t bar = line.find('|', start);
      if (bar == std::string::npos) break;
      f.push_back(line.substr(start, bar - start));
      start = bar + 1;
    }
    if (f.size() != 4) continue;
    long nice = 0;
    try {
      nice = std::stol(f[3]);
    } catch (...) {
    }
    out.push_back({f[0], f[1], f[2], line.substr(start), nice});
  }
  return out;
}

std::vector<std::string> squeue_argv() { return {"squeue", "--noheader", "--array", "--format=%i|%T|%r|%y|%j"}; }

}  // namespace

std::vector<QueueEntry> Slurm::queue(const std::vector<std::string>& job_names) const {
  auto argv = squeue_argv();
  if (!job_names.empty()) argv.push_back("--name=" + join(job_names, ','));
  return parse_queue(run(argv).out);
}

std::vector<QueueEntry> Slurm::known(const std::vector<std::string>& job_names, const std::vector<std::string>& ids) const {
  auto argv = squeue_argv();
  argv.push_back("--states=all");
  if (!job_names.empty()) argv.push_back("--name=" + join(job_names, ','));
  if (!ids.empty()) argv.push_back("--jobs=" + join(ids, ','));
  auto o = run(argv, false);
  // Asked for one job, squeue fails with "Invalid job id specified" when Slurm has
  // forgotten it: then nothing is known of it.
  if (o.status != 0 && !ids.empty() && (o.err.find("Invalid job id") != std::string::npos)) return {};
  if (o.status != 0 || o.timed_out) run(argv);  // throws, naming the command and its error
  return parse_queue(o.out);
}

void Slurm::hold(const std::vector<std::string>& ids) const {
  if (!ids.empty()) run({"scontrol", "hold", join(ids, ',')});
}

void Slurm::release(const std::vector<std::string>& ids) const {
  if (!ids.empty()) run({"scontrol", "release", join(ids, ',')});
}

void Slurm::cancel(const std::string& id) const { run({"scancel", id}); }

void Slurm::cancel(const std::vector<std::string>& ids) const {
  if (ids.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), ids.begin(), ids.end());
  run(argv);
}

std::optional<long> Slurm::license_total(const std::string& name) const {
  auto o = run({"scontrol", "--oneliner", "show", "licenses", name}, false);
  if (o.status != 0) return std::nullopt;
  auto m = parse_scontrol_line(first_line(o.out));
  auto it = m.find("Total");
  if (it == m.end()) return std::nullopt;
  try {
    return std::stol(it->second);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string> Slurm::config_value(const std::string& key) const {
  auto o = run({"scontrol", "show", "config"});
  std::istringstream in(o.out);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq);
    while (!k.empty() && k.back() == ' ') k.pop_back();
    if (k == key) {
      std::string v = line.substr(eq + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
  }
  return std::nullopt;
}

long Slurm::config_number(const std::string& key, long fallback) const {
  auto v = config_value(key);
  if (!v) return fallback;
  try {
    return std::stol(*v);
  } catch (...) {
    return fallback;
  }
}

}  // namespace gopcast::slurm
