#include "av/check.hpp"

#include "av/handles.hpp"
#include "core/log.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace gopcast::av {

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) fail(ErrorCode::Internal, "av: av_packet_alloc: out of memory");
  return p;
}

CodecParametersPtr make_codec_parameters() {
  CodecParametersPtr p(avcodec_parameters_alloc());
  if (!p) fail(ErrorCode::Internal, "av: avcodec_parameters_alloc: out of memory");
  return p;
}

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) fail(ErrorCode::Internal, "av: av_frame_alloc: out of memory");
  return f;
}

std::string error_string(int averror) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, buf, sizeof buf);
  return buf;
}

int check(int ret, std::string_view operation, std::string_view context, ErrorCode code) {
  if (ret >= 0) return ret;
  code = write_error(AVUNERROR(ret), code);  // a full disk is the output's, whatever the call
  if (context.empty()) fail<MediaError>(code, "av: {}: {}", operation, error_string(ret));
  fail<MediaError>(code, "av: {}: {} ({})", operation, error_string(ret), context);
}

void configure_logging() {
  switch (log::level()) {
    case log::Level::Debug: av_log_set_level(AV_LOG_VERBOSE); break;
    case log::Level::Info: av_log_set_level(AV_LOG_WARNING); break;
    default: av_log_set_level(AV_LOG_QUIET); break;
  }
}

}  // namespace gopcast::av
