// The pure parts of still images: sprite layout, sheet names, WebVTT text, snapshot
// times, output naming, request validation, and cover scoring on synthetic frames.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "../test_support.hpp"
#include "av/image.hpp"
#include "ops/cover.hpp"
#include "ops/sprite.hpp"
#include "ops/stills.hpp"
#include "spec/snapshots.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using namespace gopcast::ops;

TEST(SpriteLayout, SheetIsMarginsTilesAndPaddingExactly) {
  const SpriteLayout l = sprite_layout(7, 3, std::nullopt, 128, 72, 4, 6);
  EXPECT_EQ(l.rows, 3);
  EXPECT_EQ(l.sheets(), 1);
  EXPECT_EQ(l.sheet_width(), 6 + 3 * 128 + 2 * 4 + 6);
  EXPECT_EQ(l.sheet_height(), 6 + 3 * 72 + 2 * 4 + 6);
  EXPECT_EQ(l.rect(0), (TileRect{6, 6, 128, 72}));
  EXPECT_EQ(l.rect(4), (TileRect{6 + 132, 6 + 76, 128, 72}));
  EXPECT_EQ(l.rect(6), (TileRect{6, 6 + 2 * 76, 128, 72}));
  // The last tile's far edge plus the margin is the sheet's edge.
  const SpriteLayout full = sprite_layout(9, 3, 3, 10, 5, 2, 1);
  EXPECT_EQ(full.rect(8).x + 10 + 1, full.sheet_width());
  EXPECT_EQ(full.rect(8).y + 5 + 1, full.sheet_height());
}

TEST(SpriteLayout, TilesBeyondOneSheetGoOnNumberedSheets) {
  const SpriteLayout l = sprite_layout(10, 2, 2, 100, 50, 0, 0);
  EXPECT_EQ(l.sheets(), 3);
  EXPECT_EQ(l.sheet_of(3), 0);
  EXPECT_EQ(l.sheet_of(4), 1);
  EXPECT_EQ(l.rect(4), (TileRect{0, 0, 100, 50}));
  EXPECT_EQ(l.rect(9), (TileRect{100, 0, 100, 50}));
  const auto names = sheet_paths("/o/thumbs.jpg", 3);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], fs::path("/o/thumbs-1.jpg"));
  EXPECT_EQ(names[2], fs::path("/o/thumbs-3.jpg"));
  EXPECT_EQ(sheet_paths("/o/thumbs.jpg", 1), std::vector<fs::path>{"/o/thumbs.jpg"});
}

TEST(WebVtt, CuesAreContiguousAndNameTheirTile) {
  EXPECT_EQ(vtt_timestamp(0), "00:00:00.000");
  EXPECT_EQ(vtt_timestamp(3723004), "01:02:03.004");
  const SpriteLayout l = sprite_layout(3, 2, 1, 160, 90, 2, 0);
  const double d = 10.0;
  const auto cues = sprite_cues({0, d / 3, 2 * d / 3}, d, l, {"a-1.jpg", "a-2.jpg"});
  const std::string text = vtt_text(cues);
  EXPECT_EQ(text,
            "WEBVTT\n\n"
            "00:00:00.000 --> 00:00:03.333\na-1.jpg#xywh=0,0,160,90\n\n"
            "00:00:03.333 --> 00:00:06.667\na-1.jpg#xywh=162,0,160,90\n\n"
            "00:00:06.667 --> 00:00:10.000\na-2.jpg#xywh=0,0,160,90\n\n");
  EXPECT_EQ(vtt_url("/srv/out/sheet 1.jpg", "/srv/out/vtt/index.vtt"), "../sheet%201.jpg");
  EXPECT_EQ(vtt_url("/srv/out/s.jpg", "/srv/out/s.vtt"), "s.jpg");
}

