#pragma once
// Decoders and encoders. EAGAIN and EOF are flow control, never errors.
#include <string>
#include <string_view>
#include <vector>

#include "av/handles.hpp"

namespace gopcast::av {

class Decoder {
 public:
  // Raises UnsupportedCodec when no decoder for the stream's codec is available.
  // `threads`: 0 lets libav use every core (decoding is bit-exact whatever the
  // threading); the parallel engine's workers decode with one each.
  Decoder(const AVStream* stream, std::string_view input_name, int threads = 0);

  // Feeds one packet (nullptr: drain). Corrupt packets (AVERROR_INVALIDDATA) are
  // counted, not thrown: like the ffmpeg tool, one damaged frame does not stop a
  // transcode. Any other refusal of the input's data is the input's fault:
  // ResourceContentBad naming the file, stream and time.
  void send(const AVPacket* packet);
  // The next decoded frame; false when more input is needed or the decoder is drained.
  // Audio whose timestamps go back more than a second (which no encoder or muxer can
  // follow) is ResourceContentBad, naming both times; a frame that starts less than
  // that before the previous one ends is moved to follow it (with a warning).
  bool receive(AVFrame* frame);

  AVCodecContext* ctx() const { return ctx_.get(); }
  int corrupt_packets() const { return corrupt_; }

 private:
  [[noreturn]] void bad_input(int error, const char* operation) const;
  void check_audio_time(AVFrame* frame);
  std::string time_of(int64_t pts) const;

  CodecContextPtr ctx_;
  std::string context_;
  int corrupt_ = 0;
  int64_t last_packet_pts_ = INT64_MIN;  // of the packet sent last, for messages
  int64_t last_audio_pts_ = INT64_MIN;   // of the audio frame received last
  int64_t last_audio_end_ = INT64_MIN;   // and where it ends
  int moved_ = 0;                         // audio frames moved to follow the one before
};

class Encoder {
 public:
  // Raises UnsupportedCodec when this build has no encoder of that name.
  explicit Encoder(const char* encoder_name);

  AVCodecContext* ctx() const { return ctx_.get(); }
  const AVCodec* codec() const { return ctx_->codec ? ctx_->codec : codec_; }

  // Opens the encoder with private options; an option it does not know is an error.
  void open(Dictionary& options, std::string_view context);

  void send(const AVFrame* frame);  // nullptr: flush
  bool receive(AVPacket* packet);

 private:
  const AVCodec* codec_;
  CodecContextPtr ctx_;
  std::string context_;
};

// A subtitle encoder (mov_text, subrip, ass), fed ASS events as libavcodec's subtitle
// encoders take them, timed in milliseconds.
class SubtitleEncoder {
 public:
  // Raises UnsupportedCodec when this build has no encoder of that name.
  SubtitleEncoder(const std::string& name, const std::string& ass_header, bool global_header);
  AVCodecContext* ctx() const { return ctx_.get(); }
  // One cue: a key packet with pts = dts = `start_ms` (time base 1/1000) and its duration.
  PacketPtr encode(const std::string& ass_event, int64_t start_ms, int64_t end_ms);

 private:
  CodecContextPtr ctx_;
  std::string name_;
  std::vector<uint8_t> buffer_;
};

// The CPU feature flags libx264 should use ("asm=" value): everything x264 detects
// except AVX-512, whose MB-tree code reads uninitialised memory in libx264 0.164
// (the same encode gives different bytes depending on what the heap held before:
// try MALLOC_PERTURB_ with the ffmpeg tool). Without it output is reproducible.
unsigned x264_reproducible_cpu_flags();

// The libav* this program runs on, as their IDENT strings ("Lavc59.37.100").
std::string libavcodec_version();
std::string libavformat_version();

}  // namespace gopcast::av
