// A span of the input (keyframe A up to keyframe B, or a cut inside a long GOP) is
// encoded frame-exactly: with a lossless encoder, each segment decodes to exactly the
// source's frames of that span.
// The oracle is the ffmpeg tool's per-frame MD5 (framemd5), not gopcast's own reader.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
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

// `split`: GOPs longer than the segment target are cut between their keyframes.
void expect_segments_frame_exact(const fs::path& src, double segment_seconds, size_t min_segments, bool split = false) {
  const std::string name = src.filename().string();
  MediaInfo info = probe(src);
  int video = -1;
  for (const auto& s : info.streams)
    if (s.type == "video") video = s.index;
  ASSERT_GE(video, 0);
  auto index = engine::index_keyframes(src, video, 0, {}, -1, split ? segment_seconds : 0);
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

TEST(PipelineSpan, IrregularKeyframesWithBFrames) { expect_segments_frame_exact(kMedia / "bbb-480p-30s.mp4", 4, 4); }

TEST(PipelineSpan, VariableFrameRateFlvWithMillisecondTimeBase) { expect_segments_frame_exact(kMedia / "me-grampa-vp6.flv", 2, 3); }

// H.264 made at test time by the ffmpeg tool: `seconds` of bbb at 320 px with x264's
// `params` (B-pyramid and open GOPs make the leading pictures a cut must not lose).
fs::path derived_h264(const test::TempDir& dir, const std::string& name, int seconds, const std::string& params) {
  const fs::path out = dir / name;
  const std::string cmd = "ffmpeg -v error -nostdin -t " + std::to_string(seconds) + " -i '" +
                          (kMedia / "bbb-480p-30s.mp4").string() + "' -an -vf scale=320:-2 -c:v libx264 -preset veryfast "
                          "-x264-params '" + params + "' '" + out.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return out;
}

// Cuts at any frame: bbb's 10.4 s first GOP splits in parts of at least the target.
TEST(PipelineSpan, CutsInsideALongGopAreFrameExact) {
  expect_segments_frame_exact(kMedia / "bbb-480p-30s.mp4", 2, 9, true);
}

TEST(PipelineSpan, CutsInsideOpenGopsWithABPyramidAreFrameExact) {
  test::TempDir dir;
  const auto src = derived_h264(dir, "open.mp4", 12, "keyint=144:min-keyint=144:scenecut=0:bframes=3:b-pyramid=normal:open-gop=1");
  expect_segments_frame_exact(src, 2, 4, true);
}

// The index of a single-keyframe input: parts of at least the target, at most
// 1 + 2 * 4 of them (the extra decoding stays bounded), every frame counted once, and
// only the keyframe has a byte position.
TEST(KeyframeIndex, ASingleKeyframeInputSplitsInBoundedParts) {
  test::TempDir dir;
  const auto src = derived_h264(dir, "one-keyframe.mp4", 30, "keyint=infinite:scenecut=0:bframes=2");
  const auto whole = engine::index_keyframes(src, 0);
  ASSERT_EQ(whole.keyframes.size(), 1u) << "the input has one keyframe";
  const auto few = engine::index_keyframes(src, 0, 0, {}, -1, 10);  // 30 s / 10 s: 2 parts (each must reach 10 s)
  ASSERT_EQ(few.keyframes.size(), 2u);
  const auto many = engine::index_keyframes(src, 0, 0, {}, -1, 1);  // 30 parts would fit: the bound gives 9
  ASSERT_EQ(many.keyframes.size(), 9u);
  for (const auto* index : {&few, &many}) {
    EXPECT_EQ(index->total_frames, whole.total_frames);
    int64_t frames = 0;
    for (size_t i = 0; i < index->keyframes.size(); ++i) {
      const auto& k = index->keyframes[i];
      frames += k.frames;
      EXPECT_EQ(k.byte_pos >= 0, i == 0) << "entry " << i;
      const int64_t next = i + 1 < index->keyframes.size() ? index->keyframes[i + 1].pts : index->end_pts;
      EXPECT_GE(index->seconds(next - k.pts) + 1e-9, index == &few ? 10.0 : 1.0) << "entry " << i;
      EXPECT_EQ(k.frames, static_cast<int64_t>(std::llround(index->seconds(next - k.pts) * 24))) << "entry " << i;
    }
    EXPECT_EQ(frames, whole.total_frames);
  }
  // Short GOPs are left alone: the same entries as without splitting.
  const auto short_gops = engine::index_keyframes(kMedia / "me-echo-hereweare-vp8.webm", 0);
  const auto split = engine::index_keyframes(kMedia / "me-echo-hereweare-vp8.webm", 0, 0, {}, -1, 2);
  ASSERT_EQ(split.keyframes.size(), short_gops.keyframes.size());
  for (size_t i = 0; i < split.keyframes.size(); ++i) EXPECT_EQ(split.keyframes[i].pts, short_gops.keyframes[i].pts);
}

TEST(KeyframeIndex, ASingleKeyframeInputIsFrameExactInParts) {
  test::TempDir dir;
  const auto src = derived_h264(dir, "one-keyframe.mp4", 10, "keyint=infinite:scenecut=0:bframes=3:b-pyramid=normal");
  expect_segments_frame_exact(src, 2, 4, true);
}

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
  auto g = engine::loudness_gain(quiet, -23, -1);
  EXPECT_NEAR(g.gain_db, 17.2, 1e-9);  // the peak stays at -9.7 dBTP
  EXPECT_EQ(g.short_lu, 0);
  // -5 LUFS would need +35.2 dB, but the peak may only rise by 24.9 dB to -2 dBTP: 10.3 LU short.
  g = engine::loudness_gain(quiet, -5, -2);
  EXPECT_NEAR(g.gain_db, 24.9, 1e-9);
  EXPECT_NEAR(g.short_lu, 10.3, 1e-9);
  engine::Loudness loud{-9, 5, -0.2};
  g = engine::loudness_gain(loud, -23, -1);
  EXPECT_NEAR(g.gain_db, -14, 1e-9);  // turning down is never limited
  EXPECT_EQ(g.short_lu, 0);
  EXPECT_EQ(engine::loudness_gain(engine::Loudness{}, -23, -1).gain_db, 0);  // silence: nothing to measure
  EXPECT_EQ(engine::loudness_gain(engine::Loudness{-75, 0, -60}, -23, -1).gain_db, 0);
}

}  // namespace
