#pragma once
// Owning handles over libav* C objects. Every handle has a named deleter; no
// owning raw pointers leave this folder.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
}

#include <memory>

#include "core/rational.hpp"

namespace gopcast::av {

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct InputContextDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct OutputContextDeleter {
  void operator()(AVFormatContext* c) const {
    if (c && c->pb && !(c->oformat->flags & AVFMT_NOFILE)) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct CodecParametersDeleter {
  void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
struct FilterGraphDeleter {
  void operator()(AVFilterGraph* g) const { avfilter_graph_free(&g); }
};
struct FilterInOutDeleter {
  void operator()(AVFilterInOut* io) const { avfilter_inout_free(&io); }
};

using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextDeleter>;
using CodecParametersPtr = std::unique_ptr<AVCodecParameters, CodecParametersDeleter>;
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphDeleter>;
using FilterInOutPtr = std::unique_ptr<AVFilterInOut, FilterInOutDeleter>;

// The boundary between plain rationals (plans, templates) and libav's.
inline AVRational to_av(Rational r) { return AVRational{r.num, r.den}; }
inline Rational from_av(AVRational r) { return Rational{r.num, r.den}; }
// libavutil's rescale (nearest tick, halves away from zero), to check core's rescale by.
inline int64_t rescale(int64_t ticks, Rational from, Rational to) { return av_rescale_q(ticks, to_av(from), to_av(to)); }

PacketPtr make_packet();
CodecParametersPtr make_codec_parameters();
FramePtr make_frame();

// AVDictionary owned for the duration of one call that consumes options.
class Dictionary {
 public:
  Dictionary() = default;
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  ~Dictionary() { av_dict_free(&dict_); }
  void set(const char* key, const char* value) { av_dict_set(&dict_, key, value, 0); }
  void set(const char* key, long long value) { av_dict_set_int(&dict_, key, value, 0); }
  AVDictionary** ptr() { return &dict_; }
  // The first key no consumer recognised, or nullptr.
  const char* first_unused() const {
    const AVDictionaryEntry* e = av_dict_get(dict_, "", nullptr, AV_DICT_IGNORE_SUFFIX);
    return e ? e->key : nullptr;
  }

 private:
  AVDictionary* dict_ = nullptr;
};

}  // namespace gopcast::av
