#pragma once
// HLS playlist text (RFC 8216): pure functions from plain data to the text players read.
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
};

// The playlist's text. An EXT-X-KEY line (METHOD=AES-128, URI, IV) precedes each
// encrypted segment whose key or IV differs from the previous segment's.
std::string render_media_playlist(const MediaPlaylist& p);

// EXT-X-TARGETDURATION: the largest EXTINF rounded to the nearest integer, at least the
// template's length rounded up, so that a growing playlist never has to raise it.
int target_duration(const MediaPlaylist& p);

// A URI template with {key} (the key file's name) and {index} (the key's number).
std::string key_uri(const std::string& uri_template, const std::string& key_file, int index);

}  // namespace gopcast::plan
