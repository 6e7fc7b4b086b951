#include "plan/playlist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

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
  // EXT-X-MAP in a playlist without I-frames only needs version 6; 7 is what fMP4 authoring
  // guides name and every player that reads fMP4 knows.
  std::string s = fmt::format("#EXTM3U\n#EXT-X-VERSION:{}\n", p.map_uri.empty() ? 3 : 7);
  s += fmt::format("#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n", target_duration(p));
  s += fmt::format("#EXT-X-PLAYLIST-TYPE:{}\n", p.type == PlaylistType::Vod ? "VOD" : "EVENT");
  // Every segment starts with a keyframe on the shared grid (forced by the engine).
  s += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  // Before any EXT-X-KEY: the init segment is never encrypted.
  if (!p.map_uri.empty()) s += fmt::format("#EXT-X-MAP:URI=\"{}\"\n", p.map_uri);
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

std::string render_master_playlist(const std::vector<Variant>& variants) {
  std::string s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  std::vector<std::string> groups;
  for (const auto& v : variants) {
    if (v.audio_group.empty() || std::find(groups.begin(), groups.end(), v.audio_group) != groups.end()) continue;
    groups.push_back(v.audio_group);
    s += fmt::format("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{0}\",NAME=\"{0}\",DEFAULT=YES,AUTOSELECT=YES,URI=\"{1}\"\n", v.audio_group,
                     v.audio_uri);
  }
  std::vector<std::pair<std::string, std::string>> subtitles;
  for (const auto& v : variants)
    for (const auto& r : v.subtitles) {
      if (std::find(subtitles.begin(), subtitles.end(), std::pair(r.group, r.name)) != subtitles.end()) continue;
      subtitles.emplace_back(r.group, r.name);
      s += fmt::format("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{}\",NAME=\"{}\"", r.group, r.name);
      if (!r.language.empty()) s += fmt::format(",LANGUAGE=\"{}\"", r.language);
      s += fmt::format(",DEFAULT={0},AUTOSELECT={0},FORCED=NO,URI=\"{1}\"\n", r.is_default ? "YES" : "NO", r.uri);
    }
  for (const auto& v : variants) {
    s += fmt::format("#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={}", v.bandwidth, v.average_bandwidth);
    if (v.width > 0 && v.height > 0) s += fmt::format(",RESOLUTION={}x{}", v.width, v.height);
    if (v.frame_rate > 0) s += fmt::format(",FRAME-RATE={:.3f}", v.frame_rate);
    if (!v.codecs.empty()) s += fmt::format(",CODECS=\"{}\"", v.codecs);
    if (!v.audio_group.empty()) s += fmt::format(",AUDIO=\"{}\"", v.audio_group);
    if (!v.subtitles.empty()) s += fmt::format(",SUBTITLES=\"{}\"", v.subtitles.front().group);
    s += "\n" + v.uri + "\n";
  }
  return s;
}

namespace {

// The payload of the first NAL unit of `type` (H.264: 5 bits, H.265: 6 bits after the
// forbidden bit) with emulation-prevention bytes removed.
std::optional<std::vector<uint8_t>> find_nal(const uint8_t* d, size_t n, bool hevc, int type) {
  for (size_t i = 0; i + 3 < n; ++i) {
    if (!(d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)) continue;
    const size_t start = i + 3;
    const int t = hevc ? (d[start] >> 1) & 0x3f : d[start] & 0x1f;
    if (t != type) continue;
    std::vector<uint8_t> rbsp;
    for (size_t j = start + (hevc ? 2 : 1); j < n; ++j) {
      if (j + 2 < n && d[j] == 0 && d[j + 1] == 0 && (d[j + 2] == 1 || d[j + 2] == 0)) break;  // next start code
      if (j >= 2 && d[j] == 3 && d[j - 1] == 0 && d[j - 2] == 0 && rbsp.size() >= 2 && rbsp[rbsp.size() - 1] == 0 &&
          rbsp[rbsp.size() - 2] == 0)
        continue;  // emulation prevention
      rbsp.push_back(d[j]);
    }
    return rbsp;
  }
  return std::nullopt;
}

// A decoder configuration record (avcC, hvcC: MP4 extradata) starts with version 1; an
// Annex B stream starts with a start code's zero byte.
bool config_record(const uint8_t* data, size_t size, size_t min_size) { return size >= min_size && data[0] == 1; }

// "hvc1..." from 13 bytes laid out as one byte before profile_tier_level (space(2)
// tier(1) profile_idc(5), 32 compatibility flags, 48 constraint bits, level_idc): both
// the SPS payload (after vps id, max sub layers, nesting) and the hvcC record (after its
// version byte) have that shape.
std::string hevc_string(const uint8_t* b) {
  const int space = b[1] >> 6, tier = (b[1] >> 5) & 1, profile = b[1] & 0x1f;
  uint32_t compat = static_cast<uint32_t>(b[2]) << 24 | static_cast<uint32_t>(b[3]) << 16 | static_cast<uint32_t>(b[4]) << 8 | b[5];
  uint32_t reversed = 0;  // RFC 6381 wants the flags in reverse bit order
  for (int i = 0; i < 32; ++i) reversed |= ((compat >> i) & 1u) << (31 - i);
  std::string s = fmt::format("hvc1.{}{}.{:X}.{}{}", space == 0 ? "" : std::string(1, static_cast<char>('A' + space - 1)), profile,
                              reversed, tier ? 'H' : 'L', b[12]);
  // Constraint bytes, trailing zero bytes left out.
  int last = 5;
  while (last >= 0 && b[6 + static_cast<size_t>(last)] == 0) --last;
  for (int i = 0; i <= last; ++i) s += fmt::format(".{:X}", b[6 + static_cast<size_t>(i)]);
  return s;
}

}  // namespace

std::optional<std::string> avc_codec_string(const uint8_t* data, size_t size) {
  // avcC: version, profile, compatibility, level; the SPS payload starts with the same three.
  if (config_record(data, size, 4)) return fmt::format("avc1.{:02x}{:02x}{:02x}", data[1], data[2], data[3]);
  auto sps = find_nal(data, size, false, 7);
  if (!sps || sps->size() < 3) return std::nullopt;
  return fmt::format("avc1.{:02x}{:02x}{:02x}", (*sps)[0], (*sps)[1], (*sps)[2]);
}

std::optional<std::string> hevc_codec_string(const uint8_t* data, size_t size) {
  if (config_record(data, size, 23)) return hevc_string(data);
  auto sps = find_nal(data, size, true, 33);
  if (!sps || sps->size() < 13) return std::nullopt;
  return hevc_string(sps->data());
}

}  // namespace gopcast::plan
