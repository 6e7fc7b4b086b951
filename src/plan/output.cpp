#include "plan/output.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/log.hpp"

namespace gopcast::plan {

namespace {

int round_to(double v, int align) {
  int r = static_cast<int>(std::lround(v / align)) * align;
  return std::max(r, align);
}

const char* muxer_for(Container c) {
  switch (c) {
    case Container::mp4: return "mp4";
    case Container::m4a: return "ipod";
    case Container::mov: return "mov";
    case Container::mkv: return "matroska";
    case Container::flv: return "flv";
    case Container::ts: return "mpegts";
    case Container::m3u8: return "hls";
    case Container::gif: return "gif";
    case Container::webp: return "webp";
    case Container::mp3: return "mp3";
    case Container::ogg: return "ogg";
    case Container::flac: return "flac";
  }
  return "mp4";
}

bool container_takes(Container c, VideoCodec v) {
  switch (c) {
    case Container::mp4:
    case Container::mov:
    case Container::mkv:
    case Container::ts:
    case Container::m3u8: return v == VideoCodec::h264 || v == VideoCodec::h265;
    case Container::flv: return v == VideoCodec::h264;
    case Container::gif: return v == VideoCodec::gif;
    case Container::webp: return v == VideoCodec::webp;
    default: return false;
  }
}

bool container_takes(Container c, AudioCodec a) {
  switch (c) {
    case Container::mp4:
    case Container::mov:
    case Container::flv:
    case Container::ts:
    case Container::m3u8: return a == AudioCodec::aac || a == AudioCodec::mp3;
    case Container::m4a: return a == AudioCodec::aac;
    case Container::mkv: return true;
    case Container::mp3: return a == AudioCodec::mp3;
    case Container::ogg: return a == AudioCodec::vorbis || a == AudioCodec::flac;
    case Container::flac: return a == AudioCodec::flac;
    case Container::gif:
    case Container::webp: return false;
  }
  return false;
}

const char* encoder_for(VideoCodec v) {
  switch (v) {
    case VideoCodec::h264: return "libx264";
    case VideoCodec::h265: return "libx265";
    case VideoCodec::gif: return "gif";
    case VideoCodec::webp: return "libwebp_anim";
    case VideoCodec::copy: return "";
  }
  return "";
}

const char* encoder_for(AudioCodec a) {
  switch (a) {
    case AudioCodec::aac: return "aac";
    case AudioCodec::mp3: return "libmp3lame";
    case AudioCodec::vorbis: return "libvorbis";
    case AudioCodec::flac: return "flac";
    case AudioCodec::copy: return "";
  }
  return "";
}

EncoderCaps find_encoder(const Capabilities& caps, const std::string& name) {
  auto c = caps.encoder(name);
  if (!c) fail(ErrorCode::UnsupportedCodec, "av: no encoder \"{}\" in this FFmpeg build", name);
  return *c;
}

bool encoder_takes(const EncoderCaps& c, const std::string& pix_fmt) {
  return c.pixel_formats.empty() || std::find(c.pixel_formats.begin(), c.pixel_formats.end(), pix_fmt) != c.pixel_formats.end();
}

// The pixel formats a profile allows, or empty for "whatever the encoder takes".
std::vector<std::string> profile_formats(const std::string& profile) {
  if (profile == "baseline" || profile == "main" || profile == "high") return {"yuv420p", "yuvj420p"};
  if (profile == "high10" || profile == "main10") return {"yuv420p", "yuv420p10le"};
  if (profile == "high422") return {"yuv420p", "yuv422p", "yuv420p10le", "yuv422p10le"};
  return {};
}

std::string choose_pix_fmt(const Template& t, const StreamInfo& src, const EncoderCaps& enc, const Capabilities& caps) {
  std::string wanted = t.video.pix_fmt.empty() ? src.pix_fmt.value_or("yuv420p") : t.video.pix_fmt;
  const bool known = caps.pixel_format(wanted).has_value();
  if (!t.video.pix_fmt.empty() && !known)
    fail<SpecError>(ErrorCode::OutOfRange, "{}: video.pix_fmt: \"{}\" is not a pixel format", t.name, wanted);
  auto allowed = profile_formats(t.video.profile);
  bool ok = known && encoder_takes(enc, wanted) &&
            (allowed.empty() || std::find(allowed.begin(), allowed.end(), wanted) != allowed.end());
  if (!ok) {
    log::info("{}: pixel format {} does not suit {}{}; using yuv420p", t.name, wanted, enc.name,
              t.video.profile.empty() ? "" : " " + t.video.profile);
    return "yuv420p";
  }
  return wanted;
}

std::string ratio_text(Rational r) { return fmt::format("{}/{}", r.num, r.den); }

}  // namespace

SizePlan plan_size(const SizeRequest& r) {
  SizePlan p;
  const bool swap = r.rotation == 90 || r.rotation == 270;
  const double sar = r.sar.valid() ? r.sar.value() : 1.0;
  double dw = r.width * sar;
  double dh = r.height;
  int store_w = r.width, store_h = r.height;
  if (swap) {
    std::swap(dw, dh);
    std::swap(store_w, store_h);
  }
  const double dar = dw / dh;
  if (!r.want_width && !r.want_height) {
    // Nothing asked: keep the stored size (and the source's aspect flag).
    p.width = p.scale_w = store_w;
    p.height = p.scale_h = store_h;
    return p;
  }
  p.scaled = true;
  double w = 0, h = 0;
  if (r.want_width && !r.want_height) {
    w = *r.want_width;
    if (r.no_upscale && w > dw) w = dw;
    h = w / dar;
    p.width = p.scale_w = round_to(w, r.align_w);
    p.height = p.scale_h = round_to(h, r.align_h);
    return p;
  }
  if (!r.want_width && r.want_height) {
    h = *r.want_height;
    if (r.no_upscale && h > dh) h = dh;
    w = h * dar;
    p.width = p.scale_w = round_to(w, r.align_w);
    p.height = p.scale_h = round_to(h, r.align_h);
    return p;
  }
  // Both given: a box. "Never upscale" limits how much the picture is enlarged, not
  // the box: padding a small picture onto a larger canvas enlarges nothing.
  const double bw = *r.want_width, bh = *r.want_height;
  double fit = std::min(bw / dw, bh / dh);    // the picture inside the box
  double cover = std::max(bw / dw, bh / dh);  // the picture covering the box
  if (r.no_upscale) {
    fit = std::min(fit, 1.0);
    cover = std::min(cover, 1.0);
  }
  switch (r.aspect) {
    case AspectMode::none:  // stretch to the box, each axis on its own
      p.width = p.scale_w = round_to(r.no_upscale ? std::min(bw, dw) : bw, r.align_w);
      p.height = p.scale_h = round_to(r.no_upscale ? std::min(bh, dh) : bh, r.align_h);
      break;
    case AspectMode::rescale:
      p.width = p.scale_w = round_to(dw * fit, r.align_w);
      p.height = p.scale_h = round_to(dh * fit, r.align_h);
      break;
    case AspectMode::pad:
      p.width = round_to(bw, r.align_w);
      p.height = round_to(bh, r.align_h);
      p.scale_w = std::min(round_to(dw * fit, r.align_w), p.width);
      p.scale_h = std::min(round_to(dh * fit, r.align_h), p.height);
      p.pad = p.scale_w != p.width || p.scale_h != p.height;
      break;
    case AspectMode::crop:
      p.scale_w = round_to(dw * cover, r.align_w);
      p.scale_h = round_to(dh * cover, r.align_h);
      // Without upscaling the picture may not cover the box: crop only what overflows.
      p.width = std::min(round_to(bw, r.align_w), p.scale_w);
      p.height = std::min(round_to(bh, r.align_h), p.scale_h);
      p.crop = p.scale_w != p.width || p.scale_h != p.height;
      break;
  }
  return p;
}

namespace {

VideoPlan plan_video(const Template& t, const StreamInfo& src, const Capabilities& caps, const OutputMarks& marks,
                     const MarkPlanner& mark_planner, double input_duration) {
  VideoPlan v;
  v.present = true;
  v.mode = t.trans.mode;
  if (t.video.codec == VideoCodec::copy) {
    v.copy = true;
    v.width = src.width;
    v.height = src.height;
    return v;
  }
  v.encoder = encoder_for(t.video.codec);
  const EncoderCaps enc = find_encoder(caps, v.encoder);
  std::vector<std::string> chain;
  // Phone videos stored sideways come out upright, then turn as the template asks.
  const int rotation = (src.rotation + t.video.rotate) % 360;
  if (rotation == 90) chain.push_back("transpose=clock");
  else if (rotation == 180) chain.push_back("hflip,vflip");
  else if (rotation == 270) chain.push_back("transpose=cclock");

  std::string final_fmt;
  int align_w = 1, align_h = 1;
  if (t.video.codec == VideoCodec::gif) {
    final_fmt = "pal8";
  } else {
    final_fmt = choose_pix_fmt(t, src, enc, caps);
    const PixelFormatCaps f = caps.pixel_format(final_fmt).value_or(PixelFormatCaps{1, 1});
    align_w = 1 << f.chroma_shift_w;
    align_h = 1 << f.chroma_shift_h;
  }
  SizeRequest req{src.width, src.height, src.sample_aspect_ratio.value_or(Rational{1, 1}), rotation,
                  t.video.width, t.video.height, t.trans.aspect, t.trans.no_upscale, align_w, align_h};
  SizePlan size = plan_size(req);
  // x264/x265 need even sizes for 4:2:0 even when frames pass unscaled.
  if (!size.scaled && (size.width % align_w || size.height % align_h)) {
    size.scaled = true;
    size.width = size.scale_w = size.width / align_w * align_w;
    size.height = size.scale_h = size.height / align_h * align_h;
    size.crop = false;
  }
  if (size.scaled) {
    chain.push_back(fmt::format("scale={}:{}:flags=bicubic", size.scale_w, size.scale_h));
    if (size.crop) chain.push_back(fmt::format("crop={}:{}", size.width, size.height));
    if (size.pad) chain.push_back(fmt::format("pad={}:{}:(ow-iw)/2:(oh-ih)/2:black", size.width, size.height));
    chain.push_back("setsar=1");
  }
  v.width = size.width;
  v.height = size.height;
  if (!marks.empty()) {
    // Logo removal on the source picture (its own pixels), watermarks on the output's.
    // Drawn in the encoder's format (GIF: the source's, before the palette).
    const std::string draw_fmt = final_fmt == "pal8" ? src.pix_fmt.value_or("yuv420p") : final_fmt;
    if (!mark_planner) fail(ErrorCode::Internal, "plan: {}: watermarks without a mark planner", t.name);
    MarkFilters mf = mark_planner(marks, MarkGeometry{src.width, src.height, v.width, v.height, input_duration, draw_fmt});
    chain.insert(chain.begin(), mf.pre.begin(), mf.pre.end());
    if (!mf.post.empty()) chain.push_back(mf.post);
    v.overlay_images = std::move(mf.images);
  }
  if (t.video.fps) chain.push_back("fps=" + ratio_text(*t.video.fps));
  if (t.video.codec == VideoCodec::gif) {
    if (!t.video.fps) chain.push_back("fps=10");
    // One palette for the whole animation, from an analysis pass (palettegen over all
    // frames), so no frame is held in memory waiting for it.
    v.palette = true;
  } else {
    if (t.video.codec == VideoCodec::webp) {
      if (!t.video.fps) chain.push_back("fps=10");
      // The WebP muxer has no final delay of its own: the last frame is shown longer.
      if (t.mux.gif_final_delay > 0)
        chain.push_back(fmt::format("tpad=stop_mode=clone:stop_duration={}", t.mux.gif_final_delay / 100.0));
    }
    chain.push_back("format=" + final_fmt);
  }
  v.pix_fmt = final_fmt;
  v.filters.clear();
  for (size_t i = 0; i < chain.size(); ++i) v.filters += (i ? "," : "") + chain[i];

  v.crf = t.video.crf;
  v.qp = t.video.qp;
  v.bitrate = t.video.bitrate.value_or(0);
  v.maxrate = t.video.maxrate.value_or(0);
  v.bufsize = t.video.bufsize.value_or(0);
  if (t.trans.cap_video_bitrate && src.bit_rate && *src.bit_rate >= 1000 && v.encoder != "gif") {
    // The cap is the encoder's peak (VBV maxrate, over a buffer of one second), so the
    // average stays under the source's in every rate mode: a quality target (CRF/QP)
    // becomes a capped one, an average target above it comes down to it. Each segment
    // starts with a buffer of its own, which lets it spend a little more than the peak:
    // the peak is 97% of the source's rate to leave room for that (2 s segments at CRF 18
    // went 0.2% over with a peak at 100%).
    const int cap = static_cast<int>(*src.bit_rate * 97 / 100 / 1000);
    if (v.bitrate > cap || !v.maxrate || v.maxrate > cap)
      log::info("{}: video bitrate capped at the source's {} kbit/s", t.name, cap);
    v.bitrate = v.bitrate ? std::min(v.bitrate, cap) : 0;
    v.maxrate = v.maxrate ? std::min(v.maxrate, cap) : cap;
    if (!v.bufsize || v.bufsize > v.maxrate) v.bufsize = v.maxrate;
  }
  if (t.trans.mode == RateMode::cbr) {
    v.maxrate = v.bitrate;
    if (!v.bufsize) v.bufsize = v.bitrate;
  }
  if (v.encoder != "gif" && !v.crf && !v.qp && !v.bitrate) v.crf = 23;
  v.gop_frames = t.video.gop_frames;
  v.gop_seconds = t.video.gop_seconds;
  v.profile = t.video.profile;
  v.preset = t.video.preset;
  v.threads = t.video.threads;
  if (t.container == Container::m3u8) v.keyframe_grid = t.mux.hls_segment_seconds;
  return v;
}

AudioPlan plan_audio(const Template& t, const StreamInfo& src, const Capabilities& caps) {
  AudioPlan a;
  a.present = true;
  if (t.audio.codec == AudioCodec::copy) {
    a.copy = true;
    a.sample_rate = src.sample_rate;
    a.channels = src.channels;
    return a;
  }
  a.encoder = encoder_for(t.audio.codec);
  const EncoderCaps enc = find_encoder(caps, a.encoder);
  a.channels = t.audio.channels.value_or(std::min(std::max(src.channels, 1), 2));
  const std::vector<int>& rates = enc.sample_rates;
  auto supported = [&](int r) { return rates.empty() || std::find(rates.begin(), rates.end(), r) != rates.end(); };
  if (t.audio.sample_rate) {
    if (!supported(*t.audio.sample_rate)) {
      std::string list;
      for (int r : rates) list += (list.empty() ? "" : ", ") + std::to_string(r);
      fail<SpecError>(ErrorCode::OutOfRange, "{}: audio.sample_rate: {} is not supported by {} (use one of {})", t.name,
                      *t.audio.sample_rate, enc.name, list);
    }
    a.sample_rate = *t.audio.sample_rate;
  } else if (supported(src.sample_rate)) {
    a.sample_rate = src.sample_rate;
  } else {
    // The supported rate nearest the source's, preferring the higher of two equals.
    a.sample_rate = *std::min_element(rates.begin(), rates.end(), [&](int x, int y) {
      long dx = std::labs(x - src.sample_rate), dy = std::labs(y - src.sample_rate);
      return dx != dy ? dx < dy : x > y;
    });
  }
  // Sample format: the source's when the encoder takes it (keeps FLAC at full depth).
  const std::string src_fmt = src.sample_fmt.value_or("");
  std::string chosen = enc.sample_formats.empty() ? "fltp" : enc.sample_formats.front();
  for (const auto& f : enc.sample_formats)
    if (f == src_fmt) chosen = f;
  a.sample_fmt = chosen;
  if (t.audio.codec != AudioCodec::flac) {
    a.bitrate = t.audio.bitrate.value_or(a.channels == 1 ? 96 : 128);
    if (t.trans.cap_audio_bitrate && src.bit_rate && a.bitrate > *src.bit_rate / 1000) {
      a.bitrate = std::max(8, static_cast<int>(*src.bit_rate / 1000));
      log::info("{}: audio bitrate capped at the source's {} kbit/s", t.name, a.bitrate);
    }
  }
  a.filters = fmt::format("aresample={},aformat=sample_fmts={}:channel_layouts={}", a.sample_rate, a.sample_fmt,
                          a.channels == 1 ? "mono" : "stereo");
  a.loudness = t.audio.loudness;
  a.true_peak = t.audio.true_peak;
  return a;
}

void check_copy(const Template& t, const std::string& codec, const std::string& muxer, const char* what, const Capabilities& caps) {
  if (caps.muxer_refuses(muxer, codec))
    fail<SpecError>(ErrorCode::Incompatible, "{}: {}.codec: copy: the source's {} cannot go into {}", t.name, what, codec,
                    to_string(t.container));
}

}  // namespace

OutputPlan plan_output(const Template& t, const StreamInfo* video, const StreamInfo* audio, const std::string& input_name,
                       const Capabilities& caps, const OutputMarks& marks, const MarkPlanner& mark_planner, double input_duration) {
  OutputPlan p;
  p.container = t.container;
  p.muxer = muxer_for(t.container);
  const bool want_video = !t.video.remove && !audio_only(t.container);
  const bool want_audio = !t.audio.remove && !animation(t.container);

  if (want_video) {
    if (t.video.codec != VideoCodec::copy && !container_takes(t.container, t.video.codec))
      fail<SpecError>(ErrorCode::Incompatible, "{}: video.codec: {} cannot go into {}", t.name, to_string(t.video.codec),
                      to_string(t.container));
    if (video) {
      p.video = plan_video(t, *video, caps, marks, mark_planner, input_duration);
      if (p.video.copy) check_copy(t, video->codec, p.muxer, "video", caps);
    } else if (animation(t.container)) {
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: has no video stream to make an animated {} from", input_name,
                       to_string(t.container));
    }
  }
  if (!marks.empty() && (!p.video.present || p.video.copy))
    fail<SpecError>(ErrorCode::Incompatible, "{}: watermarks and delogo need re-encoded video (not video.codec = \"copy\", "
                    "not an output without video)", marks.watermarks.empty() ? marks.delogo.front().origin : marks.watermarks.front().origin);
  if (want_audio && audio) {
    if (t.audio.codec != AudioCodec::copy && !container_takes(t.container, t.audio.codec))
      fail<SpecError>(ErrorCode::Incompatible, "{}: audio.codec: {} cannot go into {}", t.name, to_string(t.audio.codec),
                      to_string(t.container));
    p.audio = plan_audio(t, *audio, caps);
    if (p.audio.copy) check_copy(t, audio->codec, p.muxer, "audio", caps);
  }
  if (!p.video.present && !p.audio.present) {
    if (audio_only(t.container) && !audio)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: has no audio stream for an audio-only {} output", input_name,
                       to_string(t.container));
    fail<MediaError>(ErrorCode::ResourceContentBad, "{}: the template {} keeps no stream this input has", input_name, t.name);
  }

  switch (t.container) {
    case Container::mp4:
    case Container::mov:
    case Container::m4a:
      if (t.mux.faststart) p.muxer_options.emplace_back("movflags", "+faststart");
      break;
    case Container::m3u8:
      p.hls_segment_seconds = t.mux.hls_segment_seconds;
      p.hls = t.hls;
      // Encrypted, live, fMP4 and DASH outputs are written segment by segment by gopcast
      // itself, which needs re-encoded video (forced keyframes on the grid).
      if (const char* key = t.hls.written_by_gopcast(); key && (t.video.codec == VideoCodec::copy || t.video.remove || !video))
        fail<SpecError>(ErrorCode::Incompatible, "{}: hls.{}: needs re-encoded video (video.codec copy and audio-only HLS are not supported)",
                        t.name, key);
      p.muxer_options.emplace_back("hls_time", fmt::format("{}", t.mux.hls_segment_seconds));
      p.muxer_options.emplace_back("hls_playlist_type", "vod");
      p.muxer_options.emplace_back("hls_list_size", "0");
      break;
    case Container::gif:
      p.muxer_options.emplace_back("loop", std::to_string(t.mux.gif_loop));
      p.muxer_options.emplace_back("final_delay", std::to_string(t.mux.gif_final_delay));
      break;
    case Container::webp:
      // WebP counts plays, not repeats: 0 forever, 1 once.
      p.muxer_options.emplace_back("loop", std::to_string(t.mux.gif_loop == 0 ? 0 : t.mux.gif_loop + 1));
      break;
    default: break;
  }
  p.global_header = (p.container == Container::m3u8 && p.hls.segments == HlsSegmentFormat::fmp4) || caps.muxer_wants_global_header(p.muxer);
  return p;
}

}  // namespace gopcast::plan
