// A span of the input (keyframe A up to keyframe B) is encoded frame-exactly: with a
// lossless encoder, each segment decodes to exactly the source's frames of that span.
// The oracle is the ffmpeg tool's per-frame MD5 (framemd5), not gopcast's own reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "../test_support.hpp"
#include "av/capabilities.hpp"
#include "av/probe.hpp"
#include "engine/keyframes.hpp"
#include "engine/pipeline.hpp"
#include "plan/timeline.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
const fs::path kMedia = fs::path(GOPCAST_SOURCE_DIR) / ".." / "shared" / "media";

// MD5 of every decoded picture of the first video stream, by the ffmpeg tool.
std::vector<std::string> frame_md5s(const fs::path& file) {
  std::string cmd = "ffmpeg -v error -nostdin -i '" + file.string() + "' -map 0:v:0 -fps_mode passthrough -f framemd5 -";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::vector<std::string> out;
  char line[512];
  while (pipe && fgets(line, sizeof line, pipe.get())) {
    std::string s(line);
    if (s.empty() || s[0] == '#') continue;
    auto comma = s.rfind(',');
    out.push_back(s.substr(comma + 2, 32));
  }
  return out;
}

void expect_segments_frame_exact(const std::string& name, double segment_seconds, size_t min_segments) {
  const fs::path src = kMedia / name;
  MediaInfo info = probe(src);
  int video = -1;
  for (const auto& s : info.streams)
    if (s.type == "video") video = s.index;
  ASSERT_GE(video, 0);
  auto index = engine::index_keyframes(src, video);
  auto segments = plan::plan_segments(index, {segment_seconds, 0});
  ASSERT_GE(segments.size(), min_segments);
  const auto all = frame_md5s(src);
  ASSERT_EQ(static_cast<int64_t>(all.size()), segments.back().end_frame) << "the index counts every frame";

  Template t;
  t.name = "lossless";
  t.container = Container::mkv;
  t.video.qp = 0;
  t.video.preset = "ultrafast";
  t.audio.remove = true;
  auto plan = plan::plan_output(t, &info.streams[static_cast<size_t>(video)], nullptr, name, av::capabilities());
  test::TempDir dir;
  for (const auto& seg : segments) {
    engine::Target target{plan, dir.path / ("seg" + std::to_string(seg.index) + ".mkv"), dir.path};
    auto stats = engine::run_pipeline(src, {video, -1}, {target}, {}, engine::Span{seg.start_pts, seg.end_pts});
    EXPECT_EQ(stats[0].video_frames, seg.frames()) << "segment " << seg.index;
    std::vector<std::string> expected(all.begin() + seg.first_frame, all.begin() + seg.end_frame);
    EXPECT_EQ(frame_md5s(target.file), expected) << name << " segment " << seg.index;
  }
}
}  // namespace

TEST(PipelineSpan, IrregularKeyframesWithBFrames) { expect_segments_frame_exact("bbb-480p-30s.mp4", 4, 4); }

TEST(PipelineSpan, VariableFrameRateFlvWithMillisecondTimeBase) { expect_segments_frame_exact("me-grampa-vp6.flv", 2, 3); }

namespace {

TEST(ClipWindow, ResolvesStartDurationAndEndOffsetAgainstTheInput) {
  Clip none;
  EXPECT_FALSE(plan::resolve_clip(none, 30, "in.mp4").active);
  EXPECT_FALSE(engine::clip_span(plan::resolve_clip(none, 30, "in.mp4")).bounded());
  Clip c;
  c.start = 5.3;
  c.duration = 8;
  auto w = plan::resolve_clip(c, 30, "in.mp4");
  EXPECT_TRUE(w.active);
  EXPECT_DOUBLE_EQ(w.start, 5.3);
  EXPECT_DOUBLE_EQ(w.end, 13.3);
  const engine::Span s = engine::clip_span(w);
  EXPECT_EQ(s.start, 0);
  EXPECT_EQ(s.end, 8000000);
  EXPECT_EQ(s.origin, 5300000);
  EXPECT_EQ(s.time_base.den, 1000000);
  c.duration = 100;  // past the end: the input's end
  EXPECT_DOUBLE_EQ(plan::resolve_clip(c, 30, "in.mp4").end, 30);
  Clip tail;
  tail.end_offset = 5;
  w = plan::resolve_clip(tail, 30, "in.mp4");
  EXPECT_TRUE(w.active);
  EXPECT_DOUBLE_EQ(w.start, 0);
  EXPECT_DOUBLE_EQ(w.end, 25);
}

TEST(ClipWindow, AStartPastTheEndOrNothingLeftIsOutOfRange) {
  Clip late;
  late.start = 30;
  EXPECT_THROW(
      {
        try {
          plan::resolve_clip(late, 30, "in.mp4");
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::OutOfRange);
          EXPECT_NE(std::string(e.what()).find("input.start"), std::string::npos);
          throw;
        }
      },
      Error);
  Clip empty;
  empty.start = 10;
  empty.end_offset = 20;
  EXPECT_THROW(plan::resolve_clip(empty, 30, "in.mp4"), Error);
}

// The index of a clip starts at the clip (a cut point inside the first GOP) and holds
// exactly the frames shown in it: 5.3 s to 13.3 s of the 24 fps input is 192 frames.
TEST(ClipWindow, KeyframeIndexOfAClip) {
  Clip c;
  c.start = 5.3;
  c.duration = 8;
  const auto w = plan::resolve_clip(c, 30, "bbb");
  const auto index = engine::index_keyframes(kMedia / "bbb-480p-30s.mp4", 0, 0, w);
  EXPECT_EQ(index.total_frames, 192);
  ASSERT_GE(index.keyframes.size(), 3u);
  EXPECT_EQ(index.keyframes[0].pts, 0);
  // The input's keyframes at 10.4 s and 11.9 s, on the clip's timeline (1/12288 s).
  EXPECT_NEAR(index.seconds(index.keyframes[1].pts), 10.4 - 5.3, 0.05);
  EXPECT_NEAR(index.seconds(index.keyframes[2].pts), 11.9 - 5.3, 0.05);
  int64_t frames = 0;
  for (const auto& k : index.keyframes) frames += k.frames;
  EXPECT_EQ(frames, 192);
}

}  // namespace

namespace {

TEST(LoudnessGain, TargetPeakCeilingAndSilence) {
  engine::Loudness quiet{-40.2, 17.9, -26.9};
  EXPECT_NEAR(engine::loudness_gain(quiet, -23, -1), 17.2, 1e-9);
  // -5 LUFS would need +35.2 dB, but the peak may only rise by 24.9 dB to -2 dBTP.
  EXPECT_NEAR(engine::loudness_gain(quiet, -5, -2), 24.9, 1e-9);
  engine::Loudness loud{-9, 5, -0.2};
  EXPECT_NEAR(engine::loudness_gain(loud, -23, -1), -14, 1e-9);  // turning down is never limited
  EXPECT_EQ(engine::loudness_gain(engine::Loudness{}, -23, -1), 0);  // silence: nothing to measure
  EXPECT_EQ(engine::loudness_gain(engine::Loudness{-75, 0, -60}, -23, -1), 0);
}

}  // namespace
