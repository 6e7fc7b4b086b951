#include "sched/resume.hpp"

namespace gopcast::sched {

Resumed resume(const std::optional<manifest::Manifest>& previous, const std::string& job_key,
               std::vector<manifest::SegmentRecord>& rows, const std::function<bool(size_t row)>& files_whole) {
  Resumed r;
  r.same_job = previous && previous->info.job_key == job_key && previous->segments.size() == rows.size();
  if (!r.same_job) return r;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& old = previous->segments[i];
    rows[i].attempts = old.attempts;
    if (old.status != manifest::SegmentStatus::done || !files_whole(i)) continue;
    const plan::Segment planned = rows[i].segment;
    rows[i] = old;
    rows[i].segment = planned;  // as planned now (the manifest keeps no input's end)
    ++r.segments;
  }
  return r;
}

}  // namespace gopcast::sched
