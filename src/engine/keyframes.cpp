#include "engine/keyframes.hpp"

#include <algorithm>
#include <map>

#include "av/input.hpp"

namespace gopcast::engine {

namespace {

// Entries keyed by what makes a cut point: input keyframes, or grid intervals.
class Intervals {
 public:
  // `shift` >= 0: the first frame's place on a timeline (seconds), where the grid counts.
  Intervals(double grid, AVRational tb, double shift) : grid_(grid), tb_(tb), shift_(shift) {}

  // A cut point that is no keyframe of the input (a clip's start): workers decode from
  // the keyframe before it and drop what precedes.
  void add_cut(int64_t ts) {
    kf_pts_.push_back(ts);
    keyframes_.push_back(plan::Keyframe{ts, 0, -1});
  }

  void add(int64_t ts, bool keyframe, int64_t pos) {
    if (grid_ > 0) {
      if (anchor_ == INT64_MIN) anchor_ = ts;
      auto& e = by_grid_[plan::grid_interval(shift_ < 0 ? static_cast<double>(ts) * av_q2d(tb_)
                                                          : static_cast<double>(ts - anchor_) * av_q2d(tb_) + shift_,
                                             grid_)];
      if (e.frames == 0 || ts < e.pts) e.pts = ts;
      ++e.frames;
      return;
    }
    if (keyframe && (kf_pts_.empty() || ts > kf_pts_.back())) {
      kf_pts_.push_back(ts);
      keyframes_.push_back(plan::Keyframe{ts, 0, pos});
    }
    // The interval a frame is shown in: the last keyframe at or before its time.
    auto it = std::upper_bound(kf_pts_.begin(), kf_pts_.end(), ts);
    if (it == kf_pts_.begin()) ++before_first_;
    else ++keyframes_[static_cast<size_t>(it - kf_pts_.begin() - 1)].frames;
  }

  std::vector<plan::Keyframe> take() {
    if (grid_ > 0) {
      std::vector<plan::Keyframe> out;
      out.reserve(by_grid_.size());
      for (auto& [k, e] : by_grid_) out.push_back(e);
      return out;
    }
    if (!keyframes_.empty()) keyframes_.front().frames += before_first_;
    return std::move(keyframes_);
  }

 private:
  double grid_;
  AVRational tb_;
  double shift_ = -1;
  int64_t anchor_ = INT64_MIN;  // with a shift: the first frame's time, at `shift` on the timeline
  std::map<int64_t, plan::Keyframe> by_grid_;
  std::vector<int64_t> kf_pts_;  // mirrors keyframes_ for binary search
  std::vector<plan::Keyframe> keyframes_;
  int64_t before_first_ = 0;  // frames seen before any keyframe
};

}  // namespace

plan::KeyframeIndex index_keyframes(const std::filesystem::path& path, int video_stream, double grid_seconds,
                                    const ClipWindow& clip, double timeline_start) {
  av::Input input = av::Input::open(path);
  const AVStream* st = input.stream(video_stream);
  // Only the chosen stream's packets need reading.
  for (unsigned i = 0; i < input.ctx()->nb_streams; ++i)
    if (static_cast<int>(i) != video_stream) input.ctx()->streams[i]->discard = AVDISCARD_ALL;

  plan::KeyframeIndex index;
  index.time_base = av::from_av(st->time_base);
  const Span window = clip_span(clip);
  const int64_t offset = av_rescale_q(input.start_time() + window.origin, AV_TIME_BASE_Q, st->time_base);
  const int64_t end = clip.active ? av_rescale_q(window.end, AV_TIME_BASE_Q, st->time_base) : INT64_MAX;
  Intervals intervals(grid_seconds, st->time_base, timeline_start);
  if (clip.active && grid_seconds <= 0) intervals.add_cut(0);
  // Decoding order runs ahead of presentation by a few frames at most: reading stops
  // well past the clip's end, and starts well before its start (any keyframe before it
  // will do, the frames before the start are not counted).
  const int64_t margin = av_rescale_q(30, AVRational{1, 1}, st->time_base);
  if (clip.active && clip.start > 30) input.seek(video_stream, offset - margin);
  av::PacketPtr pkt = av::make_packet();
  int64_t last_pts = INT64_MIN;
  while (input.read(pkt.get())) {
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (pkt->stream_index != video_stream || ts == AV_NOPTS_VALUE) {
      av_packet_unref(pkt.get());
      continue;
    }
    ts -= offset;
    if (clip.active) {
      const int64_t decode_ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts - offset : ts;
      if (decode_ts >= end + margin) break;
      if (ts < 0 || ts >= end) {
        av_packet_unref(pkt.get());
        continue;
      }
    }
    intervals.add(ts, pkt->flags & AV_PKT_FLAG_KEY, pkt->pos);
    index.end_pts = std::max(index.end_pts, ts + std::max<int64_t>(pkt->duration, 0));
    index.first_pts = index.total_frames == 0 ? ts : std::min(index.first_pts, ts);
    last_pts = std::max(last_pts, ts);
    ++index.total_frames;
    av_packet_unref(pkt.get());
  }
  // Containers without packet durations: the last frame lasts one frame period.
  if (index.total_frames > 0 && index.end_pts <= last_pts) {
    const AVRational rate = av_guess_frame_rate(input.ctx(), const_cast<AVStream*>(st), nullptr);
    index.end_pts = last_pts + (rate.num > 0 ? std::max<int64_t>(1, av_rescale_q(1, av_inv_q(rate), st->time_base)) : 1);
  }
  index.keyframes = intervals.take();
  return index;
}

}  // namespace gopcast::engine
