#include "av/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "av/check.hpp"
#include "av/codec.hpp"
#include "av/filter_graph.hpp"
#include "core/error.hpp"

namespace gopcast::av {

int jpeg_qscale(int quality) {
  quality = std::clamp(quality, 1, 100);
  return static_cast<int>(std::lround(31.0 - (quality - 1) * 29.0 / 99.0));
}

std::string encode_image(const uint8_t* rgb, int width, int height, ImageCodec codec, int quality) {
  const std::string context = fmt::format("{} {}x{}", codec == ImageCodec::Jpeg ? "jpeg" : "png", width, height);
  FramePtr frame = make_frame();
  frame->format = AV_PIX_FMT_RGB24;
  frame->width = width;
  frame->height = height;
  frame->pts = 0;
  check(av_frame_get_buffer(frame.get(), 0), "av_frame_get_buffer", context, ErrorCode::Internal);
  const size_t row = static_cast<size_t>(width) * 3;
  for (int y = 0; y < height; ++y)
    std::memcpy(frame->data[0] + static_cast<ptrdiff_t>(y) * frame->linesize[0], rgb + row * static_cast<size_t>(y), row);

  Encoder enc(codec == ImageCodec::Jpeg ? "mjpeg" : "png");
  AVCodecContext* ctx = enc.ctx();
  ctx->width = width;
  ctx->height = height;
  ctx->time_base = AVRational{1, 25};
  if (codec == ImageCodec::Jpeg) {
    // Full-range 4:2:0 as the ffmpeg tool writes JPEG; yuv420p flagged full range
    // rather than the deprecated yuvj420p, which makes swscale warn.
    FilterGraph graph = FilterGraph::video({width, height, AV_PIX_FMT_RGB24, AVRational{1, 25}, AVRational{1, 1}, AVRational{25, 1}},
                                           "scale=out_range=full:out_color_matrix=bt601,format=yuv420p");
    graph.push(frame.get());
    graph.push(nullptr);
    FramePtr yuv = make_frame();
    if (!graph.pull(yuv.get())) fail(ErrorCode::Internal, "av: jpeg: the converter gave no picture ({})", context);
    frame = std::move(yuv);
    frame->color_range = AVCOL_RANGE_JPEG;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->color_range = AVCOL_RANGE_JPEG;
    ctx->colorspace = AVCOL_SPC_BT470BG;
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ctx->global_quality = FF_QP2LAMBDA * jpeg_qscale(quality);
    frame->quality = ctx->global_quality;
    frame->pict_type = AV_PICTURE_TYPE_I;
  } else {
    ctx->pix_fmt = AV_PIX_FMT_RGB24;
  }
  Dictionary options;
  enc.open(options, context);
  enc.send(frame.get());
  enc.send(nullptr);
  std::string bytes;
  PacketPtr packet = make_packet();
  while (enc.receive(packet.get())) {
    bytes.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    av_packet_unref(packet.get());
  }
  if (bytes.empty()) fail(ErrorCode::Internal, "av: {}: the encoder gave no image", context);
  return bytes;
}

}  // namespace gopcast::av
