#pragma once
// A job's [parallel] table and the one place its defaults and ranges are written.
#include <filesystem>
#include <optional>
#include <string_view>

namespace gopcast {

// [parallel]: how the segment-parallel engine cuts and retries this job (command options
// and Python arguments win, checked against the same ranges).
struct JobParallel {
  std::optional<double> segment_seconds;  // target segment length; 0 = one segment
  std::optional<int> max_attempts;        // tries of one segment before it fails the job
  std::filesystem::path manifest;         // "" = <first output>.manifest.h5
};
// Long enough that the extra keyframe and the encoder's cold start at each boundary cost
// under 1% of size (docs/benchmarks.md), short enough to keep 16 ranks busy on a few
// minutes of video.
constexpr double kDefaultSegmentSeconds = 10;
constexpr double kMaxSegmentSeconds = 86400;
// A transient fault (a node's disk, a killed encoder) costs a retry, not the job.
constexpr int kDefaultMaxAttempts = 3;
constexpr int kMaxAttempts = 100;
constexpr int kMaxWorkers = 4096;  // local worker threads

// The one range check of each: OutOfRange naming `key` ("--segment-seconds",
// "parallel.segment_seconds"...); returns the value.
double check_segment_seconds(double value, std::string_view key);
int check_max_attempts(int value, std::string_view key);
int check_workers(int value, std::string_view key);

}  // namespace gopcast
