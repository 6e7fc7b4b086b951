#include "av/codec.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "av/check.hpp"
#include "core/log.hpp"

extern "C" {
#include <libavformat/version.h>
#include <libavutil/mem.h>
#include <x264.h>
}

namespace gopcast::av {

Decoder::Decoder(const AVStream* stream, std::string_view input_name, int threads) {
  const AVCodecParameters* par = stream->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  const char* codec_name = avcodec_get_name(par->codec_id);
  context_ = fmt::format("{} stream {} {}", input_name, stream->index, codec_name);
  if (!codec)
    fail<MediaError>(ErrorCode::UnsupportedCodec, "{}: stream {}: no decoder for codec \"{}\"", input_name, stream->index, codec_name);
  ctx_.reset(avcodec_alloc_context3(codec));
  if (!ctx_) fail(ErrorCode::Internal, "av: avcodec_alloc_context3: out of memory");
  check(avcodec_parameters_to_context(ctx_.get(), par), "avcodec_parameters_to_context", context_);
  ctx_->pkt_timebase = stream->time_base;
  ctx_->thread_count = threads;
  int ret = avcodec_open2(ctx_.get(), codec, nullptr);
  if (ret < 0)
    fail<MediaError>(ErrorCode::UnsupportedCodec, "{}: stream {}: cannot open {} decoder ({})", input_name, stream->index,
                     codec_name, error_string(ret));
}

std::string Decoder::time_of(int64_t pts) const {
  if (pts == INT64_MIN || pts == AV_NOPTS_VALUE || ctx_->pkt_timebase.den == 0) return "an unknown time";
  return fmt::format("{:.3f} s", static_cast<double>(pts) * av_q2d(ctx_->pkt_timebase));
}

void Decoder::bad_input(int error, const char* operation) const {
  // Out of memory is this machine's trouble, not the input's.
  if (error == AVERROR(ENOMEM)) check(error, operation, context_);
  fail<MediaError>(ErrorCode::ResourceContentBad, "{}: cannot decode the data at {}: {} ({}); the file is damaged", context_,
                   time_of(last_packet_pts_), error_string(error), operation);
}

void Decoder::check_audio_time(AVFrame* frame) {
  const int64_t pts = frame->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE || frame->sample_rate <= 0) return;
  // Back by more than a second: no rounding or damaged frame does that, the timeline
  // itself jumps (a garbage timestamp far ahead before, or joined recordings).
  const int64_t second = av_rescale_q(1, AVRational{1, 1}, ctx_->pkt_timebase);
  if (last_audio_end_ != INT64_MIN && pts < last_audio_end_ - second)
    fail<MediaError>(ErrorCode::ResourceContentBad,
                     "{}: audio timestamps go back from {} to {}: the file is damaged (or joins recordings whose "
                     "clocks differ)",
                     context_, time_of(last_audio_pts_), time_of(pts));
  // A frame that starts inside or a little before the one before (a damaged timestamp,
  // a codec's variable frames in a millisecond container; one tick is the container's
  // rounding) would reach the encoder backwards in time, and the muxer refuses what
  // comes out: it starts where the one before ends.
  if (last_audio_end_ != INT64_MIN && pts < last_audio_end_ - 1) {
    if (moved_++ == 0)
      log::warn("{}: audio at {} overlaps the frame before it by {:.1f} ms (a damaged timestamp): moved to follow it",
                context_, time_of(pts), 1000.0 * static_cast<double>(last_audio_end_ - pts) * av_q2d(ctx_->pkt_timebase));
    frame->best_effort_timestamp = frame->pts = last_audio_end_;
  }
  last_audio_pts_ = frame->best_effort_timestamp;
  last_audio_end_ = last_audio_pts_ + av_rescale_q(frame->nb_samples, AVRational{1, frame->sample_rate}, ctx_->pkt_timebase);
}

void Decoder::send(const AVPacket* packet) {
  if (packet) last_packet_pts_ = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
  int ret = avcodec_send_packet(ctx_.get(), packet);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
  if (ret == AVERROR_INVALIDDATA) {
    if (corrupt_++ == 0) log::warn("{}: skipping corrupt packet", context_);
    return;
  }
  if (ret < 0) bad_input(ret, "avcodec_send_packet");
}

