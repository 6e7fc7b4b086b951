#include "spec/template.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "crypto/crypto.hpp"
#include "spec/value.hpp"

namespace gopcast {

namespace {
// Frame rates: 25, 29.97, "30000/1001". NTSC-style decimals map to their exact rationals.
Rational parse_fps(spec::TableReader& r, std::string_view key) {
  const toml::node* n = r.raw(key);
  double value = 0;
  if (auto s = n->as_string()) {
    const std::string& text = s->get();
    auto slash = text.find('/');
    int num = 0, den = 1;
    bool ok = false;
    if (slash != std::string::npos) {
      auto r1 = std::from_chars(text.data(), text.data() + slash, num);
      auto r2 = std::from_chars(text.data() + slash + 1, text.data() + text.size(), den);
      ok = r1.ec == std::errc() && r1.ptr == text.data() + slash && r2.ec == std::errc() &&
           r2.ptr == text.data() + text.size() && den > 0;
    }
    if (!ok) r.fail_at(key, ErrorCode::InvalidKey, fmt::format("\"{}\" is not a frame rate (use 25, 29.97 or \"30000/1001\")", text));
    const double value = static_cast<double>(num) / den;
    if (!(value >= 1 && value <= 120)) r.fail_at(key, ErrorCode::OutOfRange, fmt::format("{} is out of range 1..120", text));
    return Rational{num, den};
  }
  auto v = r.number(key, 1, 120);
  value = *v;
  for (int base : {24, 30, 60, 120}) {
    double ntsc = base * 1000.0 / 1001.0;
    if (std::abs(value - ntsc) < 0.006) return Rational{base * 1000, 1001};
  }
  if (std::floor(value) == value) return Rational{static_cast<int>(value), 1};
  return Rational{static_cast<int>(std::lround(value * 1000)), 1000};
}
}  // namespace

const EnumNames<Container>& enum_names(Container) {
  static const EnumNames<Container> names{{Container::mp4, "mp4"},   {Container::m4a, "m4a"}, {Container::mov, "mov"},
                                          {Container::mkv, "mkv"},   {Container::flv, "flv"}, {Container::ts, "ts"},
                                          {Container::m3u8, "m3u8"}, {Container::gif, "gif"}, {Container::mp3, "mp3"},
                                          {Container::ogg, "ogg"},   {Container::flac, "flac"}, {Container::webp, "webp"}};
  return names;
}
const EnumNames<VideoCodec>& enum_names(VideoCodec) {
  static const EnumNames<VideoCodec> names{{VideoCodec::h264, "h264"}, {VideoCodec::h265, "h265"},       {VideoCodec::gif, "gif"},
                                           {VideoCodec::copy, "copy"}, {VideoCodec::webp, "webp"},       {VideoCodec::h264, "avc", true},
                                           {VideoCodec::h265, "hevc", true}};
  return names;
}
const EnumNames<AudioCodec>& enum_names(AudioCodec) {
  static const EnumNames<AudioCodec> names{{AudioCodec::aac, "aac"},
                                           {AudioCodec::mp3, "mp3"},
                                           {AudioCodec::vorbis, "vorbis"},
                                           {AudioCodec::flac, "flac"},
                                           {AudioCodec::copy, "copy"}};
  return names;
}
const EnumNames<RateMode>& enum_names(RateMode) {
  static const EnumNames<RateMode> names{{RateMode::onepass, "onepass"}, {RateMode::twopass, "twopass"}, {RateMode::cbr, "cbr"}};
  return names;
}
const EnumNames<AspectMode>& enum_names(AspectMode) {
  static const EnumNames<AspectMode> names{
      {AspectMode::rescale, "rescale"}, {AspectMode::crop, "crop"}, {AspectMode::pad, "pad"}, {AspectMode::none, "none"}};
  return names;
}
const EnumNames<HlsEncryption>& enum_names(HlsEncryption) {
  static const EnumNames<HlsEncryption> names{{HlsEncryption::none, "none"}, {HlsEncryption::aes128, "aes-128"}};
  return names;
}
const EnumNames<HlsPlaylistType>& enum_names(HlsPlaylistType) {
  static const EnumNames<HlsPlaylistType> names{{HlsPlaylistType::vod, "vod"}, {HlsPlaylistType::event, "event"}};
  return names;
}
const EnumNames<HlsSegmentFormat>& enum_names(HlsSegmentFormat) {
  static const EnumNames<HlsSegmentFormat> names{{HlsSegmentFormat::ts, "ts"}, {HlsSegmentFormat::fmp4, "fmp4"}};
  return names;
}

bool animation(Container c) { return c == Container::gif || c == Container::webp; }

bool audio_only(Container c) { return c == Container::m4a || c == Container::mp3 || c == Container::ogg || c == Container::flac; }

std::optional<Container> container_for_extension(std::string_view ext) {
  std::string e(ext);
  if (!e.empty() && e[0] == '.') e.erase(0, 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  if (e == "mp4" || e == "m4v") return Container::mp4;
  if (e == "m4a" || e == "aac") return Container::m4a;
  if (e == "mov") return Container::mov;
  if (e == "mkv") return Container::mkv;
  if (e == "flv") return Container::flv;
  if (e == "ts") return Container::ts;
  if (e == "m3u8") return Container::m3u8;
  if (e == "gif") return Container::gif;
  if (e == "webp") return Container::webp;
  if (e == "mp3") return Container::mp3;
  if (e == "ogg" || e == "oga") return Container::ogg;
  if (e == "flac") return Container::flac;
  return std::nullopt;
}

Template template_from_table(const toml::table& table, std::string name, const std::string& origin) {
  Template t;
  t.name = std::move(name);
  spec::TableReader root(&table, "", origin);
  root.raw("base");  // consumed by the catalogue while merging
  if (auto v = root.string("name")) t.name = *v;
  if (auto v = root.string("description")) t.description = *v;

  auto container = root.table("container");
  if (auto v = container.enumerated<Container>("format", true)) t.container = *v;
  container.finish();

  auto video = root.table("video");
  if (auto v = video.enumerated<VideoCodec>("codec", true)) t.video.codec = *v;
  if (auto v = video.boolean("remove")) t.video.remove = *v;
  if (auto v = video.choice("profile", {"", "baseline", "main", "high", "high10", "high422", "high444", "main10", "main444-8"}))
    t.video.profile = *v;
  if (auto v = video.choice("preset", {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                                       "veryslow", "placebo"}))
    t.video.preset = *v;
  if (auto v = video.integer("crf", 0, 51)) t.video.crf = static_cast<int>(*v);
  if (auto v = video.integer("qp", 0, 51)) t.video.qp = static_cast<int>(*v);
  // 0 clears an inherited value, so `--set video.bitrate=0 --set video.crf=20` turns a
  // bitrate preset into a quality-based one.
  auto kbits = [&](const char* key, int64_t max) -> std::optional<int> {
    auto v = video.integer(key, 0, max);
    if (v && *v != 0 && *v < 10) video.fail_at(key, ErrorCode::OutOfRange, fmt::format("{} is out of range 10..{} (0 = none)", *v, max));
    return v && *v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  t.video.bitrate = kbits("bitrate", 100000);
  t.video.maxrate = kbits("maxrate", 100000);
  t.video.bufsize = kbits("bufsize", 200000);
  if (auto v = video.integer("width", 16, 8192)) t.video.width = static_cast<int>(*v);
  if (auto v = video.integer("height", 16, 8192)) t.video.height = static_cast<int>(*v);
  if (video.raw("fps")) t.video.fps = parse_fps(video, "fps");
  if (const toml::node* gop = video.raw("gop")) {
    if (auto s = gop->as_string()) {
      const std::string& text = s->get();
      double secs = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), secs);
      if (r.ec != std::errc() || std::string_view(r.ptr) != "s")
        video.fail_at("gop", ErrorCode::InvalidKey, fmt::format("\"{}\" is not a GOP (use a frame count or seconds such as \"2s\")", text));
      if (!(secs >= 0.1 && secs <= 60)) video.fail_at("gop", ErrorCode::OutOfRange, fmt::format("{} is out of range 0.1s..60s", text));
      t.video.gop_seconds = secs;
    } else {
      t.video.gop_frames = static_cast<int>(*video.integer("gop", 1, 10000));
    }
  }
  if (auto v = video.string("pix_fmt")) t.video.pix_fmt = *v;
  if (auto v = video.integer("threads", 0, 64)) t.video.threads = static_cast<int>(*v);
  if (auto v = video.integer("rotate", 0, 270)) {
    if (*v % 90 != 0) video.fail_at("rotate", ErrorCode::OutOfRange, "expected 0, 90, 180 or 270 (degrees clockwise)");
    t.video.rotate = static_cast<int>(*v);
  }
  video.finish();

  auto audio = root.table("audio");
  if (auto v = audio.enumerated<AudioCodec>("codec", true)) t.audio.codec = *v;
  if (auto v = audio.boolean("remove")) t.audio.remove = *v;
  if (auto v = audio.integer("bitrate", 8, 1024)) t.audio.bitrate = static_cast<int>(*v);
  if (auto v = audio.integer("sample_rate", 8000, 192000)) t.audio.sample_rate = static_cast<int>(*v);
  if (auto v = audio.integer("channels", 1, 2)) t.audio.channels = static_cast<int>(*v);
  if (auto v = audio.number("loudness", -70, -5)) t.audio.loudness = *v;
  if (auto v = audio.number("true_peak", -9, 0)) t.audio.true_peak = *v;
  audio.finish();

  auto trans = root.table("trans");
  if (auto v = trans.enumerated<RateMode>("mode")) t.trans.mode = *v;
  if (auto v = trans.boolean("no_upscale")) t.trans.no_upscale = *v;
  if (auto v = trans.boolean("cap_video_bitrate")) t.trans.cap_video_bitrate = *v;
  if (auto v = trans.boolean("cap_audio_bitrate")) t.trans.cap_audio_bitrate = *v;
  if (auto v = trans.enumerated<AspectMode>("aspect")) t.trans.aspect = *v;
  trans.finish();

  auto mux = root.table("mux");
  if (auto v = mux.number("hls_segment_seconds", 1, 60)) t.mux.hls_segment_seconds = *v;
  if (auto v = mux.integer("gif_loop", -1, 65535)) t.mux.gif_loop = static_cast<int>(*v);
  if (auto v = mux.integer("gif_final_delay", 0, 65535)) t.mux.gif_final_delay = static_cast<int>(*v);
  if (auto v = mux.boolean("faststart")) t.mux.faststart = *v;
  mux.finish();

  auto hls = root.table("hls");
  if (auto v = hls.enumerated<HlsEncryption>("encryption")) t.hls.encryption = *v;
  if (auto v = hls.string("key")) {
    try {
      // Decoded once, here: the plan carries the key's bytes.
      if (!v->empty()) t.hls.key = crypto::block_from_hex(*v, "key");
      else t.hls.key.reset();
    } catch (const Error&) {
      hls.fail_at("key", ErrorCode::OutOfRange, "expected 32 hex digits (a 128-bit AES key)");
    }
  }
  if (auto v = hls.string("key_uri")) {
    if (v->empty() || v->find_first_of("\"\r\n") != std::string::npos)
      hls.fail_at("key_uri", ErrorCode::OutOfRange, "must be non-empty and hold no quote or line break");
    t.hls.key_uri = *v;
  }
  if (auto v = hls.string("key_dir")) t.hls.key_dir = *v;
  if (auto v = hls.integer("key_rotation", 0, 1000000)) t.hls.key_rotation = static_cast<int>(*v);
  if (auto v = hls.enumerated<HlsPlaylistType>("playlist")) t.hls.playlist = *v;
  if (auto v = hls.enumerated<HlsSegmentFormat>("segments")) t.hls.segments = *v;
  if (auto v = hls.boolean("dash")) t.hls.dash = *v;
  hls.finish();
  root.finish();

  // Rules that need several keys at once.
  auto where_key = [&](const char* group, const char* key) {
    const toml::node* g = table.get(group);
    const toml::node* n = g && g->is_table() ? g->as_table()->get(key) : nullptr;
    return n ? spec::where(*n, origin) : origin;
  };
  if (t.trans.mode == RateMode::twopass && !t.video.bitrate && t.video.codec != VideoCodec::copy && !t.video.remove)
    fail<SpecError>(ErrorCode::Incompatible, "{}: trans.mode: twopass needs video.bitrate", where_key("trans", "mode"));
  if (t.trans.mode == RateMode::cbr && !t.video.bitrate && t.video.codec != VideoCodec::copy && !t.video.remove)
    fail<SpecError>(ErrorCode::Incompatible, "{}: trans.mode: cbr needs video.bitrate", where_key("trans", "mode"));
  if (t.audio.loudness && t.audio.codec == AudioCodec::copy && !t.audio.remove)
    fail<SpecError>(ErrorCode::Incompatible, "{}: audio.loudness: normalising needs re-encoded audio (audio.codec is copy)",
                    where_key("audio", "loudness"));
  if (t.video.crf && t.video.qp)
    fail<SpecError>(ErrorCode::Incompatible, "{}: video.qp: give crf or qp, not both", where_key("video", "qp"));
  if (const char* key = t.hls.written_by_gopcast(); key && t.container != Container::m3u8)
    fail<SpecError>(ErrorCode::Incompatible, "{}: hls.{}: encryption, live playlists, fMP4 segments and DASH are for m3u8 outputs, not {}",
                    where_key("hls", key), key, to_string(t.container));
  if (t.hls.dash && t.hls.segments != HlsSegmentFormat::fmp4)
    fail<SpecError>(ErrorCode::Incompatible, "{}: hls.dash: DASH shares fMP4 segments with the HLS playlist (set hls.segments = \"fmp4\")",
                    where_key("hls", "dash"));
  if (t.hls.segments == HlsSegmentFormat::fmp4 && t.hls.encryption != HlsEncryption::none)
    fail<SpecError>(ErrorCode::Incompatible,
                    "{}: hls.encryption: AES-128 whole-segment encryption is written for TS segments (fMP4 players and DASH expect "
                    "Common Encryption, which gopcast does not write)",
                    where_key("hls", "encryption"));
  if (t.hls.segments == HlsSegmentFormat::fmp4 && t.hls.playlist != HlsPlaylistType::vod)
    fail<SpecError>(ErrorCode::Incompatible,
                    "{}: hls.playlist: live (event) playlists are written with TS segments (set hls.segments = \"ts\")",
                    where_key("hls", "playlist"));
  if (t.hls.key && t.hls.key_rotation > 0)
    fail<SpecError>(ErrorCode::Incompatible, "{}: hls.key_rotation: a given hls.key cannot rotate (leave key out for random keys)",
                    where_key("hls", "key_rotation"));
  if ((t.video.crf || t.video.qp) && t.video.bitrate)
    fail<SpecError>(ErrorCode::Incompatible,
                    "{}: video.{}: give crf/qp (quality) or bitrate (average rate), not both (set video.bitrate = 0 to clear an inherited bitrate)",
                    where_key("video", t.video.crf ? "crf" : "qp"), t.video.crf ? "crf" : "qp");
  return t;
}

toml::table Template::to_table() const {
  toml::table video_t;
  video_t.insert("codec", std::string(to_string(video.codec)));
  video_t.insert("remove", video.remove);
  video_t.insert("profile", video.profile);
  video_t.insert("preset", video.preset);
  if (video.crf) video_t.insert("crf", *video.crf);
  if (video.qp) video_t.insert("qp", *video.qp);
  if (video.bitrate) video_t.insert("bitrate", *video.bitrate);
  if (video.maxrate) video_t.insert("maxrate", *video.maxrate);
  if (video.bufsize) video_t.insert("bufsize", *video.bufsize);
  if (video.width) video_t.insert("width", *video.width);
  if (video.height) video_t.insert("height", *video.height);
  if (video.fps) {
    if (video.fps->den == 1) video_t.insert("fps", video.fps->num);
    else video_t.insert("fps", fmt::format("{}/{}", video.fps->num, video.fps->den));
  }
  if (video.gop_frames) video_t.insert("gop", *video.gop_frames);
  if (video.gop_seconds) video_t.insert("gop", fmt::format("{}s", *video.gop_seconds));
  video_t.insert("pix_fmt", video.pix_fmt);
  video_t.insert("threads", video.threads);
  video_t.insert("rotate", video.rotate);

  toml::table audio_t;
  audio_t.insert("codec", std::string(to_string(audio.codec)));
  audio_t.insert("remove", audio.remove);
  if (audio.bitrate) audio_t.insert("bitrate", *audio.bitrate);
  if (audio.sample_rate) audio_t.insert("sample_rate", *audio.sample_rate);
  if (audio.channels) audio_t.insert("channels", *audio.channels);
  if (audio.loudness) audio_t.insert("loudness", *audio.loudness);
  audio_t.insert("true_peak", audio.true_peak);

  toml::table out;
  out.insert("name", name);
  out.insert("description", description);
  out.insert("container", toml::table{{"format", std::string(to_string(container))}});
  out.insert("video", std::move(video_t));
  out.insert("audio", std::move(audio_t));
  out.insert("trans", toml::table{{"mode", std::string(to_string(trans.mode))},
                                  {"no_upscale", trans.no_upscale},
                                  {"cap_video_bitrate", trans.cap_video_bitrate},
                                  {"cap_audio_bitrate", trans.cap_audio_bitrate},
                                  {"aspect", std::string(to_string(trans.aspect))}});
  out.insert("mux", toml::table{{"hls_segment_seconds", mux.hls_segment_seconds},
                                {"gif_loop", mux.gif_loop},
                                {"gif_final_delay", mux.gif_final_delay},
                                {"faststart", mux.faststart}});
  out.insert("hls", toml::table{{"encryption", std::string(to_string(hls.encryption))},
                                {"key", hls.key ? crypto::to_hex(*hls.key) : std::string()},
                                {"key_uri", hls.key_uri},
                                {"key_dir", hls.key_dir},
                                {"key_rotation", hls.key_rotation},
                                {"playlist", std::string(to_string(hls.playlist))},
                                {"segments", std::string(to_string(hls.segments))},
                                {"dash", hls.dash}});
  return out;
}

}  // namespace gopcast
