#pragma once
// Resume: the segments an earlier, interrupted run of the same job finished, taken from
// its manifest instead of being encoded again.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "manifest/manifest.hpp"

namespace gopcast::sched {

struct Resumed {
  bool same_job = false;  // the manifest is this job's (its key and plan match)
  size_t segments = 0;    // rows taken over as done
};

// Marks in `rows` (this run's plan) every row `previous` records as done whose files
// are whole (`files_whole(row)`), keeping its figures; every row keeps the attempts
// of earlier runs. A manifest of another job or plan changes nothing.
Resumed resume(const std::optional<manifest::Manifest>& previous, const std::string& job_key,
               std::vector<manifest::SegmentRecord>& rows, const std::function<bool(size_t row)>& files_whole);

}  // namespace gopcast::sched
