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

// ---------------------------------------------------------------------------
// More geometry: each rule on its own, then invariants over many boxes.

namespace {
SizePlan plan(int src_w, int src_h, std::optional<int> w, std::optional<int> h, AspectMode mode = AspectMode::rescale,
              bool no_upscale = true, Ratio sar = {1, 1}, int rotation = 0, int align = 2) {
  SizeRequest r;
  r.width = src_w;
  r.height = src_h;
  r.sar = sar;
  r.rotation = rotation;
  r.want_width = w;
  r.want_height = h;
  r.aspect = mode;
  r.no_upscale = no_upscale;
  r.align_w = r.align_h = align;
  return plan_size(r);
}

::testing::AssertionResult is_size(const SizePlan& p, int w, int h) {
  if (p.width == w && p.height == h) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << p.width << "x" << p.height << " (picture " << p.scale_w << "x" << p.scale_h
                                       << "), expected " << w << "x" << h;
}
}  // namespace

TEST(PlanSizeRules, NoRequestKeepsTheStoredSizeUnscaled) {
  for (auto [w, h] : {std::pair{854, 480}, {853, 481}, {720, 576}, {1, 1}}) {
    auto p = plan(w, h, std::nullopt, std::nullopt);
    EXPECT_TRUE(is_size(p, w, h));
    EXPECT_EQ(p.scale_w, w);
    EXPECT_EQ(p.scale_h, h);
    EXPECT_FALSE(p.scaled);
    EXPECT_FALSE(p.crop);
    EXPECT_FALSE(p.pad);
  }
  // An anamorphic source is not squared when nothing is asked: its SAR is kept.
  auto p = plan(720, 576, std::nullopt, std::nullopt, AspectMode::rescale, true, {16, 15});
  EXPECT_TRUE(is_size(p, 720, 576));
  EXPECT_FALSE(p.scaled);
}

TEST(PlanSizeRules, OnlyWidth) {
  auto p = plan(854, 480, 640, std::nullopt);
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_TRUE(p.scaled);
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_FALSE(p.crop || p.pad);
  EXPECT_TRUE(is_size(plan(854, 480, 1280, std::nullopt), 854, 480));               // never enlarged
  EXPECT_TRUE(is_size(plan(854, 480, 1280, std::nullopt, AspectMode::rescale, false), 1280, 720));  // 719.4 -> 720
  EXPECT_TRUE(is_size(plan(1920, 1080, 1280, std::nullopt), 1280, 720));
  EXPECT_TRUE(is_size(plan(320, 240, 160, std::nullopt), 160, 120));
}

TEST(PlanSizeRules, OnlyHeight) {
  EXPECT_TRUE(is_size(plan(854, 480, std::nullopt, 360), 640, 360));
  EXPECT_TRUE(is_size(plan(854, 480, std::nullopt, 720), 854, 480));  // no_upscale: the source's size
  // 854 * 720 / 480 = 1281, rounded to the nearest even width with ties up (ffmpeg's
  // scale=-2:720 gives the same 1282).
  EXPECT_TRUE(is_size(plan(854, 480, std::nullopt, 720, AspectMode::rescale, false), 1282, 720));
  EXPECT_TRUE(is_size(plan(1920, 1080, std::nullopt, 720), 1280, 720));
  EXPECT_TRUE(is_size(plan(1920, 1080, std::nullopt, 1080), 1920, 1080));
}

TEST(PlanSizeRules, BoxRescaleFitsInside) {
  EXPECT_TRUE(is_size(plan(854, 480, 640, 640), 640, 360));   // width-limited
  EXPECT_TRUE(is_size(plan(854, 480, 1000, 300), 534, 300));  // height-limited: 533.75 -> 534
  EXPECT_TRUE(is_size(plan(1920, 1080, 1280, 1280), 1280, 720));
  EXPECT_TRUE(is_size(plan(854, 480, 1920, 1080), 854, 480));  // never enlarged
  EXPECT_TRUE(is_size(plan(854, 480, 1920, 1080, AspectMode::rescale, false), 1920, 1080));  // 1921.5 x 1080 -> width-limited
  auto p = plan(854, 480, 640, 640);
  EXPECT_FALSE(p.pad);
  EXPECT_FALSE(p.crop);
}

