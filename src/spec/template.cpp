#include "spec/template.hpp"

#include <algorithm>
#include "spec/keys.hpp"
#include "spec/value.hpp"

namespace gopcast {

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
  // Every key as the schema (spec/keys.hpp) has it, group by group.
  for (const auto& k : spec::template_keys())
    if (k.group.empty()) k.read(root, t);
  for (const auto& group : spec::template_groups()) {
    auto reader = root.table(group);
    for (const auto& k : spec::template_keys())
      if (k.group == group) k.read(reader, t);
    reader.finish();
  }
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
  toml::table out;
  for (const auto& k : spec::template_keys())
    if (k.group.empty()) k.write(*this, out);
  for (const auto& group : spec::template_groups()) {
    toml::table g;
    for (const auto& k : spec::template_keys())
      if (k.group == group) k.write(*this, g);
    out.insert(group, std::move(g));
  }
  return out;
}

}  // namespace gopcast
