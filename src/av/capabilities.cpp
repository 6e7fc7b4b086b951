#include "av/capabilities.hpp"

#include "av/output.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
}

namespace gopcast::av {

namespace {

class Libav final : public Capabilities {
 public:
  std::optional<EncoderCaps> encoder(const std::string& name) const override {
    const AVCodec* c = avcodec_find_encoder_by_name(name.c_str());
    if (!c) return std::nullopt;
    EncoderCaps e;
    e.name = c->name;
    if (c->pix_fmts)
      for (const AVPixelFormat* p = c->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
        if (const char* n = av_get_pix_fmt_name(*p)) e.pixel_formats.emplace_back(n);
    if (c->supported_samplerates)
      for (const int* r = c->supported_samplerates; *r; ++r) e.sample_rates.push_back(*r);
    if (c->sample_fmts)
      for (const AVSampleFormat* f = c->sample_fmts; *f != AV_SAMPLE_FMT_NONE; ++f)
        if (const char* n = av_get_sample_fmt_name(*f)) e.sample_formats.emplace_back(n);
    return e;
  }

  std::optional<PixelFormatCaps> pixel_format(const std::string& name) const override {
    const AVPixelFormat f = av_get_pix_fmt(name.c_str());
    const AVPixFmtDescriptor* d = f == AV_PIX_FMT_NONE ? nullptr : av_pix_fmt_desc_get(f);
    if (!d) return std::nullopt;
    return PixelFormatCaps{d->log2_chroma_w, d->log2_chroma_h};
  }

  bool muxer_refuses(const std::string& muxer, const std::string& codec) const override {
    const AVOutputFormat* of = av_guess_format(muxer.c_str(), nullptr, nullptr);
    const AVCodecDescriptor* d = avcodec_descriptor_get_by_name(codec.c_str());
    // 0: known not to take it; 1: takes it; negative: the muxer does not say.
    return of && d && avformat_query_codec(of, d->id, FF_COMPLIANCE_NORMAL) == 0;
  }

  bool muxer_wants_global_header(const std::string& muxer) const override {
    return av::muxer_wants_global_header(muxer.c_str());
  }
};

}  // namespace

const Capabilities& capabilities() {
  static const Libav libav;
  return libav;
}

}  // namespace gopcast::av
