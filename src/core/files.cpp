#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "core/error.hpp"

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

}  // namespace gopcast::files
