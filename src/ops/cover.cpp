#include "ops/cover.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::ops {

namespace {

std::vector<float> luma(const RgbFrame& f) {
  std::vector<float> y(static_cast<size_t>(f.width) * static_cast<size_t>(f.height));
  for (size_t i = 0; i < y.size(); ++i) {
    const uint8_t* p = f.pixels.data() + 3 * i;
    y[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
  }
  return y;
}

double ramp(double v, double zero, double one) { return std::clamp((v - zero) / (one - zero), 0.0, 1.0); }

}  // namespace

CoverScore score_frame(const RgbFrame& before, const RgbFrame& frame, const RgbFrame& after) {
  if (before.width != frame.width || after.width != frame.width || before.height != frame.height || after.height != frame.height)
    fail(ErrorCode::Internal, "cover: frames of different sizes cannot be compared");
  CoverScore s;
  const int w = frame.width, h = frame.height;
  const std::vector<float> y = luma(frame);
  const double n = static_cast<double>(y.size());
  if (y.empty()) return s;

  // Exposure and contrast.
  double sum = 0, sum2 = 0;
  std::array<int64_t, 256> hist{};
  for (float v : y) {
    sum += v;
    sum2 += static_cast<double>(v) * v;
    ++hist[static_cast<size_t>(std::clamp(static_cast<int>(v + 0.5f), 0, 255))];
  }
  s.luma_mean = sum / n;
  s.luma_std = std::sqrt(std::max(0.0, sum2 / n - s.luma_mean * s.luma_mean));
  s.exposure = std::min(ramp(s.luma_mean, 20, 60), ramp(s.luma_mean, 235, 195));
  s.contrast = std::min(1.0, s.luma_std / 48);

  // Detail: how many grey levels are in use, and how evenly.
  for (int64_t c : hist)
    if (c > 0) {
      const double p = static_cast<double>(c) / n;
      s.entropy_bits -= p * std::log2(p);
    }
  s.detail = std::min(1.0, s.entropy_bits / 7);

  // Sharpness: the Laplacian's variance over the interior.
  double lsum = 0, lsum2 = 0, ln = 0;
  for (int yy = 1; yy + 1 < h; ++yy)
    for (int xx = 1; xx + 1 < w; ++xx) {
      const size_t i = static_cast<size_t>(yy) * static_cast<size_t>(w) + static_cast<size_t>(xx);
      const double l = 4.0 * y[i] - y[i - 1] - y[i + 1] - y[i - static_cast<size_t>(w)] - y[i + static_cast<size_t>(w)];
      lsum += l;
      lsum2 += l * l;
      ++ln;
    }
  if (ln > 0) s.laplacian_variance = std::max(0.0, lsum2 / ln - (lsum / ln) * (lsum / ln));
  s.sharpness = s.laplacian_variance / (s.laplacian_variance + 150);

  // Colourfulness (Hasler and Suesstrunk 2003): spread and mean of the opponent channels.
  double rg_sum = 0, rg_sum2 = 0, yb_sum = 0, yb_sum2 = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const uint8_t* p = frame.pixels.data() + 3 * i;
    const double rg = double(p[0]) - p[1];
    const double yb = 0.5 * (double(p[0]) + p[1]) - p[2];
    rg_sum += rg;
    rg_sum2 += rg * rg;
    yb_sum += yb;
    yb_sum2 += yb * yb;
  }
  const double rg_mean = rg_sum / n, yb_mean = yb_sum / n;
  const double rg_var = std::max(0.0, rg_sum2 / n - rg_mean * rg_mean), yb_var = std::max(0.0, yb_sum2 / n - yb_mean * yb_mean);
  s.colourfulness = std::sqrt(rg_var + yb_var) + 0.3 * std::sqrt(rg_mean * rg_mean + yb_mean * yb_mean);
  s.colour = std::min(1.0, s.colourfulness / 80);

