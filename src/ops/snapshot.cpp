#include "ops/snapshot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "av/codec.hpp"
#include "av/filter_graph.hpp"
#include "av/input.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::ops {

PictureSize snapshot_size(int width, int height, Rational sar, const SnapshotSize& wanted) {
  if (wanted.width && wanted.height) return {*wanted.width, *wanted.height};
  if (!wanted.width && !wanted.height) return {width, height};
  // The display aspect ratio: stored width stretched by the sample aspect ratio.
  const double display = static_cast<double>(width) * (sar.valid() ? sar.value() : 1.0) / height;
  if (wanted.width) return {*wanted.width, std::max(1, static_cast<int>(std::lround(*wanted.width / display)))};
  return {std::max(1, static_cast<int>(std::lround(*wanted.height * display))), *wanted.height};
}

namespace {

// Reads one video stream forward and hands out its decoded frames in presentation
// order, with timestamps counted from the container's start.
class FrameReader {
 public:
  FrameReader(const fs::path& path, const std::string& selector, const std::atomic<bool>* cancel)
      : input_(av::Input::open(path)), cancel_(cancel) {
    stream_ = input_.select(AVMEDIA_TYPE_VIDEO, selector, "video_stream");
    if (stream_ < 0) fail<MediaError>(ErrorCode::StreamNotFound, "{}: no video stream to take a snapshot of", path.string());
    const AVStream* st = input_.stream(stream_);
    time_base_ = st->time_base;
    offset_ = av_rescale_q(input_.start_time(), AV_TIME_BASE_Q, time_base_);
    decoder_.emplace(st, path.string());
    rotation_ = describe(input_).streams[static_cast<size_t>(stream_)].rotation;
  }

  AVRational time_base() const { return time_base_; }
  int rotation() const { return rotation_; }
  double duration() const { return input_.duration_seconds(); }
  AVRational frame_rate() const { return input_.stream(stream_)->avg_frame_rate; }

  // Positions the reader so that the next frame is at or before `target` (or the
  // stream's first frame), and returns that frame. A seek lands on the keyframe at or
  // before its timestamp, but not every demuxer's seek is exact (MPEG-TS seeks by
  // decoding time; open GOPs drop leading frames): the first frame decoded after it
  // is checked, and the seek backs off (1, 2, 4... s) until that frame is early enough.
  bool seek(int64_t target, AVFrame* frame) {
    for (int64_t back_s = 0;; back_s = back_s ? back_s * 2 : 1) {
      const int64_t at = target - av_rescale_q(back_s, AVRational{1, 1}, time_base_);
      const bool from_top = at <= 0 || back_s > 3600;
      if (from_top) {
        if (!fresh_) input_.rewind();
      } else {
        input_.seek(stream_, at + offset_);
      }
      fresh_ = false;
      avcodec_flush_buffers(decoder_->ctx());
      eof_ = false;
      if (!next(frame)) return false;
      if (from_top || frame->pts <= target) return true;
      av_frame_unref(frame);
    }
  }

