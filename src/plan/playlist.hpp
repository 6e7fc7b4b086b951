#pragma once
// HLS playlist text (RFC 8216): pure functions from plain data to the text players read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gopcast::plan {

struct HlsSegmentEntry {
  std::string uri;        // relative to the playlist
  double duration = 0;    // seconds (EXTINF)
  int key = -1;           // index into MediaPlaylist::key_uris, -1 = not encrypted
  std::string iv_hex;     // 32 hex digits of the segment's IV ("" = the sequence number)
};

enum class PlaylistType { Vod, Event };

struct MediaPlaylist {
  PlaylistType type = PlaylistType::Vod;
  double target_seconds = 6;  // the template's segment length: TARGETDURATION covers it and every segment
  bool ended = true;          // EXT-X-ENDLIST (an EVENT playlist gets it when the job ends)
  std::vector<std::string> key_uris;
  std::vector<HlsSegmentEntry> segments;
  std::string map_uri;  // fMP4: the init segment (EXT-X-MAP), "" for MPEG-TS segments
};

// The playlist's text. An EXT-X-KEY line (METHOD=AES-128, URI, IV) precedes each
// encrypted segment whose key or IV differs from the previous segment's.
std::string render_media_playlist(const MediaPlaylist& p);

// EXT-X-TARGETDURATION: the largest EXTINF rounded to the nearest integer, at least the
// template's length rounded up, so that a growing playlist never has to raise it.
int target_duration(const MediaPlaylist& p);

// A subtitle rendition (EXT-X-MEDIA TYPE=SUBTITLES) of a master playlist's group.
struct SubtitleRendition {
  std::string group = "subs";
  std::string name;      // shown in players
  std::string language;  // BCP 47, "" = none
  std::string uri;       // its WebVTT media playlist, relative to the master
  bool is_default = false;
};

// One rendition in a master playlist.
struct Variant {
  std::string uri;                // its media playlist, relative to the master
  int64_t bandwidth = 0;          // bit/s: the peak segment bit rate
  int64_t average_bandwidth = 0;  // bit/s: all segments' bits over their duration
  int width = 0, height = 0;
  double frame_rate = 0;
  std::string codecs;             // RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
  // Audio in a playlist of its own (fMP4 outputs: one track per file): the
  // EXT-X-MEDIA rendition group this variant plays with; "" = audio muxed in.
  std::string audio_group;
  std::string audio_uri;
  std::vector<SubtitleRendition> subtitles;  // one group, named on the variant (SUBTITLES=)
};
// Each audio group and each subtitle rendition (by group and name) is listed once
// (EXT-X-MEDIA, before the variants that name it).
std::string render_master_playlist(const std::vector<Variant>& variants);

// RFC 6381 codec strings from the first access unit of a stream (Annex B byte stream):
// "avc1.PPCCLL" from the H.264 SPS, "hvc1.P.C.TL.B" from the H.265 SPS; nothing when
// no SPS is found.
std::optional<std::string> avc_codec_string(const uint8_t* data, size_t size);
std::optional<std::string> hevc_codec_string(const uint8_t* data, size_t size);

// A URI template with {key} (the key file's name) and {index} (the key's number).
std::string key_uri(const std::string& uri_template, const std::string& key_file, int index);

}  // namespace gopcast::plan
