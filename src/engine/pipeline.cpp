#include "engine/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "av/check.hpp"
#include "av/codec.hpp"
#include "av/filter_graph.hpp"
#include "av/image.hpp"
#include "av/input.hpp"
#include "av/output.hpp"
#include "core/log.hpp"
#include "engine/segment_file.hpp"
#include "engine/subtitles.hpp"
#include "plan/segments.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

namespace {

enum class Pass { single, analysis, final };

void set_encoder_rate_options(const plan::VideoPlan& v, AVCodecContext* c, av::Dictionary& opts, Pass pass,
                              const fs::path& stats) {
  const bool x264 = v.encoder == "libx264";
  const bool x265 = v.encoder == "libx265";
  if (!x264 && !x265) return;
  opts.set("preset", v.preset.c_str());
  if (!v.profile.empty()) opts.set("profile", v.profile.c_str());
  opts.set("forced-idr", "1");
  std::string params;
  auto add_param = [&params](const std::string& p) { params += (params.empty() ? "" : ":") + p; };
  if (v.qp) {
    if (x264) opts.set("qp", static_cast<long long>(*v.qp));
    else add_param(fmt::format("qp={}", *v.qp));
  } else if (v.crf) {
    opts.set("crf", static_cast<long long>(*v.crf));
  }
  if (v.bitrate) c->bit_rate = static_cast<int64_t>(v.bitrate) * 1000;
  if (v.maxrate) c->rc_max_rate = static_cast<int64_t>(v.maxrate) * 1000;
  if (v.bufsize) c->rc_buffer_size = v.bufsize * 1000;
  if (v.mode == RateMode::cbr) {
    c->rc_min_rate = c->bit_rate;
    if (x264) add_param("nal-hrd=cbr");
    else add_param("strict-cbr=1");
  }
  if (pass != Pass::single) {
    c->flags |= pass == Pass::analysis ? AV_CODEC_FLAG_PASS1 : AV_CODEC_FLAG_PASS2;
    if (x264) opts.set("stats", stats.c_str());
    else add_param(fmt::format("pass={}:stats={}", pass == Pass::analysis ? 1 : 2, stats.string()));
  }
  // x264's frame-threaded VBV/ABR rate control depends on thread timing, so its
  // output differs run to run; sliced threads keep bitrate modes byte-reproducible.
  if (x264 && (v.bitrate || v.maxrate) && v.threads != 1) add_param("sliced-threads=1");
  // The same bytes on every node of a cluster, whatever its CPU generation (x264
  // otherwise picks some algorithms by CPU), and without AVX-512 (see the function).
  if (x264) add_param(fmt::format("asm={}:cpu-independent=1", av::x264_reproducible_cpu_flags()));
  // Segments are joined under one set of headers (the first segment's, in MP4): x264
  // otherwise picks the picture parameter set's initial QP from each segment's own
  // rate control (two-pass), and a decoder then reads the other segments wrongly.
  if (x264) add_param("stitchable=1");
  if (x265) {
    add_param("log-level=error");
    // libx265 ignores thread_count and sizes its pool from the machine's cores, and
    // its output depends on that: the template's threads decide instead.
    if (v.threads == 1) add_param("pools=none:frame-threads=1");
    else if (v.threads > 1) add_param(fmt::format("pools={}", v.threads));
  }
  if (!params.empty()) opts.set(x264 ? "x264-params" : "x265-params", params.c_str());
}

av::VideoSourceParams source_params(const av::Decoder& dec, const AVStream* in, AVFormatContext* in_fmt) {
  const AVCodecContext* d = dec.ctx();
  av::VideoSourceParams src;
  src.width = d->width;
  src.height = d->height;
  src.format = d->pix_fmt;
  src.time_base = in->time_base;
  src.sample_aspect_ratio = av_guess_sample_aspect_ratio(in_fmt, const_cast<AVStream*>(in), nullptr);
  src.frame_rate = av_guess_frame_rate(in_fmt, const_cast<AVStream*>(in), nullptr);
  return src;
}

// A still picture as the whole stream of a graph input: stamped before any frame of
// the main input and followed by the end of its stream, so overlay and paletteuse
// apply it to every frame (they keep using the last frame of an ended input).
void feed_still(av::FilterGraph& graph, size_t input, const AVFrame* picture) {
  av::FramePtr p(av_frame_clone(picture));
  if (!p) fail(ErrorCode::Internal, "av: av_frame_clone: out of memory");
  p->pts = -(int64_t{1} << 31);
  graph.push_extra(input, p.get());
  graph.push_extra(input, nullptr);
}

av::VideoSourceParams still_params(const AVFrame* f) {
  av::VideoSourceParams p;
  p.width = f->width;
  p.height = f->height;
  p.format = static_cast<AVPixelFormat>(f->format);
  p.time_base = AVRational{1, 1};
  return p;
}

// The output's filter graph: its chain plus `tail`, with the watermark images the chain
// overlays (read from their files here, on whichever worker builds the graph) and,
// for GIF, the palette as further inputs.
av::FilterGraph make_graph(const plan::VideoPlan& plan, const fs::path& scratch, const av::VideoSourceParams& src, const std::string& tail,
                           const av::FilterGraph::ExtraInput* palette) {
  std::vector<av::FilterGraph::ExtraInput> extras;
  std::vector<av::FramePtr> stills;
  for (const auto& image : plan.overlay_images) {
    stills.push_back(av::read_image(image.path));
    extras.push_back({image.label, still_params(stills.back().get())});
  }
  if (palette) extras.push_back(*palette);
  av::FilterGraph graph = av::FilterGraph::video(src, video_filters(plan, scratch) + tail, extras);
  for (size_t i = 0; i < stills.size(); ++i) feed_still(graph, i, stills[i].get());
  return graph;
}

// GIF analysis pass: the output's own filters, then one palette over every frame.
class PaletteChain {
 public:
  PaletteChain(const plan::VideoPlan& plan, const av::Decoder& dec, const AVStream* in, AVFormatContext* in_fmt, const fs::path& scratch)
      : graph_(make_graph(plan, scratch, source_params(dec, in, in_fmt), ",palettegen=stats_mode=full", {})) {}

