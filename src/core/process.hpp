#pragma once
// Running other programs (Slurm's commands, mpirun) without a shell: argv goes to
// execvp as is, so no file name can be split, expanded or executed.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gopcast::process {

struct Output {
  int status = 0;        // exit status; 128+N when killed by signal N
  std::string out;       // stdout
  std::string err;       // stderr
  bool timed_out = false;
};

// Runs argv to completion, capturing stdout and stderr (stdin is /dev/null).
// Throws Error(ResourceNotFound) if the program cannot be started; a timeout kills it.
Output run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::minutes(2));

// A started child whose stdout is captured and whose stderr goes to ours.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // kills and reaps a child still running
  pid_t pid() const { return pid_; }
  // Reads stdout to the end and waits; returns the exit status (128+N when signalled).
  // Interrupted reads (a signal to us) are retried, so the caller's handler can forward signals.
  int wait(std::string& out);

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

// The absolute path of a program on PATH, or nothing.
std::optional<std::string> which(const std::string& program);

// The path of the running executable.
std::string self_exe();

// This machine's host name ("unknown" when it has none): what manifests, job records and
// messages about ranks name a node by.
std::string host_name();

// This process's peak resident memory so far, in KiB (0 when the system cannot say).
long peak_rss_kib();

}  // namespace gopcast::process
