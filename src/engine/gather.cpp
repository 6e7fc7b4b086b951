#include "engine/gather.hpp"

#include "core/error.hpp"
#include "engine/hls.hpp"
#include "engine/segment_file.hpp"
#include "engine/subtitles.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

// One segmented output being gathered: video packets from the segment files in
// order, the whole timeline's audio interleaved by decoding time.
class GatherOutput {
 public:
  GatherOutput(const JobContext& ctx, size_t output, const Target& target, StagedOutput& staged)
      : ctx_(ctx), output_(output), target_(target) {
    // HLS is cut, encrypted and listed by gopcast itself; everything else by libavformat.
    if (target.plan.container == Container::m3u8) hls_ = make_playlist_writer(target.file, target.plan, staged);
    else out_ = std::make_unique<av::Output>(target.file, target.plan.muxer.c_str());
    SegmentReader first(segment_path(ctx, 0, output));
    vtb_ = first.time_base(0);
    video_ = add_stream(first.params(0), vtb_, first.frame_rate(0));
    if (has_audio(ctx, output)) {
      audio_reader_.emplace(audio_path(ctx, output));
      atb_ = audio_reader_->time_base(0);
      audio_ = add_stream(audio_reader_->params(0), atb_, {0, 1});
      audio_pending_ = audio_reader_->read(apkt_.get());
    }
    // Soft subtitles: a third stream from the parsed cues (HLS gets WebVTT renditions at the end).
    if (out_ && !target.plan.subtitles.empty()) subtitles_.emplace(*out_, target.plan.subtitles);
    if (hls_) hls_->open();
    else open_muxer(*out_, target.plan, target.file);
  }

  // Appends one segment's packets.
  int64_t append(int segment) {
    SegmentReader reader(segment_path(ctx_, segment, output_));
    int64_t frames = 0;
    while (reader.read(vpkt_.get())) {
      // Each segment's encoder starts its decoding times a reorder delay before its
      // first frame; with variable frame rates that may touch the previous segment's
      // last one. Nudging by one tick keeps them increasing (pts are never touched).
      if (vpkt_->dts != AV_NOPTS_VALUE) {
        if (last_dts_ != AV_NOPTS_VALUE && vpkt_->dts <= last_dts_) vpkt_->dts = last_dts_ + 1;
        if (vpkt_->pts != AV_NOPTS_VALUE && vpkt_->dts > vpkt_->pts)
          fail<MediaError>(ErrorCode::ResourceContentBad,
                           "{}: video: the frame at {:.3f} s (segment {}) follows the one before it too closely for the "
                           "segments' decoding times to be joined; the input's timestamps are damaged",
                           ctx_.input.string(), static_cast<double>(vpkt_->pts) * av_q2d(vtb_), segment);
        last_dts_ = vpkt_->dts;
      }
      write_audio_until(vpkt_->dts != AV_NOPTS_VALUE ? vpkt_->dts : vpkt_->pts);
      write(vpkt_.get(), video_, vtb_);
      av_packet_unref(vpkt_.get());
      ++frames;
    }
    return frames;
  }

  void finish() {
    write_audio_until(INT64_MAX);
    if (hls_) {
      hls_->finish();
      hls_stats_ = hls_->stats();
      write_hls_subtitles(target_.file, target_.plan, *hls_stats_);
    } else {
      out_->finish();
    }
  }
  // What an HLS rendition's master-playlist entry needs (after finish).
  std::optional<HlsStats> hls_stats() const { return hls_stats_; }

 private:
  int add_stream(const AVCodecParameters* params, AVRational tb, AVRational fr) {
    return hls_ ? hls_->add_encoded_stream(params, tb, fr) : out_->add_encoded_stream(params, tb, fr);
  }
  void write(AVPacket* p, int stream, AVRational tb) {
    if (hls_) hls_->write(p, stream, tb);
    else out_->write(p, stream, tb);
  }

  void write_audio_until(int64_t vts) {
    if (subtitles_) subtitles_->write_until(vts, vtb_);
    while (audio_pending_ && (vts == INT64_MAX || av_compare_ts(apkt_->dts, atb_, vts, vtb_) <= 0)) {
      write(apkt_.get(), audio_, atb_);
      av_packet_unref(apkt_.get());
      audio_pending_ = audio_reader_->read(apkt_.get());
    }
  }

  const JobContext& ctx_;
  size_t output_;
  const Target& target_;
  std::unique_ptr<av::Output> out_;
  std::optional<SubtitleMux> subtitles_;
  std::optional<HlsStats> hls_stats_;
  std::unique_ptr<PlaylistWriter> hls_;
  std::optional<SegmentReader> audio_reader_;
  av::PacketPtr vpkt_ = av::make_packet();
  av::PacketPtr apkt_ = av::make_packet();
  AVRational vtb_{1, 1}, atb_{1, 1};
  int video_ = -1, audio_ = -1;
  bool audio_pending_ = false;
  int64_t last_dts_ = AV_NOPTS_VALUE;
};

Gather::Gather(const JobContext& ctx, const std::vector<Target>& targets, std::vector<std::unique_ptr<StagedOutput>>& staged)
    : ctx_(ctx), targets_(targets), staged_(staged), outputs_(ctx.plans.size()), frames_(ctx.plans.size(), 0) {}

Gather::~Gather() = default;

void Gather::append(int segment) {
  for (size_t o = 0; o < outputs_.size(); ++o) {
    if (!ctx_.segmented[o]) continue;
    if (!outputs_[o]) outputs_[o] = std::make_unique<GatherOutput>(ctx_, o, targets_[o], *staged_[o]);
    frames_[o] += outputs_[o]->append(segment);
  }
}

std::vector<std::optional<HlsStats>> Gather::finish() {
  std::vector<std::optional<HlsStats>> hls(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o)
    if (outputs_[o]) {
      outputs_[o]->finish();
      hls[o] = outputs_[o]->hls_stats();
    }
  return hls;
}

}  // namespace gopcast::engine
