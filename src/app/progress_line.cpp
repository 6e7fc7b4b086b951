#include "app/progress_line.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gopcast::app {

std::string eta_text(double s) {
  if (s < 10) return "< 10 s";
  if (s < 60) return fmt::format("{} s", std::min(55L, std::lround(s / 5) * 5));
  if (s < 3600) return fmt::format("{} min", std::max(1L, std::min(59L, std::lround(s / 60))));
  const long minutes = std::lround(s / 60);
  return fmt::format("{} h {:02} min", minutes / 60, minutes % 60);
}

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()), last_(start_) {}

ProgressLine::~ProgressLine() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void ProgressLine::update(const Progress& p) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200) && p.seconds_done < p.seconds_total) return;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double speed = elapsed > 0 ? p.seconds_done / elapsed : 0;
  double pct = p.seconds_total > 0 ? std::min(100.0, 100.0 * p.seconds_done / p.seconds_total) : 0;
  double eta = speed > 0 ? (p.seconds_total - p.seconds_done) / speed : 0;
  std::fprintf(stderr, "\r\033[K%s %5.1f%%  %lld frames  %.2fx  ETA %s", label_.c_str(), pct, static_cast<long long>(p.frames),
               speed, eta > 0 ? eta_text(eta).c_str() : "--");
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace gopcast::app
