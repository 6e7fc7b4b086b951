#pragma once
// The progress line `gopcast run|transcode` draws on a terminal (percent, frames, speed,
// ETA); silent when stderr is not a terminal. In app, beside the progress it shows, so
// that its rounding is tested with the engine.
#include <chrono>
#include <string>

#include "app/run.hpp"

namespace gopcast::app {

class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  ~ProgressLine();  // clears the line
  void update(const Progress& p);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// An estimate to the precision it has: "< 10 s", "35 s" (5 s steps), "12 min", "2 h 05 min".
std::string eta_text(double seconds);

}  // namespace gopcast::app
