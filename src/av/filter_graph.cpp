#include "av/filter_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "av/check.hpp"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
}

namespace gopcast::av {

void normalise_layout(AVChannelLayout& layout) {
  if (layout.order == AV_CHANNEL_ORDER_NATIVE) return;
  int channels = layout.nb_channels > 0 ? layout.nb_channels : 1;
  av_channel_layout_uninit(&layout);
  av_channel_layout_default(&layout, channels);
}

std::string filter_value(std::string_view value) {
  // Level 1, the filter's option parser: inside '...' everything is literal but the
  // quote itself, written as '\''.
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  // Level 2, the graph parser: backslash before each character it treats specially.
  std::string out;
  for (char c : quoted) {
    if (c == '\\' || c == '\'' || c == '[' || c == ']' || c == ',' || c == ';') out += '\\';
    out += c;
  }
  return out;
}

std::string read_filter_value(std::string_view escaped) {
  const std::string text(escaped);
  const char* p = text.c_str();
  std::unique_ptr<char, void (*)(void*)> graph(av_get_token(&p, "[],;"), av_free);
  const char* q = graph.get();
  std::unique_ptr<char, void (*)(void*)> option(av_get_token(&q, ":="), av_free);
  return option ? std::string(option.get()) : std::string();
}

namespace {
std::string buffer_args(const VideoSourceParams& s) {
  AVRational sar = s.sample_aspect_ratio.num > 0 ? s.sample_aspect_ratio : AVRational{1, 1};
  std::string args = fmt::format("video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}", s.width, s.height,
                                 av_get_pix_fmt_name(s.format), s.time_base.num, s.time_base.den, sar.num, sar.den);
  if (s.frame_rate.num > 0 && s.frame_rate.den > 0) args += fmt::format(":frame_rate={}/{}", s.frame_rate.num, s.frame_rate.den);
  return args;
}
}  // namespace

int64_t frame_ticks(const VideoSourceParams& s) {
  return s.frame_rate.num > 0 && s.frame_rate.den > 0 ? av_rescale_q(1, av_inv_q(s.frame_rate), s.time_base) : 0;
}

FilterGraph FilterGraph::video(const VideoSourceParams& s, const std::string& chain) {
  FilterGraph g;
  g.default_duration_ = frame_ticks(s);
  g.build("buffer", buffer_args(s), "buffersink", chain.empty() ? "null" : chain);
  return g;
}

FilterGraph FilterGraph::video(const VideoSourceParams& s, const std::string& chain, const std::vector<ExtraInput>& extras) {
  FilterGraph g;
  g.default_duration_ = frame_ticks(s);
  g.build("buffer", buffer_args(s), "buffersink", chain.empty() ? "null" : chain, extras);
  return g;
}

FilterGraph FilterGraph::audio(const AudioSourceParams& s, const std::string& chain) {
  char layout[128] = {};
  av_channel_layout_describe(&s.layout, layout, sizeof layout);
  std::string args = fmt::format("time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout={}", s.time_base.num,
                                 s.time_base.den, s.sample_rate, av_get_sample_fmt_name(s.format), layout);
  FilterGraph g;
  g.build("abuffer", args, "abuffersink", chain.empty() ? "anull" : chain);
  return g;
}

void FilterGraph::build(const char* source_filter, const std::string& source_args, const char* sink_filter,
                        const std::string& chain, const std::vector<ExtraInput>& extras) {
  description_ = chain;
  graph_.reset(avfilter_graph_alloc());
  if (!graph_) fail(ErrorCode::Internal, "av: avfilter_graph_alloc: out of memory");
  // Filters run single-threaded: the encoder owns the cores, and output stays deterministic.
  graph_->nb_threads = 1;
  check(avfilter_graph_create_filter(&source_, avfilter_get_by_name(source_filter), "in", source_args.c_str(), nullptr,
                                     graph_.get()),
        "avfilter_graph_create_filter", source_args);
  check(avfilter_graph_create_filter(&sink_, avfilter_get_by_name(sink_filter), "out", nullptr, nullptr, graph_.get()),
        "avfilter_graph_create_filter", sink_filter);

  FilterInOutPtr outputs(avfilter_inout_alloc());
  FilterInOutPtr inputs(avfilter_inout_alloc());
  if (!outputs || !inputs) fail(ErrorCode::Internal, "av: avfilter_inout_alloc: out of memory");
  outputs->name = av_strdup("in");
  outputs->filter_ctx = source_;
  AVFilterInOut* last = outputs.get();
  for (const auto& e : extras) {
    const std::string args = buffer_args(e.params);
    AVFilterContext* ctx = nullptr;
    check(avfilter_graph_create_filter(&ctx, avfilter_get_by_name(source_filter), e.label.c_str(), args.c_str(), nullptr,
                                       graph_.get()),
          "avfilter_graph_create_filter", args);
    extras_.push_back(ctx);
    last->next = avfilter_inout_alloc();
    if (!last->next) fail(ErrorCode::Internal, "av: avfilter_inout_alloc: out of memory");
    last = last->next;
    last->name = av_strdup(e.label.c_str());
    last->filter_ctx = ctx;
  }
  inputs->name = av_strdup("out");
  inputs->filter_ctx = sink_;
  AVFilterInOut* in_raw = inputs.release();
  AVFilterInOut* out_raw = outputs.release();
  int ret = avfilter_graph_parse_ptr(graph_.get(), chain.c_str(), &in_raw, &out_raw, nullptr);
  FilterInOutPtr in_left(in_raw), out_left(out_raw);
  check(ret, "avfilter_graph_parse_ptr", chain);
  check(avfilter_graph_config(graph_.get(), nullptr), "avfilter_graph_config", chain);
}

void FilterGraph::push(AVFrame* frame) {
  if (!frame && end_pts_ != AV_NOPTS_VALUE) {
    check(av_buffersrc_close(source_, end_pts_, AV_BUFFERSRC_FLAG_PUSH), "av_buffersrc_close", description_);
    return;
  }
  if (frame && frame->pts != AV_NOPTS_VALUE) {
    int64_t duration = frame->pkt_duration > 0 ? frame->pkt_duration : default_duration_;
    if (frame->nb_samples > 0) duration = 0;  // audio: EOF at the last pts suffices
    end_pts_ = end_pts_ == AV_NOPTS_VALUE ? frame->pts + duration : std::max(end_pts_, frame->pts + duration);
  }
  check(av_buffersrc_add_frame_flags(source_, frame, AV_BUFFERSRC_FLAG_KEEP_REF), "av_buffersrc_add_frame", description_);
}

void FilterGraph::push_extra(size_t input, AVFrame* frame) {
  check(av_buffersrc_add_frame_flags(extras_.at(input), frame, AV_BUFFERSRC_FLAG_KEEP_REF), "av_buffersrc_add_frame", description_);
}

bool FilterGraph::pull(AVFrame* frame) {
  int ret = av_buffersink_get_frame(sink_, frame);
  if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
  check(ret, "av_buffersink_get_frame", description_);
  return true;
}

FilterGraph::SinkParams FilterGraph::sink_params() const {
  SinkParams p;
  p.width = av_buffersink_get_w(sink_);
  p.height = av_buffersink_get_h(sink_);
  p.format = static_cast<AVPixelFormat>(av_buffersink_get_format(sink_));
  p.sample_aspect_ratio = av_buffersink_get_sample_aspect_ratio(sink_);
  p.time_base = av_buffersink_get_time_base(sink_);
  p.frame_rate = av_buffersink_get_frame_rate(sink_);
  return p;
}

void make_silence(AVFrame* f, const AudioSourceParams& format, int samples) {
  f->format = format.format;
  f->sample_rate = format.sample_rate;
  f->nb_samples = samples;
  check(av_channel_layout_copy(&f->ch_layout, &format.layout), "av_channel_layout_copy");
  check(av_frame_get_buffer(f, 0), "av_frame_get_buffer");
  av_samples_set_silence(f->extended_data, 0, samples, f->ch_layout.nb_channels, format.format);
}

std::optional<double> metadata_number(const AVFrame* frame, const std::string& key) {
  const AVDictionaryEntry* e = av_dict_get(frame->metadata, key.c_str(), nullptr, 0);
  return e ? std::optional(std::strtod(e->value, nullptr)) : std::nullopt;
}

std::string pixel_format_name(AVPixelFormat format) {
  const char* n = av_get_pix_fmt_name(format);
  return n ? n : "none";
}

AVSampleFormat sample_format(const std::string& name) { return av_get_sample_fmt(name.c_str()); }

void FilterGraph::set_frame_size(int samples) { av_buffersink_set_frame_size(sink_, static_cast<unsigned>(samples)); }

}  // namespace gopcast::av
