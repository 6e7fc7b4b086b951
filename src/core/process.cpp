#include "core/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "core/error.hpp"
#include "core/fd.hpp"

extern char** environ;

namespace gopcast::process {
namespace {

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) fail(ErrorCode::Internal, "process: pipe: {}", std::strerror(errno));
    read.reset(p[0]);
    write.reset(p[1]);
  }
};

struct SpawnActions {
  posix_spawn_file_actions_t a;
  SpawnActions() { posix_spawn_file_actions_init(&a); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&a); }
};

int decode_status(int ws) {
  if (WIFEXITED(ws)) return WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
  return 1;
}

// Starts argv with stdout/stderr to the given fds (-1 = inherit) and stdin from /dev/null.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  if (argv.empty()) fail(ErrorCode::Internal, "process: empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  SpawnActions act;
  posix_spawn_file_actions_addopen(&act.a, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&act.a, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&act.a, err_fd, 2);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0].c_str(), &act.a, nullptr, args.data(), environ);
  if (rc != 0) fail(ErrorCode::ResourceNotFound, "{}: cannot start: {}", argv[0], std::strerror(rc));
  return pid;
}

}  // namespace

Output run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  Pipe out, err;
  pid_t pid = spawn(argv, out.write.get(), err.write.get());
  out.write.reset();
  err.write.reset();
  Output o;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      o.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) (i == 0 ? o.out : o.err).append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  o.status = decode_status(ws);
  return o;
}

Child::Child(const std::vector<std::string>& argv) {
  Pipe out;
  pid_ = spawn(argv, out.write.get(), -1);
  out.write.reset();
  out_fd_ = out.read.release();
}

Child::~Child() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int ws;
    while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
    }
  }
}

int Child::wait(std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(out_fd_, buf, sizeof buf);
    if (r > 0) out.append(buf, static_cast<size_t>(r));
    else if (r == 0 || errno != EINTR) break;
  }
  ::close(out_fd_);
  out_fd_ = -1;
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return decode_status(ws);
}

std::optional<std::string> which(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? std::optional(program) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string cand = dir + "/" + program;
      if (::access(cand.c_str(), X_OK) == 0) return cand;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "unknown";
  return buf;
}

long peak_rss_kib() {
  rusage usage{};
  return ::getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : 0;
}

}  // namespace gopcast::process
