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

// `ticks` of `from` in `to`, rounded to the nearest tick (halves away from zero): what
// libavutil's av_rescale_q gives, so plans and the engine agree to the tick.
__extension__ typedef __int128 Int128;  // GCC's and Clang's: the products need 128 bits
inline int64_t rescale(int64_t ticks, Rational from, Rational to) {
  const Int128 b = static_cast<Int128>(from.num) * to.den;
  const Int128 c = static_cast<Int128>(to.num) * from.den;
  const Int128 a = ticks < 0 ? -static_cast<Int128>(ticks) : ticks;
  const Int128 r = (a * b + c / 2) / c;
  return static_cast<int64_t>(ticks < 0 ? -r : r);
}
constexpr Rational kMicroseconds{1, 1000000};

// A presentation time with the time base it counts in.
struct Timestamp {
  int64_t pts = 0;
  Rational time_base{1, 1};
  double seconds() const { return seconds_of(pts, time_base); }
};

}  // namespace gopcast