  void push(AVFrame* frame) {
    graph_.push(frame);
    drain();
  }
  // The palette (a 16x16 RGB32 picture); palettegen emits it at the end of the stream.
  av::FramePtr finish() {
    graph_.push(nullptr);
    drain();
    if (!palette_) fail(ErrorCode::TranscodeFailed, "av: palettegen: no palette produced (no frames?)");
    return std::move(palette_);
  }

 private:
  void drain() {
    av::FramePtr f = av::make_frame();
    while (graph_.pull(f.get())) {
      palette_ = std::move(f);
      f = av::make_frame();
    }
  }
  av::FilterGraph graph_;
  av::FramePtr palette_;
};

// filter graph -> encoder -> (muxer): what video and audio chains share. Subclasses
// build the graph and open the encoder, and adjust frames and packets on the way.
class EncodeChain {
 public:
  virtual ~EncodeChain() = default;

  void push(AVFrame* frame) {
    graph_->push(frame);
    drain_graph();
  }

  void finish() {
    if (complete()) return;  // everything kept is out; the rest was lookahead only
    graph_->push(nullptr);
    drain_graph();
    encoder_.send(nullptr);
    drain_encoder();
  }

  // True when the chain needs no more input (see VideoChain::set_tail).
  virtual bool complete() const { return false; }

  int64_t frames() const { return frames_; }
  int64_t packets() const { return packets_; }

 protected:
  EncodeChain(const char* encoder, av::Sink* out) : out_(out), encoder_(encoder) {}

  virtual void before_encode(AVFrame* frame) = 0;
  // False drops a filtered frame before the encoder sees it.
  virtual bool accept(const AVFrame* /*frame*/) const { return true; }
  // False drops the packet (a frame that was only there for the lookahead).
  virtual bool before_write(AVPacket* /*packet*/) { return true; }

  av::Sink* out_;  // null in an analysis pass
  av::Encoder encoder_;
  std::optional<av::FilterGraph> graph_;
  int stream_ = -1;

 private:
  void drain_graph() {
    while (graph_->pull(filtered_.get())) {
      if (!accept(filtered_.get())) {
        av_frame_unref(filtered_.get());
        continue;
      }
      before_encode(filtered_.get());
      encoder_.send(filtered_.get());
      av_frame_unref(filtered_.get());
      ++frames_;
      drain_encoder();
    }
  }

  void drain_encoder() {
    while (encoder_.receive(packet_.get())) {
      if (before_write(packet_.get())) {
        if (out_) out_->write(packet_.get(), stream_, encoder_.ctx()->time_base);
        ++packets_;
      }
      av_packet_unref(packet_.get());
    }
  }

  av::FramePtr filtered_ = av::make_frame();
  av::PacketPtr packet_ = av::make_packet();
  int64_t frames_ = 0;
  int64_t packets_ = 0;
};

// Video: scale/convert (and GIF palette) -> x264/x265/gif.
class VideoChain : public EncodeChain {
 public:
  // `timeline`: frames come timed on a concatenation's timeline (microseconds), and
  // the plan's filters fix the frame rate.
  VideoChain(const plan::VideoPlan& plan, const av::Decoder& dec, const AVStream* in, AVFormatContext* in_fmt, av::Sink* out,
             Pass pass, const fs::path& scratch, const AVFrame* palette, bool timeline)
      : EncodeChain(plan.encoder.c_str(), out), plan_(plan) {
    av::VideoSourceParams src = source_params(dec, in, in_fmt);
    if (timeline) src.time_base = AV_TIME_BASE_Q;
    if (plan.palette) {
      // One palette for the whole stream.
      const av::FilterGraph::ExtraInput pal{"palette", still_params(palette)};
      graph_.emplace(make_graph(plan, scratch, src, "[gif_pre];[gif_pre][palette]paletteuse=dither=sierra2_4a", &pal));
      feed_still(*graph_, plan.overlay_images.size(), palette);
    } else {
      graph_.emplace(make_graph(plan, scratch, src, "", nullptr));
    }

    const av::FilterGraph::SinkParams sink = graph_->sink_params();
    AVCodecContext* c = encoder_.ctx();
    c->width = sink.width;
    c->height = sink.height;
    c->pix_fmt = sink.format;
    c->sample_aspect_ratio = sink.sample_aspect_ratio;
    c->time_base = sink.time_base;
    AVRational rate = sink.frame_rate;
    // Variable-rate sources report a "real" rate of the time base (1000 fps for FLV);
    // the average is the honest figure for rate control and stream headers.
    AVRational avg = in->avg_frame_rate;
    if (!timeline && avg.num > 0 && avg.den > 0 && (rate.num <= 0 || av_q2d(rate) > 2 * av_q2d(avg))) rate = avg;
    if (rate.num > 0 && rate.den > 0) c->framerate = rate;
    frame_duration_ = rate.num > 0 ? av_rescale_q(1, av_inv_q(rate), c->time_base) : 0;
    if (plan.gop_frames) c->gop_size = *plan.gop_frames;
    else if (plan.gop_seconds && rate.num > 0) c->gop_size = std::max(1, static_cast<int>(std::lround(*plan.gop_seconds * av_q2d(rate))));
    c->thread_count = plan.threads;
    if (out_ && out_->wants_global_header()) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av::Dictionary opts;
    set_encoder_rate_options(plan, c, opts, pass, scratch / "video-pass.log");
    encoder_.open(opts, fmt::format("{}x{} {}", c->width, c->height, av::pixel_format_name(c->pix_fmt)));
    if (out_) stream_ = out_->add_stream(c);
  }

 private:
  void before_encode(AVFrame* f) override {
    f->pict_type = AV_PICTURE_TYPE_NONE;
    if (head_start_ != INT64_MIN && f->pts != AV_NOPTS_VALUE && f->pts >= head_start_ && !head_forced_) {
      f->pict_type = AV_PICTURE_TYPE_I;
      head_forced_ = true;
    }
    if (tail_end_ != INT64_MAX && f->pts != AV_NOPTS_VALUE) {
      if (f->pts < tail_end_) {
        if (head_start_ == INT64_MIN || f->pts >= head_start_) ++frames_before_end_;
      } else if (!boundary_forced_) {
        f->pict_type = AV_PICTURE_TYPE_I;
        boundary_forced_ = true;
      }
    }
    if (plan_.keyframe_grid > 0 && f->pts != AV_NOPTS_VALUE) {
      // Keyframes on a fixed grid (k * grid seconds), so HLS segments cut there: the
      // first frame of every grid interval (the parallel engine's index cuts there too).
      const double t = static_cast<double>(f->pts) * av_q2d(encoder_.ctx()->time_base);
      const int64_t interval = plan::grid_interval(t, plan_.keyframe_grid);
      if (interval > last_interval_) {
        f->pict_type = AV_PICTURE_TYPE_I;
        last_interval_ = interval;
      }
    }
  }

