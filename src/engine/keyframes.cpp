#include "engine/keyframes.hpp"

#include <algorithm>

#include "av/input.hpp"

namespace gopcast::engine {

plan::KeyframeIndex index_keyframes(const std::filesystem::path& path, int video_stream) {
  av::Input input = av::Input::open(path);
  const AVStream* st = input.stream(video_stream);
  // Only the chosen stream's packets need reading.
  for (unsigned i = 0; i < input.ctx()->nb_streams; ++i)
    if (static_cast<int>(i) != video_stream) input.ctx()->streams[i]->discard = AVDISCARD_ALL;

  plan::KeyframeIndex index;
  index.time_base = Ratio{st->time_base.num, st->time_base.den};
  const int64_t offset = av_rescale_q(input.start_time(), AV_TIME_BASE_Q, st->time_base);
  std::vector<int64_t> kf_pts;  // mirrors index.keyframes for binary search
  int64_t before_first = 0;     // frames seen before any keyframe
  av::PacketPtr pkt = av::make_packet();
  while (input.read(pkt.get())) {
    if (pkt->stream_index != video_stream) {
      av_packet_unref(pkt.get());
      continue;
    }
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (ts == AV_NOPTS_VALUE) {
      av_packet_unref(pkt.get());
      continue;
    }
    ts -= offset;
    if ((pkt->flags & AV_PKT_FLAG_KEY) && (kf_pts.empty() || ts > kf_pts.back())) {
      kf_pts.push_back(ts);
      index.keyframes.push_back(plan::Keyframe{ts, 0, pkt->pos});
    }
    // The interval a frame is shown in: the last keyframe at or before its time.
    auto it = std::upper_bound(kf_pts.begin(), kf_pts.end(), ts);
    if (it == kf_pts.begin()) ++before_first;
    else ++index.keyframes[static_cast<size_t>(it - kf_pts.begin() - 1)].frames;
    index.end_pts = std::max(index.end_pts, ts + std::max<int64_t>(pkt->duration, 0));
    ++index.total_frames;
    av_packet_unref(pkt.get());
  }
  if (!index.keyframes.empty()) index.keyframes.front().frames += before_first;
  return index;
}

}  // namespace gopcast::engine
