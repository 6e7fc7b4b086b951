#include <gtest/gtest.h>

#include <functional>

#include "core/error.hpp"
#include "engine/resolve.hpp"

using namespace gopcast;
using namespace gopcast::engine;

namespace {
SizePlan size(std::optional<int> w, std::optional<int> h, AspectMode mode = AspectMode::rescale, bool no_upscale = true,
              int src_w = 854, int src_h = 480, Ratio sar = {1, 1}, int rotation = 0) {
  SizeRequest r;
  r.width = src_w;
  r.height = src_h;
  r.sar = sar;
  r.rotation = rotation;
  r.want_width = w;
  r.want_height = h;
  r.aspect = mode;
  r.no_upscale = no_upscale;
  return plan_size(r);
}

StreamInfo video_src(int w = 854, int h = 480, const char* pix_fmt = "yuv420p") {
  StreamInfo s;
  s.type = "video";
  s.codec = "h264";
  s.width = w;
  s.height = h;
  s.sample_aspect_ratio = Ratio{1, 1};
  s.avg_frame_rate = s.real_frame_rate = Ratio{24, 1};
  s.pix_fmt = pix_fmt;
  s.bit_rate = 900000;
  return s;
}

StreamInfo audio_src(int channels = 6, int rate = 48000) {
  StreamInfo s;
  s.type = "audio";
  s.codec = "aac";
  s.sample_rate = rate;
  s.channels = channels;
  s.sample_fmt = "fltp";
  s.bit_rate = 192000;
  return s;
}

Template with(std::function<void(Template&)> f) {
  Template t;
  t.name = "t";
  f(t);
  return t;
}
}  // namespace

TEST(PlanSize, NothingAskedKeepsTheSource) {
  auto p = size(std::nullopt, std::nullopt);
  EXPECT_FALSE(p.scaled);
  EXPECT_EQ(p.width, 854);
  EXPECT_EQ(p.height, 480);
}

TEST(PlanSize, OneSideFollowsTheAspectRatio) {
  auto p = size(640, std::nullopt);
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 360);
  p = size(std::nullopt, 270);
  EXPECT_EQ(p.width, 480);
  EXPECT_EQ(p.height, 270);
  p = size(std::nullopt, 720);  // never enlarged
  EXPECT_EQ(p.width, 854);
  EXPECT_EQ(p.height, 480);
  p = size(std::nullopt, 720, AspectMode::rescale, false);
  EXPECT_EQ(p.width, 1282);  // 1281 rounds to even like ffmpeg's scale=-2:720
  EXPECT_EQ(p.height, 720);
}

TEST(PlanSize, BoxModes) {
  auto p = size(640, 640, AspectMode::rescale);
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 360);
  p = size(640, 640, AspectMode::pad);
  EXPECT_TRUE(p.pad);
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 640);
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 360);
  p = size(400, 400, AspectMode::crop);
  EXPECT_TRUE(p.crop);
  EXPECT_EQ(p.width, 400);
  EXPECT_EQ(p.height, 400);
  EXPECT_EQ(p.scale_h, 400);
  EXPECT_EQ(p.scale_w, 712);  // 400 * 854/480 = 711.7
  p = size(640, 640, AspectMode::crop);  // covering 640 high would enlarge a 480-line picture
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 480);
  p = size(640, 640, AspectMode::crop, false);
  EXPECT_EQ(p.height, 640);
  p = size(640, 640, AspectMode::none);
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 480);
  p = size(640, 640, AspectMode::none, false);
  EXPECT_EQ(p.height, 640);
}

TEST(PlanSize, AnamorphicAndRotatedSources) {
  // DVD PAL 16:9: 720x576 with SAR 64:45 displays as 1024x576.
  auto p = size(std::nullopt, 576, AspectMode::rescale, true, 720, 576, {64, 45});
  EXPECT_EQ(p.width, 1024);
  EXPECT_EQ(p.height, 576);
  // A phone video stored 1280x720, rotated 90: displays 720x1280.
  p = size(360, std::nullopt, AspectMode::rescale, true, 1280, 720, {1, 1}, 90);
  EXPECT_EQ(p.width, 360);
  EXPECT_EQ(p.height, 640);
  p = size(std::nullopt, std::nullopt, AspectMode::rescale, true, 1280, 720, {1, 1}, 270);
  EXPECT_EQ(p.width, 720);
  EXPECT_EQ(p.height, 1280);
}

