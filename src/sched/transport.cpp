#include "sched/transport.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace gopcast::sched {

TaskFailure failure_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return TaskFailure{e.code(), e.what()};
  } catch (const std::exception& e) {
    return TaskFailure{ErrorCode::Internal, e.what()};
  } catch (...) {
    return TaskFailure{ErrorCode::Internal, "unknown failure"};
  }
}

// --- local threads ---------------------------------------------------------------

struct LocalTransport::State {
  struct Mailbox {
    std::optional<Task> task;
    bool released = false;
  };
  std::mutex mutex;
  std::condition_variable mail;    // a mailbox changed
  std::condition_variable posted;  // an event was posted
  std::vector<Mailbox> boxes;
  std::deque<WorkerEvent> events;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  void post(WorkerEvent e) {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(e));
    }
    posted.notify_one();
  }
};

LocalTransport::LocalTransport(int workers, TaskRunner run, std::string host)
    : state_(std::make_unique<State>()), host_(std::move(host)) {
  State& s = *state_;
  s.boxes.resize(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w)
    s.threads.emplace_back([&s, run, w] {
      s.post(WorkerEvent{WorkerEvent::Kind::ready, w, {}, {}, {}});
      for (;;) {
        Task task;
        {
          std::unique_lock lock(s.mutex);
          auto& box = s.boxes[static_cast<size_t>(w)];
          s.mail.wait(lock, [&] { return box.task || box.released; });
          if (!box.task) return;
          task = *std::exchange(box.task, std::nullopt);
        }
        try {
          TaskResult r = run(task, w, s.stop);
          s.post(WorkerEvent{WorkerEvent::Kind::done, w, task, r, {}});
        } catch (...) {
          s.post(WorkerEvent{WorkerEvent::Kind::failed, w, task, {}, failure_of(std::current_exception())});
        }
      }
    });
}

LocalTransport::~LocalTransport() {
  State& s = *state_;
  s.stop = true;
  {
    std::lock_guard lock(s.mutex);
    for (auto& b : s.boxes) b.released = true;
  }
  s.mail.notify_all();
  for (auto& t : s.threads) t.join();
}

int LocalTransport::size() const { return static_cast<int>(state_->boxes.size()); }

void LocalTransport::assign(int worker, const Task& task) {
  {
    std::lock_guard lock(state_->mutex);
    state_->boxes.at(static_cast<size_t>(worker)).task = task;
  }
  state_->mail.notify_all();
}

void LocalTransport::release(int worker) {
  {
    std::lock_guard lock(state_->mutex);
    state_->boxes.at(static_cast<size_t>(worker)).released = true;
  }
  state_->mail.notify_all();
}

std::optional<WorkerEvent> LocalTransport::next(std::chrono::milliseconds wait) {
  std::unique_lock lock(state_->mutex);
  if (!state_->posted.wait_for(lock, wait, [&] { return !state_->events.empty(); })) return std::nullopt;
  WorkerEvent e = std::move(state_->events.front());
  state_->events.pop_front();
  return e;
}

void LocalTransport::stop() { state_->stop = true; }

// --- local and remote together ---------------------------------------------------

std::string CombinedTransport::host(int worker) const {
  return worker < local_.size() ? local_.host(worker) : remote_.host(worker - local_.size());
}

void CombinedTransport::assign(int worker, const Task& task) {
  if (worker < local_.size()) local_.assign(worker, task);
  else remote_.assign(worker - local_.size(), task);
}

void CombinedTransport::release(int worker) {
  if (worker < local_.size()) local_.release(worker);
  else remote_.release(worker - local_.size());
}

std::optional<WorkerEvent> CombinedTransport::next(std::chrono::milliseconds wait) {
  // Remote transports are polled (MPI has no wait that a thread's event could end).
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (auto e = remote_.next(std::chrono::milliseconds(0))) {
      e->worker += local_.size();
      return e;
    }
    if (auto e = local_.next(std::chrono::milliseconds(2))) return e;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
  }
}

void CombinedTransport::stop() {
  local_.stop();
  remote_.stop();
}

std::optional<TaskFailure> CombinedTransport::diagnose(const std::vector<InFlight>& in_flight) const {
  std::vector<InFlight> remote;
  for (auto f : in_flight)
    if (f.worker >= local_.size()) {
      f.worker -= local_.size();
      remote.push_back(std::move(f));
    }
  return remote_.diagnose(remote);
}

// --- the far end -------------------------------------------------------------------

void serve(WorkerChannel& channel, const std::function<TaskResult(const Task&)>& run) {
  channel.ready();
  while (auto task = channel.receive()) {
    try {
      channel.done(*task, run(*task));
    } catch (...) {
      channel.failed(*task, failure_of(std::current_exception()));
    }
  }
}

}  // namespace gopcast::sched
