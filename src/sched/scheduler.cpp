#include "sched/scheduler.hpp"

#include <algorithm>

namespace gopcast::sched {

using manifest::SegmentStatus;

Scheduler::Scheduler(SchedulerSetup setup)
    : rows_(std::move(setup.rows)), tries_(rows_.size(), 0), audio_local_(setup.audio_local),
      max_attempts_(std::max(1, setup.max_attempts)) {
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].status == SegmentStatus::done) {
      ++done_rows_;
      ++resumed_;
      frames_done_ += rows_[i].segment.frames();
    } else {
      rows_[i].status = SegmentStatus::pending;
      queue_.push_back(i);
    }
  }
  if (!setup.in_order)
    std::stable_sort(queue_.begin(), queue_.end(),
                     [&](size_t a, size_t b) { return rows_[a].segment.frames() > rows_[b].segment.frames(); });
  whole_pending_ = setup.whole;
  audio_pending_ = setup.audio;
  whole_done_ = !setup.whole;
  audio_done_ = !setup.audio;
}

std::optional<Task> Scheduler::take(int worker, const std::string& host, bool local) {
  std::optional<Task> task;
  if (local && whole_pending_) {
    whole_pending_ = false;
    task = Task{TaskKind::whole, {}, ++whole_tries_};
  } else if (audio_pending_ && (local || !audio_local_)) {
    audio_pending_ = false;
    task = Task{TaskKind::audio, {}, ++audio_tries_};
  } else {
    std::optional<size_t> row;
    if (!retry_.empty()) {
      row = retry_.front();
      retry_.pop_front();
    } else if (next_ < queue_.size()) {
      row = queue_[next_++];
    }
    if (!row) return std::nullopt;
    auto& r = rows_[*row];
    r.status = SegmentStatus::running;
    r.rank = worker;
    r.host = host;
    ++r.attempts;
    task = Task{TaskKind::segment, r.segment, ++tries_[*row]};
  }
  in_flight_[worker] = InFlight{*task, worker, host};
  return task;
}

void Scheduler::settle(const Task& task, int worker) {
  auto it = in_flight_.find(worker);
  if (it != in_flight_.end() && it->second.task.kind == task.kind && it->second.task.segment.index == task.segment.index)
    in_flight_.erase(it);
}

std::vector<InFlight> Scheduler::in_flight() const {
  std::vector<InFlight> out;
  out.reserve(in_flight_.size());
  for (const auto& [w, f] : in_flight_) out.push_back(f);
  return out;
}

const Task* Scheduler::task_of(int worker) const {
  auto it = in_flight_.find(worker);
  return it == in_flight_.end() ? nullptr : &it->second.task;
}

void Scheduler::done(const Task& task, int worker, const TaskResult& result) {
  settle(task, worker);
  if (task.kind == TaskKind::whole) {
    whole_done_ = true;
  } else if (task.kind == TaskKind::audio) {
    audio_done_ = true;
  } else {
    auto& row = rows_.at(static_cast<size_t>(task.segment.index));
    if (row.status == SegmentStatus::done) return;
    row.status = SegmentStatus::done;
    row.bytes = result.bytes;
    row.encode_seconds = result.seconds;
    row.rank = worker;
    ++done_rows_;
    frames_done_ += row.segment.frames();
  }
}

bool Scheduler::failed(const Task& task, int worker, bool retryable) {
  settle(task, worker);
  if (task.kind == TaskKind::whole) {
    if (retryable && whole_tries_ < max_attempts_) return whole_pending_ = true;
    return false;
  }
  if (task.kind == TaskKind::audio) {
    if (retryable && audio_tries_ < max_attempts_) return audio_pending_ = true;
    return false;
  }
  const size_t row = static_cast<size_t>(task.segment.index);
  if (retryable && tries_.at(row) < max_attempts_) {
    rows_[row].status = SegmentStatus::pending;
    retry_.push_back(row);
    return true;
  }
  rows_[row].status = SegmentStatus::failed;
  return false;
}

size_t Scheduler::retried() const {
  size_t n = 0;
  for (int t : tries_) n += t > 1;
  return n;
}

bool Scheduler::finished() const { return whole_done_ && audio_done_ && done_rows_ == rows_.size(); }

void Scheduler::abandon() {
  for (auto& r : rows_)
    if (r.status == SegmentStatus::running) r.status = SegmentStatus::pending;
}

}  // namespace gopcast::sched