TEST(PlanSizeRules, BoxPadFillsTheBoxWithThePictureInside) {
  auto p = plan(1920, 1080, 640, 640, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 640, 640));
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_TRUE(p.pad);
  EXPECT_FALSE(p.crop);
  // Pillarbox: a 4:3 picture in a 16:9 box.
  p = plan(640, 480, 640, 360, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_EQ(p.scale_w, 480);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_TRUE(p.pad);
  // A small picture on a larger canvas: the canvas is the box, the picture is not enlarged.
  p = plan(854, 480, 1920, 1080, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 1920, 1080));
  EXPECT_EQ(p.scale_w, 854);
  EXPECT_EQ(p.scale_h, 480);
  EXPECT_TRUE(p.pad);
  // The same aspect as the box: nothing to pad.
  p = plan(1920, 1080, 1280, 720, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 1280, 720));
  EXPECT_FALSE(p.pad);
}

TEST(PlanSizeRules, BoxCropCoversTheBox) {
  auto p = plan(1920, 1080, 400, 400, AspectMode::crop);
  EXPECT_TRUE(is_size(p, 400, 400));
  EXPECT_EQ(p.scale_h, 400);
  EXPECT_EQ(p.scale_w, 712);  // 711.1 -> 712
  EXPECT_TRUE(p.crop);
  EXPECT_FALSE(p.pad);
  p = plan(640, 480, 640, 360, AspectMode::crop);  // cut top and bottom
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 480);
  EXPECT_TRUE(p.crop);
  p = plan(1920, 1080, 1280, 720, AspectMode::crop);  // nothing overflows
  EXPECT_TRUE(is_size(p, 1280, 720));
  EXPECT_FALSE(p.crop);
}

TEST(PlanSizeRules, BoxNoneStretches) {
  auto p = plan(1920, 1080, 640, 640, AspectMode::none);
  EXPECT_TRUE(is_size(p, 640, 640));
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 640);
  EXPECT_FALSE(p.crop || p.pad);
}

TEST(PlanSizeRules, BoxInvariantsOverManyBoxes) {
  const std::pair<int, int> sources[] = {{854, 480}, {1920, 1080}, {640, 480}, {480, 270}, {352, 288}, {1080, 1920}};
  const int sides[] = {16, 100, 240, 333, 360, 480, 641, 720, 1000, 1080, 1920};
  for (auto [sw, sh] : sources)
    for (int bw : sides)
      for (int bh : sides)
        for (bool no_upscale : {false, true}) {
          SCOPED_TRACE(::testing::Message() << sw << "x" << sh << " into " << bw << "x" << bh << " no_upscale=" << no_upscale);
          const double src_ar = static_cast<double>(sw) / sh;
          const int rbw = (bw + 1) / 2 * 2, rbh = (bh + 1) / 2 * 2;  // the box rounded like the results
          auto r = plan(sw, sh, bw, bh, AspectMode::rescale, no_upscale);
          EXPECT_LE(r.width, rbw);
          EXPECT_LE(r.height, rbh);
          EXPECT_TRUE(r.width >= rbw - 2 || r.height >= rbh - 2 || (no_upscale && r.width >= sw - 1))
              << "rescale does not touch the box: " << r.width << "x" << r.height;
          EXPECT_NEAR(static_cast<double>(r.width) / r.height, src_ar, src_ar * (2.0 / r.height + 2.0 / r.width) + 1e-9);
          auto p = plan(sw, sh, bw, bh, AspectMode::pad, no_upscale);
          EXPECT_EQ(p.width, rbw);
          EXPECT_EQ(p.height, rbh);
          EXPECT_LE(p.scale_w, p.width);
          EXPECT_LE(p.scale_h, p.height);
          EXPECT_EQ(p.pad, p.scale_w != p.width || p.scale_h != p.height);
          if (!no_upscale) {
            auto c = plan(sw, sh, bw, bh, AspectMode::crop, false);
            EXPECT_EQ(c.width, rbw);
            EXPECT_EQ(c.height, rbh);
            EXPECT_GE(c.scale_w, c.width);  // the picture covers the box
            EXPECT_GE(c.scale_h, c.height);
            EXPECT_TRUE(c.scale_w <= rbw + 2 || c.scale_h <= rbh + 2) << "crop cuts both axes";
          } else {
            EXPECT_LE(p.scale_w, sw + 1);  // never enlarged
            EXPECT_LE(p.scale_h, sh + 1);
            EXPECT_LE(r.width, sw + 1);
            EXPECT_LE(r.height, sh + 1);
          }
          for (const SizePlan* s : {&r, &p}) {
            EXPECT_EQ(s->width % 2, 0);
            EXPECT_EQ(s->height % 2, 0);
            EXPECT_EQ(s->scale_w % 2, 0);
            EXPECT_EQ(s->scale_h % 2, 0);
            EXPECT_GT(s->scale_w, 0);
            EXPECT_GT(s->scale_h, 0);
          }
        }
}

