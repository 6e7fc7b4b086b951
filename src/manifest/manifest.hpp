#pragma once
// The segment manifest: one HDF5 file per job that records the input's keyframe
// index, every segment of the plan (frames, times, bytes, timings, rank, status) and
// the job's attributes. Readable by h5py without gopcast (docs/manifest.md). This is
// the only part of gopcast that includes HDF5.
//
// Crash safety: write() builds a complete file under a temporary name in the same
// folder and renames it over the manifest path, so the file at the path is always a
// whole, valid HDF5 file, whatever moment the job is killed at. The engine throttles
// how often it calls write(); each call is linear in the number of segments.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/enum_names.hpp"
#include "plan/segments.hpp"

namespace gopcast::manifest {

enum class SegmentStatus { pending, running, done, failed };
// Stable lowercase names, as stored in the file: "pending", "running", "done", "failed".
const EnumNames<SegmentStatus>& enum_names(SegmentStatus);

struct SegmentRecord {
  plan::Segment segment;        // index, frames [first, end), pts [start, end), time base
  int64_t bytes = 0;            // encoded video bytes of the segment (all outputs)
  double encode_seconds = 0;    // wall-clock seconds the worker spent on it
  int rank = -1;                // MPI rank or local worker number that encoded it last
  std::string host;             // host name of that rank
  SegmentStatus status = SegmentStatus::pending;
  int attempts = 0;             // how many times it was started (resumed runs add up)
};

struct ManifestInfo {
  std::string job_key;          // hash of input identity, outputs, resolved templates, plan parameters
  std::string input;            // input path as given
  int64_t input_bytes = 0;
  std::string templates;        // the resolved templates of the outputs, as TOML text
  std::vector<std::string> outputs;  // final output paths
  std::string gopcast_version;
  double segment_seconds = 0;   // plan parameters
  double grid_seconds = 0;      // HLS grid (0: segments cut at input keyframes)
  int workers = 0;              // ranks or local workers of the run that wrote the file
  std::string engine;           // "local" or "mpi"
  std::string state;            // "running", "done", "failed", "cancelled"
  int resumed_segments = 0;     // segments this run took from an earlier run's work folder
  std::map<std::string, double> phases;  // wall-clock seconds: "index", "encode", "gather", "mux"
};

// The moments of a run, in seconds on one steady clock; 0 = not reached yet.
struct RunTimes {
  double start = 0;
  double indexed = 0;   // planned (and the earlier run's segments looked up)
  double encoded = 0;   // the last task this run ran ended (or, when none ran, the dispatch)
  double gathered = 0;  // the last segment is in the outputs' staged files
  double muxed = 0;     // the outputs are published
};

// The phases of a run as /phases records them: index (start to planned), encode
// (planned to encoded), gather (what the gather took beyond the encode, which it
// overlaps), mux (gathered to published). None is negative; one not reached has no
// entry, and neither does one whose start is not reached (the gather can finish before
// the dispatch when every segment came from an earlier run).
std::map<std::string, double> phases(const RunTimes& t);

struct Manifest {
  ManifestInfo info;
  plan::KeyframeIndex index;
  std::vector<SegmentRecord> segments;
};

// Writes the whole manifest atomically (temporary file + rename). Throws Error with
// ErrorCode::OutputNotWritable naming the path when it cannot be written.
void write(const std::filesystem::path& path, const Manifest& manifest);

// Reads a manifest written by write(). Returns nullopt when there is no file at
// `path`; throws Error (ResourceContentBad, naming the path) when the file exists
// but is not a gopcast manifest of a schema this version reads.
std::optional<Manifest> read(const std::filesystem::path& path);

// The manifest as a run goes: rewritten whole at most once a second (a rewrite is
// linear in the segments, which keeps the run linear too), at once when forced.
class Log {
 public:
  Log(std::filesystem::path path, ManifestInfo info, plan::KeyframeIndex index);
  const std::filesystem::path& path() const { return path_; }
  void write(const std::vector<SegmentRecord>& rows, const std::string& state, const std::map<std::string, double>& phases,
             bool force);
  // A write was skipped within the second: the next call writes.
  bool dirty() const { return dirty_; }
  size_t writes() const { return writes_; }
  double write_seconds() const { return write_seconds_; }  // spent writing, in all

 private:
  std::filesystem::path path_;
  Manifest manifest_;
  double last_ = -1e9;
  bool dirty_ = false;
  size_t writes_ = 0;
  double write_seconds_ = 0;
};

}  // namespace gopcast::manifest
