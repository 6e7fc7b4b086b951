#pragma once
// Subtitles as plans carry them: cues on the input's timeline and the soft tracks an
// output muxes, with everything the muxers need already rendered (ops/subtitles.hpp
// reads the files and builds these), and the WebVTT text of HLS subtitle renditions.
#include <cstdint>
#include <string>
#include <vector>

namespace gopcast::plan {

// One cue. Times are milliseconds from the input's start (the timeline the engine's
// frames carry), end exclusive.
struct Cue {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // The text as WebVTT cue text restricted to <i> <b> <u> (and their closing tags),
  // with &lt; &gt; &amp; for literal characters and '\n' between lines. SRT's and
  // WebVTT's other tags (<font>, <c.x>, <v Name>, <a href>...) are dropped, their text
  // kept; ASS override blocks become the same three tags where they map and go
  // otherwise.
  std::string text;
  // ASS sources only: the Dialogue line's fields as written (Text keeps its override
  // tags), so burning in renders exactly what the author styled.
  std::string ass_layer = "0", ass_style = "Default", ass_name, ass_margin_l = "0", ass_margin_r = "0",
              ass_margin_v = "0", ass_effect, ass_text;
};

// A soft subtitle track as the muxers get it.
struct SubtitleTrack {
  std::string codec;     // libavcodec encoder (mov_text, subrip, ass) or "webvtt" (HLS, written as text)
  std::string lang;      // ISO 639-2, "" = undetermined
  std::string language;  // its BCP 47 form, as HLS names it
  std::string title;
  std::vector<Cue> cues;
  // Subtitle encoders take an ASS header and one ASS event per cue ("ReadOrder,Layer,
  // Style,Name,MarginL,MarginR,MarginV,Effect,Text"), in the order of `cues`.
  std::string encoder_header;
  std::vector<std::string> encoder_events;
};

// "HH:MM:SS.mmm".
std::string vtt_time(int64_t ms);
// One WebVTT file holding the cues that overlap [from_ms, to_ms) (whole, unclipped, as
// HLS expects), with an X-TIMESTAMP-MAP header when `mpegts` >= 0 (the 90 kHz MPEG-TS
// time of media time 0).
std::string render_webvtt(const std::vector<Cue>& cues, int64_t from_ms, int64_t to_ms, int64_t mpegts);

}  // namespace gopcast::plan