  // Presentation times (rebased) of every keyframe of the stream, in order, by reading
  // packets only; leaves the reader at the start again.
  std::vector<int64_t> keyframes() {
    std::vector<int64_t> out;
    if (!fresh_) input_.rewind();
    while (input_.read(packet_.get())) {
      if (packet_->stream_index == stream_ && (packet_->flags & AV_PKT_FLAG_KEY)) {
        const int64_t ts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
        if (ts != AV_NOPTS_VALUE) out.push_back(ts - offset_);
      }
      av_packet_unref(packet_.get());
      if (cancel_ && cancel_->load()) fail(ErrorCode::Cancelled, "{}: snapshot cancelled", input_.path().string());
    }
    input_.rewind();
    fresh_ = true;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Decodes the keyframe whose (rebased) time is `key` and nothing else: its packet
  // alone, then the decoder drained, so no frame after it is decoded.
  bool keyframe_at(int64_t key, AVFrame* frame) {
    if (key <= 0) {
      if (!fresh_) input_.rewind();
    } else {
      input_.seek(stream_, key + offset_);
    }
    fresh_ = false;
    avcodec_flush_buffers(decoder_->ctx());
    while (input_.read(packet_.get())) {
      const int64_t ts = packet_->pts != AV_NOPTS_VALUE ? packet_->pts : packet_->dts;
      // A demuxer whose seek lands early (MPEG-TS seeks by decoding time) is read on.
      const bool wanted = packet_->stream_index == stream_ && (packet_->flags & AV_PKT_FLAG_KEY) && ts != AV_NOPTS_VALUE &&
                          ts - offset_ >= key;
      if (!wanted) {
        av_packet_unref(packet_.get());
        continue;
      }
      decoder_->send(packet_.get());
      av_packet_unref(packet_.get());
      decoder_->send(nullptr);
      bool got = false;
      while (!got && decoder_->receive(frame)) {
        got = frame->best_effort_timestamp != AV_NOPTS_VALUE;
        if (got) frame->pts = frame->best_effort_timestamp - offset_;
        else av_frame_unref(frame);
      }
      avcodec_flush_buffers(decoder_->ctx());
      return got;
    }
    return false;
  }

  // The next decoded frame (pts rebased to the container's start); false at the end.
  bool next(AVFrame* frame) {
    for (;;) {
      while (decoder_->receive(frame)) {
        if (frame->best_effort_timestamp == AV_NOPTS_VALUE) {  // nothing to place it by
          av_frame_unref(frame);
          continue;
        }
        frame->pts = frame->best_effort_timestamp - offset_;
        return true;
      }
      if (eof_) return false;
      if (cancel_ && cancel_->load()) fail(ErrorCode::Cancelled, "{}: snapshot cancelled", input_.path().string());
      if (!input_.read(packet_.get())) {
        eof_ = true;
        decoder_->send(nullptr);
        continue;
      }
      if (packet_->stream_index == stream_) decoder_->send(packet_.get());
      av_packet_unref(packet_.get());
    }
  }

 private:
  av::Input input_;
  const std::atomic<bool>* cancel_;
  int stream_ = -1;
  AVRational time_base_{1, 1};
  int64_t offset_ = 0;
  int rotation_ = 0;
  std::optional<av::Decoder> decoder_;
  av::PacketPtr packet_ = av::make_packet();
  bool fresh_ = true;  // nothing read since the input was opened
  bool eof_ = false;
};

// Turns a decoded frame upright and into packed RGB at the wanted size, with the
// filters the ffmpeg tool uses (transpose/flip for rotation, then scale with its
// bicubic flags), so the pixels are the ones `ffmpeg -pix_fmt rgb24` writes.
RgbFrame to_rgb(const AVFrame* decoded, AVRational time_base, AVRational frame_rate, int rotation, const SnapshotSize& wanted) {
  const bool sideways = rotation == 90 || rotation == 270;
  AVRational sar = decoded->sample_aspect_ratio.num > 0 ? decoded->sample_aspect_ratio : AVRational{1, 1};
  // Upright, a sideways picture's pixels are as tall as they were wide.
  const Rational upright_sar = sideways ? Rational{sar.den, sar.num} : Rational{sar.num, sar.den};
  const PictureSize size = snapshot_size(sideways ? decoded->height : decoded->width, sideways ? decoded->width : decoded->height,
                                         upright_sar, wanted);
  std::string chain;
  if (rotation == 90) chain = "transpose=clock,";
  else if (rotation == 180) chain = "hflip,vflip,";
  else if (rotation == 270) chain = "transpose=cclock,";
  chain += fmt::format("scale={}:{}:flags=bicubic,format=rgb24", size.width, size.height);

  av::VideoSourceParams source{decoded->width, decoded->height, static_cast<AVPixelFormat>(decoded->format), time_base, sar,
                               frame_rate};
  av::FilterGraph graph = av::FilterGraph::video(source, chain);
  av::FramePtr in(av_frame_clone(decoded));
  av::FramePtr out = av::make_frame();
  if (!in) fail(ErrorCode::Internal, "av: av_frame_clone: out of memory");
  graph.push(in.get());
  graph.push(nullptr);
  if (!graph.pull(out.get())) fail(ErrorCode::Internal, "snapshot: the scaler gave no picture ({})", chain);

  RgbFrame rgb;
  rgb.width = out->width;
  rgb.height = out->height;
  const size_t row = static_cast<size_t>(rgb.width) * 3;
  rgb.pixels.resize(row * static_cast<size_t>(rgb.height));
  for (int y = 0; y < rgb.height; ++y)
    std::memcpy(rgb.pixels.data() + row * static_cast<size_t>(y), out->data[0] + static_cast<ptrdiff_t>(y) * out->linesize[0], row);
  rgb.pts = decoded->pts;
  rgb.time_base = av::from_av(time_base);
  return rgb;
}

void check_side(const std::optional<int>& side, const char* name) {
  if (side && (*side < kMinSnapshotSide || *side > kMaxSnapshotSide))
    fail<SpecError>(ErrorCode::OutOfRange, "snapshot: {}: {} is out of range {}..{}", name, *side, kMinSnapshotSide,
                    kMaxSnapshotSide);
}

std::vector<RgbFrame> grab_keyframes(FrameReader& reader, const fs::path& path, const std::vector<double>& times,
                                     const SnapshotOptions& options) {
  const AVRational tb = reader.time_base();
  const std::vector<int64_t> keys = reader.keyframes();
  if (keys.empty()) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: no keyframe in the video stream", path.string());
  std::vector<RgbFrame> frames(times.size());
  av::FramePtr frame = av::make_frame();
  // Times that share a keyframe share its picture: each keyframe is decoded once.
  std::vector<std::pair<int64_t, size_t>> wanted;  // (keyframe, index into times)
  for (size_t i = 0; i < times.size(); ++i) {
    const int64_t target = av_rescale_q(std::llround(times[i] * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
    auto after = std::lower_bound(keys.begin(), keys.end(), target);
    int64_t key = after == keys.end() ? keys.back() : *after;
    if (after != keys.begin() && (after == keys.end() || target - *std::prev(after) <= *after - target)) key = *std::prev(after);
    wanted.emplace_back(key, i);
  }
  std::stable_sort(wanted.begin(), wanted.end());
  for (size_t j = 0; j < wanted.size(); ++j) {
    const auto [key, i] = wanted[j];
    if (j > 0 && wanted[j - 1].first == key) {
      frames[i] = frames[wanted[j - 1].second];
    } else {
      av_frame_unref(frame.get());
      if (!reader.keyframe_at(key, frame.get()))
        fail<MediaError>(ErrorCode::ResourceContentBad, "{}: the keyframe at {:.3f} s could not be decoded", path.string(),
                         static_cast<double>(key) * tb.num / tb.den);
      frames[i] = to_rgb(frame.get(), tb, reader.frame_rate(), reader.rotation(), options.size);
    }
    frames[i].requested = times[i];
  }
  return frames;
}

}  // namespace

KeyframeTimes keyframe_times(const fs::path& path, const std::string& video_stream, const std::atomic<bool>* cancel) {
  FrameReader reader(path, video_stream, cancel);
  const AVRational tb = reader.time_base();
  KeyframeTimes out;
  out.duration = reader.duration();
  for (int64_t k : reader.keyframes()) out.keyframes.push_back(static_cast<double>(k) * tb.num / tb.den);
  return out;
}

std::vector<RgbFrame> grab_frames(const fs::path& path, const std::vector<double>& times, const SnapshotOptions& options) {
  check_side(options.size.width, "width");
  check_side(options.size.height, "height");
  FrameReader reader(path, options.video_stream, options.cancel);
  const double duration = reader.duration();
  for (double t : times)
    if (!std::isfinite(t) || t < 0 || (duration > 0 && t > duration))
      fail<SpecError>(ErrorCode::OutOfRange, "{}: snapshot time {} s is out of range 0..{:.3f} (the input's duration)",
                      path.string(), t, duration);
  if (options.keyframe) return grab_keyframes(reader, path, times, options);

  // Read forward through the times in order; a later time close enough ahead is
  // reached by decoding on rather than seeking again.
  std::vector<size_t> order(times.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return times[a] < times[b]; });
  const AVRational tb = reader.time_base();
  const int64_t near_ahead = av_rescale_q(2, AVRational{1, 1}, tb);

  std::vector<RgbFrame> frames(times.size());
  av::FramePtr current = av::make_frame(), next = av::make_frame();
  bool have = false;  // `current` holds a frame and the reader is just past it
  bool at_end = false;
  for (size_t i : order) {
    const int64_t target = av_rescale_q(std::llround(times[i] * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
    // Times come in ascending order, so `current` is never past a frame still wanted.
    if (!have || (target - current->pts > near_ahead && !at_end)) {
      av_frame_unref(current.get());
      have = reader.seek(target, current.get());
      at_end = false;
      if (!have) fail<MediaError>(ErrorCode::ResourceContentBad, "{}: no picture could be decoded", path.string());
    }
    // Decode on to the first frame at or after the target; the last frame when none is.
    while (current->pts < target && !at_end) {
      if (!reader.next(next.get())) {
        at_end = true;
        break;
      }
      std::swap(current, next);
      av_frame_unref(next.get());
    }
    frames[i] = to_rgb(current.get(), tb, reader.frame_rate(), reader.rotation(), options.size);
    frames[i].requested = times[i];
  }
  return frames;
}

}  // namespace gopcast::ops
