#pragma once
// Watermarks and logo removal as plain data: what a job file's [[outputs.watermarks]]
// and [[outputs.delogo]] tables, a watermark template (templates/watermarks/NAME.toml)
// and the --watermark, --text-watermark and --delogo options say. Checks that need no
// media happen here; geometry against the frame is ops/watermark.hpp.
#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"

#include "spec/value.hpp"

namespace gopcast {

class Catalog;

enum class MarkPosition { top_left, top_right, bottom_left, bottom_right, centre };
const EnumNames<MarkPosition>& enum_names(MarkPosition);

// A length on the output frame: pixels (`16`), or a percentage of the frame's width
// (dx, width) or height (dy, height) written as a string (`"2.5%"`).
struct Length {
  double value = 0;
  bool percent = false;
  bool operator==(const Length&) const = default;
};

constexpr int kMaxWatermarks = 64;
constexpr int kDefaultFontSize = 24;
constexpr const char* kDefaultFont = "DejaVu Sans";

struct WatermarkSpec {
  // Exactly one of the two: an image file (PNG with alpha, JPEG...) or a line of text.
  std::filesystem::path image;
  std::string text;
  std::string template_name;  // the watermark template it started from ("" none); informative
  MarkPosition position = MarkPosition::top_left;
  Length dx, dy;                      // from the corner inwards (centre: right and down)
  std::optional<Length> width, height;  // images: one given keeps the aspect; none: own size
  double opacity = 1.0;               // 0..1
  // Text style.
  std::string font = kDefaultFont;  // a font file (has a '/' or ends in .ttf/.otf/.ttc) or a fontconfig family
  int font_size = kDefaultFontSize;  // pixels
  std::string color = "white";       // a colour name or #RRGGBB
  // Shown from `start` (input timeline seconds) for `duration`; absent: the whole video.
  std::optional<double> start;
  std::optional<double> duration;
  std::string origin = "watermark";  // "job.toml: outputs[0].watermarks[2]" in messages
};

// Hides a rectangle of the input picture (stored pixels, before rotation and scaling)
// by interpolating from its surroundings (libavfilter's delogo).
struct DelogoSpec {
  int x = 0, y = 0, w = 0, h = 0;
  std::optional<double> start;
  std::optional<double> duration;
  std::string origin = "delogo";
};

// Everything drawn on or removed from one output's picture.
struct OutputMarks {
  std::vector<WatermarkSpec> watermarks;
  std::vector<DelogoSpec> delogo;
  bool empty() const { return watermarks.empty() && delogo.empty(); }
};

// Reads one watermark table. `template` names a watermark template (found in the
// catalogue folders' watermarks/ subfolder, or a .toml path relative to `base`) whose
// keys (position, dx, dy, width, height, opacity, font, font_size, color) are defaults
// under the table's own. Relative image and font paths are relative to `base`.
WatermarkSpec read_watermark(spec::TableReader& reader, const std::string& origin, const std::filesystem::path& base,
                             const Catalog& catalog);
DelogoSpec read_delogo(spec::TableReader& reader, const std::string& origin);
toml::table watermark_to_table(const WatermarkSpec& w);
toml::table delogo_to_table(const DelogoSpec& d);

// Reads an output's `watermarks` and `delogo` arrays of tables (either may be absent).
OutputMarks read_output_marks(spec::TableReader& output, const std::string& origin, const std::filesystem::path& base,
                              const Catalog& catalog);
void add_output_marks(toml::table& output, const OutputMarks& marks);

// The command line: "--watermark logo.png,position=top-right,dx=2%,start=8" (a first
// item without '=' is `first_key`: image or text), "--delogo 10,10,120,40[,start,duration]".
// Items are separated by commas; "\," is a literal comma and "\\" a backslash.
// Returns the items as a table for read_watermark; numbers become TOML numbers except
// for keys that are always text.
toml::table parse_mark_option(std::string_view arg, std::string_view first_key);
toml::table parse_delogo_option(std::string_view arg);
// The marks of --watermark, --text-watermark and --delogo options (paths relative to
// the working directory), validated like job tables; errors name the option.
OutputMarks marks_from_options(const std::vector<std::string>& images, const std::vector<std::string>& texts,
                               const std::vector<std::string>& delogo, const Catalog& catalog);

// Where a watermark template file is: a path (has '/' or ends in .toml, relative to
// `base`) or NAME in a catalogue folder's watermarks/. TemplateNotFound otherwise.
std::filesystem::path locate_watermark_template(const Catalog& catalog, const std::string& name,
                                                const std::filesystem::path& base);

}  // namespace gopcast
