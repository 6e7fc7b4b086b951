#include "av/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "av/check.hpp"
#include "av/codec.hpp"
#include "av/filter_graph.hpp"
#include "av/input.hpp"

extern "C" {
#include <libavutil/parseutils.h>
}
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

namespace gopcast::av {

namespace {
// Image demuxers are "image2" (by extension) and "<codec>_pipe" (by content).
Input open_image(const std::filesystem::path& path, int& stream) {
  Input input = Input::open(path);
  const std::string demuxer = input.ctx()->iformat->name;
  stream = av_find_best_stream(input.ctx(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream < 0 || (demuxer != "image2" && !demuxer.ends_with("_pipe")))
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not an image (read as {})", path.string(), demuxer);
  return input;
}
}  // namespace

ImageSize probe_image(const std::filesystem::path& path) {
  int stream = -1;
  Input input = open_image(path, stream);
  const AVCodecParameters* p = input.stream(stream)->codecpar;
  if (p->width <= 0 || p->height <= 0)
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not an image (no picture size)", path.string());
  return {p->width, p->height};
}

FramePtr read_image(const std::filesystem::path& path) {
  int stream = -1;
  Input input = open_image(path, stream);
  Decoder decoder(input.stream(stream), path.string(), 1);
  PacketPtr packet = make_packet();
  FramePtr frame = make_frame();
  bool sent_end = false;
  while (true) {
    if (decoder.receive(frame.get())) return frame;
    if (sent_end) break;
    if (input.read(packet.get())) {
      if (packet->stream_index == stream) decoder.send(packet.get());
      av_packet_unref(packet.get());
    } else {
      decoder.send(nullptr);
      sent_end = true;
    }
  }
  fail<MediaError>(ErrorCode::ResourceContentBad, "{}: not an image (nothing decodes)", path.string());
}

bool is_colour(const std::string& text) {
  uint8_t rgba[4];
  return !text.empty() && text.find('@') == std::string::npos && av_parse_color(rgba, text.c_str(), -1, nullptr) >= 0;
}

}  // namespace gopcast::av
