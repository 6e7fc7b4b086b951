#pragma once
// Small-file primitives for state shared between processes and nodes (the job store):
// whole-file atomic replacement and advisory locks.
#include <filesystem>
#include <string>

namespace gopcast::files {

// Writes `text` to a temporary file in the same folder, fsyncs it, and renames it over
// `path`: readers see the old or the new content, never a mix. Throws OutputNotWritable.
void write_atomic(const std::filesystem::path& path, const std::string& text, unsigned mode = 0644);

// Reads a whole (small) file; throws ResourceNotFound naming the path.
std::string read(const std::filesystem::path& path);

// An exclusive or shared flock(2) on a lock file (created if missing), held for the
// object's life. flock is honoured across nodes on NFSv4 and Lustre/GPFS with locking on.
class Lock {
 public:
  enum class Mode { Shared, Exclusive };
  Lock(const std::filesystem::path& path, Mode mode);
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock();

 private:
  int fd_ = -1;
};

}  // namespace gopcast::files
