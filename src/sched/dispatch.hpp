#pragma once
// The one dispatch loop of a segment-parallel run, on local threads and on MPI ranks
// alike: free workers take tasks from the scheduler, finished ones are recorded, and a
// failed task is tried again on the next free worker while it has attempts left.
#include <exception>
#include <functional>

#include "sched/scheduler.hpp"
#include "sched/transport.hpp"

namespace gopcast::sched {

// A reason for the job to stop before its tasks are done.
struct Interrupt {
  std::exception_ptr error;
  // The job was signalled: every worker was too and stops on its own, so the loop does
  // not wait for remote workers' tasks to come back.
  bool signalled = false;
};

struct DispatchHooks {
  // After the scheduler recorded a finished task (the gather may go on).
  std::function<void(const Task& task, int worker)> done;
  // After a task was handed out.
  std::function<void(const Task& task, int worker)> taken;
  // Every turn of the loop, at least ten times a second: progress, manifest writes.
  std::function<void()> tick;
  // Checked every turn: a reason to stop now (a signal, a failed gather), or none.
  std::function<std::optional<Interrupt>()> interrupt;
};

// Which failures are worth another attempt: the encoder's, the system's (a full disk,
// an unexpected library failure), not bad input or a cancellation.
bool retryable(ErrorCode code);

// Runs the tasks on the transport's workers until every task is done, or the job stops
// (a task failed for good, or an interrupt); releases every worker. Returns the job's
// first error, or nullptr when every task is done.
std::exception_ptr dispatch(Scheduler& scheduler, Transport& transport, const DispatchHooks& hooks);

}  // namespace gopcast::sched
