#include "sched/failpoint.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

#include "core/error.hpp"

namespace gopcast::sched {

bool Failpoint::matches(const plan::Task& task) const {
  if (publish_renames >= 0) return false;
  if (task.kind != kind || (kind == plan::TaskKind::segment && task.segment.index != segment)) return false;
  return always || task.attempt == 1;
}

Failpoint parse_failpoint(std::string_view text) {
  auto bad = [&] {
    fail(ErrorCode::Usage, "GOPCAST_FAILPOINT: \"{}\" is not segment:N:once|always, audio:once|always or publish:N", text);
  };
  Failpoint f;
  std::string_view rest = text;
  auto next = [&](std::string_view& part) {
    const size_t colon = rest.find(':');
    part = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  };
  std::string_view kind, mode;
  next(kind);
  if (kind == "segment") {
    std::string_view n;
    next(n);
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), f.segment);
    if (ec != std::errc() || ptr != n.data() + n.size() || f.segment < 0) bad();
  } else if (kind == "publish") {
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), f.publish_renames);
    if (rest.empty() || ec != std::errc() || ptr != rest.data() + rest.size() || f.publish_renames < 1) bad();
    return f;
  } else if (kind == "audio") {
    f.kind = plan::TaskKind::audio;
  } else {
    bad();
  }
  next(mode);
  if (!rest.empty() || (mode != "once" && mode != "always")) bad();
  f.always = mode == "always";
  return f;
}

const std::optional<Failpoint>& failpoint() {
  static const std::optional<Failpoint> fp = []() -> std::optional<Failpoint> {
    const char* v = std::getenv("GOPCAST_FAILPOINT");
    if (!v || !*v) return std::nullopt;
    return parse_failpoint(v);
  }();
  return fp;
}

}  // namespace gopcast::sched
