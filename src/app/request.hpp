#pragma once
// A job resolved once, into the typed request every entry point runs: the job file (or
// a command line, or a Python Job) with its overrides and every default applied, output
// names expanded, templates resolved, ladders expanded into renditions. `gopcast run`,
// `gopcast transcode`, `gopcast-mpi`, the Slurm runner and `gopcast.run()` all call
// resolve() and then app::run (app/run.hpp).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "spec/job.hpp"

namespace gopcast::app {

struct TranscodeOutput {
  std::filesystem::path path;  // final path (placeholders already expanded)
  Template tmpl;
  std::string user_data;
  OutputMarks marks;                    // watermarks and logo removal
  std::vector<SubtitleSpec> subtitles;  // external subtitle tracks
};

// A bitrate ladder of a request: its renditions are ordinary outputs (aligned HLS
// segments, encoded from the same decoded frames), and a master playlist names them.
struct LadderOutput {
  std::filesystem::path master;  // the master playlist's final path
  std::string name;              // the ladder
  std::string user_data;
  std::vector<size_t> outputs;   // its renditions in `outputs`, in master-playlist order
  double hls_segment_seconds = 0;
};

struct TranscodeRequest {
  std::filesystem::path input;
  std::string video_stream;  // selector, "" = best
  std::string audio_stream;
  std::vector<TranscodeOutput> outputs;
  std::vector<LadderOutput> ladders;
  Clip clip;     // the part of the input every output holds
  AudioMix mix;  // background audio under every output's audio
  // Concatenation: every input of the timeline in order (intro, main inputs, outro),
  // each normalised to the output template (plan/timeline.hpp); `input` is then
  // timeline[reference], the first main input: output names expand from it and it
  // decides what the templates leave to the source. Empty: `input` alone.
  std::vector<std::filesystem::path> timeline;
  size_t reference = 0;       // > 0: an intro comes first
  bool has_outro = false;     // the timeline's last input is an outro
  bool fill_silence = false;  // timeline inputs without audio get silence instead of an error
  bool concat() const { return !timeline.empty(); }
};

// How the segment-parallel engine runs it, every value resolved.
struct ParallelSettings {
  int workers = 0;  // local workers; 0 = one per core
  double segment_seconds = kDefaultSegmentSeconds;
  int max_attempts = kDefaultMaxAttempts;
  std::filesystem::path manifest;  // "" = <first output>.manifest.h5
};

// --wait-lock of gopcast and gopcast-mpi, wait_lock= in Python.
inline constexpr const char* kWaitLockHelp =
    "Wait while another run writes the same output (default: fail at once, exit 23)";

// What a caller sets over the job file: command-line options, Python arguments, the
// Slurm allocation's cores. Unset values come from the job, then the defaults.
struct RunOptions {
  std::vector<std::string> sets;  // template overrides for every output ("video.crf=20")
  std::optional<int> workers;
  std::optional<double> segment_seconds;
  std::optional<int> max_attempts;
  std::filesystem::path manifest;
  bool wait_lock = false;  // kWaitLockHelp
  // The key names in messages about bad values: "--segment-seconds" on a command line,
  // "segment_seconds" from Python.
  std::string workers_key = "workers", segment_seconds_key = "segment_seconds", max_attempts_key = "max_attempts";
};

struct RunRequest {
  TranscodeRequest transcode;
  ParallelSettings parallel;
  std::vector<SnapshotSpec> snapshots;  // the job's still images, published with the outputs
  bool wait_lock = false;               // RunOptions::wait_lock
};

// Resolves a job (options checked first: a bad value is OutOfRange naming its key).
RunRequest resolve(Job job, const RunOptions& options = {}, const Catalog& catalog = Catalog::standard());

// The manifest path a request gets by default: <first output>.manifest.h5.
std::filesystem::path default_manifest_path(const TranscodeRequest& request);

}  // namespace gopcast::app
