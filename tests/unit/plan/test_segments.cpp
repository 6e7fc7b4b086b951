#include <gtest/gtest.h>

#include "plan/segments.hpp"

using namespace gopcast::plan;

namespace {
// Keyframes every `gop` frames at 24 fps in a 1/12288 time base (like bbb-480p-30s.mp4).
KeyframeIndex regular(int frames, int gop) {
  KeyframeIndex idx;
  idx.time_base = {1, 12288};
  const int64_t step = 512;  // 12288 / 24
  for (int f = 0; f < frames; f += gop) idx.keyframes.push_back({f * step, std::min(gop, frames - f), -1});
  idx.end_pts = frames * step;
  idx.total_frames = frames;
  return idx;
}
}  // namespace

TEST(PlanSegments, CoversEveryFrameOnceInOrder) {
  auto idx = regular(720, 48);  // 2 s GOPs, 30 s
  auto segs = plan_segments(idx, {10, 0});
  ASSERT_FALSE(segs.empty());
  int64_t next_frame = 0, next_pts = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].index, static_cast<int>(i));
    EXPECT_EQ(segs[i].first_frame, next_frame);
    EXPECT_EQ(segs[i].start_pts, next_pts);
    next_frame = segs[i].end_frame;
    next_pts = segs[i].end_pts;
  }
  EXPECT_EQ(next_frame, 720);
  EXPECT_EQ(next_pts, idx.end_pts);
}

TEST(PlanSegments, EndsOnFirstKeyframeAtOrAfterTarget) {
  auto segs = plan_segments(regular(720, 48), {5, 0});  // GOP 2 s: cuts at 6 s
  ASSERT_EQ(segs.size(), 5u);
  for (const auto& s : segs) EXPECT_DOUBLE_EQ(s.seconds(), 6.0);
}

TEST(PlanSegments, IrregularKeyframesLikeBbb) {
  KeyframeIndex idx;
  idx.time_base = {1, 12288};
  // bbb-480p-30s.mp4: keyframes at 0, 10.417, 11.875, 15.75, 23.042 s.
  idx.keyframes = {{0, 250, -1}, {128000, 35, -1}, {145920, 93, -1}, {193536, 175, -1}, {283136, 167, -1}};
  idx.end_pts = 368640;
  idx.total_frames = 720;
  auto segs = plan_segments(idx, {8, 0});
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].end_frame, 250);
  EXPECT_EQ(segs[1].first_frame, 250);
  EXPECT_EQ(segs[1].end_frame, 553);
  EXPECT_EQ(segs[2].end_frame, 720);
}

TEST(PlanSegments, ShortTailJoinsThePreviousSegment) {
  auto segs = plan_segments(regular(24 * 21, 24), {10, 0});  // 21 s in 1 s GOPs: 10 + 10 + 1
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_DOUBLE_EQ(segs[1].seconds(), 11.0);
}

TEST(PlanSegments, GridSegmentsAreWholeMultiplesOfTheGrid) {
  // A grid index (an entry every 4 s HLS interval), target 6 s: rounded up to two
  // intervals, cuts at 8 s and 16 s, and the 4 s tail is long enough to stand alone.
  auto segs = plan_segments(regular(24 * 20, 96), {6, 4});
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_DOUBLE_EQ(segs[0].seconds(), 8.0);
  EXPECT_DOUBLE_EQ(segs[1].seconds(), 8.0);
  EXPECT_DOUBLE_EQ(segs[2].seconds(), 4.0);
}

TEST(PlanSegments, GridIntervalsAbsorbTimeBaseRounding) {
  EXPECT_EQ(grid_interval(0.0, 6), 0);
  EXPECT_EQ(grid_interval(5.999, 6), 0);
  EXPECT_EQ(grid_interval(6.0 - 1e-12, 6), 1);  // 1/90000 arithmetic just below the grid point
  EXPECT_EQ(grid_interval(12.0, 6), 2);
}

TEST(PlanSegments, ZeroTargetMakesOneSegment) {
  auto segs = plan_segments(regular(720, 48), {0, 0});
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].end_frame, 720);
}

TEST(PlanSegments, LongestFirstIsStableAndComplete) {
  std::vector<Segment> segs(4);
  int64_t lengths[] = {10, 30, 30, 5};
  for (int i = 0; i < 4; ++i) {
    segs[i].index = i;
    segs[i].first_frame = 0;
    segs[i].end_frame = lengths[i];
  }
  EXPECT_EQ(longest_first(segs), (std::vector<int>{1, 2, 0, 3}));
  EXPECT_EQ(segment_file_name(42, 1), "seg-000042.o1.bin");
}

TEST(PlanSegments, EmptyIndexGivesNoSegments) { EXPECT_TRUE(plan_segments(KeyframeIndex{}, {10, 0}).empty()); }

namespace {
TEST(PlanSegments, ALiveOutputGetsAShortFirstSegment) {
  // One grid point every 2 s over 60 s.
  gopcast::plan::KeyframeIndex index;
  index.time_base = {1, 1000};
  for (int i = 0; i < 30; ++i) index.keyframes.push_back({i * 2000, 48});
  index.end_pts = 60000;
  auto segs = gopcast::plan::plan_segments(index, {10, 2, 2});
  ASSERT_GE(segs.size(), 2u);
  EXPECT_DOUBLE_EQ(segs[0].seconds(), 2.0);   // one HLS segment, playable early
  EXPECT_DOUBLE_EQ(segs[1].seconds(), 10.0);  // then the usual length
  int64_t frames = 0;
  for (const auto& s : segs) frames += s.frames();
  EXPECT_EQ(frames, 30 * 48);
  EXPECT_DOUBLE_EQ(gopcast::plan::plan_segments(index, {10, 2})[0].seconds(), 10.0);
}
}  // namespace
