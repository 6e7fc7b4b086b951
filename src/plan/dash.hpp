#pragma once
// MPEG-DASH manifests (ISO/IEC 23009-1, the isoff-live profile) over the fMP4 segments
// gopcast's HLS writer produces: pure functions from plain data to the MPD text.
#include <cstdint>
#include <string>
#include <vector>

namespace gopcast::plan {

// One rendition's segments: an init segment and media segments numbered from 0 whose
// first presentation times (and the end of the last one) are in `timescale` units.
enum class DashContent { video, audio };

struct DashRepresentation {
  DashContent content = DashContent::video;
  std::string id;
  int64_t bandwidth = 0;  // bit/s: the peak segment bit rate, as in the HLS master
  int width = 0, height = 0;
  int frame_rate_num = 0, frame_rate_den = 1;  // 0 = unknown
  int sample_rate = 0, channels = 0;           // audio
  std::string codecs;                          // RFC 6381
  std::string init_uri;                        // relative to the MPD
  std::string media_template;                  // relative to the MPD, with $Number...$
  int64_t timescale = 0;
  std::vector<int64_t> starts;  // segment i's first presentation time
  int64_t end = 0;              // the end of the last segment
};

// The SegmentTemplate media attribute for files named `prefix` + number (zero-padded to
// `digits`) + `suffix`; a '$' in the names is written as "$$".
std::string dash_media_template(const std::string& prefix, int digits, const std::string& suffix);

// A static MPD with one period, one adaptation set for the video representations
// (segments aligned across them, each starting with a keyframe) and one for the audio
// ones. Each representation's timeline is its own segments' times in its own
// timescale; presentationTimeOffset is the earliest first time of all representations
// in that timescale, so every track keeps its place against the others.
// `min_buffer_seconds` is the segment length.
std::string render_mpd(const std::vector<DashRepresentation>& reps, double min_buffer_seconds);

// ISO 8601 duration as MPDs write it: "PT12.345S".
std::string iso_duration(double seconds);

}  // namespace gopcast::plan
