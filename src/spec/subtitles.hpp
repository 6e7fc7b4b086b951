#pragma once
// External subtitle tracks of an output, as plain data: from a job file's
// [[outputs.subtitles]] tables or `gopcast transcode --subtitles FILE[:k=v,...]`.
// What the files hold is read by ops/subtitles.hpp.
#include <toml++/toml.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"

#include "spec/value.hpp"

namespace gopcast {

enum class SubtitleMode { soft, burn };  // a subtitle stream, or drawn into the picture
const EnumNames<SubtitleMode>& enum_names(SubtitleMode);

struct SubtitleSpec {
  std::filesystem::path path;     // SRT, WebVTT or ASS/SSA
  std::string charset = "utf-8";  // what the file's bytes are (iconv name or alias)
  SubtitleMode mode = SubtitleMode::soft;
  std::string lang;               // ISO 639-2 ("eng", "spa", "chi"); "" = undetermined
  std::string title;              // the track's name in players; "" = from lang
  std::string font;               // burn-in of SRT/WebVTT: font family ("" = DejaVu Sans)
  int font_size = 0;              // burn-in: pixels of the output picture; 0 = height / 18
  std::string origin = "subtitles";  // "job.toml: outputs[0].subtitles[1]" in messages
};

constexpr int kMaxSubtitleFontSize = 1000;
constexpr size_t kMaxSubtitleTracks = 32;

// Reads one [[outputs.subtitles]] table (keys: path, charset, mode, lang, title, font,
// font_size); `resolve` makes a relative path absolute (relative to the job file).
SubtitleSpec read_subtitle_spec(spec::TableReader& reader, std::string origin,
                                const std::function<std::filesystem::path(const std::string&)>& resolve);
toml::table subtitle_to_table(const SubtitleSpec& spec);

// The command line's form: FILE, or FILE:key=value,key=value with the same keys
// (e.g. "subs.srt:charset=gbk,mode=burn" or "es.srt:lang=spa"). A FILE holding ':'
// is read whole when what follows its last ':' is not a list of known keys.
SubtitleSpec parse_subtitle_option(std::string_view text);

}  // namespace gopcast