  bool before_write(AVPacket* p) override {
    if (tail_end_ != INT64_MAX && p->pts >= tail_end_) return false;
    if (head_start_ != INT64_MIN && p->pts < head_start_) return false;
    if (p->duration == 0) p->duration = frame_duration_;
    ++kept_;
    return true;
  }

 public:
  // A segment that is not the input's last: frames at or after `end` (input stream
  // time base) still go to the encoder, so its lookahead and MB-tree see past the
  // cut as a single pass would, but the first of them is forced to a keyframe (no
  // kept frame can reference it or anything after), their packets are dropped, and
  // the chain is complete once every frame before `end` is out: the overlap is
  // analysed by the lookahead, never fully encoded.
  void set_tail(int64_t end, AVRational time_base) { tail_end_ = av_rescale_q(end, time_base, encoder_.ctx()->time_base); }
  // The mirror at the start: a preroll (the span's first frames, timestamped just
  // before `start`) is encoded first so the rate control has a history as in a single
  // pass (x264 sizes an I frame from the recent P frames' quantisers); the frame at
  // `start` is forced to a keyframe, and the preroll's packets are dropped.
  void set_head(int64_t start, AVRational time_base) { head_start_ = av_rescale_q(start, time_base, encoder_.ctx()->time_base); }
  // A concatenation's span whose encoder does not look past its end (two-pass): the
  // frame rate conversion fills up to the frame at `end` (the next span's first, or a
  // copy of the last at the input's end), and what it makes from there is dropped.
  void set_limit(int64_t end, AVRational time_base) { limit_ = av_rescale_q(end, time_base, encoder_.ctx()->time_base); }
  bool limited() const { return limit_ != INT64_MAX; }
  bool complete() const override { return boundary_forced_ && kept_ == frames_before_end_; }
  bool wants_tail() const { return tail_end_ != INT64_MAX && !complete(); }
  bool has_head() const { return head_start_ != INT64_MIN; }

 private:
  bool accept(const AVFrame* f) const override { return f->pts == AV_NOPTS_VALUE || f->pts < limit_; }

  int64_t tail_end_ = INT64_MAX;
  int64_t limit_ = INT64_MAX;
  int64_t head_start_ = INT64_MIN;
  bool head_forced_ = false;
  bool boundary_forced_ = false;
  int64_t frames_before_end_ = 0;
  int64_t kept_ = 0;

  const plan::VideoPlan& plan_;
  int64_t frame_duration_ = 0;
  int64_t last_interval_ = INT64_MIN;
};

// Audio source parameters that own their channel layout.
struct AudioParams : av::AudioSourceParams {
  AudioParams() = default;
  AudioParams(const AudioParams&) = delete;
  AudioParams& operator=(const AudioParams&) = delete;
  ~AudioParams() { av_channel_layout_uninit(&layout); }
};

// Audio: resample/format -> aac/mp3/vorbis/flac.
void audio_source_params(const av::Decoder& dec, const AVStream* in, AudioParams& src) {
  const AVCodecContext* d = dec.ctx();
  src.sample_rate = d->sample_rate;
  src.format = d->sample_fmt;
  av_channel_layout_copy(&src.layout, &d->ch_layout);
  av::normalise_layout(src.layout);
  src.time_base = in->time_base;
}

// What an output's audio plan makes of any source: its rate, sample format and layout,
// timed in samples (a concatenation's inputs are brought to this first).
void planned_audio_params(const plan::AudioPlan& plan, AudioParams& p) {
  p.sample_rate = plan.sample_rate;
  p.format = av::sample_format(plan.sample_fmt);
  av_channel_layout_default(&p.layout, plan.channels);
  p.time_base = AVRational{1, plan.sample_rate};
}

// The filter graph of an output's audio: its resampling and channel mix (which end in
// the encoder's sample format), with the background audio read by amovie, resampled
// alike, at its gain and mixed under (amix without renormalisation, so the track keeps
// its level), and the loudness gain before the final format.
std::string audio_chain(const plan::AudioPlan& plan, const std::optional<LoudnessGain>& gain) {
  std::string chain;
  if (plan.mix.active())
    chain = fmt::format("[in]{0}[main];amovie=filename={1},{0},volume={2:.6f}dB[under];"
                        "[main][under]amix=inputs=2:duration={3}:dropout_transition=0:normalize=0,",
                        plan.filters, av::filter_value(plan.mix.path.string()), plan.mix.gain_db,
                        to_string(plan.mix.duration));
  if (gain) chain += fmt::format("volume={:.6f}dB:precision=double,", gain->gain_db);
  return chain + plan.filters;
}

// EBU R128 measurement of an output's audio as it will be encoded (after its resampling
// and channel mix), over the whole span: libavfilter's ebur128 with true peaks, read
// from the metadata of the last frame it passes.
class LoudnessMeter {
 public:
  LoudnessMeter(const plan::AudioPlan& plan, const av::AudioSourceParams& src) {
    graph_.emplace(av::FilterGraph::audio(src, audio_chain(plan, std::nullopt) + ",ebur128=metadata=1:peak=true"));
  }
  void push(AVFrame* frame) {
    graph_->push(frame);
    drain();
  }
  Loudness finish() {
    graph_->push(nullptr);
    drain();
    return last_;
  }

