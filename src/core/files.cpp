#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "core/process.hpp"

namespace fs = std::filesystem;

namespace gopcast::files {

namespace {

// The data must be on disk before the rename makes it the file, or a crash could leave
// a renamed but empty one.
void sync_path(const fs::path& p, const fs::path& name) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  const int e = errno;
  if (fd >= 0) ::close(fd);
  if (!ok) fail(ErrorCode::OutputNotWritable, "{}: cannot write: fsync: {}", name.string(), std::strerror(e));
}

}  // namespace

AtomicFile::AtomicFile(fs::path path, unsigned mode) : path_(std::move(path)) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  temp_ = path_.parent_path() / fmt::format(".{}.tmp-{}-{:016x}", path_.filename().string(), ::getpid(), rng());
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd_ < 0) fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path_.string(), std::strerror(errno));
  ::fchmod(fd_, mode);  // not subject to the umask, so 0600 stays 0600
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path_.string(), std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  wrote_ = true;
}

void AtomicFile::commit() {
  if (committed_) return;
  const int fd = std::exchange(fd_, -1);
  if (wrote_) {
    if (::fsync(fd) != 0 || ::close(fd) != 0)
      fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path_.string(), std::strerror(errno));
  } else {
    // A writer that opened the file by name wrote through a descriptor of its own.
    ::close(fd);
    sync_path(temp_, path_);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    fail(ErrorCode::OutputNotWritable, "{}: cannot replace: {}", path_.string(), std::strerror(errno));
  committed_ = true;
  // Best effort: makes the rename itself durable; the file is whole either way.
  const fs::path dir = path_.parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_atomic(const fs::path& path, const std::string& text, unsigned mode) {
  AtomicFile f(path, mode);
  f.write(text);
  f.commit();
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::ResourceNotFound, "{}: cannot read: {}", path.string(), std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Lock::Lock(const fs::path& path, Mode mode) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(ErrorCode::OutputNotWritable, "{}: cannot open lock: {}", path.string(), std::strerror(errno));
  while (::flock(fd_, mode == Mode::Exclusive ? LOCK_EX : LOCK_SH) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd_);
    fail(ErrorCode::Internal, "{}: flock: {}", path.string(), std::strerror(e));
  }
}

Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

fs::path OutputLock::file_for(const fs::path& output) {
  return output.parent_path() / ("." + output.filename().string() + ".gopcast-lock");
}

OutputLock::OutputLock(const fs::path& output, bool wait) : path_(file_for(output)) {
  for (;;) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int e = errno;
      const fs::path dir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
      std::error_code ec;
      if (e == ENOENT && !fs::is_directory(dir, ec))
        fail(ErrorCode::OutputNotWritable, "{}: output folder {} does not exist", output.string(), dir.string());
      if (e == EACCES || e == EROFS)
        fail(ErrorCode::OutputNotWritable, "{}: output folder {} is not writable ({})", output.string(), dir.string(), std::strerror(e));
      fail(ErrorCode::OutputNotWritable, "{}: cannot create its lock {}: {}", output.string(), path_.string(), std::strerror(e));
    }
    int rc;
    while ((rc = ::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB))) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
      const int e = errno;
      std::string holder(512, '\0');
      const ssize_t n = e == EWOULDBLOCK ? ::pread(fd_, holder.data(), holder.size(), 0) : -1;
      holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
      ::close(fd_);
      fd_ = -1;
      if (e != EWOULDBLOCK) fail(ErrorCode::Internal, "{}: flock: {}", path_.string(), std::strerror(e));
      fail(ErrorCode::OutputLocked, "{}: another run is writing it ({}); wait for it to end, or pass --wait-lock to wait",
           output.string(), holder.empty() ? "its holder has not said who it is yet" : holder);
    }
    // The holder before us may have removed the file as it released it: the lock must
    // be on the file that is at the path now.
    struct stat held{}, named{};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino && held.st_dev == named.st_dev)
      break;
    ::close(fd_);
    fd_ = -1;
  }
  std::string who = fmt::format("pid {} on {}", ::getpid(), process::host_name());
  if (const char* job = std::getenv("SLURM_JOB_ID"); job && *job) who += fmt::format(", Slurm job {}", job);
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char since[32];
  std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
  who += fmt::format(", since {}\n", since);
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, who.data(), who.size(), 0) != static_cast<ssize_t>(who.size())) {
    // The lock holds without the note; a second run then cannot say who holds it.
  }
}

OutputLock::OutputLock(OutputLock&& other) noexcept : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still held: a waiter then retries on a fresh file
  ::close(fd_);
}

}  // namespace gopcast::files
