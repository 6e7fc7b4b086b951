#include "plan/playlist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gopcast::plan {

int target_duration(const MediaPlaylist& p) {
  int t = static_cast<int>(std::ceil(p.target_seconds - 1e-9));
  for (const auto& s : p.segments) t = std::max(t, static_cast<int>(std::lround(s.duration)));
  return std::max(t, 1);
}

std::string key_uri(const std::string& uri_template, const std::string& key_file, int index) {
  std::string out;
  for (size_t i = 0; i < uri_template.size(); ++i) {
    if (uri_template.compare(i, 5, "{key}") == 0) {
      out += key_file;
      i += 4;
    } else if (uri_template.compare(i, 7, "{index}") == 0) {
      out += std::to_string(index);
      i += 6;
    } else {
      out += uri_template[i];
    }
  }
  return out;
}

std::string render_media_playlist(const MediaPlaylist& p) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n";
  s += fmt::format("#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n", target_duration(p));
  s += fmt::format("#EXT-X-PLAYLIST-TYPE:{}\n", p.type == PlaylistType::Vod ? "VOD" : "EVENT");
  // Every segment starts with a keyframe on the shared grid (forced by the engine).
  s += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  int key = -1;
  std::string iv;
  for (const auto& seg : p.segments) {
    if (seg.key != key || (seg.key >= 0 && seg.iv_hex != iv)) {
      if (seg.key < 0) s += "#EXT-X-KEY:METHOD=NONE\n";
      else {
        s += fmt::format("#EXT-X-KEY:METHOD=AES-128,URI=\"{}\"", p.key_uris.at(static_cast<size_t>(seg.key)));
        if (!seg.iv_hex.empty()) s += ",IV=0x" + seg.iv_hex;
        s += "\n";
      }
      key = seg.key;
      iv = seg.iv_hex;
    }
    s += fmt::format("#EXTINF:{:.6f},\n{}\n", seg.duration, seg.uri);
  }
  if (p.ended) s += "#EXT-X-ENDLIST\n";
  return s;
}

}  // namespace gopcast::plan
