#include "transport.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "core/error.hpp"
#include "core/process.hpp"
#include "sched/codec.hpp"

namespace gopcast::mpi {

MpiWorkers::MpiWorkers(const Communicator& comm)
    : comm_(comm),
      peers_(static_cast<size_t>(std::max(0, comm.size() - 1))),
      released_(peers_.size(), false),
      host_(process::host_name()) {}

void MpiWorkers::assign(int worker, const sched::Task& task) { comm_.send(worker + 1, kTask, sched::codec::encode(task)); }

void MpiWorkers::release(int worker) {
  if (released_.at(static_cast<size_t>(worker))) return;
  released_[static_cast<size_t>(worker)] = true;
  comm_.send(worker + 1, kStop, "");
}

void MpiWorkers::release_all() {
  for (int w = 0; w < size(); ++w) release(w);
}

std::optional<sched::WorkerEvent> MpiWorkers::next(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (auto m = comm_.poll()) {
      sched::WorkerEvent e;
      e.worker = m->source - 1;
      if (m->tag == kReady) {
        const auto r = sched::codec::decode_ready(m->bytes);
        peers_[static_cast<size_t>(e.worker)] = Peer{r.pid, r.host};
        e.kind = sched::WorkerEvent::Kind::ready;
      } else if (m->tag == kDone) {
        std::tie(e.task, e.result) = sched::codec::decode_done(m->bytes);
        e.kind = sched::WorkerEvent::Kind::done;
      } else if (m->tag == kFail) {
        std::tie(e.task, e.failure) = sched::codec::decode_failure(m->bytes);
        e.failure.message += fmt::format(" (on rank {})", m->source);
        e.kind = sched::WorkerEvent::Kind::failed;
      } else {
        fail(ErrorCode::Internal, "mpi: unexpected message {} from rank {}", m->tag, m->source);
      }
      return e;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::optional<sched::TaskFailure> MpiWorkers::diagnose(const std::vector<sched::InFlight>& in_flight) const {
  for (const auto& f : in_flight) {
    if (f.worker < 0 || static_cast<size_t>(f.worker) >= peers_.size()) continue;
    const Peer& p = peers_[static_cast<size_t>(f.worker)];
    if (p.host != host_ || p.pid <= 0 || ::kill(static_cast<pid_t>(p.pid), 0) == 0 || errno != ESRCH) continue;
    const int rank = f.worker + 1;
    const auto& s = f.task.segment;
    return sched::TaskFailure{
        ErrorCode::TranscodeFailed,
        f.task.kind == sched::TaskKind::segment
            ? fmt::format("rank {} (pid {} on {}) died while encoding segment {} (frames {}..{}); rerun the same command to resume",
                          rank, p.pid, p.host, s.index, s.first_frame, s.end_frame - 1)
            : fmt::format("rank {} (pid {} on {}) died while encoding the audio; rerun the same command to resume", rank, p.pid,
                          p.host)};
  }
  return std::nullopt;
}

void MpiChannel::ready() { comm_.send(0, kReady, sched::codec::encode(sched::codec::Ready{::getpid(), process::host_name()})); }

std::optional<sched::Task> MpiChannel::receive() {
  Message m = comm_.receive(0);
  if (m.tag == kStop) return std::nullopt;
  if (m.tag != kTask) fail(ErrorCode::Internal, "mpi: unexpected message {} from rank 0", m.tag);
  return sched::codec::decode_task(m.bytes);
}

void MpiChannel::done(const sched::Task& task, const sched::TaskResult& result) {
  comm_.send(0, kDone, sched::codec::encode(task, result));
}

void MpiChannel::failed(const sched::Task& task, const sched::TaskFailure& failure) {
  comm_.send(0, kFail, sched::codec::encode(task, failure));
}

}  // namespace gopcast::mpi
