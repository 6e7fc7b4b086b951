#pragma once
// The media pipeline: demux once, decode the chosen video and audio streams once,
// and feed every output's filter graph -> encoder -> muxer chain (or copy packets).
#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/resolve.hpp"

namespace gopcast::engine {

struct Progress {
  double seconds_done = 0;
  double seconds_total = 0;
  int64_t frames = 0;
};

struct RunControl {
  const std::atomic<bool>* cancel = nullptr;  // set from a signal handler to stop cleanly
  std::function<void(const Progress&)> progress;
};

// One output of a pipeline run.
struct Target {
  OutputPlan plan;
  std::filesystem::path file;         // where the muxer writes (a staging path)
  std::filesystem::path scratch_dir;  // private folder for pass logs (never published)
};

struct TargetStats {
  int64_t video_frames = 0;
  int64_t audio_packets = 0;
};

struct StreamChoice {
  int video = -1;  // input stream indices, -1 = none
  int audio = -1;
};

// Runs all targets over `input` (two-pass targets get their analysis pass first).
std::vector<TargetStats> run_pipeline(const std::filesystem::path& input, const StreamChoice& streams,
                                      const std::vector<Target>& targets, const RunControl& control);

}  // namespace gopcast::engine
