#pragma once
// The scheduler's transport over MPI (sched/transport.hpp): rank 0 talks to ranks
// 1..N-1 as remote workers (MpiWorkers), and each of them answers through an
// MpiChannel. Messages are the tested byte encoding of sched/codec.hpp under one tag
// each; only rank 0's main thread calls MPI.
#include <string>
#include <vector>

#include "comm.hpp"
#include "sched/transport.hpp"

namespace gopcast::mpi {

enum Tag : int { kReady = 1, kTask = 2, kDone = 3, kFail = 4, kStop = 5 };

// Ranks 1..N-1 as workers 0..N-2.
class MpiWorkers final : public sched::Transport {
 public:
  explicit MpiWorkers(const Communicator& comm);
  int size() const override { return comm_.size() - 1; }
  bool local(int) const override { return false; }
  std::string host(int worker) const override { return peers_[static_cast<size_t>(worker)].host; }
  void assign(int worker, const sched::Task& task) override;
  // Once per rank: a rank that was released has ended.
  void release(int worker) override;
  void release_all();
  std::optional<sched::WorkerEvent> next(std::chrono::milliseconds wait) override;
  void stop() override {}  // remote ranks stop on their own signal, or when released
  // A rank of this host that is gone (mpirun signals the others when one dies), named
  // with the task it held.
  std::optional<sched::TaskFailure> diagnose(const std::vector<sched::InFlight>& in_flight) const override;

 private:
  struct Peer {
    int64_t pid = 0;
    std::string host;
  };
  const Communicator& comm_;
  std::vector<Peer> peers_;
  std::vector<bool> released_;
  std::string host_;
};

// A worker rank's end.
class MpiChannel final : public sched::WorkerChannel {
 public:
  explicit MpiChannel(const Communicator& comm) : comm_(comm) {}
  void ready() override;
  std::optional<sched::Task> receive() override;
  void done(const sched::Task& task, const sched::TaskResult& result) override;
  void failed(const sched::Task& task, const sched::TaskFailure& failure) override;

 private:
  const Communicator& comm_;
};

}  // namespace gopcast::mpi
