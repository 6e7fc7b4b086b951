#pragma once
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
#include <string>
#include <vector>

namespace gopcast::engine {

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

}  // namespace gopcast::engine
