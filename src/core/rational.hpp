#pragma once
// Rational numbers and timestamps as plain data, for the parts of gopcast that must not
// see libav (plans, templates, the scheduler): frame rates, aspect ratios and time bases
// are exact fractions, and a timestamp never travels without its time base. src/av/
// converts to and from AVRational at its boundary.
#include <cstdint>

namespace gopcast {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? static_cast<double>(num) / den : 0.0; }
  bool valid() const { return num > 0 && den > 0; }
  bool operator==(const Rational&) const = default;
};

// Seconds of `ticks` in `time_base`: the one conversion from ticks to seconds, so every
// planner rounds the same way.
inline double seconds_of(int64_t ticks, Rational time_base) {
  return static_cast<double>(ticks) * time_base.num / time_base.den;
}

// A presentation time with the time base it counts in.
struct Timestamp {
  int64_t pts = 0;
  Rational time_base{1, 1};
  double seconds() const { return seconds_of(pts, time_base); }
};

}  // namespace gopcast
