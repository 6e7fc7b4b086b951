#pragma once
// The Slurm side of the gopcast command: `submit`, `jobs ...`, `pipelines ...`.
#include <CLI/CLI.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace gopcast::cli {

class JobsCli {
 public:
  // Adds the subcommands to `app`; `json` is the shared --json flag, `cancel` the Ctrl-C flag.
  JobsCli(CLI::App& app, bool& json, std::atomic<bool>& cancel);
  // Runs the chosen subcommand if it is one of ours; returns the exit status, or
  // nothing when another subcommand was chosen.
  std::optional<int> dispatch();

 private:
  bool& json_;
  std::atomic<bool>& cancel_;
  CLI::App *submit_ = nullptr, *jobs_ = nullptr, *jlist_ = nullptr, *jshow_ = nullptr, *jcancel_ = nullptr,
           *jwait_ = nullptr, *jexec_ = nullptr, *pipelines_ = nullptr, *plist_ = nullptr, *pshow_ = nullptr,
           *ppause_ = nullptr, *presume_ = nullptr;
  // submit
  std::string job_file_, pipeline_, user_data_, batch_;
  int priority_ = 6;
  std::vector<std::string> sets_;
  // jobs
  std::string id_, filter_pipeline_, filter_state_, filter_batch_, exec_home_, exec_batch_;
  long exec_offset_ = 0;
  std::optional<double> timeout_;
  std::string name_;
};

}  // namespace gopcast::cli
