#include <gtest/gtest.h>

#include <functional>

#include "core/error.hpp"
#include "plan/output.hpp"

using namespace gopcast;
using namespace gopcast::plan;

// ---------------------------------------------------------------------------
// More geometry: each rule on its own, then invariants over many boxes.

namespace {
SizePlan size_of(int src_w, int src_h, std::optional<int> w, std::optional<int> h, AspectMode mode = AspectMode::rescale,
              bool no_upscale = true, Rational sar = {1, 1}, int rotation = 0, int align = 2) {
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
    auto p = size_of(w, h, std::nullopt, std::nullopt);
    EXPECT_TRUE(is_size(p, w, h));
    EXPECT_EQ(p.scale_w, w);
    EXPECT_EQ(p.scale_h, h);
    EXPECT_FALSE(p.scaled);
    EXPECT_FALSE(p.crop);
    EXPECT_FALSE(p.pad);
  }
  // An anamorphic source is not squared when nothing is asked: its SAR is kept.
  auto p = size_of(720, 576, std::nullopt, std::nullopt, AspectMode::rescale, true, {16, 15});
  EXPECT_TRUE(is_size(p, 720, 576));
  EXPECT_FALSE(p.scaled);
}

TEST(PlanSizeRules, OnlyWidth) {
  auto p = size_of(854, 480, 640, std::nullopt);
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_TRUE(p.scaled);
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_FALSE(p.crop || p.pad);
  EXPECT_TRUE(is_size(size_of(854, 480, 1280, std::nullopt), 854, 480));               // never enlarged
  EXPECT_TRUE(is_size(size_of(854, 480, 1280, std::nullopt, AspectMode::rescale, false), 1280, 720));  // 719.4 -> 720
  EXPECT_TRUE(is_size(size_of(1920, 1080, 1280, std::nullopt), 1280, 720));
  EXPECT_TRUE(is_size(size_of(320, 240, 160, std::nullopt), 160, 120));
}

TEST(PlanSizeRules, OnlyHeight) {
  EXPECT_TRUE(is_size(size_of(854, 480, std::nullopt, 360), 640, 360));
  EXPECT_TRUE(is_size(size_of(854, 480, std::nullopt, 720), 854, 480));  // no_upscale: the source's size
  // 854 * 720 / 480 = 1281, rounded to the nearest even width with ties up (ffmpeg's
  // scale=-2:720 gives the same 1282).
  EXPECT_TRUE(is_size(size_of(854, 480, std::nullopt, 720, AspectMode::rescale, false), 1282, 720));
  EXPECT_TRUE(is_size(size_of(1920, 1080, std::nullopt, 720), 1280, 720));
  EXPECT_TRUE(is_size(size_of(1920, 1080, std::nullopt, 1080), 1920, 1080));
}

TEST(PlanSizeRules, BoxRescaleFitsInside) {
  EXPECT_TRUE(is_size(size_of(854, 480, 640, 640), 640, 360));   // width-limited
  EXPECT_TRUE(is_size(size_of(854, 480, 1000, 300), 534, 300));  // height-limited: 533.75 -> 534
  EXPECT_TRUE(is_size(size_of(1920, 1080, 1280, 1280), 1280, 720));
  EXPECT_TRUE(is_size(size_of(854, 480, 1920, 1080), 854, 480));  // never enlarged
  EXPECT_TRUE(is_size(size_of(854, 480, 1920, 1080, AspectMode::rescale, false), 1920, 1080));  // 1921.5 x 1080 -> width-limited
  auto p = size_of(854, 480, 640, 640);
  EXPECT_FALSE(p.pad);
  EXPECT_FALSE(p.crop);
}

TEST(PlanSizeRules, BoxPadFillsTheBoxWithThePictureInside) {
  auto p = size_of(1920, 1080, 640, 640, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 640, 640));
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_TRUE(p.pad);
  EXPECT_FALSE(p.crop);
  // Pillarbox: a 4:3 picture in a 16:9 box.
  p = size_of(640, 480, 640, 360, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_EQ(p.scale_w, 480);
  EXPECT_EQ(p.scale_h, 360);
  EXPECT_TRUE(p.pad);
  // A small picture on a larger canvas: the canvas is the box, the picture is not enlarged.
  p = size_of(854, 480, 1920, 1080, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 1920, 1080));
  EXPECT_EQ(p.scale_w, 854);
  EXPECT_EQ(p.scale_h, 480);
  EXPECT_TRUE(p.pad);
  // The same aspect as the box: nothing to pad.
  p = size_of(1920, 1080, 1280, 720, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 1280, 720));
  EXPECT_FALSE(p.pad);
}

TEST(PlanSizeRules, BoxCropCoversTheBox) {
  auto p = size_of(1920, 1080, 400, 400, AspectMode::crop);
  EXPECT_TRUE(is_size(p, 400, 400));
  EXPECT_EQ(p.scale_h, 400);
  EXPECT_EQ(p.scale_w, 712);  // 711.1 -> 712
  EXPECT_TRUE(p.crop);
  EXPECT_FALSE(p.pad);
  p = size_of(640, 480, 640, 360, AspectMode::crop);  // cut top and bottom
  EXPECT_TRUE(is_size(p, 640, 360));
  EXPECT_EQ(p.scale_w, 640);
  EXPECT_EQ(p.scale_h, 480);
  EXPECT_TRUE(p.crop);
  p = size_of(1920, 1080, 1280, 720, AspectMode::crop);  // nothing overflows
  EXPECT_TRUE(is_size(p, 1280, 720));
  EXPECT_FALSE(p.crop);
}

