// The pure planners moved out of the engine: ladder renditions for a source, a
// concatenation cut into segments, clips, and the tick arithmetic they share with libav.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "av/handles.hpp"
#include "plan/ladder.hpp"
#include "plan/timeline.hpp"

using namespace gopcast;
using namespace gopcast::plan;
using gopcast::test::expect_error;

namespace {
Rendition rendition(const std::string& name, std::optional<int> height) {
  Rendition r;
  r.name = name;
  r.tmpl.container = Container::m3u8;
  r.tmpl.video.height = height;
  return r;
}
}  // namespace

TEST(Ladder, NoRenditionTallerThanTheSourceAndTheSmallestAlways) {
  const std::vector<Rendition> all = {rendition("r1080", 1080), rendition("r720", 720), rendition("r360", 360)};
  auto names = [](const std::vector<Rendition>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(r.name);
    return out;
  };
  EXPECT_EQ(names(renditions_for_source(all, 720)), (std::vector<std::string>{"r720", "r360"}));
  EXPECT_EQ(names(renditions_for_source(all, 2160)), (std::vector<std::string>{"r1080", "r720", "r360"}));
  EXPECT_EQ(names(renditions_for_source(all, 240)), (std::vector<std::string>{"r360"}));  // never empty
  EXPECT_EQ(names(renditions_for_source(all, 0)).size(), 3u);                              // height unknown
}

TEST(Ladder, RenditionPathsAndChecks) {
  EXPECT_EQ(rendition_path("/out/film.m3u8", rendition("ios-hls-720p", 720)), std::filesystem::path("/out/film_720p.m3u8"));
  EXPECT_EQ(rendition_path("/out/film.m3u8", rendition("custom", std::nullopt)), std::filesystem::path("/out/film_custom.m3u8"));
  std::vector<Rendition> rs = {rendition("a", 720)};
  check_renditions(rs, "job.toml: outputs[0]", "l");
  rs[0].tmpl.container = Container::mp4;
  expect_error<SpecError>([&] { check_renditions(rs, "job.toml: outputs[0]", "l"); }, ErrorCode::Incompatible,
                          {"outputs[0]", "ladder l", "rendition a"});
  rs[0].tmpl.container = Container::m3u8;
  rs[0].tmpl.hls.playlist = HlsPlaylistType::event;
  expect_error<SpecError>([&] { check_renditions(rs, "o", "l"); }, ErrorCode::Incompatible, {"event"});
}

namespace {
// An input of `frames` frames at 25 fps (time base 1/12800), a keyframe every `gop`.
KeyframeIndex index_of(int64_t frames, int64_t gop) {
  KeyframeIndex idx;
  idx.time_base = {1, 12800};
  idx.first_pts = 0;
  idx.total_frames = frames;
  idx.end_pts = frames * 512;
  for (int64_t f = 0; f < frames; f += gop) idx.keyframes.push_back(Keyframe{f * 512, std::min(gop, frames - f), -1});
  return idx;
}
}  // namespace

TEST(Timeline, EachInputIsCutOnItsOwnAndSitsAfterTheOneBefore) {
  Timeline tl;
  tl.entries.resize(3);
  for (auto& e : tl.entries) e.path = "in.mp4";
  const std::vector<KeyframeIndex> idx = {index_of(100, 25), index_of(50, 25), index_of(260, 50)};
  std::vector<double> starts;
  TimelineCut cut = cut_timeline(
      tl,
      [&](size_t k, double start) {
        starts.push_back(start);
        return idx[k];
      },
      PlanOptions{2, 0, 0});
  EXPECT_EQ(starts, (std::vector<double>{0, 4, 6}));  // 100 frames at 25 fps = 4 s, then 2 s
  EXPECT_EQ(tl.entries[1].offset_us, 4000000);
  EXPECT_EQ(tl.entries[2].offset_us, 6000000);
  EXPECT_EQ(tl.entries[2].length_us, 10400000);
  EXPECT_EQ(cut.index.end_pts, 16400000);
  EXPECT_EQ(cut.index.total_frames, 410);
  int64_t frame = 0;
  for (size_t i = 0; i < cut.segments.size(); ++i) {
    const Segment& s = cut.segments[i];
    EXPECT_EQ(s.index, static_cast<int>(i));
    EXPECT_EQ(s.first_frame, frame);  // frames count over the whole timeline, without gaps
    frame = s.end_frame;
    // No segment crosses a join: it lies inside its entry.
    const auto& e = tl.entries[static_cast<size_t>(s.entry)];
    EXPECT_GE(s.timeline_start() + 1e-9, static_cast<double>(e.offset_us) / 1e6);
    EXPECT_LE(s.timeline_end() - 1e-9, static_cast<double>(e.offset_us + e.length_us) / 1e6);
  }
  EXPECT_EQ(frame, 410);
  EXPECT_EQ(cut.index.keyframes.size(), 4u + 2u + 6u);
}

TEST(Timeline, AnInputWithoutVideoFramesIsBadInput) {
  Timeline tl;
  tl.entries.resize(1);
  tl.entries[0].path = "empty.mp4";
  expect_error([&] { cut_timeline(tl, [](size_t, double) { return KeyframeIndex{}; }, PlanOptions{}); },
               ErrorCode::ResourceContentBad, {"empty.mp4"});
}

TEST(Clip, ResolvedAgainstTheInput) {
  Clip c;
  c.start = 5;
  c.duration = 8;
  const ClipWindow w = resolve_clip(c, 30, "in.mp4");
  EXPECT_TRUE(w.active);
  EXPECT_DOUBLE_EQ(w.seconds(), 8);
  c.duration.reset();
  c.end_offset = 5;
  EXPECT_DOUBLE_EQ(resolve_clip(c, 30, "in.mp4").end, 25);
  c.start = 30;
  expect_error([&] { resolve_clip(c, 30, "in.mp4"); }, ErrorCode::OutOfRange, {"in.mp4", "input.start"});
  EXPECT_FALSE(resolve_clip(Clip{}, 30, "in.mp4").active);
}

TEST(Rescale, AgreesWithLibavToTheTick) {
  const std::vector<Rational> bases = {{1, 90000}, {1, 1000}, {1001, 30000}, {1, 12800}, {1, 44100}, {1, 1000000}, {3, 7}};
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{511}, int64_t{-512}, int64_t{123456789}, int64_t{-987654321},
                    int64_t{1} << 40, -(int64_t{1} << 40)})
    for (auto a : bases)
      for (auto b : bases)
        EXPECT_EQ(gopcast::rescale(v, a, b), av::rescale(v, a, b))
            << v << " " << a.num << "/" << a.den << " -> " << b.num << "/" << b.den;
}
