#pragma once
// Snapshots: decoded pictures of a video at given times, as packed RGB in memory
// (for notebooks, thumbnails and `gopcast snapshot`). Plain data: no libav types
// cross this header.
//
// Frame-exact: for a time t the picture is the first frame whose presentation time
// is at or after t (counted from the container's start, as `ffmpeg -ss t -i FILE`
// counts), or the last frame when t falls after it. Decoding starts from the keyframe
// at or before t, so every frame is the one a full decode shows there.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "av/probe.hpp"

namespace gopcast::ops {

// The picture size wanted. Neither: the stored picture size (turned upright when the
// stream carries rotation), as the ffmpeg tool writes it. One of them: the other follows
// the display aspect ratio (sample aspect ratio included). Both: exactly that size.
struct SnapshotSize {
  std::optional<int> width;
  std::optional<int> height;
};

struct SnapshotOptions {
  SnapshotSize size;
  std::string video_stream;                   // selector ("0:v:1"), "" = the best video stream
  // The picture of the keyframe nearest each time instead (before or after it; the
  // earlier one on a tie): nothing is decoded but that keyframe, so it is fast on long
  // GOPs. The keyframes are found by demuxing only.
  bool keyframe = false;
  const std::atomic<bool>* cancel = nullptr;  // set to stop early (raises Cancelled)
};

struct RgbFrame {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // rgb24, rows top to bottom, 3 * width bytes per row, no padding
  int64_t pts = 0;              // the frame's presentation time, container start at zero
  Rational time_base{1, 1};        // of pts
  double requested = 0;         // the time asked for, seconds
  double seconds() const { return seconds_of(pts, time_base); }
};

// The smallest and largest side a snapshot may ask for.
constexpr int kMinSnapshotSide = 1;
constexpr int kMaxSnapshotSide = 16384;

// One frame per entry of `times` (seconds from the container's start), in the order
// given; repeated or unsorted times are fine (the file is read forward once per seek).
// Errors: a missing file (ResourceNotFound), no video stream (StreamNotFound), a time
// that is negative, not finite or past the end, or a size outside 1..16384 (OutOfRange).
std::vector<RgbFrame> grab_frames(const std::filesystem::path& path, const std::vector<double>& times,
                                  const SnapshotOptions& options = {});

// The keyframes of the video stream (seconds from the container's start, ascending), by
// demuxing only, and the input's duration (seconds, 0 if unknown).
struct KeyframeTimes {
  std::vector<double> keyframes;
  double duration = 0;
};
KeyframeTimes keyframe_times(const std::filesystem::path& path, const std::string& video_stream = {},
                             const std::atomic<bool>* cancel = nullptr);

// The output size for a source picture (after rotation) of `width` x `height` with
// sample aspect ratio `sar`: pure, for tests and callers that lay out grids.
struct PictureSize {
  int width = 0;
  int height = 0;
};
PictureSize snapshot_size(int width, int height, Rational sar, const SnapshotSize& wanted);

}  // namespace gopcast::ops
