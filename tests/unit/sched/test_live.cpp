#include <gtest/gtest.h>

#include "app/progress_line.hpp"
#include "sched/live.hpp"

using namespace gopcast;

namespace {
plan::Task segment(int index, int64_t frames, int attempt = 1) {
  plan::Task t;
  t.kind = plan::TaskKind::segment;
  t.segment.index = index;
  t.segment.first_frame = 1000;
  t.segment.end_frame = 1000 + frames;
  t.attempt = attempt;
  return t;
}
}  // namespace

TEST(LiveFrames, CountOnlyForTheTaskTheWorkerHolds) {
  sched::LiveFrames live(2);
  const plan::Task a = segment(3, 100), b = segment(4, 50);
  EXPECT_EQ(live.frames(0, a), 0);
  live.start(0, a);
  live.report(0, 40);
  EXPECT_EQ(live.frames(0, a), 40);
  EXPECT_EQ(live.frames(0, b), 0);  // the worker reports another task
  EXPECT_EQ(live.frames(1, a), 0);
  live.report(0, 500);
  EXPECT_EQ(live.frames(0, a), 100);  // never more than the segment holds
  live.start(0, segment(3, 100, 2));  // a retry: its own count, from zero
  EXPECT_EQ(live.frames(0, a), 0);
  EXPECT_EQ(live.frames(0, segment(3, 100, 2)), 0);
  plan::Task audio;
  audio.kind = plan::TaskKind::audio;
  live.start(1, audio);
  live.report(1, 7);
  EXPECT_EQ(live.frames(1, audio), 0);  // frames count video segments only
}

TEST(ProgressLine, EtaIsRoundedToWhatItMeans) {
  EXPECT_EQ(app::eta_text(0.4), "< 10 s");
  EXPECT_EQ(app::eta_text(9.9), "< 10 s");
  EXPECT_EQ(app::eta_text(33.0), "35 s");
  EXPECT_EQ(app::eta_text(59.0), "55 s");
  EXPECT_EQ(app::eta_text(61.0), "1 min");
  EXPECT_EQ(app::eta_text(12 * 60 + 20), "12 min");
  EXPECT_EQ(app::eta_text(3599), "59 min");
  EXPECT_EQ(app::eta_text(2 * 3600 + 5 * 60 + 10), "2 h 05 min");
}
