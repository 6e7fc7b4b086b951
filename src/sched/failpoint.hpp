#pragma once
// Failure injection for tests: GOPCAST_FAILPOINT names a task and how it fails, so that
// retries and clean failure can be tested on real runs (threads and MPI ranks alike;
// every rank reads the variable). Off unless the variable is set. docs/architecture.md
// documents it.
//
//   GOPCAST_FAILPOINT=segment:3:once     segment 3's first attempt fails half-way
//   GOPCAST_FAILPOINT=segment:3:always   every attempt of segment 3 fails
//   GOPCAST_FAILPOINT=audio:once         the audio task's first attempt fails
//   GOPCAST_FAILPOINT=publish:2          the process kills itself (SIGKILL) after the
//                                        2nd rename of the job's publication
//
// A task's failure is an InternalError.TranscodeFailed raised part-way through the encode
// (after half of the segment's frames), as a crashing encoder's would be.
#include <optional>
#include <string_view>

#include "plan/task.hpp"

namespace gopcast::sched {

struct Failpoint {
  plan::TaskKind kind = plan::TaskKind::segment;
  int segment = 0;
  bool always = false;
  int publish_renames = -1;  // publish:N: the kill after N renames; no task fails
  // Whether this attempt of `task` is to fail.
  bool matches(const plan::Task& task) const;
};

// Parses the variable's text; anything malformed is a Usage error naming it.
Failpoint parse_failpoint(std::string_view text);
// The failpoint of this process (GOPCAST_FAILPOINT), read once.
const std::optional<Failpoint>& failpoint();

}  // namespace gopcast::sched
