#include "engine/keyframes.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include "av/input.hpp"

namespace gopcast::engine {

namespace {

// A GOP longer than the segment target is cut into parts that start between its
// keyframes: a worker decodes from the keyframe and drops the frames before its cut.
// Part j of n needs j/n of the GOP decoded first, so the extra decoding of a GOP split
// in n is (n - 1) / 2 GOP lengths; n stays at most 1 + 2 * kMaxExtraDecode. With decoding
// about ten times faster than the encode, that costs at most ~40% more CPU for a GOP
// split in the most parts (a single-keyframe input), and nothing where GOPs are short.
// Splitting cannot depend on the rank count (the bytes must not), so it is this one
// bound for every run.
constexpr int64_t kMaxExtraDecode = 4;  // GOP lengths decoded and dropped, per GOP at most

// Entries keyed by what makes a cut point: input keyframes (and cuts inside GOPs longer
// than `split_seconds`), or grid intervals.
class Intervals {
 public:
  // `shift` >= 0: the first frame's place on a timeline (seconds), where the grid counts.
  Intervals(double grid, AVRational tb, double shift, double split_seconds)
      : grid_(grid), tb_(tb), shift_(shift), split_(grid > 0 ? 0 : split_seconds) {}

  // A cut point that is no keyframe of the input (a clip's start): workers decode from
  // the keyframe before it and drop what precedes.
  void add_cut(int64_t ts) { start_interval(ts, -1); }

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
    if (keyframe && (kf_pts_.empty() || ts > kf_pts_.back())) start_interval(ts, pos);
    // The interval a frame is shown in: the last keyframe at or before its time.
    auto it = std::upper_bound(kf_pts_.begin(), kf_pts_.end(), ts);
    if (it == kf_pts_.begin()) {
      if (done_ > 0) ++out_.front().frames;  // shown before the first keyframe, read late
      else ++before_first_;
      return;
    }
    const size_t k = static_cast<size_t>(it - kf_pts_.begin() - 1);
    if (k < done_) {
      // Shown in an interval already split (a frame decoded two GOPs late): the part it falls in.
      auto part = std::upper_bound(out_.begin(), out_.end(), ts, [](int64_t t, const plan::Keyframe& e) { return t < e.pts; });
      ++std::prev(part)->frames;
      return;
    }
    ++keyframes_[k].frames;
    if (split_ > 0) shown_[k - done_].push_back(ts);
  }

  // `end_pts`: the end of the last frame shown.
  std::vector<plan::Keyframe> take(int64_t end_pts) {
    if (grid_ > 0) {
      std::vector<plan::Keyframe> out;
      out.reserve(by_grid_.size());
      for (auto& [k, e] : by_grid_) out.push_back(e);
      return out;
    }
    if (split_ <= 0) {
      if (!keyframes_.empty()) keyframes_.front().frames += before_first_;
      return std::move(keyframes_);
    }
    while (done_ < keyframes_.size()) finish(done_ + 1 < kf_pts_.size() ? kf_pts_[done_ + 1] : end_pts);
    return std::move(out_);
  }

 private:
  void start_interval(int64_t ts, int64_t pos) {
    // Every frame of the interval two before has been read by now (decoding order runs
    // ahead of presentation by less than a GOP): it can be split.
    if (split_ > 0 && kf_pts_.size() >= done_ + 2) finish(kf_pts_[done_ + 1]);
    kf_pts_.push_back(ts);
    keyframes_.push_back(plan::Keyframe{ts, 0, pos});
    if (split_ > 0) shown_.emplace_back();
  }

  // Splits the oldest open interval, which ends at `end`, into out_.
  void finish(int64_t end) {
    plan::Keyframe whole = keyframes_[done_];
    if (done_ == 0) whole.frames += before_first_, before_first_ = 0;
    std::vector<int64_t> shown = std::move(shown_.front());
    shown_.pop_front();
    ++done_;
    std::sort(shown.begin(), shown.end());
    // Each part must reach the target even where its cut lands up to a frame late.
    int64_t frame = 1;
    for (size_t i = 1; i < shown.size(); ++i) frame = std::max(frame, shown[i] - shown[i - 1]);
    const double gop = static_cast<double>(end - whole.pts) * av_q2d(tb_);
    const auto fit = static_cast<int64_t>(gop / (split_ + static_cast<double>(frame) * av_q2d(tb_)));
    const int64_t parts = std::min<int64_t>(1 + 2 * kMaxExtraDecode, fit);
    // Part j starts with the first frame shown at or after j/n of the GOP; the first part
    // also holds the frames shown before the first keyframe.
    const size_t first_part = out_.size();
    out_.push_back(whole);
    size_t from = 0;
    for (int64_t j = 1; j < parts; ++j) {
      const int64_t cut = whole.pts + (end - whole.pts) * j / parts;
      const auto at = static_cast<size_t>(std::lower_bound(shown.begin(), shown.end(), cut) - shown.begin());
      if (at <= from || at >= shown.size()) continue;
      out_.back().frames = static_cast<int64_t>(at - from);
      out_.push_back(plan::Keyframe{shown[at], 0, -1});
      from = at;
    }
    if (out_.size() - first_part > 1) {
      out_.back().frames = static_cast<int64_t>(shown.size() - from);
      out_[first_part].frames += whole.frames - static_cast<int64_t>(shown.size());
    }
  }

