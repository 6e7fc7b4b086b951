#pragma once
// Builds the keyframe index of an input's video stream by demuxing only (no decoding).
#include <filesystem>

#include "engine/pipeline.hpp"
#include "plan/segments.hpp"

namespace gopcast::engine {

// Timestamps are in the stream's time base, shifted so the container starts at zero
// (the same domain the pipeline's frames use). Frames shown before the first
// keyframe (leading frames of an open GOP) count with the first interval. Frames an edit
// list hides (the demuxer's discard flag: the part of a GOP before an edit that starts
// inside it) are not on the timeline; the first frame shown is then a cut point.
//
// With `grid_seconds` > 0 (HLS outputs, whose encoder forces a keyframe on the first
// frame of every grid interval) the entries are those grid points instead: the first
// frame of each interval that has frames, with the frames shown in it. Segments cut
// there; a worker decodes from the input keyframe before and drops what precedes.
//
// With an active `clip` the timeline starts at the clip's start and holds the frames
// shown before its end: the start is the first entry (a cut point even inside a GOP),
// and only the part of the file around the clip is read.
//
// `split_seconds` > 0 (the segment target; no grid): a GOP longer than that also has
// entries between its keyframes, with byte_pos -1, so that segments can start there
// (cuts at any frame). A GOP is cut into at most a bounded number of parts, each at
// least `split_seconds` long; a worker decodes from the keyframe and drops what precedes.
//
// `timeline_start` >= 0 (seconds): the input is one of a concatenation's, whose first frame
// is shown that far into the output's timeline; grid intervals count on that timeline.
plan::KeyframeIndex index_keyframes(const std::filesystem::path& input, int video_stream, double grid_seconds = 0,
                                    const ClipWindow& clip = {}, double timeline_start = -1, double split_seconds = 0);

}  // namespace gopcast::engine
