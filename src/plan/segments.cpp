#include "plan/segments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gopcast::plan {

namespace {
bool on_grid(const KeyframeIndex& index, int64_t pts, double grid) {
  if (grid <= 0) return true;
  double t = index.seconds(pts - index.keyframes.front().pts);
  double k = std::round(t / grid);
  // Within half a millisecond of a multiple: time bases like 1/1000 round grid points.
  return k > 0 && std::abs(t - k * grid) < 5e-4;
}
}  // namespace

std::vector<Segment> plan_segments(const KeyframeIndex& index, const PlanOptions& options) {
  std::vector<Segment> out;
  if (index.keyframes.empty()) return out;
  const auto& kf = index.keyframes;
  size_t start = 0;
  int64_t first_frame = 0;
  int64_t frames = 0;
  for (size_t i = 0; i < kf.size(); ++i) {
    frames += kf[i].frames;
    const bool last = i + 1 == kf.size();
    const int64_t next_pts = last ? index.end_pts : kf[i + 1].pts;
    const double length = index.seconds(next_pts - kf[start].pts);
    const bool cut = last || (length + 1e-9 >= options.segment_seconds && on_grid(index, next_pts, options.grid_seconds));
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
  if (out.size() >= 2 && out.back().seconds() < 0.5 * options.segment_seconds) {
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

std::string segment_file_name(int index) { return fmt::format("seg-{:06}.bin", index); }

}  // namespace gopcast::plan
