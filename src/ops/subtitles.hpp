#pragma once
// External subtitle files as plain data: SRT, WebVTT and ASS/SSA read tolerantly (files
// in the wild are loosely formed), converted from a declared character set to UTF-8,
// and written back as the clean text the rest of gopcast feeds to libav (an ASS script
// for burning in, WebVTT segments for HLS, ASS dialogue lines for subtitle encoders).
// Pure apart from reading a file and calling iconv.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "plan/output.hpp"
#include "plan/subtitles.hpp"
#include "spec/subtitles.hpp"

namespace gopcast::ops {

enum class SubtitleFormat { srt, webvtt, ass };
const EnumNames<SubtitleFormat>& enum_names(SubtitleFormat);

using plan::Cue;

struct SubtitleDoc {
  SubtitleFormat format = SubtitleFormat::srt;
  std::vector<Cue> cues;  // in start order (stable)
  // ASS sources: every section before [Events] ([Script Info], [V4+ Styles], fonts...)
  // as written, in UTF-8; empty for SRT and WebVTT.
  std::string ass_header;
};

// BCP 47 (what HLS's LANGUAGE wants) of an ISO 639-2 code: the two-letter code where one
// exists ("eng" -> "en"), else the code itself.
std::string bcp47_language(std::string_view iso639_2);
// A name for a track in players: English, Español... for common codes, else the code.
std::string language_name(std::string_view iso639_2);

// The canonical iconv name of a declared charset ("gbk", "big5", "shift-jis", "sjis",
// "latin-1", "latin1", "iso-8859-1", "utf-8", "utf8", or any name iconv knows).
std::string iconv_charset(std::string_view charset);

// `bytes` in `charset` to UTF-8 (a leading byte-order mark dropped). Bytes that are not
// valid in the charset are a ResourceContentBad error naming `origin`, the charset and
// the offset: a wrongly declared charset fails instead of producing mojibake. An
// unknown charset is OutOfRange.
std::string to_utf8(std::string_view bytes, std::string_view charset, std::string_view origin);

// Parses UTF-8 text; the format is recognised by content (a "WEBVTT" first line, an
// "[Script Info]" or "[Events]" section, else SubRip). Tolerates CRLF and CR line ends,
// a byte-order mark, missing, odd or duplicate cue numbers, missing or extra blank
// lines, timestamps with 1 to 3 fraction digits (a decimal fraction: "00:00:00,1" is
// 0.1 s, with ',' or '.') or none ("00:00:04"), and hours left out ("01:02.5").
// A blank line ends a cue only when a new cue follows: text after it otherwise belongs
// to the cue before. Cues that end before they start are dropped. No cue at all is a
// ResourceContentBad error ("not a subtitle file") naming `origin`.
SubtitleDoc parse_subtitles(std::string_view utf8, std::string_view origin);

// Reads `path`, converts it from `charset` and parses it; a missing or unreadable file
// is ResourceNotFound, binary data or no cue ResourceContentBad, all naming the file.
SubtitleDoc load_subtitles(const std::filesystem::path& path, std::string_view charset);

// A timestamp "H:MM:SS.mmm" or "MM:SS,mmm"... in milliseconds; nullopt-like -1 when the
// text is not one.
int64_t parse_timestamp(std::string_view text);

// The cues of a clip [from_ms, to_ms) of the input, on the clip's own timeline (from_ms
// is 0): shifted, cut to the window, and those outside it left out.
std::vector<Cue> clip_cues(const std::vector<Cue>& cues, int64_t from_ms, int64_t to_ms);

// Cue text without markup: tags dropped, entities decoded (what a plain-text consumer shows).
std::string plain_text(std::string_view cue_text);
// Cue text as ASS Dialogue text: <i> to {\i1} and so on, lines joined with \N.
std::string ass_text(std::string_view cue_text);

struct BurnStyle {
  std::string font = "DejaVu Sans";
  int font_size = 0;  // pixels; 0: 1/18 of the picture's height (at least 12)
};

// The ASS script burned into a width x height picture: an ASS source keeps its own
// header and events; SRT and WebVTT get one style (white text, black outline, bottom
// centre) in a script whose coordinates are the picture's pixels.
std::string render_ass_script(const SubtitleDoc& doc, const BurnStyle& style, int width, int height);
// ASS header for subtitle encoders (mov_text, subrip): what libavcodec's decoders produce.
std::string default_ass_header();
// A cue as libavcodec subtitle encoders take it: "ReadOrder,Layer,Style,Name,MarginL,
// MarginR,MarginV,Effect,Text".
std::string ass_event_for_encoder(const Cue& cue, int read_order, bool keep_ass_styles);

// Reads and checks every subtitle file of an output (missing, unreadable, not
// subtitles, a wrongly declared charset: errors naming the file) and adds what they
// hold to `plan`: burn-in scripts to its video, soft tracks (rendered for their muxers)
// to its subtitles. Burn-in needs re-encoded video; soft subtitles need a container that
// holds them (MP4, MOV, MKV, or HLS with re-encoded video and a VOD playlist). Cue times
// are the input's; a clip's outputs get the cues of [from_ms, to_ms) on the clip's own
// timeline.
void attach_subtitles(plan::OutputPlan& plan, const std::vector<SubtitleSpec>& specs, const std::filesystem::path& output,
                      int64_t from_ms = 0, int64_t to_ms = INT64_MAX);

}  // namespace gopcast::ops
