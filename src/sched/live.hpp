#pragma once
// Progress between completions: how many frames each worker has fed its encoders in the
// segment it is encoding now, so that progress moves while segments are long. The
// worker writes one relaxed atomic per frame (never a lock on the data path); the
// coordinator reads them on its tick and counts them only for the task it gave that
// worker, whatever the worker last reported.
#include <atomic>
#include <cstdint>
#include <memory>

#include "plan/task.hpp"

namespace gopcast::sched {

class LiveFrames {
 public:
  explicit LiveFrames(int workers) : slots_(std::make_unique<Slot[]>(static_cast<size_t>(workers > 0 ? workers : 0))) {}

  // The worker, as it starts `task`, then as frames go through.
  void start(int worker, const plan::Task& task) {
    Slot& s = slots_[static_cast<size_t>(worker)];
    s.frames.store(0, std::memory_order_relaxed);
    s.key.store(key(task), std::memory_order_release);
  }
  void report(int worker, int64_t frames) { slots_[static_cast<size_t>(worker)].frames.store(frames, std::memory_order_relaxed); }

  // The coordinator: the frames `worker` has done of `task` (0 when it reports another
  // one), at most the task's own.
  int64_t frames(int worker, const plan::Task& task) const {
    const Slot& s = slots_[static_cast<size_t>(worker)];
    if (task.kind != plan::TaskKind::segment || s.key.load(std::memory_order_acquire) != key(task)) return 0;
    const int64_t n = s.frames.load(std::memory_order_relaxed);
    return n < 0 ? 0 : n < task.segment.frames() ? n : task.segment.frames();
  }

 private:
  static uint64_t key(const plan::Task& t) {
    return t.kind != plan::TaskKind::segment ? 0
                                             : (static_cast<uint64_t>(t.segment.index) + 1) << 20 | static_cast<uint64_t>(t.attempt);
  }
  struct Slot {
    std::atomic<uint64_t> key{0};
    std::atomic<int64_t> frames{0};
  };
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace gopcast::sched
