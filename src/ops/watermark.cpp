#include "ops/watermark.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "av/filter_graph.hpp"
#include "av/image.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::ops {

namespace {

template <typename... Args>
[[noreturn]] void bad(const std::string& origin, ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw SpecError(code, origin + ": " + fmt::format(f, std::forward<Args>(args)...));
}

// Numbers in filter text: no exponent, no trailing zeros.
constexpr int kOffFrame = 1 << 20;  // an x beyond any frame

std::string num(double v) {
  std::string s = fmt::format("{:.6f}", v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

}  // namespace

double pixels(const Length& l, int frame) { return l.percent ? l.value * frame / 100.0 : l.value; }

Rect image_size(const WatermarkSpec& w, int frame_w, int frame_h, int image_w, int image_h) {
  double dw = image_w, dh = image_h;
  if (w.width && w.height) {
    dw = pixels(*w.width, frame_w);
    dh = pixels(*w.height, frame_h);
  } else if (w.width) {
    dw = pixels(*w.width, frame_w);
    dh = dw * image_h / image_w;
  } else if (w.height) {
    dh = pixels(*w.height, frame_h);
    dw = dh * image_w / image_h;
  }
  Rect r;
  r.w = std::max(1, static_cast<int>(std::lround(dw)));
  r.h = std::max(1, static_cast<int>(std::lround(dh)));
  if (r.w > frame_w || r.h > frame_h)
    bad(w.origin, ErrorCode::OutOfRange, "the watermark is {}x{}, larger than the {}x{} output frame{}", r.w, r.h, frame_w,
        frame_h, w.width || w.height ? "" : " (give width or height to scale it)");
  return r;
}

Rect place(const WatermarkSpec& w, int frame_w, int frame_h, int box_w, int box_h) {
  const double dx = pixels(w.dx, frame_w), dy = pixels(w.dy, frame_h);
  double x = 0, y = 0;
  switch (w.position) {
    case MarkPosition::top_left: x = dx, y = dy; break;
    case MarkPosition::top_right: x = frame_w - box_w - dx, y = dy; break;
    case MarkPosition::bottom_left: x = dx, y = frame_h - box_h - dy; break;
    case MarkPosition::bottom_right: x = frame_w - box_w - dx, y = frame_h - box_h - dy; break;
    case MarkPosition::centre: x = (frame_w - box_w) / 2.0 + dx, y = (frame_h - box_h) / 2.0 + dy; break;
  }
  auto down = [](double v) { return static_cast<int>(std::floor(std::round(v * 1e6) / 1e6 / kMarkAlign)) * kMarkAlign; };
  Rect r{down(x), down(y), box_w, box_h};
  if (r.x < 0 || r.y < 0 || r.x + r.w > frame_w || r.y + r.h > frame_h)
    bad(w.origin, ErrorCode::OutOfRange, "dx {}, dy {} put the {}x{} watermark at {},{} {}, outside the {}x{} output frame",
        num(dx), num(dy), box_w, box_h, num(x), num(y), to_string(w.position), frame_w, frame_h);
  return r;
}

std::string enable_expression(const std::optional<double>& start, const std::optional<double>& duration,
                              double input_duration, const std::string& origin) {
  const double s = start.value_or(0);
  if (input_duration > 0 && s >= input_duration)
    bad(origin, ErrorCode::OutOfRange, "start: {} s is at or beyond the end of the input ({} s)", num(s), num(input_duration));
  if (!start && !duration) return {};
  if (!duration) return fmt::format("gte(t,{})", num(s));
  return fmt::format("gte(t,{})*lt(t,{})", num(s), num(s + *duration));
}

OutputMarks on_clip_timeline(const OutputMarks& marks, double origin, double length) {
  OutputMarks m = marks;
  auto shift = [&](std::optional<double>& start, const std::optional<double>& duration, const std::string& origin_name) {
    if (!start && !duration) return;
    const double s = start.value_or(0);
    if (s >= origin + length)
      bad(origin_name, ErrorCode::OutOfRange, "start: {} s is at or beyond the end of what is encoded ({} s into the input)",
          num(s), num(origin + length));
    start = s - origin;
  };
  for (auto& w : m.watermarks) shift(w.start, w.duration, w.origin);
  for (auto& d : m.delogo) shift(d.start, d.duration, d.origin);
  return m;
}

std::string overlay_format(std::string_view f) {
  if (f.starts_with("yuv420p10")) return "yuv420p10";
  if (f.starts_with("yuv422p10")) return "yuv422p10";
  if (f == "yuv420p" || f == "yuvj420p" || f == "nv12") return "yuv420";
  if (f == "yuv422p" || f == "yuvj422p") return "yuv422";
  if (f == "yuv444p" || f == "yuvj444p") return "yuv444";
  if (f == "gbrp") return "gbrp";
  return "auto";
}

std::string image_label(size_t i) { return fmt::format("wm{}", i); }

MarkFilters build_filters(const OutputMarks& marks, const std::vector<PlacedMark>& placed, int out_w, int out_h, int src_w,
                          int src_h, double input_duration, std::string_view pix_fmt) {
  MarkFilters f;
  for (const auto& d : marks.delogo) {
    if (d.x + d.w > src_w || d.y + d.h > src_h)
      bad(d.origin, ErrorCode::OutOfRange, "the rectangle {},{} {}x{} is not inside the {}x{} input picture", d.x, d.y, d.w, d.h,
          src_w, src_h);
    std::string filter = fmt::format("delogo=x={}:y={}:w={}:h={}", d.x, d.y, d.w, d.h);
    const std::string enable = enable_expression(d.start, d.duration, input_duration, d.origin);
    if (!enable.empty()) filter += ":enable=" + av::filter_value(enable);
    f.pre.push_back(std::move(filter));
  }
  if (placed.empty()) return f;
  // One chain element: [in] -> label 0 -> each mark in order (later ones on top) -> [out].
  auto main_label = [](size_t i) { return fmt::format("wmv{}", i); };
  std::string post = "null[" + main_label(0) + "]";
  for (size_t i = 0; i < placed.size(); ++i) {
    const PlacedMark& p = placed[i];
    const WatermarkSpec& w = *p.spec;
    const std::string enable = enable_expression(w.start, w.duration, input_duration, w.origin);
    const std::string enable_opt = enable.empty() ? "" : ":enable=" + av::filter_value(enable);
    post += ";";
    if (!w.image.empty()) {
      const std::string in = image_label(f.images.size());
      f.images.push_back(plan::OverlayImage{in, w.image});
      std::string prep = fmt::format("scale=w={}:h={}:flags=bicubic", p.rect.w, p.rect.h);
      if (w.opacity < 1.0) prep += fmt::format(",format=rgba,colorchannelmixer=aa={}", num(w.opacity));
      post += fmt::format("[{}]{}[{}p];", in, prep, in);
      // Not `enable`: a two-input filter's timeline is evaluated on whichever input's frame
      // it consumed last (the image's, stamped long before the video, for the first
      // frame). overlay evaluates x on the main frame's time: off the frame = not drawn.
      const std::string x = enable.empty() ? std::to_string(p.rect.x) : av::filter_value(fmt::format("if({},{},{})", enable, p.rect.x, kOffFrame));
      post += fmt::format("[{}][{}p]overlay=x={}:y={}:format={}:eof_action=repeat[{}]", main_label(i), in, x, p.rect.y,
                          overlay_format(pix_fmt), main_label(i + 1));
    } else {
      const double dx = pixels(w.dx, out_w), dy = pixels(w.dy, out_h);
      std::string x, y;
      switch (w.position) {
        case MarkPosition::top_left: x = num(dx), y = num(dy); break;
        case MarkPosition::top_right: x = "w-tw-" + num(dx), y = num(dy); break;
        case MarkPosition::bottom_left: x = num(dx), y = "h-th-" + num(dy); break;
        case MarkPosition::bottom_right: x = "w-tw-" + num(dx), y = "h-th-" + num(dy); break;
        case MarkPosition::centre: x = "(w-tw)/2+" + num(dx), y = "(h-th)/2+" + num(dy); break;
      }
      post += fmt::format("[{}]drawtext=fontfile={}:text={}:expansion=none:fontsize={}:fontcolor={}:x={}:y={}{}[{}]",
                          main_label(i), av::filter_value(p.font_file), av::filter_value(w.text), w.font_size,
                          av::filter_value(fmt::format("{}@{}", w.color, num(w.opacity))), av::filter_value(x), av::filter_value(y),
                          enable_opt, main_label(i + 1));
    }
  }
  post += fmt::format(";[{}]null", main_label(placed.size()));
  f.post = std::move(post);
  return f;
}

MarkFilters plan_marks(const OutputMarks& marks, int src_w, int src_h, int out_w, int out_h, double input_duration,
                       std::string_view pix_fmt) {
  std::vector<PlacedMark> placed;
  for (const auto& w : marks.watermarks) {
    PlacedMark p;
    p.spec = &w;
    (void)enable_expression(w.start, w.duration, input_duration, w.origin);
    if (!w.image.empty()) {
      av::ImageSize size;
      try {
        size = av::probe_image(w.image);
      } catch (const Error& e) {
        bad(w.origin, e.code(), "image: {}", e.what());
      }
      const Rect s = image_size(w, out_w, out_h, size.width, size.height);
      p.rect = place(w, out_w, out_h, s.w, s.h);
    } else {
      if (!av::is_colour(w.color))
        bad(w.origin, ErrorCode::OutOfRange, "color: \"{}\" is not a colour (a name such as white, or #RRGGBB)", w.color);
      if (w.font_size > out_h)
        bad(w.origin, ErrorCode::OutOfRange, "font_size: {} px is taller than the {} px output frame", w.font_size, out_h);
      p.font_file = find_font_file(w.font, w.origin);
    }
    placed.push_back(std::move(p));
  }
  return build_filters(marks, placed, out_w, out_h, src_w, src_h, input_duration, pix_fmt);
}

MarkFilters plan_marks(const OutputMarks& marks, const plan::MarkGeometry& g) {
  return plan_marks(marks, g.source_width, g.source_height, g.width, g.height, g.duration, g.pix_fmt);
}

}  // namespace gopcast::ops
