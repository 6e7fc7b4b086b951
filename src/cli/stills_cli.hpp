#pragma once
// Still images from the gopcast command: `snapshot`, `sprite`, `cover`.
#include <CLI/CLI.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "spec/snapshots.hpp"

namespace gopcast::cli {

class StillsCli {
 public:
  // Adds the subcommands to `app`; `json` is the shared --json flag, `cancel` the Ctrl-C flag.
  StillsCli(CLI::App& app, bool& json, std::atomic<bool>& cancel);
  // Runs the chosen subcommand if it is one of ours; returns the exit status, or
  // nothing when another subcommand was chosen.
  std::optional<int> dispatch();

 private:
  struct Args {
    std::string input, output, mode = "exact", format, vtt, video_stream;
    std::optional<double> time, every;
    std::vector<double> times;
    std::optional<int> count, width, height, quality, columns, rows, padding, margin, candidates;
  };
  void add_picture_options(CLI::App* cmd, Args& a);
  SnapshotSpec spec_of(const Args& a, SnapshotKind kind) const;

  bool& json_;
  std::atomic<bool>& cancel_;
  CLI::App *snapshot_ = nullptr, *sprite_ = nullptr, *cover_ = nullptr;
  Args snap_, sprite_args_, cover_args_;
};

}  // namespace gopcast::cli
