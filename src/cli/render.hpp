#pragma once
// Human-readable output of the gopcast command (tables, progress line).
#include <chrono>
#include <string>

#include "av/probe.hpp"
#include "app/run.hpp"
#include "spec/catalog.hpp"

namespace gopcast::cli {

std::string media_table(const MediaInfo& info);
std::string templates_table(const Catalog& catalog);
std::string result_summary(const app::RunResult& result);

// A progress line on a terminal (percent, speed, ETA); silent when stderr is not a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  ~ProgressLine();
  void update(const app::Progress& p);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace gopcast::cli