TEST(SnapshotTimes, EveryAndCount) {
  SnapshotSpec s;
  s.every = 7;
  EXPECT_EQ(snapshot_times(s, 30.02), (std::vector<double>{0, 7, 14, 21, 28}));
  EXPECT_EQ(snapshot_times(s, 28.0), (std::vector<double>{0, 7, 14, 21}));
  s.every.reset();
  s.count = 4;
  EXPECT_EQ(snapshot_times(s, 8.0), (std::vector<double>{1, 3, 5, 7}));
  s.count.reset();
  s.every = 0.001;
  test::expect_error([&] { snapshot_times(s, 3600); }, ErrorCode::OutOfRange, {"every", "10000"});
}

TEST(SnapshotSpec, ValidationNamesTheOriginAndKey) {
  SnapshotSpec s;
  s.origin = "job.toml: snapshots[2]";
  s.path = "x.jpg";
  test::expect_error([&] { validate(s); }, ErrorCode::InvalidKey, {"snapshots[2]", "time"});
  s.count = 0;
  test::expect_error([&] { validate(s); }, ErrorCode::OutOfRange, {"snapshots[2]", "count", "0"});
  s.count = 3;
  s.width = 0;
  test::expect_error([&] { validate(s); }, ErrorCode::OutOfRange, {"width"});
  s.width.reset();
  s.times = {-1};
  s.count.reset();
  test::expect_error([&] { validate(s); }, ErrorCode::OutOfRange, {"-1", "negative"});
  s.times.clear();
  s.kind = SnapshotKind::Sprite;
  s.count = 4;
  test::expect_error([&] { validate(s); }, ErrorCode::OutOfRange, {"columns", "0"});
  s.columns = 2;
  validate(s);
  s.kind = SnapshotKind::Cover;
  test::expect_error([&] { validate(s); }, ErrorCode::InvalidKey, {"candidates"});
}

TEST(ImageTargets, PatternFolderOrOneFile) {
  test::TempDir d;
  const fs::path in = "/media/film.mp4";
  auto t = image_targets((d / "{name}-%03d.png").string(), in, 2, ImageFormat::Auto, "snapshot");
  EXPECT_EQ(t.files, (std::vector<fs::path>{d / "film-001.png", d / "film-002.png"}));
  EXPECT_EQ(t.format, ImageFormat::Png);
  t = image_targets((d / "100%%-%d.jpg").string(), in, 1, ImageFormat::Auto, "snapshot");
  EXPECT_EQ(t.files, std::vector<fs::path>{d / "100%-1.jpg"});
  t = image_targets(d.path.string(), in, 2, ImageFormat::Auto, "snapshot");
  EXPECT_EQ(t.files, (std::vector<fs::path>{d / "film-00001.jpg", d / "film-00002.jpg"}));
  EXPECT_EQ(t.format, ImageFormat::Jpg);
  t = image_targets((d / "one.jpeg").string(), in, 1, ImageFormat::Auto, "snapshot");
  EXPECT_EQ(t.files, std::vector<fs::path>{d / "one.jpeg"});
  test::expect_error([&] { image_targets((d / "one.jpg").string(), in, 2, ImageFormat::Auto, "snapshot"); }, ErrorCode::Usage,
                     {"%d"});
  test::expect_error([&] { image_targets((d / "a%d-%d.jpg").string(), in, 2, ImageFormat::Auto, "snapshot"); },
                     ErrorCode::InvalidKey, {"more than one"});
  test::expect_error([&] { image_targets((d / "a.gif").string(), in, 1, ImageFormat::Auto, "snapshot"); },
                     ErrorCode::OutOfRange, {".png"});
}

namespace {
RgbFrame frame(int w, int h, const std::function<std::array<uint8_t, 3>(int, int)>& px) {
  RgbFrame f;
  f.width = w;
  f.height = h;
  f.pixels.resize(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const auto c = px(x, y);
      std::copy(c.begin(), c.end(), f.pixels.begin() + (y * w + x) * 3);
    }
  return f;
}
// A detailed colourful picture: a hash pattern over smooth colour gradients, shifted by dx.
RgbFrame scene(int dx, int seed) {
  return frame(128, 72, [&](int x, int y) {
    const uint32_t h = static_cast<uint32_t>((x + dx) * 73856093u ^ y * 19349663u ^ static_cast<uint32_t>(seed) * 83492791u);
    const int n = static_cast<int>(h % 64);
    return std::array<uint8_t, 3>{static_cast<uint8_t>(40 + (x + dx) % 128 + n), static_cast<uint8_t>(60 + y + n / 2),
                                  static_cast<uint8_t>(200 - y - n)};
  });
}
RgbFrame mix(const RgbFrame& a, const RgbFrame& b, double t) {
  RgbFrame m = a;
  for (size_t i = 0; i < m.pixels.size(); ++i) m.pixels[i] = static_cast<uint8_t>(std::lround((1 - t) * a.pixels[i] + t * b.pixels[i]));
  return m;
}
}  // namespace

