#pragma once
// Watermarks (images and text) and logo removal as libavfilter text: where each one
// goes on the frame, when it shows, and the filters that draw or hide it. Geometry and
// filter text are pure; plan_marks() also reads image headers and finds font files.
//
// Times are the input's timeline (seconds from the container's start): every frame
// keeps its source timestamp through the engine, in a single pass and in every segment
// of the segment-parallel engine, so `t` in the filters is the same absolute time
// whichever worker or rank encodes the frame.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plan/output.hpp"
#include "spec/watermark.hpp"

namespace gopcast::ops {

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Rect&) const = default;
};

// Positions are rounded down to this many pixels, what 4:2:0 chroma needs (libavfilter's
// overlay would round them anyway); sizes are kept exact.
constexpr int kMarkAlign = 2;

// Pixels of a length on an axis of `frame` pixels.
double pixels(const Length& l, int frame);

// The size an image of `image_w` x `image_h` is drawn at: width and height as given,
// one given keeps the aspect ratio, none keeps the image's own size.
// OutOfRange when it is larger than the frame.
Rect image_size(const WatermarkSpec& w, int frame_w, int frame_h, int image_w, int image_h);

// Where a box of `w` x `h` goes on the frame (x, y rounded down to kMarkAlign).
// OutOfRange when the offsets push it out of the frame.
Rect place(const WatermarkSpec& w, int frame_w, int frame_h, int box_w, int box_h);

// "gte(t,8)*lt(t,23)" for a window [start, start + duration); "" when always shown.
// OutOfRange (naming `origin`) when start is at or past `input_duration` (> 0: known).
std::string enable_expression(const std::optional<double>& start, const std::optional<double>& duration,
                              double input_duration, const std::string& origin);

// The marks with their windows moved onto a clip's timeline, which starts `origin`
// seconds into the input and lasts `length` seconds: job files keep the input's times
// whatever the clip. A window starting at or after the clip's end is OutOfRange.
OutputMarks on_clip_timeline(const OutputMarks& marks, double origin, double length);

// The filters for one output (plan::MarkFilters): image i is the graph input labelled
// image_label(i).
using plan::MarkFilters;
std::string image_label(size_t i);

// A watermark resolved against the frame: images have their size and place; text its
// font file and its position expressions.
struct PlacedMark {
  const WatermarkSpec* spec = nullptr;
  Rect rect;              // images
  std::string font_file;  // text
};

// The overlay filter's working format for pictures in `pix_fmt`, so a frame passes
// through a disabled overlay unchanged (overlay's "auto" picks RGB for 4:2:0).
std::string overlay_format(std::string_view pix_fmt);

// Pure: the filter text from placed marks. Delogo rectangles are checked against the
// source frame (`src_w` x `src_h`).
MarkFilters build_filters(const OutputMarks& marks, const std::vector<PlacedMark>& placed, int out_w, int out_h, int src_w,
                          int src_h, double input_duration, std::string_view pix_fmt);

// Validates every watermark and delogo rectangle of `marks` against the source and the
// output frame and builds the filters. Images are opened (ResourceNotFound when
// missing, ResourceContentBad when not an image), fonts found (ResourceNotFound).
// `pix_fmt`: the pictures' format where the watermarks are drawn.
MarkFilters plan_marks(const OutputMarks& marks, int src_w, int src_h, int out_w, int out_h, double input_duration,
                       std::string_view pix_fmt);
// The same as a plan::MarkPlanner.
MarkFilters plan_marks(const OutputMarks& marks, const plan::MarkGeometry& g);

// The font file of `font`: the file itself (it must exist) or the file fontconfig has
// for that family; ResourceNotFound when fontconfig knows no such family (it would
// otherwise substitute another one silently).
std::string find_font_file(const std::string& font, const std::string& origin);

// The characters of `utf8_text` (markup <...> and &entities; aside) that no installed
// font has a glyph for, as the renderer's fallback (fontconfig's sorted set for `family`)
// would find them: they would be drawn as empty boxes. In text order, each once.
std::vector<char32_t> missing_glyphs(const std::string& family, std::string_view utf8_text);

}  // namespace gopcast::ops
