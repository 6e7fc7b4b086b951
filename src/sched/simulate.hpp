#pragma once
// A simulated cluster: the real scheduler, dispatch loop and manifest log of a
// segment-parallel run over workers that hold no media, only a clock. Each task takes
// a synthetic encode time (and each message a latency) on a virtual clock, the gather
// appends segments in order at a synthetic write speed, and the coordinator's own cost
// is measured for real (CPU time and peak memory of this process). So a laptop can
// answer what 2 cores cannot show: how a job of 10^5 segments behaves on 1,000 ranks,
// where the serial steps cap the speed-up (Amdahl's law), and whether the coordinator's
// time and memory per segment stay flat (`gopcast simulate`, bench/sim_bench.py).
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "spec/parallel.hpp"

namespace gopcast::sched {

struct SimSetup {
  int ranks = 16;
  int64_t segments = 1000;
  double segment_seconds = kDefaultSegmentSeconds;  // media per segment
  double fps = 25;
  // Media seconds one rank encodes per second (0.5: a 10-s segment takes 20 s).
  double speed = 1.0;
  // Each segment's encode time varies by up to this fraction either way (its content).
  double jitter = 0.25;
  // The audio task's encode time as a fraction of the whole video's (0: no audio). Today
  // it is one task over the whole timeline, which the gather waits for.
  double audio_fraction = 0;
  int64_t segment_bytes = 2'000'000;
  double gather_bytes_per_second = 400e6;  // the gather's append into the output
  double message_seconds = 50e-6;          // one task out, or one result back
  // Of first attempts, the fraction that fails half-way (and is tried again).
  double failure_rate = 0;
  int max_attempts = kDefaultMaxAttempts;
  bool in_order = false;  // hand segments out in timeline order (a live playlist)
  // Where the run's manifest is written, throttled as a real run writes it (empty: none).
  std::filesystem::path manifest;
  uint64_t seed = 1;
};

struct SimReport {
  SimSetup setup;
  double work_seconds = 0;       // every task's encode time, summed (virtual)
  double makespan_seconds = 0;   // from the start to the last segment gathered (virtual)
  double speedup = 0;            // work / makespan
  double efficiency = 0;         // speedup / ranks
  double first_segment_seconds = 0;  // when the gather had written segment 0 (virtual)
  int64_t peak_waiting = 0;      // segments done but not yet gathered, at most
  int64_t retried = 0;           // segments tried more than once
  int64_t manifest_writes = 0;
  double manifest_write_seconds = 0;  // real time per write, on average
  // The coordinator's real cost: CPU seconds of this process's run (scheduler, dispatch,
  // gather order, manifest) and its peak resident memory.
  double coordinator_cpu_seconds = 0;
  double coordinator_us_per_segment = 0;
  int64_t peak_rss_kib = 0;
  bool ok = false;  // every segment done and gathered
};

// Runs one simulated job. Throws Error (OutOfRange) for a setup out of range.
SimReport simulate(const SimSetup& setup);

nlohmann::json to_json(const SimReport& report);

}  // namespace gopcast::sched
