#pragma once
// The MPI communicator gopcast-mpi uses, as a small move-only type; the only part of
// gopcast that includes mpi.h. Messages are byte strings with a tag; rank 0 is the
// coordinator, and only its main thread calls MPI (MPI_THREAD_FUNNELED).
#include <optional>
#include <string>
#include <utility>

namespace gopcast::mpi {

struct Message {
  int source = -1;
  int tag = -1;
  std::string bytes;
};

class Communicator {
 public:
  // MPI_Init_thread; raises gopcast::Error when MPI cannot give FUNNELED threading.
  Communicator(int* argc, char*** argv);
  ~Communicator();  // MPI_Finalize
  Communicator(Communicator&& other) noexcept;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator& operator=(Communicator&&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  void send(int dest, int tag, const std::string& bytes) const;
  // A message from anyone, if one is waiting (never blocks).
  std::optional<Message> poll() const;
  // The next message from `source` (blocks).
  Message receive(int source) const;
  // Rank `root`'s `bytes` on every rank.
  void broadcast(std::string& bytes, int root) const;
  // Skips MPI_Finalize at destruction: when other ranks are gone it would wait forever.
  void leave_unfinalized() { owner_ = false; }

 private:
  bool owner_ = true;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace gopcast::mpi
