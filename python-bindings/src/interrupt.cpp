// Long library calls under Python: the work runs on a helper thread with the GIL
// released; the calling thread waits and polls for signals.
//
// Why not the other way round (work on the calling thread, a watcher thread polling):
// CPython runs signal handlers only on the main thread, and PyErr_CheckSignals()
// called on any other thread does nothing, so only the thread Python called us on can
// turn Ctrl-C into KeyboardInterrupt. The library cares about no thread identity.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bindings.hpp"

namespace gopcast::python {

void run_interruptible(const std::function<void()>& work, std::atomic<bool>& stop, bool block_signals) {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;

  std::thread worker;
  {
    // Signals go to the Python thread: the helper (and every engine thread it starts)
    // is born with them blocked, so no read in libav or HDF5 sees EINTR. Not for work
    // that starts programs (Slurm's commands): posix_spawn children inherit the mask.
    sigset_t block, old;
    sigemptyset(&block);
    if (block_signals)
      for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM}) sigaddset(&block, s);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    worker = std::thread([&] {
      try {
        work();
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex);
      done = true;
      cv.notify_all();
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  std::optional<py::error_already_set> interrupted;
  for (;;) {
    {
      py::gil_scoped_release released;
      std::unique_lock lock(mutex);
      if (cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) break;
    }
    if (!interrupted && PyErr_CheckSignals() != 0) {
      interrupted.emplace();  // takes the pending exception (KeyboardInterrupt)
      stop = true;
    }
  }
  {
    py::gil_scoped_release released;
    worker.join();
  }
  // The interruption wins over the Cancelled error it caused (and over a result that
  // was finished just before the stop was seen: the signal is never lost).
  if (interrupted) throw std::move(*interrupted);
  if (error) std::rethrow_exception(error);
}

}  // namespace gopcast::python