 private:
  void drain() {
    while (graph_->pull(frame_.get())) {
      auto number = [&](const std::string& key) { return av::metadata_number(frame_.get(), key); };
      if (auto v = number("lavfi.r128.I")) last_.integrated = *v;
      if (auto v = number("lavfi.r128.LRA")) last_.range = *v;
      // True peaks per channel, linear; the loudest in dBTP.
      for (int ch = 0; ch < frame_->ch_layout.nb_channels; ++ch)
        if (auto v = number(fmt::format("lavfi.r128.true_peaks_ch{}", ch)); v && *v > 0)
          last_.true_peak = std::max(last_.true_peak, 20 * std::log10(*v));
      av_frame_unref(frame_.get());
    }
  }
  std::optional<av::FilterGraph> graph_;
  av::FramePtr frame_ = av::make_frame();
  Loudness last_;
};

// The normalisation of one target from its measured loudness, said in the log; a
// target it cannot reach is a warning naming how far it got and why.
LoudnessGain normalisation(const Target& target, const Loudness& measured) {
  const plan::AudioPlan& a = target.plan.audio;
  const LoudnessGain g = loudness_gain(measured, *a.loudness, a.true_peak);
  const std::string name = target.name.empty() ? target.file.string() : target.name;
  log::info("{}: loudness {:.2f} LUFS, true peak {:.2f} dBTP, range {:.2f} LU: gain {:+.2f} dB for {:.1f} LUFS", name,
            measured.integrated, measured.true_peak, measured.range, g.gain_db, *a.loudness);
  if (g.short_lu > 0.05)
    log::warn("{}: loudness reaches about {:.1f} LUFS, not the {:.1f} asked: the true-peak ceiling of {:.1f} dBTP allows "
              "{:+.1f} dB of gain (true peak {:.1f} dBTP at {:.1f} LUFS)",
              name, *a.loudness - g.short_lu, *a.loudness, a.true_peak, g.gain_db, measured.true_peak, measured.integrated);
  return g;
}

class AudioChain : public EncodeChain {
 public:
  // `gain`: the loudness normalisation an analysis pass measured (none: the audio as it is).
  AudioChain(const plan::AudioPlan& plan, const av::AudioSourceParams& src, av::Sink* out, const std::optional<LoudnessGain>& gain)
      : EncodeChain(plan.encoder.c_str(), out) {
    graph_.emplace(av::FilterGraph::audio(src, audio_chain(plan, gain)));

    AVCodecContext* c = encoder_.ctx();
    c->sample_rate = plan.sample_rate;
    c->sample_fmt = av::sample_format(plan.sample_fmt);
    av_channel_layout_default(&c->ch_layout, plan.channels);
    c->time_base = AVRational{1, plan.sample_rate};
    if (plan.bitrate) c->bit_rate = static_cast<int64_t>(plan.bitrate) * 1000;
    if (out_->wants_global_header()) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av::Dictionary opts;
    encoder_.open(opts, fmt::format("{} Hz, {} ch", plan.sample_rate, plan.channels));
    if (c->frame_size > 0 && !(encoder_.codec()->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE))
      graph_->set_frame_size(c->frame_size);
    stream_ = out_->add_stream(c);
    sink_time_base_ = graph_->sink_params().time_base;
  }

 private:
  void before_encode(AVFrame* f) override {
    if (f->pts != AV_NOPTS_VALUE) f->pts = av_rescale_q(f->pts, sink_time_base_, encoder_.ctx()->time_base);
  }

