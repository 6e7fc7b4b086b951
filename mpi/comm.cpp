#include "comm.hpp"

#include <mpi.h>

#include "core/error.hpp"

namespace gopcast::mpi {

namespace {
void check(int ret, const char* operation) {
  if (ret == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(ret, text, &len);
  fail(ErrorCode::Internal, "mpi: {}: {}", operation, text);
}
}  // namespace

Communicator::Communicator(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as return codes, so they become gopcast errors with a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  if (provided < MPI_THREAD_FUNNELED)
    fail(ErrorCode::Internal, "mpi: MPI_Init_thread: this MPI gives no thread support (FUNNELED is needed)");
}

Communicator::Communicator(Communicator&& other) noexcept
    : owner_(std::exchange(other.owner_, false)), rank_(other.rank_), size_(other.size_) {}

Communicator::~Communicator() {
  if (owner_) MPI_Finalize();
}

void Communicator::send(int dest, int tag, const std::string& bytes) const {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, dest, tag, MPI_COMM_WORLD), "MPI_Send");
}

namespace {
Message receive_probed(const MPI_Status& status) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  Message m;
  m.source = status.MPI_SOURCE;
  m.tag = status.MPI_TAG;
  m.bytes.resize(static_cast<size_t>(count));
  check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return m;
}
}  // namespace

std::optional<Message> Communicator::poll() const {
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  return receive_probed(status);
}

Message Communicator::receive(int source) const {
  MPI_Status status;
  check(MPI_Probe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Probe");
  return receive_probed(status);
}

void Communicator::broadcast(std::string& bytes, int root) const {
  long long n = static_cast<long long>(bytes.size());
  check(MPI_Bcast(&n, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
  bytes.resize(static_cast<size_t>(n));
  check(MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

}  // namespace gopcast::mpi