TEST(PlanSize, ResultsAreAligned) {
  auto p = size(427, std::nullopt);
  EXPECT_EQ(p.width % 2, 0);
  EXPECT_EQ(p.height % 2, 0);
}

TEST(PlanOutput, ContainerCodecCompatibility) {
  auto v = video_src();
  auto a = audio_src();
  EXPECT_THROW(plan_output(with([](Template& t) {
                             t.container = Container::flv;
                             t.video.codec = VideoCodec::h265;
                           }),
                           &v, &a, "in"),
               SpecError);
  EXPECT_THROW(plan_output(with([](Template& t) { t.container = Container::gif; }), &v, &a, "in"), SpecError);
  try {
    plan_output(with([](Template& t) {
                  t.container = Container::gif;
                  t.video.codec = VideoCodec::gif;
                }),
                nullptr, &a, "song.mp3");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::ResourceContentBad);
  }
  auto p = plan_output(with([](Template& t) {
                         t.container = Container::mp3;
                         t.audio.codec = AudioCodec::mp3;
                       }),
                       &v, &a, "in");
  EXPECT_FALSE(p.video.present);  // audio-only containers drop the picture
  EXPECT_EQ(p.audio.encoder, "libmp3lame");
  EXPECT_EQ(p.audio.channels, 2);  // 5.1 downmixed by default
}

TEST(PlanOutput, PixelFormatRules) {
  auto pix = [](const char* src_fmt, std::string want, std::string profile) {
    auto v = video_src(854, 480, src_fmt);
    return plan_output(with([&](Template& t) {
                         t.video.pix_fmt = want;
                         t.video.profile = profile;
                       }),
                       &v, nullptr, "in")
        .video.pix_fmt;
  };
  EXPECT_EQ(pix("yuv422p", "", ""), "yuv422p");       // empty: the source's
  EXPECT_EQ(pix("yuv420p", "yuv444p", ""), "yuv444p");  // valid: used
  EXPECT_EQ(pix("yuv420p", "yuv444p", "high"), "yuv420p");  // not in the profile: fallback
  EXPECT_EQ(pix("yuv420p", "rgb24", ""), "yuv420p");         // not an x264 format: fallback
  EXPECT_THROW(pix("yuv420p", "yuv999p", ""), SpecError);    // not a pixel format at all
}

TEST(PlanOutput, AudioRatesBitratesAndHlsGrid) {
  auto v = video_src();
  auto a = audio_src(6, 48000);
  try {
    plan_output(with([](Template& t) {
                  t.container = Container::mp3;
                  t.audio.codec = AudioCodec::mp3;
                  t.audio.sample_rate = 12345;
                }),
                &v, &a, "in");
    FAIL();
  } catch (const SpecError& e) {
    EXPECT_EQ(e.code(), ErrorCode::OutOfRange);
    EXPECT_NE(std::string(e.what()).find("audio.sample_rate"), std::string::npos);
  }
  auto p = plan_output(with([](Template& t) {
                         t.container = Container::m3u8;
                         t.mux.hls_segment_seconds = 4;
                         t.video.bitrate = 5000;
                         t.trans.cap_video_bitrate = true;
                         t.audio.bitrate = 320;
                         t.trans.cap_audio_bitrate = true;
                       }),
                       &v, &a, "in");
  EXPECT_DOUBLE_EQ(p.video.keyframe_grid, 4.0);
  EXPECT_EQ(p.video.bitrate, 900);  // capped at the source's 900 kbit/s
  EXPECT_EQ(p.audio.bitrate, 192);
  auto wma = audio_src(1, 16000);
  auto mp3 = plan_output(with([](Template& t) {
                           t.container = Container::mp3;
                           t.audio.codec = AudioCodec::mp3;
                         }),
                         nullptr, &wma, "in");
  EXPECT_EQ(mp3.audio.sample_rate, 16000);  // LAME takes 16 kHz
  EXPECT_EQ(mp3.audio.channels, 1);
}
