#pragma once
// The best cover frame: scoring decoded frames (pure, on pixels in memory) and picking
// the best of a few candidates spread over the input.
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "ops/snapshot.hpp"

namespace gopcast::ops {

// Each component is 0..1 (higher is better, except transition) and computed on luma
// (BT.601) unless said otherwise.
struct CoverScore {
  double exposure = 0;    // 0 for black or blown-out frames: mean luma ramps 0..1 over 20..60 and 235..195
  double contrast = 0;    // luma standard deviation / 48, at most 1
  double sharpness = 0;   // variance of the 4-neighbour Laplacian v, as v / (v + 150)
  double detail = 0;      // entropy of the 256-bin luma histogram / 7 bits, at most 1
  double colour = 0;      // Hasler and Suesstrunk's colourfulness on RGB / 80, at most 1
  double transition = 0;  // 1 in a cross-fade or fade: the frame is the mean of its neighbours
                          // (residual under 0.22 of the change; 0 from 0.32 up)
  double total = 0;       // exposure * (1 - transition) * (0.3 sharpness + 0.25 contrast + 0.25 detail + 0.2 colour)
  // The measurements behind them.
  double luma_mean = 0;
  double luma_std = 0;
  double laplacian_variance = 0;
  double entropy_bits = 0;
  double colourfulness = 0;
  double change = 0;    // mean |after - before| (luma levels)
  double residual = 0;  // mean |frame - (before + after) / 2|
};

// Scores `frame` with `before` and `after`, frames a little before and after it, which
// tell a transition from a shot: in a cross-fade or a fade the picture changes (after
// differs from before) and the frame is their mix (the residual is small); in a shot
// with motion the residual is as large as the change, in a still shot both are small,
// and across a cut the frame is one side, half the change away from the mix. All three
// frames must have the same size.
CoverScore score_frame(const RgbFrame& before, const RgbFrame& frame, const RgbFrame& after);

struct CoverOptions {
  int candidates = 24;
  SnapshotSize size;                         // of the picture returned
  std::string video_stream;
  const std::atomic<bool>* cancel = nullptr;
};

struct CoverCandidate {
  double time = 0;  // seconds: the frame scored
  CoverScore score;
};

struct CoverPick {
  RgbFrame frame;                          // the chosen picture at the wanted size
  CoverScore score;
  std::vector<CoverCandidate> candidates;  // every one scored, in time order
};

// The analysis: candidates at the keyframes nearest `candidates` times spread evenly over
// the middle 90% of the input (a keyframe costs no decoding before it, and is often a
// shot's first frame); where no keyframe is that near, the time itself. Each candidate
// is the frame 0.25 s after its keyframe, judged with the frames 0.25 s before and after
// it, on pictures 256 pixels wide. The best total wins (the earliest on a tie).
CoverPick pick_cover(const std::filesystem::path& path, const CoverOptions& options);

// Seconds between a candidate and its neighbours.
constexpr double kCoverNeighbourSeconds = 0.25;

}  // namespace gopcast::ops
