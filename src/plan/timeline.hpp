#pragma once
// The job's timeline: a clip of its input, or a concatenation of several inputs, and how
// it is cut into segments. Pure.
//
// Concatenation: a timeline of several inputs (an intro, the main inputs, an outro)
// encoded as one. Every input keeps its own demuxer and decoder; what differs between
// them (size, display aspect, rotation, frame rate, pixel format, audio rate and
// layout) is normalised to the output template by filters of its own:
//  - video: rotated upright, fitted into the output frame with its aspect kept (black
//    bars; the template's aspect "crop" or "none" crops or stretches instead), moved
//    onto the timeline and converted to the output frame rate (frames repeated or
//    dropped, as the fps filter does) and pixel format;
//  - audio: resampled to the output rate and channel layout, then padded with silence
//    or cut to the input's length, so audio and video stay together at every join.
// Input k occupies [offset_k, offset_k + length_k) of the output: its length runs from
// its first video frame to the end of its last (the keyframe index sees both), offset_k
// is the sum of the lengths before it, and its audio keeps its place against its video. Segments are planned per input (never across a join), so the
// timeline is encoded in parallel like a single input.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "plan/segments.hpp"
#include "spec/job.hpp"

namespace gopcast::plan {

// A clip resolved against its input: seconds from the container's start.
struct ClipWindow {
  bool active = false;
  double start = 0;
  double end = 0;  // exclusive
  double seconds() const { return end - start; }
};
// Checks a clip against the input's duration (a start at or past the end, a window
// with no time left: OutOfRange naming the input and the key).
ClipWindow resolve_clip(const Clip& clip, double input_seconds, const std::filesystem::path& input);

struct TimelineEntry {
  std::filesystem::path path;
  int video = -1;  // stream indices; audio -1: silence fills the entry's window
  int audio = -1;
  // Per output: this input's decoded frames -> the output's frames (its own fit,
  // rotation, rate and format, then what the output draws on every frame).
  std::vector<std::string> video_filters;
  // Where it sits, in microseconds: known to the coordinator once the entry is
  // indexed (other ranks get them with each task).
  int64_t offset_us = 0;  // where its first frame is shown on the output's timeline
  int64_t length_us = 0;  // from its first frame to the end of its last
  int64_t start_us = 0;   // its first frame's time from its container's start
};

struct Timeline {
  std::vector<TimelineEntry> entries;  // in output order
  size_t reference = 0;                // the first main input
  bool active() const { return !entries.empty(); }
};

// A concatenation cut into segments: each input on its own, so no segment crosses a
// join, with frame numbers over the whole timeline; the timeline's own index holds every
// input's keyframes in microseconds. Input k is indexed by `index_entry(k, start)`,
// where `start` (seconds) is where it begins on the timeline (its grid counts from
// there); cut_timeline fills in where each entry sits (offset, length, start). `options`
// as for one input; its `first_segment_seconds` applies to the first input only (a live
// playlist's first segment). An input with no video frame is ResourceContentBad.
struct TimelineCut {
  KeyframeIndex index;
  std::vector<Segment> segments;
};
using EntryIndexer = std::function<KeyframeIndex(size_t entry, double start_seconds)>;
TimelineCut cut_timeline(Timeline& timeline, const EntryIndexer& index_entry, const PlanOptions& options);

}  // namespace gopcast::plan
