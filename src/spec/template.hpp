#pragma once
// Transcoding templates: the groups and meanings of a cloud transcoding template
// (container, video, audio, trans, mux) as plain, validated structs.
#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "crypto/crypto.hpp"
#include "core/rational.hpp"

namespace gopcast {

enum class Container { mp4, m4a, mov, mkv, flv, ts, m3u8, gif, mp3, ogg, flac, webp };
enum class VideoCodec { h264, h265, gif, copy, webp };
enum class AudioCodec { aac, mp3, vorbis, flac, copy };
enum class RateMode { onepass, twopass, cbr };
enum class AspectMode { rescale, crop, pad, none };

// Their names in templates, on the command line and in JSON (to_string, parse_enum).
const EnumNames<Container>& enum_names(Container);
const EnumNames<VideoCodec>& enum_names(VideoCodec);
const EnumNames<AudioCodec>& enum_names(AudioCodec);
const EnumNames<RateMode>& enum_names(RateMode);
const EnumNames<AspectMode>& enum_names(AspectMode);
// True for containers that carry no picture (video is dropped for them).
bool audio_only(Container c);
// Animated pictures (GIF, WebP): video only, encoded in one pass, never cut into segments.
bool animation(Container c);
// The default container for an output file extension ("mp4", ".M3U8"); nullopt if unknown.
std::optional<Container> container_for_extension(std::string_view ext);

struct VideoSpec {
  VideoCodec codec = VideoCodec::h264;
  bool remove = false;
  std::string profile;            // "" = encoder default
  std::string preset = "medium";  // x264/x265 preset
  std::optional<int> crf;         // quality-based rate control
  std::optional<int> qp;          // constant quantiser (qp 0 = lossless)
  std::optional<int> bitrate;     // kbit/s
  std::optional<int> maxrate;     // kbit/s
  std::optional<int> bufsize;     // kbit
  std::optional<int> width;
  std::optional<int> height;
  std::optional<Rational> fps;       // output frame rate; absent = the source's timing
  std::optional<int> gop_frames;  // max keyframe interval, frames
  std::optional<double> gop_seconds;  // or seconds ("2s")
  std::string pix_fmt;            // "" = the source's
  int threads = 0;                // encoder threads, 0 = automatic
  int rotate = 0;                 // clockwise 0, 90, 180, 270, after the source is made upright
};

struct AudioSpec {
  AudioCodec codec = AudioCodec::aac;
  bool remove = false;
  std::optional<int> bitrate;      // kbit/s
  std::optional<int> sample_rate;  // Hz
  std::optional<int> channels;     // 1 or 2
  // Loudness normalisation (EBU R128): the integrated loudness wanted, LUFS, measured
  // over the whole timeline; the gain is linear and never lifts the true peak above
  // `true_peak` dBTP.
  std::optional<double> loudness;
  double true_peak = -1;
};

struct TransSpec {
  RateMode mode = RateMode::onepass;
  bool no_upscale = true;          // never exceed the source's resolution
  bool cap_video_bitrate = false;  // never exceed the source's video bitrate
  bool cap_audio_bitrate = false;  // never exceed the source's audio bitrate
  AspectMode aspect = AspectMode::rescale;
};

struct MuxSpec {
  double hls_segment_seconds = 10;  // 1..60
  int gif_loop = 0;                 // GIF and WebP: 0 = forever, -1 = play once, N = repeat N times
  int gif_final_delay = 0;          // GIF and WebP: centiseconds to hold the last frame
  bool faststart = true;            // MP4/MOV: moov atom at the front
};

// HLS delivery options (m3u8 outputs only).
enum class HlsEncryption { none, aes128 };
enum class HlsPlaylistType { vod, event };
enum class HlsSegmentFormat { ts, fmp4 };
const EnumNames<HlsEncryption>& enum_names(HlsEncryption);
const EnumNames<HlsPlaylistType>& enum_names(HlsPlaylistType);
const EnumNames<HlsSegmentFormat>& enum_names(HlsSegmentFormat);

struct HlsSpec {
  HlsEncryption encryption = HlsEncryption::none;
  std::optional<crypto::Block> key;  // given by the user (32 hex digits in TOML); none: keys from the CSPRNG
  std::string key_uri = "{key}"; // written into EXT-X-KEY; {key} = key file name, {index} = key number
  std::string key_dir;           // where key files go: "" = beside the playlist, else a folder
                                 // (relative to the output's folder)
  int key_rotation = 0;          // segments per key; 0 = one key for the whole output
  HlsPlaylistType playlist = HlsPlaylistType::vod;  // event: the playlist grows while encoding
  HlsSegmentFormat segments = HlsSegmentFormat::ts;  // fmp4: CMAF fragments after one init segment
  bool dash = false;  // also an MPEG-DASH manifest (.mpd) over the same fMP4 segments

  // The first key set that only gopcast's own HLS writer (engine/hls.hpp) provides, or
  // nullptr when libavformat's hls muxer can write the output too.
  const char* written_by_gopcast() const {
    if (encryption != HlsEncryption::none) return "encryption";
    if (playlist != HlsPlaylistType::vod) return "playlist";
    if (segments != HlsSegmentFormat::ts) return "segments";
    if (dash) return "dash";
    return nullptr;
  }
};

struct Template {
  std::string name;  // catalogue name or file stem
  std::string description;
  Container container = Container::mp4;
  VideoSpec video;
  AudioSpec audio;
  TransSpec trans;
  MuxSpec mux;
  HlsSpec hls;

  // The resolved TOML form; from_table(to_table(t)) == t.
  toml::table to_table() const;
};

// Builds and validates a template from a merged table. `origin` names where values
// without a source position came from (e.g. "--set"). Unknown keys, wrong types and
// out-of-range values raise SpecError naming the key.
Template template_from_table(const toml::table& table, std::string name, const std::string& origin);

}  // namespace gopcast