  double grid_;
  AVRational tb_;
  double shift_ = -1;
  double split_ = 0;            // > 0: GOPs longer than this (seconds) are cut into parts
  int64_t anchor_ = INT64_MIN;  // with a shift: the first frame's time, at `shift` on the timeline
  std::map<int64_t, plan::Keyframe> by_grid_;
  std::vector<int64_t> kf_pts_;  // mirrors keyframes_ for binary search
  std::vector<plan::Keyframe> keyframes_;
  int64_t before_first_ = 0;  // frames seen before any keyframe
  // Splitting: intervals before done_ are in out_; shown_ holds the frame times of the
  // open ones (at most two GOPs' worth), oldest first.
  size_t done_ = 0;
  std::deque<std::vector<int64_t>> shown_;
  std::vector<plan::Keyframe> out_;
};

}  // namespace

plan::KeyframeIndex index_keyframes(const std::filesystem::path& path, int video_stream, double grid_seconds,
                                    const ClipWindow& clip, double timeline_start, double split_seconds) {
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
  Intervals intervals(grid_seconds, st->time_base, timeline_start, split_seconds);
  if (clip.active && grid_seconds <= 0) intervals.add_cut(0);
  // Decoding order runs ahead of presentation by a few frames at most: reading stops
  // well past the clip's end, and starts well before its start (any keyframe before it
  // will do, the frames before the start are not counted).
  const int64_t margin = av_rescale_q(30, AVRational{1, 1}, st->time_base);
  if (clip.active && clip.start > 30) input.seek(video_stream, offset - margin);
  av::PacketPtr pkt = av::make_packet();
  int64_t last_pts = INT64_MIN;
  auto add = [&](int64_t ts, bool keyframe, int64_t pos, int64_t duration) {
    intervals.add(ts, keyframe, pos);
    index.end_pts = std::max(index.end_pts, ts + std::max<int64_t>(duration, 0));
    index.first_pts = index.total_frames == 0 ? ts : std::min(index.first_pts, ts);
    last_pts = std::max(last_pts, ts);
    ++index.total_frames;
  };
  // An edit list that starts inside a GOP (what `ffmpeg -ss T -i in.mp4 -c copy` writes):
  // the demuxer gives the frames before the edit, flagged discard, which are decoded but
  // never shown. They are not on the timeline; the first shown frame is a cut point (no
  // keyframe), found among the first packets after them (B-frames come out of order).
  struct Held {
    int64_t ts, pos, duration;
    bool keyframe;
  };
  constexpr size_t kReorderWindow = 32;
  bool preroll = false;  // discarded frames came first, the cut is not placed yet
  std::vector<Held> held;
  auto place_cut = [&] {
    if (!preroll) return;
    preroll = false;
    int64_t first = INT64_MAX;
    for (const auto& h : held) first = std::min(first, h.ts);
    if (!held.empty()) intervals.add_cut(first);
    for (const auto& h : held) add(h.ts, h.keyframe, h.pos, h.duration);
    held.clear();
  };
  while (input.read(pkt.get())) {
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (pkt->stream_index != video_stream || ts == AV_NOPTS_VALUE) {
      av_packet_unref(pkt.get());
      continue;
    }
    ts -= offset;
    if (pkt->flags & AV_PKT_FLAG_DISCARD) {
      // A clip or a grid places its own first entry; otherwise the shown frames start with a cut.
      if (index.total_frames == 0 && held.empty() && !clip.active && grid_seconds <= 0) preroll = true;
      av_packet_unref(pkt.get());
      continue;
    }
    if (clip.active) {
      const int64_t decode_ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts - offset : ts;
      if (decode_ts >= end + margin) break;
      if (ts < 0 || ts >= end) {
        av_packet_unref(pkt.get());
        continue;
      }
    }
    if (preroll) {
      held.push_back(Held{ts, pkt->pos, pkt->duration, (pkt->flags & AV_PKT_FLAG_KEY) != 0});
      if (held.size() >= kReorderWindow) place_cut();
    } else {
      add(ts, pkt->flags & AV_PKT_FLAG_KEY, pkt->pos, pkt->duration);
    }
    av_packet_unref(pkt.get());
  }
  place_cut();
  // Containers without packet durations: the last frame lasts one frame period.
  if (index.total_frames > 0 && index.end_pts <= last_pts) {
    const AVRational rate = av_guess_frame_rate(input.ctx(), const_cast<AVStream*>(st), nullptr);
    index.end_pts = last_pts + (rate.num > 0 ? std::max<int64_t>(1, av_rescale_q(1, av_inv_q(rate), st->time_base)) : 1);
  }
  index.keyframes = intervals.take(index.end_pts);
  return index;
}

}  // namespace gopcast::engine
