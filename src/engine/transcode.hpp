#pragma once
// The library's front door for local (single-process) transcoding: one input,
// one or more outputs, published atomically when every output succeeded.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "av/probe.hpp"
#include "core/paths.hpp"
#include "engine/hls.hpp"
#include "engine/pipeline.hpp"
#include "engine/timeline.hpp"
#include "spec/job.hpp"

namespace gopcast {

struct TranscodeOutput {
  std::filesystem::path path;  // final path (placeholders already expanded)
  Template tmpl;
  std::string user_data;
  OutputMarks marks;  // watermarks and logo removal
  std::vector<SubtitleSpec> subtitles;  // external subtitle tracks (engine/subtitles.hpp)
};

// A bitrate ladder of a request: its renditions are ordinary outputs (aligned HLS
// segments, encoded from the same decoded frames), and a master playlist names them.
struct LadderOutput {
  std::filesystem::path master;  // the master playlist's final path
  std::string name;              // the ladder
  std::string user_data;
  std::vector<size_t> outputs;   // its renditions in `outputs`, in master-playlist order
};

struct TranscodeRequest {
  std::filesystem::path input;
  std::string video_stream;  // selector, "" = best
  std::string audio_stream;
  std::vector<TranscodeOutput> outputs;
  std::vector<LadderOutput> ladders;
  Clip clip;  // the part of the input every output holds
  AudioMix mix;  // background audio under every output's audio
  // Concatenation: every input of the timeline in order (intro, main inputs, outro),
  // each normalised to the output template (engine/timeline.hpp); `input` is then
  // timeline[reference], the first main input: output names expand from it and it
  // decides what the templates leave to the source. Empty: `input` alone.
  std::vector<std::filesystem::path> timeline;
  size_t reference = 0;        // > 0: an intro comes first
  bool has_outro = false;      // the timeline's last input is an outro
  bool fill_silence = false;  // timeline inputs without audio get silence instead of an error
  bool concat() const { return !timeline.empty(); }
};

struct OutputResult {
  std::filesystem::path path;
  std::string template_name;
  std::string user_data;
  int64_t video_frames = 0;
  std::vector<std::filesystem::path> files;  // everything written: the output, then e.g. HLS segments
  int64_t bytes = 0;                         // their total size
  MediaInfo info;                            // probe of the written output
};

// How a segment-parallel run went (absent for single-pass runs).
struct ParallelSummary {
  std::string engine;  // "local" or "mpi"
  int workers = 0;
  int segments = 0;
  int resumed_segments = 0;  // taken from an earlier run's manifest, not re-encoded
  std::filesystem::path manifest;
  std::map<std::string, double> phases;  // wall-clock seconds: index, encode, gather, mux
  int64_t coordinator_peak_rss_kib = 0;  // the coordinating process (MPI rank 0), workers included if local
};

// One input of a concatenation as it landed on the output's timeline.
struct TimelineResult {
  std::filesystem::path input;
  double start = 0;     // seconds on the output's timeline
  double duration = 0;
  bool silence = false;  // no audio of its own: silence filled its window
};

struct TranscodeResult {
  std::filesystem::path input;
  std::vector<TimelineResult> timeline;  // a concatenation's inputs
  double seconds = 0;  // wall-clock time
  double media_seconds = 0;  // input duration
  std::vector<OutputResult> outputs;
  std::optional<ParallelSummary> parallel;
};

// Validates everything first (input, streams, templates against the source, output
// folders), then runs in one pass. On any error nothing is left at any output path.
// (transcode_parallel in engine/parallel.hpp is the segment-parallel engine.)
TranscodeResult transcode(const TranscodeRequest& request, const engine::RunControl& control = {});

// The validated, staged form of a request that both engines start from: the source's
// media info, the chosen streams, one staged output and pipeline target per output.
struct PreparedTranscode {
  MediaInfo source;
  engine::ClipWindow clip;  // the request's clip checked against the source
  engine::StreamChoice streams;
  std::vector<std::unique_ptr<StagedOutput>> staged;
  std::vector<engine::Target> targets;
  std::vector<std::unique_ptr<StagedOutput>> masters;       // one per ladder
  std::vector<std::optional<engine::HlsStats>> hls;         // per output, from the gather
  engine::Timeline timeline;  // a concatenation's inputs and their per-output filters
};
PreparedTranscode prepare_transcode(const TranscodeRequest& request);

// One output's plan against the source: its template and marks resolved
// (engine::plan_output), then its subtitle files read and checked (their cues on the clip's timeline).
engine::OutputPlan plan_transcode_output(const TranscodeOutput& output, const StreamInfo* video, const StreamInfo* audio,
                                         const std::string& input_name, const engine::ClipWindow& clip, double source_seconds,
                                         const AudioMix& mix = {});

// A concatenation planned (engine/timeline.hpp): every input probed and checked (each
// needs video, and audio unless silence may fill in; a clip, stream copies, animations,
// audio-only outputs and logo removal are refused), the outputs planned against the
// reference inputs, and each input's own video filters per output.
struct PlannedTimeline {
  engine::Timeline timeline;
  MediaInfo reference;           // the first main input
  engine::StreamChoice streams;  // its video; audio 0 when the outputs have audio, else -1
  double seconds = 0;            // the inputs' probed durations together
  std::vector<engine::OutputPlan> plans;
};
PlannedTimeline plan_timeline(const TranscodeRequest& request);

// Publishes every staged output (all or nothing) and probes what was written.
std::vector<OutputResult> publish_outputs(const TranscodeRequest& request, PreparedTranscode& prepared,
                                          const std::vector<int64_t>& video_frames);

// Builds the request for a job: expands output placeholders, resolves templates
// with the job's overrides and then `extra` overrides.
TranscodeRequest request_for_job(Job job, const Catalog& catalog, const std::vector<std::string>& extra = {});

nlohmann::json to_json(const TranscodeResult& result);

}  // namespace gopcast
