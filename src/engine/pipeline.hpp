#pragma once
// The media pipeline: demux once, decode the chosen video and audio streams once,
// and feed every output's filter graph -> encoder -> muxer chain (or copy packets).
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "av/output.hpp"
#include "plan/output.hpp"
#include "plan/timeline.hpp"
#include "spec/job.hpp"

namespace gopcast::av {
class InputCache;
}

namespace gopcast::engine {

struct Progress {
  double seconds_done = 0;
  double seconds_total = 0;
  int64_t frames = 0;
};

struct RunControl {
  const std::atomic<bool>* cancel = nullptr;  // set from a signal handler to stop cleanly
  std::function<void(const Progress&)> progress;
  int decoder_threads = 0;  // 0: as many as libav likes
  // >= 0: fail once this many video frames are encoded (GOPCAST_FAILPOINT, sched/failpoint.hpp).
  int64_t fail_after_frames = -1;
  // A worker's kept inputs (seeked from task to task); null: each pass opens its own.
  av::InputCache* inputs = nullptr;
};

// One output of a pipeline run.
struct Target {
  plan::OutputPlan plan;
  std::filesystem::path file;         // where the muxer writes (a staging path)
  std::string name;                   // the output as its user named it, for messages
  std::filesystem::path scratch_dir;  // private folder for pass logs (never published)
  // The parallel engine's tasks write their packets into a segment file at `file`
  // (engine/segment_file.hpp) instead of muxing them; encoders are still set up for
  // the headers `plan.muxer` wants, so the gather is a plain remux.
  bool segment_file = false;
};

struct TargetStats {
  int64_t video_frames = 0;
  int64_t audio_packets = 0;
  int64_t source_frames = 0;  // decoded video frames of the span that reached the outputs
  int64_t segment_bytes = 0;  // encoded bytes written to a segment file
  int corrupt_packets = 0;    // input packets the decoders could not decode (skipped)
};

// A span of the input, in the chosen video stream's time base (or `time_base`) with
// the timeline's origin at zero (the domain of
// plan::KeyframeIndex): the frames shown at or after `start` and before `end`. A
// segment is such a span from keyframe A to keyframe B. The origin is the container's
// start plus `origin` microseconds (a clip's start): outputs start there.
struct Span {
  int64_t start = INT64_MIN;
  int64_t end = INT64_MAX;
  // Video encoders look past `end` (see VideoChain::set_tail): the parallel engine's
  // segments then cost what the same frames cost inside a single pass.
  bool lookahead_tail = false;
  // > 0: the span's first frames (this many) are first encoded as a preroll, then
  // for real (see VideoChain::set_head); they are decoded once.
  int64_t preroll_frames = 0;
  int64_t origin = 0;            // microseconds after the container's start
  AVRational time_base{0, 1};    // of start and end; {0, 1}: the video stream's
  // The input is one of a concatenation's (engine/timeline.hpp): frames move
  // `timeline_offset` microseconds later onto the output's timeline before filtering,
  // and the span's last frame is held up to `end` (the input's end, for its last span).
  bool timeline = false;
  int64_t timeline_offset = 0;
  bool contains(int64_t pts) const { return pts >= start && pts < end; }
  bool bounded() const { return start != INT64_MIN || end != INT64_MAX; }
};

using plan::ClipWindow;
// The clip as a span of its own timeline ([0, length) in microseconds, with the clip's
// origin); an unbounded span when the clip is not active.
Span clip_span(const ClipWindow& clip);

// An EBU R128 measurement: integrated loudness (LUFS, -inf for silence), loudness
// range (LU) and the highest true peak of any channel (dBTP).
struct Loudness {
  double integrated = -HUGE_VAL;
  double range = 0;
  double true_peak = -HUGE_VAL;
};
// How an output's audio is brought to its loudness target: one linear gain to the
// target, at most what keeps the true peak at or under the ceiling; where the ceiling
// stops it, the output stays `short_lu` under the target (said as a warning). Silence:
// no gain.
struct LoudnessGain {
  double gain_db = 0;
  double short_lu = 0;  // how far under the target the gain stops (0: it reaches it)
};
LoudnessGain loudness_gain(const Loudness& measured, double target_lufs, double true_peak_dbtp);

struct StreamChoice {
  int video = -1;  // input stream indices, -1 = none
  int audio = -1;
};

// Opens `output` (at `file`) with the plan's muxer options; HLS segments go beside it.
void open_muxer(av::Output& output, const plan::OutputPlan& plan, const std::filesystem::path& file);

// Runs all targets over `input` (two-pass targets get their analysis pass first).
// With a span, decoding starts at the keyframe at or before span.start and stops once
// a frame at or after span.end is decoded (decoders give frames in presentation order,
// so every earlier frame is out by then): each frame of the span is encoded exactly
// once, leading frames of an open GOP included. Audio frames are kept by their start time.
// A concatenation's audio (the audio task of a timeline): every input's audio in turn,
// resampled to each target's rate and layout and padded with silence or cut to its
// window [offset_us, offset_us + length_us), silence for inputs without audio, into
// one encoder per target (loudness normalisation measures the whole timeline first).
std::vector<TargetStats> run_timeline_audio(const plan::Timeline& timeline, const std::vector<Target>& targets,
                                            const RunControl& control);

std::vector<TargetStats> run_pipeline(const std::filesystem::path& input, const StreamChoice& streams,
                                      const std::vector<Target>& targets, const RunControl& control, const Span& span = {});

}  // namespace gopcast::engine