TEST(PlanSizeRules, BoxNoneStretches) {
  auto p = size_of(1920, 1080, 640, 640, AspectMode::none);
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
          auto r = size_of(sw, sh, bw, bh, AspectMode::rescale, no_upscale);
          EXPECT_LE(r.width, rbw);
          EXPECT_LE(r.height, rbh);
          EXPECT_TRUE(r.width >= rbw - 2 || r.height >= rbh - 2 || (no_upscale && r.width >= sw - 1))
              << "rescale does not touch the box: " << r.width << "x" << r.height;
          EXPECT_NEAR(static_cast<double>(r.width) / r.height, src_ar, src_ar * (2.0 / r.height + 2.0 / r.width) + 1e-9);
          auto p = size_of(sw, sh, bw, bh, AspectMode::pad, no_upscale);
          EXPECT_EQ(p.width, rbw);
          EXPECT_EQ(p.height, rbh);
          EXPECT_LE(p.scale_w, p.width);
          EXPECT_LE(p.scale_h, p.height);
          EXPECT_EQ(p.pad, p.scale_w != p.width || p.scale_h != p.height);
          if (!no_upscale) {
            auto c = size_of(sw, sh, bw, bh, AspectMode::crop, false);
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
  EXPECT_TRUE(is_size(size_of(720, 576, std::nullopt, 576, AspectMode::rescale, true, {16, 15}), 768, 576));
  EXPECT_TRUE(is_size(size_of(720, 576, 384, std::nullopt, AspectMode::rescale, true, {16, 15}), 384, 288));
  // PAL 16:9 (SAR 64:45): displays as 1024x576.
  EXPECT_TRUE(is_size(size_of(720, 576, 512, std::nullopt, AspectMode::rescale, true, {64, 45}), 512, 288));
  EXPECT_TRUE(is_size(size_of(720, 576, 1024, std::nullopt, AspectMode::rescale, true, {64, 45}), 1024, 576));  // not an upscale
  EXPECT_TRUE(is_size(size_of(720, 576, 1280, std::nullopt, AspectMode::rescale, true, {64, 45}), 1024, 576));
  EXPECT_TRUE(is_size(size_of(720, 576, 640, 640, AspectMode::rescale, true, {64, 45}), 640, 360));
  // An invalid SAR (0/0, unknown) counts as square.
  EXPECT_TRUE(is_size(size_of(720, 576, 360, std::nullopt, AspectMode::rescale, true, {0, 1}), 360, 288));
}

TEST(PlanSizeRules, RotationSwapsTheDisplayedSides) {
  // Stored 1280x720, turned 90 or 270: displayed 720x1280.
  for (int rot : {90, 270}) {
    SCOPED_TRACE(rot);
    EXPECT_TRUE(is_size(size_of(1280, 720, std::nullopt, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));
    EXPECT_TRUE(is_size(size_of(1280, 720, std::nullopt, 640, AspectMode::rescale, true, {1, 1}, rot), 360, 640));
    EXPECT_TRUE(is_size(size_of(1280, 720, 1080, 1080, AspectMode::rescale, true, {1, 1}, rot), 608, 1080));  // 607.5 -> 608
    EXPECT_TRUE(is_size(size_of(1280, 720, 720, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));
    EXPECT_TRUE(is_size(size_of(1280, 720, 1000, std::nullopt, AspectMode::rescale, true, {1, 1}, rot), 720, 1280));  // capped
  }
  EXPECT_TRUE(is_size(size_of(1280, 720, std::nullopt, 360, AspectMode::rescale, true, {1, 1}, 180), 640, 360));  // 180: no swap
  // Rotation and SAR together: the SAR stretches the stored width, which displays vertically.
  EXPECT_TRUE(is_size(size_of(720, 576, std::nullopt, 512, AspectMode::rescale, true, {64, 45}, 90), 288, 512));
}

TEST(PlanSizeRules, ResultsAreRoundedToTheAlignment) {
  EXPECT_TRUE(is_size(size_of(854, 480, 427, std::nullopt), 428, 240));  // 427 -> 428 (tie up)
  EXPECT_TRUE(is_size(size_of(854, 480, 641, std::nullopt), 642, 360));  // 360.3 -> 360
  EXPECT_TRUE(is_size(size_of(854, 480, 500, std::nullopt), 500, 282));  // 281.03 -> 282 (nearer than 280)
  EXPECT_TRUE(is_size(size_of(854, 480, 427, std::nullopt, AspectMode::rescale, true, {1, 1}, 0, 1), 427, 240));  // 4:4:4
  auto p = size_of(854, 480, 430, std::nullopt, AspectMode::rescale, true, {1, 1}, 0, 4);
  EXPECT_EQ(p.width % 4, 0);
  EXPECT_EQ(p.height % 4, 0);
  EXPECT_TRUE(is_size(p, 432, 240));  // 430/4 = 107.5 -> 108*4; 241.7/4 = 60.4 -> 240
  p = size_of(854, 480, 16, std::nullopt);  // tiny, but never zero
  EXPECT_EQ(p.width, 16);
  EXPECT_GE(p.height, 2);
  EXPECT_EQ(p.height % 2, 0);
  p = size_of(854, 480, 333, 333, AspectMode::pad);
  EXPECT_TRUE(is_size(p, 334, 334));
}
