// Snapshots are the frames the ffmpeg tool decodes at the same times: the oracle is
// `ffmpeg -ss T -i FILE -frames:v 1 -pix_fmt rgb24`, never gopcast's own decoder.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "../test_support.hpp"
#include "ops/snapshot.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
const fs::path kMedia = fs::path(GOPCAST_SOURCE_DIR) / ".." / "shared" / "media";

// The picture the ffmpeg tool writes for `-ss t` (packed RGB), optionally scaled.
std::vector<uint8_t> ffmpeg_rgb(const fs::path& file, double t, const std::string& scale = "") {
  std::string cmd = fmt::format("ffmpeg -v error -nostdin -ss {} -i '{}' -frames:v 1 {} -f rawvideo -pix_fmt rgb24 -", t,
                                file.string(), scale.empty() ? "" : "-vf scale=" + scale);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::vector<uint8_t> out;
  uint8_t buf[65536];
  size_t n;
  while (pipe && (n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.insert(out.end(), buf, buf + n);
  return out;
}

double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) se += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return se == 0 ? INFINITY : 10 * std::log10(255.0 * 255.0 / (se / static_cast<double>(a.size())));
}

}  // namespace

TEST(SnapshotSize, FollowsTheDisplayAspectRatio) {
  using ops::snapshot_size;
  auto s = snapshot_size(854, 480, {1, 1}, {});
  EXPECT_EQ(s.width, 854);
  EXPECT_EQ(s.height, 480);
  s = snapshot_size(854, 480, {1, 1}, {320, std::nullopt});
  EXPECT_EQ(s.width, 320);
  EXPECT_EQ(s.height, 180);  // 320 * 480 / 854 = 179.86
  s = snapshot_size(854, 480, {1, 1}, {std::nullopt, 240});
  EXPECT_EQ(s.width, 427);
  // Anamorphic: 720x576 stored with 16:15 pixels shows as 768x576.
  s = snapshot_size(720, 576, {16, 15}, {std::nullopt, 576});
  EXPECT_EQ(s.width, 768);
  s = snapshot_size(720, 576, {16, 15}, {384, std::nullopt});
  EXPECT_EQ(s.height, 288);
  s = snapshot_size(854, 480, {1, 1}, {100, 100});
  EXPECT_EQ(s.width, 100);
  EXPECT_EQ(s.height, 100);
}

TEST(Snapshot, FramesAreThoseTheFfmpegToolDecodesAtEachTime) {
  const fs::path src = kMedia / "bbb-480p-30s.mp4";
  // Inside long GOPs (keyframes at 0, 10.4, 11.9, 15.75, 23.0 s), and on a keyframe.
  const std::vector<double> times = {14.02, 0.0, 3.3, 11.9, 29.9};
  auto frames = ops::grab_frames(src, times);
  ASSERT_EQ(frames.size(), times.size());
  for (size_t i = 0; i < times.size(); ++i) {
    SCOPED_TRACE(fmt::format("t = {}", times[i]));
    EXPECT_EQ(frames[i].width, 854);
    EXPECT_EQ(frames[i].height, 480);
    EXPECT_EQ(frames[i].requested, times[i]);
    EXPECT_GE(frames[i].seconds(), times[i] - 1e-9);
    EXPECT_LT(frames[i].seconds(), times[i] + 1.0 / 24 + 1e-9);
    const auto expected = ffmpeg_rgb(src, times[i]);
    ASSERT_EQ(frames[i].pixels.size(), expected.size());
    // The same frame through the same conversion: identical (a neighbouring frame would
    // still score 30-45 dB, so a PSNR bound could not tell).
    EXPECT_TRUE(frames[i].pixels == expected) << "PSNR " << psnr(frames[i].pixels, expected);
  }
}

TEST(Snapshot, OrderAndRepeatsDoNotChangeThePictures) {
  const fs::path src = kMedia / "me-other-480p.mp4";
  auto one = ops::grab_frames(src, {5.5});
  auto many = ops::grab_frames(src, {9.0, 5.5, 1.0, 5.5});
  ASSERT_EQ(many.size(), 4u);
  EXPECT_EQ(many[1].pixels, one[0].pixels);
  EXPECT_EQ(many[3].pixels, one[0].pixels);
  EXPECT_EQ(many[1].pts, one[0].pts);
  EXPECT_NE(many[0].pixels, many[2].pixels);
}

TEST(Snapshot, ScalesKeepingTheAspectRatioAsTheFfmpegToolDoes) {
  const fs::path src = kMedia / "me-grampa-vp6.flv";  // 352x288, VP6 in FLV (1 ms time base)
  auto frames = ops::grab_frames(src, {3.0}, {{176, std::nullopt}});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].width, 176);
  EXPECT_EQ(frames[0].height, 144);
  EXPECT_GT(psnr(frames[0].pixels, ffmpeg_rgb(src, 3.0, "176:144:flags=bicubic")), 40.0);
}

TEST(Snapshot, ATimeAfterTheLastFrameGivesTheLastFrame) {
  const fs::path src = kMedia / "me-other-480p.mp4";
  const double duration = probe(src).duration;
  auto frames = ops::grab_frames(src, {duration});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_LE(frames[0].seconds(), duration);
  EXPECT_GT(frames[0].seconds(), duration - 0.2);
}

TEST(Snapshot, ErrorsNameTheFileAndTheValue) {
  const fs::path src = kMedia / "bbb-480p-30s.mp4";
  test::expect_error([&] { ops::grab_frames(src, {-1.0}); }, ErrorCode::OutOfRange, {"bbb-480p-30s.mp4", "-1"});
  test::expect_error([&] { ops::grab_frames(src, {31.0}); }, ErrorCode::OutOfRange, {"31", "30.0"});
  test::expect_error([&] { ops::grab_frames(src, {NAN}); }, ErrorCode::OutOfRange);
  test::expect_error([&] { ops::grab_frames(src, {1.0}, {{0, std::nullopt}}); }, ErrorCode::OutOfRange, {"width", "0"});
  test::expect_error([&] { ops::grab_frames(kMedia / "nope.mp4", {1.0}); }, ErrorCode::ResourceNotFound, {"nope.mp4"});
  test::expect_error([&] { ops::grab_frames(src, {1.0}, {{}, "0:v:3"}); }, ErrorCode::StreamNotFound, {"0:v:3"});
  test::TempDir dir;
  const fs::path audio = dir / "tone.mp3";
  ASSERT_EQ(std::system(("ffmpeg -v error -nostdin -f lavfi -i sine=d=1 '" + audio.string() + "'").c_str()), 0);
  test::expect_error([&] { ops::grab_frames(audio, {0.5}); }, ErrorCode::StreamNotFound, {"no video stream"});
}

TEST(Snapshot, CancelStopsIt) {
  std::atomic<bool> cancel{true};
  ops::SnapshotOptions options;
  options.cancel = &cancel;
  test::expect_error([&] { ops::grab_frames(kMedia / "bbb-480p-30s.mp4", {20.0}, options); }, ErrorCode::Cancelled);
}
