#include "av/output.hpp"

extern "C" {
#include <libavutil/opt.h>
}

#include "av/check.hpp"

namespace gopcast::av {

bool muxer_wants_global_header(const char* format) {
  const AVOutputFormat* f = av_guess_format(format, nullptr, nullptr);
  return f && (f->flags & AVFMT_GLOBALHEADER);
}

namespace {
// Apple players want hvc1-tagged HEVC in MP4/MOV (parameter sets out of band).
void tag_for_players(AVFormatContext* ctx, AVStream* st) {
  if (st->codecpar->codec_id == AV_CODEC_ID_HEVC && std::string_view(ctx->oformat->name).find("mp4") != std::string_view::npos)
    st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
}
}  // namespace

Output::Output(const std::filesystem::path& path, const char* format) : name_(path.string()) {
  AVFormatContext* raw = nullptr;
  check(avformat_alloc_output_context2(&raw, nullptr, format, name_.c_str()), "avformat_alloc_output_context2", name_);
  ctx_.reset(raw);
}

AVStream* Output::new_stream() {
  AVStream* st = avformat_new_stream(ctx_.get(), nullptr);
  if (!st) fail(ErrorCode::Internal, "av: avformat_new_stream: out of memory");
  return st;
}

int Output::add_stream(const AVCodecContext* encoder) {
  AVStream* st = new_stream();
  check(avcodec_parameters_from_context(st->codecpar, encoder), "avcodec_parameters_from_context", name_);
  st->time_base = encoder->time_base;
  if (encoder->codec_type == AVMEDIA_TYPE_VIDEO) {
    st->sample_aspect_ratio = encoder->sample_aspect_ratio;
    st->avg_frame_rate = encoder->framerate;
  }
  tag_for_players(ctx_.get(), st);
  return st->index;
}

int Output::add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) {
  AVStream* st = new_stream();
  check(avcodec_parameters_copy(st->codecpar, params), "avcodec_parameters_copy", name_);
  st->codecpar->codec_tag = 0;
  st->time_base = time_base;
  if (params->codec_type == AVMEDIA_TYPE_VIDEO) {
    st->sample_aspect_ratio = params->sample_aspect_ratio;
    st->avg_frame_rate = frame_rate;
  }
  tag_for_players(ctx_.get(), st);
  return st->index;
}

int Output::add_copy_stream(const AVStream* source) {
  AVStream* st = new_stream();
  check(avcodec_parameters_copy(st->codecpar, source->codecpar), "avcodec_parameters_copy", name_);
  st->codecpar->codec_tag = 0;  // the source container's tag may mean nothing in ours
  st->time_base = source->time_base;
  st->sample_aspect_ratio = source->sample_aspect_ratio;
  st->avg_frame_rate = source->avg_frame_rate;
  av_dict_copy(&st->metadata, source->metadata, 0);
  // Rotation and similar display side data travel with the stream.
  for (int i = 0; i < source->nb_side_data; ++i) {
    const AVPacketSideData& sd = source->side_data[i];
    uint8_t* dst = av_stream_new_side_data(st, sd.type, sd.size);
    if (!dst) fail(ErrorCode::Internal, "av: av_stream_new_side_data: out of memory");
    memcpy(dst, sd.data, sd.size);
  }
  return st->index;
}

void Output::set_stream_time_base(int stream, AVRational time_base) { ctx_->streams[stream]->time_base = time_base; }

void Output::set_stream_metadata(int stream, const std::string& key, const std::string& value) {
  av_dict_set(&ctx_->streams[stream]->metadata, key.c_str(), value.c_str(), 0);
}

void Output::open(Dictionary& options) {
  if (!(ctx_->oformat->flags & AVFMT_NOFILE))
    check(avio_open(&ctx_->pb, name_.c_str(), AVIO_FLAG_WRITE), "avio_open", name_, ErrorCode::OutputNotWritable);
  check(avformat_write_header(ctx_.get(), options.ptr()), "avformat_write_header", name_);
  header_written_ = true;
  if (const char* unused = options.first_unused())
    fail(ErrorCode::Internal, "av: avformat_write_header: muxer option \"{}\" not recognised ({})", unused, name_);
}

void Output::write(AVPacket* packet, int stream, AVRational time_base) {
  packet->stream_index = stream;
  av_packet_rescale_ts(packet, time_base, ctx_->streams[stream]->time_base);
  check(av_interleaved_write_frame(ctx_.get(), packet), "av_interleaved_write_frame", name_);
}

void Output::finish() {
  if (!header_written_) return;
  check(av_write_trailer(ctx_.get()), "av_write_trailer", name_);
  if (ctx_->pb && !(ctx_->oformat->flags & AVFMT_NOFILE)) check(avio_closep(&ctx_->pb), "avio_closep", name_);
}

void Output::switch_file(const std::filesystem::path& path) {
  check(av_interleaved_write_frame(ctx_.get(), nullptr), "av_interleaved_write_frame", name_);
  check(av_write_frame(ctx_.get(), nullptr), "av_write_frame", name_);  // the muxer's own buffers (TS PES)
  check(avio_closep(&ctx_->pb), "avio_closep", name_);
  name_ = path.string();
  check(avio_open(&ctx_->pb, name_.c_str(), AVIO_FLAG_WRITE), "avio_open", name_, ErrorCode::OutputNotWritable);
  if (std::string_view(ctx_->oformat->name) == "mpegts")
    check(av_opt_set(ctx_->priv_data, "mpegts_flags", "+resend_headers", 0), "av_opt_set", name_);
}

}  // namespace gopcast::av
