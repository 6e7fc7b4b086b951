#pragma once
// Small-file primitives for state shared between processes and nodes (the job store):
// whole-file atomic replacement and advisory locks.
#include <filesystem>
#include <string>
#include <string_view>

namespace gopcast::files {

// A file replaced whole: written under a temporary name in the same folder
// (".<name>.tmp-<pid>-<random>", created exclusively), made durable, then renamed over
// `path`, so readers (and a crash at any moment) see the old content or the new, never
// a mix. The one way gopcast replaces a file: records, scripts, keys, playlists, the
// HDF5 manifest and segment files all go through it. Writers that open files by name
// (HDF5, stdio) write `temp_path()` and close it before commit(); others write().
class AtomicFile {
 public:
  // Throws OutputNotWritable naming `path` when the folder cannot take the file.
  explicit AtomicFile(std::filesystem::path path, unsigned mode = 0644);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // an uncommitted file is removed: nothing is left behind

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  void write(std::string_view bytes);
  // fsyncs the data, renames it over path() and (best effort) fsyncs the folder.
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
  bool wrote_ = false;  // through write(), else by name
  bool committed_ = false;
};

// Writes `text` atomically (an AtomicFile). Throws OutputNotWritable.
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

// One writer per output: an exclusive flock on a hidden lock file beside the output
// (".NAME.gopcast-lock"), holding who has it (pid, host, Slurm job, since when). flock is
// released by the kernel when its holder dies (on NFSv4 and Lustre/GPFS with locking on,
// when the holder's lease or node goes), so a dead run's lock is taken over at once.
// A second run fails with OutputLocked naming the holder, or waits (`wait`). The lock
// file is removed on release; a waiter that then holds a removed file's lock retries on
// the new one, so two runs never both believe they hold it.
class OutputLock {
 public:
  OutputLock(const std::filesystem::path& output, bool wait);
  OutputLock(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock();
  static std::filesystem::path file_for(const std::filesystem::path& output);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace gopcast::files