  AVRational sink_time_base_{1, 1};
};

// Everything one output needs during one pass.
struct Chain {
  const Target* target = nullptr;
  std::unique_ptr<av::Output> output;        // a muxer (null in an analysis pass)
  std::unique_ptr<SegmentWriter> segment;    // or a segment file
  av::Sink* sink = nullptr;                  // whichever of the two there is
  std::unique_ptr<VideoChain> video;
  std::unique_ptr<AudioChain> audio;
  std::unique_ptr<PaletteChain> palette;
  std::unique_ptr<LoudnessMeter> meter;  // analysis pass: loudness normalisation
  std::unique_ptr<SubtitleMux> subtitles;  // soft subtitles of a muxed output, all written up front
  int video_copy_stream = -1;
  int audio_copy_stream = -1;
};

// Positions `input` so that decoding from `packet` (filled here) shows every frame at
// or after `start` (stream time base, container start at zero). Timestamp seeks are
// not keyframe-exact everywhere (MPEG-TS seeks by decoding time and can land on a P
// frame), so the first video keyframe after the seek is checked and the seek backs
// off until that keyframe is at or before `start`. Packets before it are dropped.
// Returns false when the stream has no keyframe from there on. `input` may have been
// read before (a worker's kept input): a span from the top goes back to the first packet.
bool seek_to_keyframe(av::Input& input, int video, int64_t start, int64_t offset, int64_t origin, AVPacket* packet) {
  const AVRational tb = input.stream(video)->time_base;
  for (int64_t backoff_s = 0;; backoff_s = backoff_s ? backoff_s * 2 : 1) {
    const int64_t back = av_rescale_q(backoff_s, AVRational{1, 1}, tb);
    // `origin` (the clip's start, stream time base) puts the container's start below zero.
    const bool from_top = backoff_s > 3600 || start - back + origin <= 0;
    if (!from_top) input.seek(video, start - back + offset);
    else if (!input.fresh()) input.rewind();
    while (input.read(packet)) {
      // From the top, decoding starts with the stream's first packet, whatever its flags.
      if (packet->stream_index == video && from_top) return true;
      const int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      if (packet->stream_index == video && (packet->flags & AV_PKT_FLAG_KEY) && ts != AV_NOPTS_VALUE) {
        if (ts - offset <= start) return true;
        break;  // overshot: back off further
      }
      av_packet_unref(packet);
    }
    av_packet_unref(packet);
    if (from_top) return false;
  }
}

bool video_analysis(const Target& t) {
  const plan::VideoPlan& v = t.plan.video;
  return v.present && !v.copy && (v.mode == RateMode::twopass || v.palette);
}
bool audio_analysis(const Target& t) { return t.plan.audio.present && !t.plan.audio.copy && t.plan.audio.loudness; }
bool needs_analysis(const Target& t) { return video_analysis(t) || audio_analysis(t); }

// What an analysis pass finds for the final one, per target.
struct Analysis {
  std::vector<av::FramePtr> palettes;          // GIF
  std::vector<std::optional<LoudnessGain>> gains;  // loudness normalisation
};

std::vector<TargetStats> run_pass(const fs::path& path, const StreamChoice& streams, const std::vector<Target>& targets,
                                  Pass pass, const RunControl& control, const Span& given,
                                  Analysis& found) {
  std::optional<av::Input> opened;  // without a worker's kept inputs, this pass's own
  av::Input& input = control.inputs ? control.inputs->get(path) : opened.emplace(av::Input::open(path));
  // The span in the video stream's time base from here on (or its own without video).
  Span span = given;
  if (span.time_base.num == 0) span.time_base = streams.video >= 0 ? input.stream(streams.video)->time_base : AV_TIME_BASE_Q;
  if (streams.video >= 0 && av_cmp_q(span.time_base, input.stream(streams.video)->time_base) != 0) {
    const AVRational vtb = input.stream(streams.video)->time_base;
    if (span.start != INT64_MIN) span.start = av_rescale_q(span.start, span.time_base, vtb);
    if (span.end != INT64_MAX) span.end = av_rescale_q(span.end, span.time_base, vtb);
    span.time_base = vtb;
  }
  const std::string name = path.string();
  const bool analysis = pass == Pass::analysis;

  bool need_video_decode = false, need_audio_decode = false;
  for (const auto& t : targets) {
    need_video_decode |= (!analysis || video_analysis(t)) && t.plan.video.present && !t.plan.video.copy && streams.video >= 0;
    need_audio_decode |= (!analysis || audio_analysis(t)) && t.plan.audio.present && !t.plan.audio.copy && streams.audio >= 0;
  }
  std::optional<av::Decoder> vdec, adec;
  if (need_video_decode) vdec.emplace(input.stream(streams.video), name, control.decoder_threads);
  if (need_audio_decode) adec.emplace(input.stream(streams.audio), name, control.decoder_threads);

  // A concatenation's input: frames move onto the output's timeline before filtering.
  const bool on_timeline = span.timeline;
  const AVRational frame_time_base = on_timeline ? AV_TIME_BASE_Q : span.time_base;
  auto to_timeline = [&](int64_t pts) {
    if (!on_timeline || pts == AV_NOPTS_VALUE) return pts;
    return span.timeline_offset + av_rescale_q(pts, span.time_base, AV_TIME_BASE_Q);
  };

  std::vector<Chain> chains;
  chains.reserve(targets.size());
  for (const auto& t : targets) {
    Chain ch;
    ch.target = &t;
    const Pass own_pass = t.plan.video.mode == RateMode::twopass ? pass : Pass::single;
    if (!analysis && t.segment_file) {
      ch.segment = std::make_unique<SegmentWriter>(t.file, t.plan.global_header);
      ch.sink = ch.segment.get();
    } else if (!analysis) {
      ch.output = std::make_unique<av::Output>(t.file, t.plan.muxer.c_str());
      ch.sink = ch.output.get();
    } else if (!needs_analysis(t)) {
      continue;
    }
    const size_t index = static_cast<size_t>(&t - targets.data());
    if (t.plan.video.present && streams.video >= 0 && (!analysis || video_analysis(t))) {
      if (t.plan.video.copy) {
        if (!analysis) ch.video_copy_stream = ch.sink->add_copy_stream(input.stream(streams.video));
      } else if (analysis && t.plan.video.palette) {
        ch.palette = std::make_unique<PaletteChain>(t.plan.video, *vdec, input.stream(streams.video), input.ctx(), t.scratch_dir);
      } else {
        ch.video = std::make_unique<VideoChain>(t.plan.video, *vdec, input.stream(streams.video), input.ctx(),
                                                ch.sink, own_pass, t.scratch_dir, found.palettes[index].get(), on_timeline);
        // Two-pass encodes must see the same frames in both passes: no lookahead tail.
        if (span.lookahead_tail && span.end != INT64_MAX && own_pass == Pass::single)
          ch.video->set_tail(to_timeline(span.end), frame_time_base);
        if (span.preroll_frames > 0 && own_pass == Pass::single)
          ch.video->set_head(to_timeline(span.start), frame_time_base);
        if (on_timeline && span.end != INT64_MAX && !(span.lookahead_tail && own_pass == Pass::single))
          ch.video->set_limit(to_timeline(span.end), frame_time_base);
      }
    }
    if (analysis && audio_analysis(t) && streams.audio >= 0) {
      AudioParams src;
      audio_source_params(*adec, input.stream(streams.audio), src);
      ch.meter = std::make_unique<LoudnessMeter>(t.plan.audio, src);
    } else if (!analysis && t.plan.audio.present && streams.audio >= 0) {
      if (t.plan.audio.copy) {
        ch.audio_copy_stream = ch.sink->add_copy_stream(input.stream(streams.audio));
      } else {
        AudioParams src;
        audio_source_params(*adec, input.stream(streams.audio), src);
        ch.audio = std::make_unique<AudioChain>(t.plan.audio, src, ch.sink, found.gains[index]);
      }
    }
    if (ch.output && !t.plan.subtitles.empty()) ch.subtitles = std::make_unique<SubtitleMux>(*ch.output, t.plan.subtitles);
    if (ch.output) open_muxer(*ch.output, t.plan, t.file);
    if (ch.subtitles) ch.subtitles->write_until(INT64_MAX, AVRational{1, 1});
    chains.push_back(std::move(ch));
  }

  // Outputs start at zero: shift every timestamp by the container's start time and the
  // clip's start.
  const int64_t start = input.start_time() + span.origin;
  auto offset_for = [&](int index) { return index < 0 ? 0 : av_rescale_q(start, AV_TIME_BASE_Q, input.stream(index)->time_base); };
  const int64_t voffset = offset_for(streams.video), aoffset = offset_for(streams.audio);
  const double total = input.duration_seconds();

  // The span in each stream's own time base.
  const AVRational vtb = span.time_base;
  auto span_in = [&](int index) {
    if (index < 0 || index == streams.video) return span;
    const AVRational tb = input.stream(index)->time_base;
    Span s = span;
    s.start = span.start == INT64_MIN ? INT64_MIN : av_rescale_q(span.start, vtb, tb);
    s.end = span.end == INT64_MAX ? INT64_MAX : av_rescale_q(span.end, vtb, tb);
    return s;
  };
  const Span aspan = span_in(streams.audio);
  av::PacketPtr packet = av::make_packet();
  // After a seek the first packet in hand is the keyframe decoding starts from.
  bool pending = false;
  if (span.start != INT64_MIN && streams.video >= 0) {
    pending = seek_to_keyframe(input, streams.video, span.start, voffset,
                               av_rescale_q(span.origin, AV_TIME_BASE_Q, vtb), packet.get());
  } else {
    bool sought = false;
    if (span.start != INT64_MIN && streams.audio >= 0) {
      // Audio alone (the audio task of a clip): every audio packet can start decoding, so
      // a seek a second before the start does, instead of decoding from the top; frames
      // before the start are dropped by their times as always.
      const AVRational atb = input.stream(streams.audio)->time_base;
      const int64_t at = av_rescale_q(span.start, vtb, atb) + aoffset - av_rescale_q(1, AVRational{1, 1}, atb);
      sought = at > av_rescale_q(input.start_time(), AV_TIME_BASE_Q, atb);
      if (sought) input.seek(streams.audio, at);
    }
    // From the top: a kept input that was read before goes back to its first packet.
    if (!sought && !input.fresh()) input.rewind();
  }
  av::PacketPtr copy = av::make_packet();
  av::FramePtr frame = av::make_frame();
  Progress progress{0, total, 0};
  bool past_end = false;  // a video frame at or after span.end came out of the decoder

  // Frames past the span for chains that look ahead across the cut (bounded: x264's
  // lookahead is at most 250 frames plus B-frames).
  int64_t tail_frames = 0;
  auto wants_tail = [&]() {
    if (tail_frames >= 300) return false;
    for (auto& ch : chains)
      if (ch.video && ch.video->wants_tail()) return true;
    return false;
  };
  av::FramePtr last_shown;  // on a timeline: the span's last frame, to hold up to its end
  auto push_video = [&](AVFrame* f) {
    if (on_timeline) {
      f->pts = to_timeline(f->pts);
      if (!last_shown) last_shown = av::make_frame();
      av_frame_unref(last_shown.get());
      av::check(av_frame_ref(last_shown.get(), f), "av_frame_ref");
    }
    for (auto& ch : chains) {
      if (ch.video) ch.video->push(f);
      if (ch.palette) ch.palette->push(f);
    }
    ++progress.frames;
    if (control.fail_after_frames >= 0 && progress.frames >= control.fail_after_frames)
      fail<MediaError>(ErrorCode::TranscodeFailed, "{}: failpoint: failed after {} frames as GOPCAST_FAILPOINT asks", name,
                       progress.frames);
  };
  // The span's first frames, held (by reference) until the preroll made of them is fed.
  std::vector<av::FramePtr> head;
  bool head_fed = true;
  for (auto& ch : chains) head_fed = head_fed && !(ch.video && ch.video->has_head());
  auto feed_head = [&]() {
    if (head_fed) return;
    head_fed = true;
    const auto n = static_cast<int64_t>(head.size());
    const int64_t step = n >= 2 ? std::max<int64_t>(1, (head.back()->pts - head.front()->pts) / (n - 1)) : 1;
    for (int64_t i = 0; i < n; ++i) {
      av::FramePtr copy(av_frame_clone(head[static_cast<size_t>(i)].get()));
      if (!copy) fail(ErrorCode::Internal, "av: av_frame_clone: out of memory");
      copy->pts = to_timeline(span.start - (n - i) * step);
      for (auto& ch : chains)
        if (ch.video && ch.video->has_head()) ch.video->push(copy.get());
    }
    for (auto& f : head) push_video(f.get());
    head.clear();
  };
  auto deliver_video = [&]() {
    while (vdec->receive(frame.get())) {
      frame->pts = frame->best_effort_timestamp;
      if (!head_fed && (frame->pts == AV_NOPTS_VALUE || span.contains(frame->pts))) {
        head.emplace_back(av_frame_clone(frame.get()));
        if (!head.back()) fail(ErrorCode::Internal, "av: av_frame_clone: out of memory");
        if (static_cast<int64_t>(head.size()) >= span.preroll_frames) feed_head();
        av_frame_unref(frame.get());
        continue;
      }
      if (frame->pts != AV_NOPTS_VALUE && !span.contains(frame->pts)) {
        if (frame->pts >= span.end) {
          feed_head();
          const bool first_past = !past_end;
          past_end = true;
          frame->pts = to_timeline(frame->pts);
          if (wants_tail()) {
            ++tail_frames;
            for (auto& ch : chains)
              if (ch.video && ch.video->wants_tail()) ch.video->push(frame.get());
          }
          if (first_past)
            for (auto& ch : chains)
              if (ch.video && ch.video->limited()) ch.video->push(frame.get());
        }
        av_frame_unref(frame.get());
        continue;
      }
      push_video(frame.get());
      av_frame_unref(frame.get());
    }
  };
  auto deliver_audio = [&]() {
    while (adec->receive(frame.get())) {
      frame->pts = frame->best_effort_timestamp;
      if (frame->pts != AV_NOPTS_VALUE && !aspan.contains(frame->pts)) {
        av_frame_unref(frame.get());
        continue;
      }
      av::normalise_layout(frame->ch_layout);
      for (auto& ch : chains) {
        if (ch.audio) ch.audio->push(frame.get());
        if (ch.meter) ch.meter->push(frame.get());
      }
      av_frame_unref(frame.get());
    }
  };

  const int64_t audio_margin = streams.audio >= 0 ? av_rescale_q(1, AVRational{1, 1}, input.stream(streams.audio)->time_base) : 0;
  while (std::exchange(pending, false) || input.read(packet.get())) {
    if (control.cancel && control.cancel->load()) fail(ErrorCode::Cancelled, "{}: cancelled", name);
    const int idx = packet->stream_index;
    const bool is_video = idx == streams.video, is_audio = idx == streams.audio;
    if (!is_video && !is_audio) {
      av_packet_unref(packet.get());
      continue;
    }
    const int64_t off = is_video ? voffset : aoffset;
    if (packet->pts != AV_NOPTS_VALUE) packet->pts -= off;
    if (packet->dts != AV_NOPTS_VALUE) packet->dts -= off;
    const bool packet_in_span = packet->pts == AV_NOPTS_VALUE || (is_video ? span : aspan).contains(packet->pts);
    if (!analysis && packet_in_span) {
      for (auto& ch : chains) {
        int out_stream = is_video ? ch.video_copy_stream : ch.audio_copy_stream;
        if (out_stream < 0) continue;
        av::check(av_packet_ref(copy.get(), packet.get()), "av_packet_ref");
        ch.sink->write(copy.get(), out_stream, input.stream(idx)->time_base);
        av_packet_unref(copy.get());
      }
    }
    if (is_video && vdec) {
      vdec->send(packet.get());
      deliver_video();
    } else if (is_audio && adec) {
      adec->send(packet.get());
      deliver_audio();
    }
    if (is_video || streams.video < 0) {
      if (packet->pts != AV_NOPTS_VALUE) progress.seconds_done = std::max(progress.seconds_done, packet->pts * av_q2d(input.stream(idx)->time_base));
      if (control.progress) control.progress(progress);
    }
    // Audio alone (a clip's audio task): audio packets come in time order, so one a
    // second past the span's end means the span is decoded, however long the file goes on.
    const bool audio_done = streams.video < 0 && is_audio && aspan.end != INT64_MAX && packet->pts != AV_NOPTS_VALUE &&
                            packet->pts - audio_margin >= aspan.end;
    av_packet_unref(packet.get());
    if ((past_end && !wants_tail()) || audio_done) break;
  }
  // A bounded span stops early by design; only a full read can tell a truncated file.
  if (!span.bounded()) input.check_complete();
  if (vdec) {
    vdec->send(nullptr);
    deliver_video();
  }
  feed_head();  // a span shorter than the preroll
  if (on_timeline && !past_end && last_shown && span.end != INT64_MAX) {
    // The input's end on the timeline: its last frame is shown up to there. A copy at
    // that time closes the span the way the next input's first frame would: the frame
    // rate conversion fills up to it, and the encoders take it as the (dropped) tail.
    last_shown->pts = to_timeline(span.end);
    for (auto& ch : chains)
      if (ch.video && (ch.video->wants_tail() || ch.video->limited())) ch.video->push(last_shown.get());
  }
  if (adec) {
    adec->send(nullptr);
    deliver_audio();
  }
  std::vector<TargetStats> stats(targets.size());
  for (auto& ch : chains) {
    if (ch.video) ch.video->finish();
    if (ch.palette) found.palettes[static_cast<size_t>(ch.target - targets.data())] = ch.palette->finish();
    if (ch.meter) {
      found.gains[static_cast<size_t>(ch.target - targets.data())] = normalisation(*ch.target, ch.meter->finish());
    }
    if (ch.audio) ch.audio->finish();
    if (ch.sink) ch.sink->finish();
    auto& s = stats[static_cast<size_t>(ch.target - targets.data())];
    if (ch.segment) s.segment_bytes = ch.segment->bytes();
    s.source_frames = progress.frames;
    s.corrupt_packets = (vdec ? vdec->corrupt_packets() : 0) + (adec ? adec->corrupt_packets() : 0);
    if (ch.video) s.video_frames = ch.video->frames();
    if (ch.audio) s.audio_packets = ch.audio->packets();
  }
  if (vdec && vdec->corrupt_packets() > 0)
    log::warn("{}: {} corrupt video packet(s) were skipped", name, vdec->corrupt_packets());
  if (adec && adec->corrupt_packets() > 0)
    log::warn("{}: {} corrupt audio packet(s) were skipped", name, adec->corrupt_packets());
  progress.seconds_done = total;
  if (control.progress) control.progress(progress);
  return stats;
}

}  // namespace

