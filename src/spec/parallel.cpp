#include "spec/parallel.hpp"

#include "core/error.hpp"

namespace gopcast {

namespace {
template <typename T>
T in_range(T value, T min, T max, std::string_view key) {
  if (!(value >= min && value <= max)) fail<SpecError>(ErrorCode::OutOfRange, "{}: {} is out of range {}..{}", key, value, min, max);
  return value;
}
}  // namespace

double check_segment_seconds(double value, std::string_view key) { return in_range(value, 0.0, kMaxSegmentSeconds, key); }
int check_max_attempts(int value, std::string_view key) { return in_range(value, 1, kMaxAttempts, key); }
int check_workers(int value, std::string_view key) { return in_range(value, 0, kMaxWorkers, key); }

}  // namespace gopcast
