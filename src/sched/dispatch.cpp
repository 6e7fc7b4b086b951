#include "sched/dispatch.hpp"

#include <vector>

#include "core/log.hpp"

namespace gopcast::sched {

bool retryable(ErrorCode code) {
  return code == ErrorCode::TranscodeFailed || code == ErrorCode::Internal || code == ErrorCode::OutputNotWritable;
}

std::exception_ptr dispatch(Scheduler& scheduler, Transport& transport, const DispatchHooks& hooks) {
  const int n = transport.size();
  enum class W { starting, idle, busy, released };
  std::vector<W> state(static_cast<size_t>(n), W::starting);
  int active = n;
  std::exception_ptr error;
  bool cancelled = false;  // the error is a worker's Cancelled
  bool signalled = false;

  auto release = [&](int w) {
    auto& s = state[static_cast<size_t>(w)];
    if (s == W::released) return;
    s = W::released;
    --active;
    transport.release(w);
  };
  // Workers waiting for a task, local ones apart: a local worker can take any task, so
  // when one of them finds none, no remote worker will either. Waking them is linear in
  // the tasks handed out, not in the workers (a retry wakes one, not a thousand).
  std::vector<int> idle_local, idle_remote;
  auto give = [&](int w) -> bool {
    if (auto t = scheduler.take(w, transport.host(w), transport.local(w))) {
      transport.assign(w, *t);
      state[static_cast<size_t>(w)] = W::busy;
      if (hooks.taken) hooks.taken(*t, w);
      return true;
    }
    return false;
  };
  // A free worker gets the next task; with none waiting it stays idle while tasks in
  // flight may still fail and come back, and is released once none can.
  auto hand_out = [&](int w) {
    auto& s = state[static_cast<size_t>(w)];
    if (s == W::released) return;
    if (!error) {
      if (give(w)) return;
      if (!scheduler.finished()) {
        s = W::idle;
        (transport.local(w) ? idle_local : idle_remote).push_back(w);
        return;
      }
    }
    release(w);
  };
  auto wake_idle = [&] {
    for (auto* idle : {&idle_local, &idle_remote})
      while (!idle->empty()) {
        const int w = idle->back();
        if (!error && !scheduler.finished() && !give(w)) break;
        idle->pop_back();
        if (state[static_cast<size_t>(w)] == W::idle) release(w);
      }
  };
  auto stop = [&](std::exception_ptr e) {
    if (error) return;
    error = e;
    transport.stop();
    wake_idle();  // released: nothing more is handed out
  };

  while (active > 0) {
    if (hooks.tick) hooks.tick();
    if (hooks.interrupt && !signalled)
      if (auto i = hooks.interrupt()) {
        if (!error) {
          signalled = i->signalled;
          stop(i->error);
        } else if (i->signalled) {
          // A signalled worker reported its cancelled task before this process saw the
          // signal: the job was signalled, and the interrupt knows why (a rank that
          // died is named); the loop no longer waits for tasks that will not come back.
          signalled = true;
          if (cancelled) error = i->error;
        }
      }
    if (error && signalled) break;  // the workers were signalled too
    auto ev = transport.next(std::chrono::milliseconds(100));
    if (!ev) continue;
    const int w = ev->worker;
    switch (ev->kind) {
      case WorkerEvent::Kind::ready: break;
      case WorkerEvent::Kind::done:
        scheduler.done(ev->task, w, ev->result);
        if (hooks.done) hooks.done(ev->task, w);
        if (scheduler.finished()) wake_idle();
        break;
      case WorkerEvent::Kind::failed: {
        if (error) {  // a consequence of the stop
          scheduler.failed(ev->task, w, false);
          break;
        }
        const TaskFailure& f = ev->failure;
        const bool again = scheduler.failed(ev->task, w, retryable(f.code));
        if (again) {
          log::warn("{} failed (attempt {} of {}): {}; trying again", plan::describe(ev->task), ev->task.attempt,
                    scheduler.max_attempts(), f.message);
          wake_idle();
        } else if (retryable(f.code)) {
          stop(std::make_exception_ptr(Error(f.code, fmt::format("{} failed on attempt {} of {}: {}", plan::describe(ev->task),
                                                                  ev->task.attempt, scheduler.max_attempts(), f.message))));
        } else {
          cancelled = f.code == ErrorCode::Cancelled;
          stop(std::make_exception_ptr(Error(f.code, f.message)));
        }
        break;
      }
    }
    hand_out(w);
  }
  // Signalled workers stop on their own (a remote one may be gone: nothing is sent to
  // it); the rest are released here. Local threads end with their transport.
  if (!signalled)
    for (int w = 0; w < n; ++w) release(w);
  return error;
}

}  // namespace gopcast::sched