TEST(CoverScore, BlackIsWorthNothingAndDetailBeatsFlat) {
  const RgbFrame black = frame(128, 72, [](int, int) { return std::array<uint8_t, 3>{0, 0, 0}; });
  const CoverScore b = score_frame(black, black, black);
  EXPECT_EQ(b.exposure, 0);
  EXPECT_EQ(b.total, 0);
  const RgbFrame grey = frame(128, 72, [](int, int) { return std::array<uint8_t, 3>{128, 128, 128}; });
  const CoverScore g = score_frame(grey, grey, grey);
  EXPECT_EQ(g.exposure, 1);
  EXPECT_EQ(g.contrast, 0);
  EXPECT_EQ(g.sharpness, 0);
  EXPECT_NEAR(g.colour, 0, 1e-9);
  const RgbFrame a = scene(0, 1);
  const CoverScore s = score_frame(a, a, a);
  EXPECT_GT(s.total, 0.6);
  EXPECT_GT(s.total, g.total + 0.4);
  EXPECT_EQ(s.transition, 0);
  // Blurred (a 4-pixel box in x): less sharp, same exposure.
  RgbFrame blurred = a;
  for (int y = 0; y < 72; ++y)
    for (int x = 0; x + 3 < 128; ++x)
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int k = 0; k < 4; ++k) sum += a.pixels[static_cast<size_t>((y * 128 + x + k) * 3 + c)];
        blurred.pixels[static_cast<size_t>((y * 128 + x) * 3 + c)] = static_cast<uint8_t>(sum / 4);
      }
  EXPECT_LT(score_frame(blurred, blurred, blurred).sharpness, s.sharpness - 0.1);
  // A half-faded picture is a fade: its neighbours' mean.
  const CoverScore faded = score_frame(mix(a, black, 0.3), mix(a, black, 0.5), mix(a, black, 0.7));
  EXPECT_GT(faded.transition, 0.9);
  EXPECT_LT(faded.total, 0.1);
}

TEST(CoverScore, CrossFadesAreTransitionsButCutsAndMotionAreNot) {
  const RgbFrame a = scene(0, 1), b = scene(64, 2);
  const CoverScore cross = score_frame(mix(a, b, 0.25), mix(a, b, 0.5), mix(a, b, 0.75));
  EXPECT_GT(cross.transition, 0.9) << cross.change << " " << cross.residual;
  const CoverScore cut = score_frame(a, a, b);  // the frame is one side of a cut
  EXPECT_LT(cut.transition, 0.1);
  const CoverScore pan = score_frame(scene(0, 3), scene(6, 3), scene(12, 3));
  EXPECT_LT(pan.transition, 0.1);
  EXPECT_GT(pan.total, cross.total);
}

TEST(Image, QualityMapsOntoQscale) {
  EXPECT_EQ(av::jpeg_qscale(100), 2);
  EXPECT_EQ(av::jpeg_qscale(1), 31);
  EXPECT_EQ(av::jpeg_qscale(90), 5);
  // An encoded picture starts with the format's signature.
  const RgbFrame a = scene(0, 1);
  const std::string jpg = av::encode_image(a.pixels.data(), a.width, a.height, av::ImageCodec::Jpeg, 90);
  EXPECT_EQ(jpg.substr(0, 3), "\xFF\xD8\xFF");
  const std::string png = av::encode_image(a.pixels.data(), a.width, a.height, av::ImageCodec::Png, 90);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_LT(av::encode_image(a.pixels.data(), a.width, a.height, av::ImageCodec::Jpeg, 20).size(), jpg.size());
}
