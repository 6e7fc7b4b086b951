#pragma once
// Where encoded packets go: a muxed output file (or, for HLS, a playlist with its
// segments), or a segment file of the parallel engine (engine/segment_file.hpp).
#include <filesystem>
#include <string>

#include "av/handles.hpp"

namespace gopcast::av {

// The part of a muxer the encode chains use.
class Sink {
 public:
  virtual ~Sink() = default;
  // Encoders must set AV_CODEC_FLAG_GLOBAL_HEADER when this is true.
  virtual bool wants_global_header() const = 0;
  // Adds a stream fed by `encoder`; returns its index.
  virtual int add_stream(const AVCodecContext* encoder) = 0;
  // Adds a stream that copies `source` without re-encoding; returns its index.
  virtual int add_copy_stream(const AVStream* source) = 0;
  // Writes one packet whose timestamps are in `time_base`.
  virtual void write(AVPacket* packet, int stream, AVRational time_base) = 0;
  // Writes what is buffered and closes.
  virtual void finish() = 0;
};

// True when libavformat's muxer `format` wants codec headers out of band.
bool muxer_wants_global_header(const char* format);

class Output : public Sink {
 public:
  // `format` is a libavformat muxer name ("mp4", "hls", "mpegts"...).
  Output(const std::filesystem::path& path, const char* format);

  AVFormatContext* ctx() const { return ctx_.get(); }
  bool wants_global_header() const override { return ctx_->oformat->flags & AVFMT_GLOBALHEADER; }

  int add_stream(const AVCodecContext* encoder) override;
  int add_copy_stream(const AVStream* source) override;
  // Adds a stream of already encoded packets described by `params` (the gather of
  // the parallel engine); returns its index.
  int add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate);

  // Before open(): the time base a stream is muxed in, and its metadata (language, title).
  void set_stream_time_base(int stream, AVRational time_base);
  void set_stream_metadata(int stream, const std::string& key, const std::string& value);

  // Opens the file and writes the header; muxer options not understood are an error.
  void open(Dictionary& options);
  // Packets are interleaved by the muxer.
  void write(AVPacket* packet, int stream, AVRational time_base) override;
  // Flushes interleaving queues and writes the trailer.
  void finish() override;
  // Goes on in a new file with the same muxer (HLS segments): what is buffered goes to
  // the current file first, and MPEG-TS writes its PAT/PMT again at the new file's start.
  void switch_file(const std::filesystem::path& path);

 private:
  AVStream* new_stream();
  std::string name_;
  OutputContextPtr ctx_;
  bool header_written_ = false;
};

}  // namespace gopcast::av