bool Decoder::receive(AVFrame* frame) {
  for (;;) {
    int ret = avcodec_receive_frame(ctx_.get(), frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
    if (ret == AVERROR_INVALIDDATA) {
      if (corrupt_++ == 0) log::warn("{}: skipping undecodable frame", context_);
      continue;
    }
    if (ret < 0) bad_input(ret, "avcodec_receive_frame");
    if (ctx_->codec_type == AVMEDIA_TYPE_AUDIO) check_audio_time(frame);
    return true;
  }
}

Encoder::Encoder(const char* encoder_name) : codec_(avcodec_find_encoder_by_name(encoder_name)), context_(encoder_name) {
  if (!codec_) fail<MediaError>(ErrorCode::UnsupportedCodec, "av: no encoder \"{}\" in this FFmpeg build", encoder_name);
  ctx_.reset(avcodec_alloc_context3(codec_));
  if (!ctx_) fail(ErrorCode::Internal, "av: avcodec_alloc_context3: out of memory");
}

void Encoder::open(Dictionary& options, std::string_view context) {
  context_ = fmt::format("{}, {}", codec_->name, context);
  check(avcodec_open2(ctx_.get(), codec_, options.ptr()), "avcodec_open2", context_);
  if (const char* unused = options.first_unused())
    fail(ErrorCode::Internal, "av: avcodec_open2: option \"{}\" not recognised ({})", unused, context_);
}

void Encoder::send(const AVFrame* frame) {
  int ret = avcodec_send_frame(ctx_.get(), frame);
  if (ret == AVERROR_EOF) return;
  check(ret, "avcodec_send_frame", context_);
}

bool Encoder::receive(AVPacket* packet) {
  int ret = avcodec_receive_packet(ctx_.get(), packet);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
  check(ret, "avcodec_receive_packet", context_);
  return true;
}

SubtitleEncoder::SubtitleEncoder(const std::string& name, const std::string& ass_header, bool global_header)
    : name_(name), buffer_(1 << 16) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (!codec) fail(ErrorCode::UnsupportedCodec, "av: no subtitle encoder \"{}\" in this FFmpeg build", name);
  ctx_.reset(avcodec_alloc_context3(codec));
  if (!ctx_) fail(ErrorCode::Internal, "av: avcodec_alloc_context3: out of memory");
  ctx_->time_base = AVRational{1, 1000};
  ctx_->subtitle_header = static_cast<uint8_t*>(av_mallocz(ass_header.size() + 1));
  if (!ctx_->subtitle_header) fail(ErrorCode::Internal, "av: av_mallocz: out of memory");
  std::copy(ass_header.begin(), ass_header.end(), ctx_->subtitle_header);
  ctx_->subtitle_header_size = static_cast<int>(ass_header.size());
  if (global_header) ctx_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  check(avcodec_open2(ctx_.get(), codec, nullptr), "avcodec_open2", name);
}

PacketPtr SubtitleEncoder::encode(const std::string& ass_event, int64_t start_ms, int64_t end_ms) {
  AVSubtitleRect rect{};
  rect.type = SUBTITLE_ASS;
  rect.ass = const_cast<char*>(ass_event.c_str());
  AVSubtitleRect* rects[] = {&rect};
  AVSubtitle sub{};
  sub.num_rects = 1;
  sub.rects = rects;
  sub.end_display_time = static_cast<uint32_t>(end_ms - start_ms);
  sub.pts = av_rescale_q(start_ms, AVRational{1, 1000}, AV_TIME_BASE_Q);
  const int size = avcodec_encode_subtitle(ctx_.get(), buffer_.data(), static_cast<int>(buffer_.size()), &sub);
  check(size, "avcodec_encode_subtitle", name_);
  PacketPtr p = make_packet();
  check(av_new_packet(p.get(), size), "av_new_packet", name_);
  std::copy(buffer_.begin(), buffer_.begin() + size, p->data);
  p->pts = p->dts = start_ms;
  p->duration = end_ms - start_ms;
  p->flags |= AV_PKT_FLAG_KEY;
  return p;
}

unsigned x264_reproducible_cpu_flags() {
  static const unsigned flags = [] {
    x264_param_t p;
    x264_param_default(&p);  // fills p.cpu with x264's own detection
    return p.cpu & ~static_cast<unsigned>(X264_CPU_AVX512);
  }();
  return flags;
}

std::string libavcodec_version() { return LIBAVCODEC_IDENT; }
std::string libavformat_version() { return LIBAVFORMAT_IDENT; }

}  // namespace gopcast::av
