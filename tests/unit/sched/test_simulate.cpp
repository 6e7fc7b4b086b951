// The simulated cluster (sched/simulate.hpp): the real scheduler and dispatch loop on
// 1,000 ranks and 10^5 segments, with what a cluster would see checked against the
// arithmetic it must obey (work conserved, Amdahl's bound for a serial task, the
// retries, the order a live playlist needs) and the coordinator's cost per segment kept
// flat as the job grows tenfold.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "core/log.hpp"
#include "sched/simulate.hpp"

using namespace gopcast;
using namespace gopcast::sched;

namespace {

SimSetup setup(int ranks, int64_t segments) {
  SimSetup s;
  s.ranks = ranks;
  s.segments = segments;
  s.message_seconds = 0;
  return s;
}

// The dispatch loop warns once per retried segment: hundreds here.
struct QuietLog {
  log::Level before = log::level();
  QuietLog() { log::set_level(log::Level::Error); }
  ~QuietLog() { log::set_level(before); }
};

}  // namespace

TEST(Simulate, ThousandRanksHundredThousandSegments) {
  const SimReport r = simulate(setup(1000, 100'000));
  ASSERT_TRUE(r.ok);
  // Every segment ran once: the work is the segments' encode times (10 s each on average).
  EXPECT_NEAR(r.work_seconds, 100'000 * 10.0, 100'000 * 10.0 * 0.01);
  // 100 segments per rank with up to 25% spread each: within a segment of the ideal.
  EXPECT_GT(r.efficiency, 0.98);
  EXPECT_LE(r.efficiency, 1.0 + 1e-9);
  EXPECT_EQ(r.retried, 0);
}

TEST(Simulate, CoordinatorCostPerSegmentIsFlat) {
  // Ten times the segments may cost ten times the CPU, not a hundred (nothing quadratic
  // in the segments or the ranks). CPU time, not wall time: a busy machine does not
  // change it much, and the margin is wide (quadratic would be 10x).
  SimReport small = simulate(setup(1000, 10'000));
  SimReport big = simulate(setup(1000, 100'000));
  ASSERT_TRUE(small.ok && big.ok);
  EXPECT_LT(big.coordinator_us_per_segment, 3 * small.coordinator_us_per_segment + 2.0)
      << small.coordinator_us_per_segment << " us per segment at 10^4, " << big.coordinator_us_per_segment << " at 10^5";
}

TEST(Simulate, SerialAudioCapsTheSpeedUpAsAmdahlSays) {
  // Audio as one task over the whole timeline, 10% of the video's work, which the gather
  // waits for: at 16 ranks the speed-up is at most (1 + a) / a = 11, whatever the ranks,
  // and the first segment is written only after the audio.
  SimSetup s = setup(16, 1440);
  s.audio_fraction = 0.1;
  const SimReport r = simulate(s);
  ASSERT_TRUE(r.ok);
  EXPECT_LE(r.speedup, 11.0 + 1e-6);
  EXPECT_LT(r.efficiency, 0.70);
  EXPECT_GE(r.first_segment_seconds, 0.1 * 14400.0 * 0.98);
  s.ranks = 1000;
  EXPECT_LE(simulate(s).speedup, 11.0 + 1e-6);
  // Without it, 16 ranks are busy to the end.
  EXPECT_GT(simulate(setup(16, 1440)).efficiency, 0.98);
}

TEST(Simulate, FailedFirstAttemptsAreRetried) {
  QuietLog quiet;
  SimSetup s = setup(100, 10'000);
  s.failure_rate = 0.05;
  const SimReport r = simulate(s);
  ASSERT_TRUE(r.ok);
  EXPECT_GT(r.retried, 400);
  EXPECT_LT(r.retried, 600);
  // The half-done failed attempts count as work too.
  EXPECT_GT(r.work_seconds, 10'000 * 10.0 * 1.02);
}

TEST(Simulate, InOrderWritesTheFirstSegmentEarly) {
  SimSetup s = setup(16, 200);
  s.in_order = true;
  const SimReport r = simulate(s);
  ASSERT_TRUE(r.ok);
  EXPECT_LT(r.first_segment_seconds, 10.0 * 1.26);
  EXPECT_LE(r.peak_waiting, 15);  // at most the other ranks' segments wait for the first
}

TEST(Simulate, SameSeedSameRun) {
  QuietLog quiet;
  SimSetup s = setup(37, 5000);
  s.failure_rate = 0.02;
  const SimReport a = simulate(s), b = simulate(s);
  EXPECT_EQ(a.makespan_seconds, b.makespan_seconds);
  EXPECT_EQ(a.retried, b.retried);
  s.seed = 2;
  EXPECT_NE(simulate(s).makespan_seconds, a.makespan_seconds);
}

TEST(Simulate, OutOfRangeSetupIsRefused) {
  SimSetup s = setup(0, 10);
  test::expect_error([&] { simulate(s); }, ErrorCode::OutOfRange, {"--ranks"});
  s = setup(4, 10);
  s.failure_rate = 1.5;
  test::expect_error([&] { simulate(s); }, ErrorCode::OutOfRange, {"--failure-rate"});
}