TEST(PlanSizeRules, AnamorphicSourcesUseTheDisplayAspect) {
  // PAL 4:3 (SAR 16:15): 720x576 displays as 768x576.
  EXPECT_TRUE(is_size(plan(720, 576, std::nullopt, 576, AspectMode::rescale, true, {16, 15}), 768, 576));
  EXPECT_TRUE(is_size(plan(720, 576, 384, std::nullopt, AspectMode::rescale, true, {16, 15}), 384, 288));
  // PAL 16:9 (SAR 64:45): displays as 1024x576.
  EXPECT_TRUE(is_size(plan(720, 576, 512, std::nullopt, AspectMode::rescale, true, {64, 45}), 512, 288));
  EXPECT_TRUE(is_size(plan(720, 576, 1024, std::nullopt, AspectMode::rescale, true, {64, 45}), 1024, 576));  // not an upscale
  EXPECT_TRUE(is_size(plan(720, 576, 1280, std::nullopt, AspectMode::rescale, true, {64, 45}), 1024, 576));
  EXPECT_TRUE(is_size(plan(720, 576, 640, 640, AspectMode::rescale, true, {64, 45}), 640, 360));
  // An invalid SAR (0/0, unknown) counts as square.
  EXPECT_TRUE(is_size(plan(720, 576, 360, std::nullopt, AspectMode::rescale, true, {0, 1}), 360, 288));
}

TEST(PlanSizeRules, RotationSwapsTheDisplayedSides) {
  // Stored 1280x720, turned 90 or 270: displayed 720x1280.
  for (int rot : {90, 270}) {
    SCOPED_TRACE(rot);
    EXPECT_TRUE(is_size(plan(1280, 720, std::nullopt, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));
    EXPECT_TRUE(is_size(plan(1280, 720, std::nullopt, 640, AspectMode::rescale, true, {1, 1}, rot), 360, 640));
    EXPECT_TRUE(is_size(plan(1280, 720, 1080, 1080, AspectMode::rescale, true, {1, 1}, rot), 608, 1080));  // 607.5 -> 608
    EXPECT_TRUE(is_size(plan(1280, 720, 720, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));
    EXPECT_TRUE(is_size(plan(1280, 720, 1000, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));  // capped
  }
  EXPECT_TRUE(is_size(plan(1280, 720, std::nullopt, 360, AspectMode::rescale, true, {1, 1}, 180), 640, 360));  // 180: no swap
  // Rotation and SAR together: the SAR stretches the stored width, which displays vertically.
  EXPECT_TRUE(is_size(plan(720, 576, std::nullopt, 512, AspectMode::rescale, true, {64, 45}, 90), 288, 512));
}

TEST(PlanSizeRules, ResultsAreRoundedToTheAlignment) {
  EXPECT_TRUE(is_size(plan(854, 480, 427, std::nullopt), 428, 240));  // 427 -> 428 (tie up)
  EXPECT_TRUE(is_size(plan(854, 480, 641, std::nullopt), 642, 360));  // 360.3 -> 360
  EXPECT_TRUE(is_size(plan(854, 480, 500, std::nullopt), 500, 282));  // 281.03 -> 282 (nearer than 280)
  EXPECT_TRUE(is_size(plan(854, 480, 427, std::nullopt, AspectMode::rescale, true, {1, 1}, 0, 1), 427, 240));  // 4:4:4
  auto p = plan(854, 480, 430, std::nullopt, AspectMode::rescale, true, {1, 1}, 0, 4);
  EXPECT_EQ(p.width % 4, 0);
  EXPECT_EQ(p.height % 4, 0);
  EXPECT_TRUE(is_size(p, 432, 240));  // 430/4 = 107.5 -> 108*4; 241.7/4 = 60.4 -> 240
  p = plan(854, 480, 16, std::nullopt);  // tiny, but never zero
  EXPECT_EQ(p.width, 16);
  EXPECT_GE(p.height, 2);
  EXPECT_EQ(p.height % 2, 0);
  p = plan(854, 480, 333, 333, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 334, 334));
}
