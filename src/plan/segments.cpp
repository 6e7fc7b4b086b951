#include "plan/segments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gopcast::plan {

int64_t grid_interval(double seconds, double grid_seconds) {
  // A nanosecond of slack: 1/1000 and 1/90000 time bases land a hair below grid points.
  return static_cast<int64_t>(std::floor((seconds + 1e-9) / grid_seconds));
}

std::vector<Segment> plan_segments(const KeyframeIndex& index, const PlanOptions& options) {
  std::vector<Segment> out;
  if (index.keyframes.empty()) return out;
  const auto& kf = index.keyframes;
  size_t start = 0;
  int64_t first_frame = 0;
  int64_t frames = 0;
  auto on_grid = [&](double t) {
    if (t <= 0) return HUGE_VAL;
    if (options.grid_seconds > 0) t = (std::max(1.0, std::ceil(t / options.grid_seconds - 1e-9)) - 0.5) * options.grid_seconds;
    return t;
  };
  const double target = on_grid(options.segment_seconds);
  const double first_target = options.first_segment_seconds > 0 ? on_grid(options.first_segment_seconds) : target;
  for (size_t i = 0; i < kf.size(); ++i) {
    frames += kf[i].frames;
    const bool last = i + 1 == kf.size();
    const int64_t next_pts = last ? index.end_pts : kf[i + 1].pts;
    const double length = index.seconds(next_pts - kf[start].pts);
    const bool cut = last || length + 1e-9 >= (out.empty() ? first_target : target);
    if (!cut) continue;
    Segment s;
    s.index = static_cast<int>(out.size());
    s.first_frame = first_frame;
    s.end_frame = first_frame + frames;
    s.start_pts = kf[start].pts;
    s.end_pts = next_pts;
    s.time_base = index.time_base;
    out.push_back(s);
    first_frame = s.end_frame;
    frames = 0;
    start = i + 1;
  }
  // A tail much shorter than the target costs a worker a whole seek and encoder
  // start-up for little work: it joins the segment before it.
  if (out.size() >= 2 && out.back().seconds() < 0.5 * target) {
    Segment tail = out.back();
    out.pop_back();
    out.back().end_frame = tail.end_frame;
    out.back().end_pts = tail.end_pts;
  }
  return out;
}

std::vector<int> longest_first(const std::vector<Segment>& segments) {
  std::vector<int> order(segments.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return segments[static_cast<size_t>(a)].frames() > segments[static_cast<size_t>(b)].frames();
  });
  return order;
}

std::string segment_file_name(int index, int output) { return fmt::format("seg-{:06}.o{}.bin", index, output); }

}  // namespace gopcast::plan
