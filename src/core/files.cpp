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

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::files {

void write_atomic(const fs::path& path, const std::string& text, unsigned mode) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = path.parent_path() / fmt::format(".{}.{:016x}.tmp", path.filename().string(), rng());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path.string(), std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path.string(), std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);  // not subject to the umask, so 0600 stays 0600
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(ErrorCode::OutputNotWritable, "{}: cannot write: {}", path.string(), std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail(ErrorCode::OutputNotWritable, "{}: cannot replace: {}", path.string(), std::strerror(e));
  }
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
