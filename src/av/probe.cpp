#include "av/probe.hpp"

#include <fmt/format.h>

#include <cmath>
#include <system_error>

#include "av/input.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace gopcast {

namespace {

std::optional<std::string> opt_str(const char* s) {
  if (!s || !*s || std::string_view(s) == "unknown") return std::nullopt;
  return std::string(s);
}

Rational ratio(AVRational r) { return av::from_av(r); }

double seconds(int64_t ts, AVRational tb) { return seconds_of(ts, ratio(tb)); }

int rotation_of(const AVStream* st) {
  const uint8_t* matrix = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (!matrix) return 0;
  double theta = -av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(theta)) return 0;
  theta -= 360.0 * std::floor(theta / 360.0 + 0.9 / 360.0);
  int quarter = static_cast<int>(std::lround(theta / 90.0)) % 4;
  return quarter * 90;
}

StreamInfo stream_info(AVFormatContext* fmt, AVStream* st) {
  const AVCodecParameters* par = st->codecpar;
  StreamInfo s;
  s.index = st->index;
  const char* type = av_get_media_type_string(par->codec_type);
  s.type = type ? type : "unknown";
  s.codec = avcodec_get_name(par->codec_id);
  if (const AVCodecDescriptor* d = avcodec_descriptor_get(par->codec_id)) s.codec_long = d->long_name ? d->long_name : "";
  s.profile = opt_str(avcodec_profile_name(par->codec_id, par->profile));
  // Like ffprobe: a profile libavcodec has no name for is shown as its number (VP8 "0").
  if (!s.profile && par->profile != FF_PROFILE_UNKNOWN) s.profile = std::to_string(par->profile);
  if (par->level != FF_LEVEL_UNKNOWN && par->level > 0) s.level = par->level;
  if (st->start_time != AV_NOPTS_VALUE) s.start_time = seconds(st->start_time, st->time_base);
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) s.duration = seconds(st->duration, st->time_base);
  if (par->bit_rate > 0) s.bit_rate = par->bit_rate;
  if (st->nb_frames > 0) s.frame_count = st->nb_frames;
  if (const AVDictionaryEntry* e = av_dict_get(st->metadata, "language", nullptr, 0)) s.language = opt_str(e->value);
  s.is_default = st->disposition & AV_DISPOSITION_DEFAULT;
  s.attached_picture = st->disposition & AV_DISPOSITION_ATTACHED_PIC;
  if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
    s.width = par->width;
    s.height = par->height;
    AVRational sar = av_guess_sample_aspect_ratio(fmt, st, nullptr);
    if (sar.num > 0 && sar.den > 0) {
      s.sample_aspect_ratio = ratio(sar);
      AVRational dar;
      av_reduce(&dar.num, &dar.den, static_cast<int64_t>(par->width) * sar.num, static_cast<int64_t>(par->height) * sar.den,
                1024 * 1024);
      s.display_aspect_ratio = ratio(dar);
    }
    s.avg_frame_rate = ratio(st->avg_frame_rate);
    s.real_frame_rate = ratio(st->r_frame_rate);
    s.pix_fmt = opt_str(av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format)));
    s.color_range = opt_str(av_color_range_name(par->color_range));
    s.color_space = opt_str(av_color_space_name(par->color_space));
    s.color_transfer = opt_str(av_color_transfer_name(par->color_trc));
    s.color_primaries = opt_str(av_color_primaries_name(par->color_primaries));
    s.rotation = rotation_of(st);
  } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
    s.sample_rate = par->sample_rate;
    s.channels = par->ch_layout.nb_channels;
    if (par->ch_layout.order == AV_CHANNEL_ORDER_NATIVE) {
      char buf[128] = {};
      av_channel_layout_describe(&par->ch_layout, buf, sizeof buf);
      s.channel_layout = buf;
    }
    s.sample_fmt = opt_str(av_get_sample_fmt_name(static_cast<AVSampleFormat>(par->format)));
  }
  return s;
}

}  // namespace

MediaInfo probe(const std::filesystem::path& path) { return describe(av::Input::open(path)); }

MediaInfo describe(const av::Input& input) {
  const std::filesystem::path& path = input.path();
  AVFormatContext* fmt = input.ctx();
  MediaInfo info;
  info.path = path.string();
  info.format = fmt->iformat->name;
  info.format_long = fmt->iformat->long_name ? fmt->iformat->long_name : "";
  info.duration = input.duration_seconds();
  info.start_time = static_cast<double>(input.start_time()) / AV_TIME_BASE;
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  info.size = ec ? (fmt->pb ? avio_size(fmt->pb) : 0) : static_cast<int64_t>(size);
  info.bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;
  const AVDictionaryEntry* e = nullptr;
  while ((e = av_dict_get(fmt->metadata, "", e, AV_DICT_IGNORE_SUFFIX))) info.tags[e->key] = e->value;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) info.streams.push_back(stream_info(fmt, fmt->streams[i]));
  return info;
}

}  // namespace gopcast
