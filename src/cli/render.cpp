#include "cli/render.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "spec/template.hpp"

namespace gopcast::cli {

namespace {
std::string human_bytes(int64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}
std::string kbps(int64_t bps) { return bps > 0 ? fmt::format("{} kb/s", bps / 1000) : "-"; }
std::string rate(const Rational& r) {
  if (!r.valid()) return "-";
  return r.den == 1 ? fmt::format("{}", r.num) : fmt::format("{:.3f} ({}/{})", r.value(), r.num, r.den);
}
std::string hms(double s) {
  int total = static_cast<int>(s);
  return fmt::format("{:02}:{:02}:{:06.3f}", total / 3600, total / 60 % 60, s - total + total % 60);
}
}  // namespace

std::string media_table(const MediaInfo& m) {
  std::string out;
  out += fmt::format("{}\n", m.path);
  out += fmt::format("  container   {} ({})\n", m.format, m.format_long);
  out += fmt::format("  duration    {} ({:.3f} s), start {:.3f} s\n", hms(m.duration), m.duration, m.start_time);
  out += fmt::format("  size        {} ({} bytes), {}\n", human_bytes(m.size), m.size, kbps(m.bit_rate));
  for (const auto& s : m.streams) {
    out += fmt::format("  stream {}    {} {}", s.index, s.type, s.codec);
    if (s.profile) out += fmt::format(" ({})", *s.profile);
    if (s.level) out += fmt::format(" level {}", *s.level);
    if (s.language) out += fmt::format(" [{}]", *s.language);
    if (s.attached_picture) out += " [cover art]";
    out += "\n";
    if (s.type == "video") {
      out += fmt::format("              {}x{}", s.width, s.height);
      if (s.sample_aspect_ratio) out += fmt::format(" SAR {}:{}", s.sample_aspect_ratio->num, s.sample_aspect_ratio->den);
      if (s.display_aspect_ratio) out += fmt::format(" DAR {}:{}", s.display_aspect_ratio->num, s.display_aspect_ratio->den);
      out += fmt::format(", {} fps avg, {} real", rate(s.avg_frame_rate), rate(s.real_frame_rate));
      out += fmt::format(", {}", s.pix_fmt.value_or("-"));
      if (s.color_space || s.color_primaries || s.color_transfer || s.color_range)
        out += fmt::format(" ({}/{}/{}, {})", s.color_space.value_or("-"), s.color_primaries.value_or("-"),
                           s.color_transfer.value_or("-"), s.color_range.value_or("-"));
      if (s.rotation) out += fmt::format(", rotate {}", s.rotation);
      out += "\n";
    } else if (s.type == "audio") {
      out += fmt::format("              {} Hz, {} ch ({}), {}\n", s.sample_rate, s.channels, s.channel_layout.value_or("-"),
                         s.sample_fmt.value_or("-"));
    }
    out += fmt::format("              {}", kbps(s.bit_rate.value_or(0)));
    if (s.frame_count) out += fmt::format(", {} frames", *s.frame_count);
    if (s.duration) out += fmt::format(", {:.3f} s", *s.duration);
    out += "\n";
  }
  return out;
}

std::string templates_table(const Catalog& catalog) {
  std::string out = fmt::format("{:<26} {:<6} {:<24} {:<18} {}\n", "NAME", "FORMAT", "VIDEO", "AUDIO", "DESCRIPTION");
  for (const auto& e : catalog.list()) {
    try {
      Template t = catalog.load(e.path.string());
      std::string video = t.video.remove || audio_only(t.container) ? "-" : std::string(to_string(t.video.codec));
      if (!t.video.remove && !audio_only(t.container) && t.video.codec != VideoCodec::copy) {
        if (t.video.height) video += fmt::format(" {}p", *t.video.height);
        else if (t.video.width) video += fmt::format(" w{}", *t.video.width);
        if (t.video.bitrate) video += fmt::format(" {}k", *t.video.bitrate);
        else if (t.video.crf) video += fmt::format(" crf{}", *t.video.crf);
      }
      std::string audio = t.audio.remove || animation(t.container) ? "-" : std::string(to_string(t.audio.codec));
      if (!t.audio.remove && t.audio.bitrate) audio += fmt::format(" {}k", *t.audio.bitrate);
      out += fmt::format("{:<26} {:<6} {:<24} {:<18} {}\n", e.name, to_string(t.container), video, audio, t.description);
    } catch (const Error& err) {
      out += fmt::format("{:<26} (invalid: {})\n", e.name, err.what());
    }
  }
  return out;
}

std::string result_summary(const app::RunResult& r) {
  const std::string what = r.timeline.empty() ? r.input.string()
                                              : fmt::format("{} inputs into one timeline of {:.3f} s", r.timeline.size(), r.media_seconds);
  std::string out = fmt::format("{} {} in {:.2f} s ({:.2f}x realtime)\n", r.timeline.empty() ? "transcoded" : "concatenated", what,
                                r.seconds, r.seconds > 0 ? r.media_seconds / r.seconds : 0.0);
  for (const auto& o : r.outputs) {
    out += fmt::format("output: {} (template {})\n", o.path.string(), o.template_name);
    if (o.files.size() > 1)
      out += fmt::format("  files       {} files, {} in all (playlist and segments)\n", o.files.size(), human_bytes(o.bytes));
    out += media_table(o.info);
  }
  if (r.parallel) {
    const auto& p = *r.parallel;
    out += fmt::format("segments: {} on {} {} worker{}", p.segments, p.workers, p.engine, p.workers == 1 ? "" : "s");
    if (p.resumed_segments > 0) out += fmt::format(" ({} taken from the earlier run)", p.resumed_segments);
    out += fmt::format("; phases: index {:.2f} s, encode {:.2f} s, gather {:.2f} s, mux {:.2f} s\n", p.phases.at("index"),
                       p.phases.at("encode"), p.phases.at("gather"), p.phases.at("mux"));
    out += fmt::format("manifest: {}\n", p.manifest.string());
  }
  for (const auto& w : r.snapshots) out += ops::summary(w);
  return out;
}

}  // namespace gopcast::cli
