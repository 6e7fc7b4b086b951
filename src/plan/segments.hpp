#pragma once
// Segment planning: pure functions over a keyframe index. A segment is "this input
// from keyframe A up to keyframe B (exclusive)", in the video stream's time base.
#include <cstdint>
#include <string>
#include <vector>

#include "core/rational.hpp"
#include "spec/parallel.hpp"

namespace gopcast::plan {

// One keyframe of the input's chosen video stream, and how many frames are shown
// from it up to the next keyframe (leading frames of an open GOP that display before
// their keyframe count with the previous interval, where they are shown).
struct Keyframe {
  int64_t pts = 0;         // presentation time, stream time base
  int64_t frames = 0;      // frames shown in [pts, next keyframe's pts)
  int64_t byte_pos = -1;   // position in the file, when the container says
};

struct KeyframeIndex {
  Rational time_base{1, 1};
  int64_t first_pts = 0;   // the first frame shown
  int64_t end_pts = 0;     // end of the last frame shown
  int64_t total_frames = 0;
  std::vector<Keyframe> keyframes;  // ascending pts
  double seconds(int64_t pts) const { return seconds_of(pts, time_base); }
};

struct Segment {
  int index = 0;
  int64_t first_frame = 0;  // presentation order, whole input
  int64_t end_frame = 0;    // exclusive
  int64_t start_pts = 0;    // inclusive, stream time base
  int64_t end_pts = 0;      // exclusive
  Rational time_base{1, 1};
  // A concatenation's segment (engine/timeline.hpp): the timeline input it is cut
  // from (-1: the job's single input), where that input starts on the output's
  // timeline (microseconds), and where it ends (its own time base, pts: the span's
  // last frame is held up to there). Frame numbers count over the whole timeline.
  int entry = -1;
  int64_t entry_offset_us = 0;
  int64_t entry_end_pts = 0;

  int64_t frames() const { return end_frame - first_frame; }
  // Where it starts and ends on the output's timeline.
  double timeline_start() const { return static_cast<double>(entry_offset_us) / 1e6 + pts_seconds(start_pts); }
  double timeline_end() const { return static_cast<double>(entry_offset_us) / 1e6 + pts_seconds(end_pts); }
  double pts_seconds(int64_t pts) const { return seconds_of(pts, time_base); }
  double seconds() const { return seconds_of(end_pts - start_pts, time_base); }
};

struct PlanOptions {
  double segment_seconds = kDefaultSegmentSeconds;  // target length; segments end on the first keyframe
                                                    // at or after it (<= 0: the whole input is one segment)
  double grid_seconds = 0;      // > 0: the index holds grid points (HLS segment grid) and
                                // segments are whole multiples of the grid
  double first_segment_seconds = 0;  // > 0: a different target for the first segment (a live
                                     // playlist wants its first HLS segment early)
};

// Cuts the index into segments of about `segment_seconds`, each starting at an entry
// of the index; a tail shorter than half the target joins the segment before it.
// With a grid, the index's entries are grid points (engine::index_keyframes with a
// grid) and the target is rounded up to a whole number of grid intervals.
// Linear in the number of keyframes.
std::vector<Segment> plan_segments(const KeyframeIndex& index, const PlanOptions& options);

// Dispatch order for dynamic scheduling: longest first, ties by index.
std::vector<int> longest_first(const std::vector<Segment>& segments);

// The grid interval a time falls in: the encoder forces a keyframe on the first frame
// of each interval, and the index cuts there (one function, so both agree).
int64_t grid_interval(double seconds, double grid_seconds);

// The name of the scratch file of one segment of one output, e.g. "seg-000042.o0.bin"
// (one function, so every rank and the resume logic agree).
std::string segment_file_name(int index, int output);

}  // namespace gopcast::plan
