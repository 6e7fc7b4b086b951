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

void Decoder::send(const AVPacket* packet) {
  int ret = avcodec_send_packet(ctx_.get(), packet);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
  if (ret == AVERROR_INVALIDDATA) {
    if (corrupt_++ == 0) log::warn("{}: skipping corrupt packet", context_);
    return;
  }
  check(ret, "avcodec_send_packet", context_);
}

bool Decoder::receive(AVFrame* frame) {
  for (;;) {
    int ret = avcodec_receive_frame(ctx_.get(), frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
    if (ret == AVERROR_INVALIDDATA) {
      if (corrupt_++ == 0) log::warn("{}: skipping undecodable frame", context_);
      continue;
    }
    check(ret, "avcodec_receive_frame", context_);
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
