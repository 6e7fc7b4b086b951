#pragma once
// Builds the keyframe index of an input's video stream by demuxing only (no decoding).
#include <filesystem>

#include "plan/segments.hpp"

namespace gopcast::engine {

// Timestamps are in the stream's time base, shifted so the container starts at zero
// (the same domain the pipeline's frames use). Frames shown before the first
// keyframe (leading frames of an open GOP) count with the first interval.
plan::KeyframeIndex index_keyframes(const std::filesystem::path& input, int video_stream);

}  // namespace gopcast::engine
