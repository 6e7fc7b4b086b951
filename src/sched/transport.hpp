#pragma once
// Where tasks run: a small interface over a set of workers, so that local threads, MPI
// ranks (mpi/transport.hpp) and a simulation share one dispatch loop
// (sched/dispatch.hpp). Workers are numbered 0..size()-1; each reports `ready`, takes
// tasks one at a time and reports each as done or failed, until it is released.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plan/task.hpp"
#include "sched/scheduler.hpp"

namespace gopcast::sched {

using plan::TaskFailure;

struct WorkerEvent {
  enum class Kind { ready, done, failed };
  Kind kind = Kind::ready;
  int worker = -1;
  Task task;            // done, failed
  TaskResult result;    // done
  TaskFailure failure;  // failed
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int size() const = 0;
  // In the coordinator's own process: may run the whole task and local-only audio.
  virtual bool local(int worker) const = 0;
  // Where the worker runs (known once it is ready).
  virtual std::string host(int worker) const = 0;
  virtual void assign(int worker, const Task& task) = 0;
  // No more tasks: the worker ends.
  virtual void release(int worker) = 0;
  // The next event, after waiting at most `wait`; nullopt when none came.
  virtual std::optional<WorkerEvent> next(std::chrono::milliseconds wait) = 0;
  // The job stops: workers of this process abandon their tasks at once.
  virtual void stop() = 0;
  // Why a job that stopped on a signal really stopped, when the transport can tell (a
  // remote worker that died while it held a task).
  virtual std::optional<TaskFailure> diagnose(const std::vector<InFlight>& /*in_flight*/) const { return std::nullopt; }
};

// Runs a task in this process; `stop` is set when the job stops (the task should end
// soon, with Cancelled). Exceptions are the task's failure.
using TaskRunner = std::function<TaskResult(const Task& task, int worker, const std::atomic<bool>& stop)>;

// Worker threads of this process.
class LocalTransport final : public Transport {
 public:
  LocalTransport(int workers, TaskRunner run, std::string host);
  ~LocalTransport() override;  // stops and joins every thread
  LocalTransport(const LocalTransport&) = delete;
  LocalTransport& operator=(const LocalTransport&) = delete;

  int size() const override;
  bool local(int) const override { return true; }
  std::string host(int) const override { return host_; }
  void assign(int worker, const Task& task) override;
  void release(int worker) override;
  std::optional<WorkerEvent> next(std::chrono::milliseconds wait) override;
  void stop() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string host_;
};

// Local workers first (numbered 0..L-1), then remote ones (L..L+R-1): the coordinator's
// own threads beside MPI ranks.
class CombinedTransport final : public Transport {
 public:
  CombinedTransport(Transport& local, Transport& remote) : local_(local), remote_(remote) {}
  int size() const override { return local_.size() + remote_.size(); }
  bool local(int worker) const override { return worker < local_.size() && local_.local(worker); }
  std::string host(int worker) const override;
  void assign(int worker, const Task& task) override;
  void release(int worker) override;
  std::optional<WorkerEvent> next(std::chrono::milliseconds wait) override;
  void stop() override;
  std::optional<TaskFailure> diagnose(const std::vector<InFlight>& in_flight) const override;

 private:
  Transport& local_;
  Transport& remote_;
};

// The far end of a remote transport: what a worker process sends and receives.
class WorkerChannel {
 public:
  virtual ~WorkerChannel() = default;
  virtual void ready() = 0;
  // The next task; nullopt when the worker is released.
  virtual std::optional<Task> receive() = 0;
  virtual void done(const Task& task, const TaskResult& result) = 0;
  virtual void failed(const Task& task, const TaskFailure& failure) = 0;
};

// A remote worker's life: ready, then tasks until released. Failures go back as data.
void serve(WorkerChannel& channel, const std::function<TaskResult(const Task&)>& run);

// An exception as a task's failure (its code and message; Internal for what is not a
// gopcast::Error).
TaskFailure failure_of(std::exception_ptr error);

}  // namespace gopcast::sched