  // Transition: the picture changes, and this frame is the mix of its neighbours.
  const std::vector<float> yb4 = luma(before), ya = luma(after);
  double change = 0, residual = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    change += std::fabs(ya[i] - yb4[i]);
    residual += std::fabs(y[i] - 0.5f * (ya[i] + yb4[i]));
  }
  s.change = change / n;
  s.residual = residual / n;
  // Below 2 levels of change nothing is happening. Measured on real footage: shots with
  // motion have a residual of 0.35 to 0.7 of the change, cross-fades between moving
  // shots 0.1 to 0.25 (the motion inside each shot), fades under 0.1; a cut 0.5.
  s.transition = s.change < 2 ? 0.0 : ramp(s.change, 2, 6) * (1.0 - ramp(s.residual / s.change, 0.22, 0.32));

  s.total = s.exposure * (1 - s.transition) * (0.3 * s.sharpness + 0.25 * s.contrast + 0.25 * s.detail + 0.2 * s.colour);
  return s;
}

CoverPick pick_cover(const fs::path& path, const CoverOptions& options) {
  if (options.candidates < 1) fail<SpecError>(ErrorCode::OutOfRange, "{}: cover: candidates: {} is out of range 1..", path.string(), options.candidates);
  const KeyframeTimes index = keyframe_times(path, options.video_stream, options.cancel);
  const double duration = index.duration;
  const double d = kCoverNeighbourSeconds;
  const int n = options.candidates;
  // Candidate centres: at the keyframe nearest each evenly spread time when it is within
  // half the spacing (then the frame just after it), else the time itself.
  std::vector<double> centres;
  const double lo = 0.05 * duration, span = 0.9 * duration, spacing = span / n;
  for (int i = 0; i < n; ++i) {
    const double t = lo + (i + 0.5) * spacing;
    auto it = std::lower_bound(index.keyframes.begin(), index.keyframes.end(), t);
    double best = -1;
    for (auto k : {it, it == index.keyframes.begin() ? it : std::prev(it)})
      if (k != index.keyframes.end() && (best < 0 || std::fabs(*k - t) < std::fabs(best - t))) best = *k;
    const double centre = best >= 0 && std::fabs(best - t) <= spacing / 2 ? best + d : t;
    centres.push_back(std::clamp(centre, d, std::max(d, duration - d)));
  }
  std::sort(centres.begin(), centres.end());
  centres.erase(std::unique(centres.begin(), centres.end(), [](double a, double b) { return std::fabs(a - b) < 1e-6; }),
                centres.end());

  std::vector<double> times;
  for (double c : centres) {
    times.push_back(std::max(0.0, c - d));
    times.push_back(std::min(c, duration));
    times.push_back(std::min(c + d, duration));
  }
  SnapshotOptions analysis;
  analysis.size.width = 256;
  analysis.video_stream = options.video_stream;
  analysis.cancel = options.cancel;
  const std::vector<RgbFrame> frames = grab_frames(path, times, analysis);

  CoverPick pick;
  size_t best = 0;
  for (size_t i = 0; i < centres.size(); ++i) {
    CoverCandidate c;
    c.time = frames[3 * i + 1].seconds();
    // Two centres can fall on one frame (a keyframe's neighbour and a plain time).
    if (!pick.candidates.empty() && pick.candidates.back().time == c.time) continue;
    c.score = score_frame(frames[3 * i], frames[3 * i + 1], frames[3 * i + 2]);
    if (pick.candidates.empty() || c.score.total > pick.candidates[best].score.total) best = pick.candidates.size();
    pick.candidates.push_back(c);
  }
  pick.score = pick.candidates[best].score;
  SnapshotOptions final_options;
  final_options.size = options.size;
  final_options.video_stream = options.video_stream;
  final_options.cancel = options.cancel;
  // The frame scored, at the size wanted: the first frame at or after its own time.
  pick.frame = std::move(grab_frames(path, {pick.candidates[best].time}, final_options).at(0));
  return pick;
}

}  // namespace gopcast::ops