LoudnessGain loudness_gain(const Loudness& measured, double target_lufs, double true_peak_dbtp) {
  LoudnessGain g;
  // Silence (or audio below the absolute gate) has no integrated loudness to move.
  if (!std::isfinite(measured.integrated) || measured.integrated <= -70) return g;
  g.gain_db = target_lufs - measured.integrated;
  if (!std::isfinite(measured.true_peak)) return g;
  const double over = measured.true_peak + g.gain_db - true_peak_dbtp;  // dB the peaks would go over
  if (over > 0) {
    g.short_lu = over;
    g.gain_db -= over;
  }
  return g;
}

Span clip_span(const ClipWindow& clip) {
  if (!clip.active) return Span{};
  Span s;
  s.start = 0;
  s.end = std::llround(clip.seconds() * 1e6);
  s.origin = std::llround(clip.start * 1e6);
  s.time_base = AV_TIME_BASE_Q;
  return s;
}

void open_muxer(av::Output& output, const plan::OutputPlan& plan, const fs::path& file) {
  av::Dictionary opts;
  for (const auto& [k, v] : plan.muxer_options) opts.set(k.c_str(), v.c_str());
  if (plan.container == Container::m3u8) {
    fs::path segments = file.parent_path() / (file.stem().string() + "_%05d.ts");
    opts.set("hls_segment_filename", segments.c_str());
  }
  output.open(opts);
}

