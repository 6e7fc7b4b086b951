#include "av/codec.hpp"

#include <fmt/format.h>

#include "av/check.hpp"
#include "core/log.hpp"

extern "C" {
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

unsigned x264_reproducible_cpu_flags() {
  static const unsigned flags = [] {
    x264_param_t p;
    x264_param_default(&p);  // fills p.cpu with x264's own detection
    return p.cpu & ~static_cast<unsigned>(X264_CPU_AVX512);
  }();
  return flags;
}

}  // namespace gopcast::av
