#pragma once
// A muxed output file (or, for HLS, a playlist with its segments).
#include <filesystem>
#include <string>

#include "av/handles.hpp"

namespace gopcast::av {

class Output {
 public:
  // `format` is a libavformat muxer name ("mp4", "hls", "mpegts"...).
  Output(const std::filesystem::path& path, const char* format);

  AVFormatContext* ctx() const { return ctx_.get(); }
  // Encoders must set AV_CODEC_FLAG_GLOBAL_HEADER when this is true.
  bool wants_global_header() const { return ctx_->oformat->flags & AVFMT_GLOBALHEADER; }

  // Adds a stream fed by `encoder`; returns its index.
  int add_stream(const AVCodecContext* encoder);
  // Adds a stream that copies `source` without re-encoding; returns its index.
  int add_copy_stream(const AVStream* source);

  // Opens the file and writes the header; muxer options not understood are an error.
  void open(Dictionary& options);
  // Writes one packet whose timestamps are in `time_base`; packets are interleaved.
  void write(AVPacket* packet, int stream, AVRational time_base);
  // Flushes interleaving queues and writes the trailer.
  void finish();

 private:
  OutputContextPtr ctx_;
  std::string name_;
  bool header_written_ = false;
};

}  // namespace gopcast::av