std::vector<TargetStats> run_pipeline(const fs::path& input, const StreamChoice& streams, const std::vector<Target>& targets,
                                      const RunControl& control, const Span& span) {
  // Two-pass rate control, GIF palettes and loudness normalisation need a look at every
  // frame first.
  const bool two_pass = std::any_of(targets.begin(), targets.end(), needs_analysis);
  Analysis found;
  found.palettes.resize(targets.size());
  found.gains.resize(targets.size());
  try {
    if (two_pass) run_pass(input, streams, targets, Pass::analysis, RunControl{control.cancel, nullptr, control.decoder_threads}, span, found);
    return run_pass(input, streams, targets, two_pass ? Pass::final : Pass::single, control, span, found);
  } catch (...) {
    // A failed pass may leave a kept input in any state (a read error, a demuxer that
    // lost its place): the retry opens it afresh.
    if (control.inputs) control.inputs->clear();
    throw;
  }
}

}  // namespace gopcast::engine

namespace gopcast::engine {

namespace {

// The graph that makes one timeline input's audio into one target's: timed from the
// input's first video frame, with silence before a later start (and in gaps), resampled
// to the target's rate and layout, then padded with silence or cut to exactly `samples`.
av::FilterGraph entry_audio_graph(const av::AudioSourceParams& src, const plan::AudioPlan& plan, int64_t samples) {
  return av::FilterGraph::audio(src, fmt::format("aresample=async=1:first_pts=0,{},apad=whole_len={},atrim=end_sample={}",
                                                 plan.filters, samples, samples));
}

// `samples` of silence in a target's format, from `first` on, in frames of 1024.
template <typename Deliver>
void deliver_silence(const AudioParams& format, int64_t first, int64_t samples, Deliver&& deliver) {
  av::FramePtr f = av::make_frame();
  for (int64_t done = 0; done < samples;) {
    const int n = static_cast<int>(std::min<int64_t>(1024, samples - done));
    av::make_silence(f.get(), format, n);
    f->pts = first + done;
    deliver(f.get());
    av_frame_unref(f.get());
    done += n;
  }
}

}  // namespace

std::vector<TargetStats> run_timeline_audio(const plan::Timeline& timeline, const std::vector<Target>& targets,
                                            const RunControl& control) {
  const size_t n = targets.size();
  std::vector<AudioParams> formats(n);
  for (size_t t = 0; t < n; ++t) planned_audio_params(targets[t].plan.audio, formats[t]);

  // The whole timeline's audio, input by input, as each target's frames timed in its samples.
  auto feed = [&](const std::function<void(size_t, AVFrame*)>& deliver) {
    av::FramePtr frame = av::make_frame();     // decoded
    av::FramePtr resampled = av::make_frame(); // out of an input's graph
    av::PacketPtr packet = av::make_packet();
    for (const auto& e : timeline.entries) {
      if (control.cancel && control.cancel->load()) fail(ErrorCode::Cancelled, "{}: cancelled", e.path.string());
      std::vector<int64_t> first(n), samples(n);
      for (size_t t = 0; t < n; ++t) {
        const int64_t rate = formats[t].sample_rate;
        first[t] = av_rescale(e.offset_us, rate, AV_TIME_BASE);
        samples[t] = av_rescale(e.offset_us + e.length_us, rate, AV_TIME_BASE) - first[t];
      }
      if (e.audio < 0) {
        for (size_t t = 0; t < n; ++t)
          deliver_silence(formats[t], first[t], samples[t], [&](AVFrame* f) { deliver(t, f); });
        continue;
      }
      av::Input input = av::Input::open(e.path);
      for (unsigned i = 0; i < input.ctx()->nb_streams; ++i)
        if (static_cast<int>(i) != e.audio) input.ctx()->streams[i]->discard = AVDISCARD_ALL;
      const AVStream* st = input.stream(e.audio);
      av::Decoder dec(st, e.path.string(), 1);
      AudioParams src;
      audio_source_params(dec, st, src);
      std::vector<av::FilterGraph> normalise;
      normalise.reserve(n);
      for (size_t t = 0; t < n; ++t) normalise.push_back(entry_audio_graph(src, targets[t].plan.audio, samples[t]));
      // Timed from the input's first video frame, which is where it lands on the timeline.
      const int64_t origin = av_rescale_q(input.start_time() + e.start_us, AV_TIME_BASE_Q, st->time_base);
      auto drain = [&](size_t t) {
        while (normalise[t].pull(resampled.get())) {
          if (resampled->pts != AV_NOPTS_VALUE) resampled->pts += first[t];
          deliver(t, resampled.get());
          av_frame_unref(resampled.get());
        }
      };
      auto decode = [&]() {
        while (dec.receive(frame.get())) {
          frame->pts = frame->best_effort_timestamp;
          if (frame->pts != AV_NOPTS_VALUE) frame->pts -= origin;
          av::normalise_layout(frame->ch_layout);
          for (size_t t = 0; t < n; ++t) {
            normalise[t].push(frame.get());
            drain(t);
          }
          av_frame_unref(frame.get());
        }
      };
      while (input.read(packet.get())) {
        if (packet->stream_index == e.audio) {
          dec.send(packet.get());
          decode();
        }
        av_packet_unref(packet.get());
        if (control.cancel && control.cancel->load()) fail(ErrorCode::Cancelled, "{}: cancelled", e.path.string());
      }
      dec.send(nullptr);
      decode();
      for (size_t t = 0; t < n; ++t) {
        normalise[t].push(nullptr);
        drain(t);
      }
      if (dec.corrupt_packets() > 0) log::warn("{}: {} corrupt audio packet(s) were skipped", e.path.string(), dec.corrupt_packets());
    }
  };

  // Loudness normalisation measures the whole timeline first.
  std::vector<std::optional<LoudnessGain>> gains(n);
  if (std::any_of(targets.begin(), targets.end(), audio_analysis)) {
    std::vector<std::unique_ptr<LoudnessMeter>> meters(n);
    for (size_t t = 0; t < n; ++t)
      if (audio_analysis(targets[t])) meters[t] = std::make_unique<LoudnessMeter>(targets[t].plan.audio, formats[t]);
    feed([&](size_t t, AVFrame* f) {
      if (meters[t]) meters[t]->push(f);
    });
    for (size_t t = 0; t < n; ++t) {
      if (!meters[t]) continue;
      gains[t] = normalisation(targets[t], meters[t]->finish());
    }
  }

  std::vector<std::unique_ptr<SegmentWriter>> writers(n);
  std::vector<std::unique_ptr<AudioChain>> chains(n);
  for (size_t t = 0; t < n; ++t) {
    writers[t] = std::make_unique<SegmentWriter>(targets[t].file, targets[t].plan.global_header);
    chains[t] = std::make_unique<AudioChain>(targets[t].plan.audio, formats[t], writers[t].get(), gains[t]);
  }
  feed([&](size_t t, AVFrame* f) { chains[t]->push(f); });
  std::vector<TargetStats> stats(n);
  for (size_t t = 0; t < n; ++t) {
    chains[t]->finish();
    writers[t]->finish();
    stats[t].audio_packets = chains[t]->packets();
    stats[t].segment_bytes = writers[t]->bytes();
  }
  return stats;
}

}  // namespace gopcast::engine
