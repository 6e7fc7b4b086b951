#include "plan/task.hpp"

#include <fmt/format.h>

namespace gopcast::plan {

const EnumNames<TaskKind>& enum_names(TaskKind) {
  static const EnumNames<TaskKind> names{{TaskKind::whole, "whole"}, {TaskKind::audio, "audio"}, {TaskKind::segment, "segment"}};
  return names;
}

std::string describe(const Task& task) {
  switch (task.kind) {
    case TaskKind::whole: return "the one-pass outputs";
    case TaskKind::audio: return "the audio";
    case TaskKind::segment: break;
  }
  const Segment& s = task.segment;
  return fmt::format("segment {} (frames {}..{}, {:.3f}-{:.3f} s)", s.index, s.first_frame, s.end_frame - 1, s.timeline_start(),
                     s.timeline_end());
}

}  // namespace gopcast::plan
