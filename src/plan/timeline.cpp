#include "plan/timeline.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::plan {

ClipWindow resolve_clip(const Clip& clip, double input_seconds, const fs::path& input) {
  ClipWindow w;
  if (!clip.active()) return w;
  w.active = true;
  w.start = clip.start;
  if (clip.start >= input_seconds)
    fail<MediaError>(ErrorCode::OutOfRange, "{}: input.start: the clip starts at {:.3f} s, at or past the input's end ({:.3f} s)",
                     input.string(), clip.start, input_seconds);
  w.end = clip.duration ? std::min(input_seconds, clip.start + *clip.duration)
                        : input_seconds - clip.end_offset.value_or(0);
  if (w.end <= w.start)
    fail<MediaError>(ErrorCode::OutOfRange, "{}: input.end_offset: cutting {:.3f} s from the end of {:.3f} s leaves nothing after the start ({:.3f} s)",
                     input.string(), clip.end_offset.value_or(0), input_seconds, clip.start);
  return w;
}


TimelineCut cut_timeline(Timeline& timeline, const EntryIndexer& index_entry, const PlanOptions& options) {
  TimelineCut out;
  out.index.time_base = kMicroseconds;
  auto& entries = timeline.entries;
  int64_t offset = 0;
  for (size_t k = 0; k < entries.size(); ++k) {
    TimelineEntry& e = entries[k];
    const KeyframeIndex idx = index_entry(k, static_cast<double>(offset) / 1e6);
    if (idx.total_frames == 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: has no video frames to concatenate", e.path.string());
    auto us = [&](int64_t pts) { return rescale(pts, idx.time_base, kMicroseconds); };
    e.start_us = us(idx.first_pts);
    e.offset_us = offset;
    e.length_us = us(idx.end_pts) - e.start_us;
    PlanOptions o = options;
    if (k > 0) o.first_segment_seconds = 0;
    for (Segment g : plan_segments(idx, o)) {
      g.index = static_cast<int>(out.segments.size());
      g.first_frame += out.index.total_frames;
      g.end_frame += out.index.total_frames;
      g.entry = static_cast<int>(k);
      g.entry_offset_us = offset - e.start_us;
      g.entry_end_pts = idx.end_pts;
      out.segments.push_back(g);
    }
    for (Keyframe kf : idx.keyframes) {
      kf.pts = offset + us(kf.pts) - e.start_us;
      out.index.keyframes.push_back(kf);
    }
    out.index.total_frames += idx.total_frames;
    offset += e.length_us;
  }
  out.index.end_pts = offset;
  return out;
}

}  // namespace gopcast::plan
