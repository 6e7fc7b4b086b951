// The pure parts of watermarks and logo removal: lengths, sizes and places on the
// frame, time windows, filter-graph escaping, the filter text, and the readers of job
// tables, watermark templates and command-line options.
#include <gtest/gtest.h>

#include "av/filter_graph.hpp"
#include "ops/watermark.hpp"
#include "spec/catalog.hpp"
#include "spec/watermark.hpp"

using namespace gopcast;
using namespace gopcast::ops;

namespace {
WatermarkSpec mark(MarkPosition p, Length dx = {}, Length dy = {}) {
  WatermarkSpec w;
  w.image = "logo.png";
  w.position = p;
  w.dx = dx;
  w.dy = dy;
  return w;
}

}  // namespace

TEST(WatermarkGeometry, CornersAndCentreWithPixelAndPercentOffsets) {
  EXPECT_EQ(place(mark(MarkPosition::top_left, {16}, {8}), 640, 360, 64, 32), (Rect{16, 8, 64, 32}));
  EXPECT_EQ(place(mark(MarkPosition::top_right, {16}, {8}), 640, 360, 64, 32), (Rect{640 - 64 - 16, 8, 64, 32}));
  EXPECT_EQ(place(mark(MarkPosition::bottom_left, {16}, {8}), 640, 360, 64, 32), (Rect{16, 360 - 32 - 8, 64, 32}));
  EXPECT_EQ(place(mark(MarkPosition::bottom_right), 640, 360, 64, 32), (Rect{576, 328, 64, 32}));
  EXPECT_EQ(place(mark(MarkPosition::centre), 640, 360, 64, 32), (Rect{288, 164, 64, 32}));
  // 2% of 640 = 12.8 and 5% of 360 = 18: positions round down to even pixels.
  EXPECT_EQ(place(mark(MarkPosition::top_left, {2, true}, {5, true}), 640, 360, 64, 32), (Rect{12, 18, 64, 32}));
  EXPECT_EQ(place(mark(MarkPosition::top_right, {3}, {3}), 640, 360, 63, 31), (Rect{574, 2, 63, 31}));
}

TEST(WatermarkGeometry, OffsetsThatPushTheMarkOutAreErrors) {
  try {
    place(mark(MarkPosition::top_left, {600}), 640, 360, 64, 32);
    FAIL();
  } catch (const SpecError& e) {
    EXPECT_EQ(e.code(), ErrorCode::OutOfRange);
    EXPECT_NE(std::string(e.what()).find("outside the 640x360 output frame"), std::string::npos) << e.what();
  }
  EXPECT_THROW(place(mark(MarkPosition::centre, {300}), 640, 360, 64, 32), SpecError);
}

TEST(WatermarkGeometry, SizeKeepsTheAspectWhenOneSideIsGiven) {
  WatermarkSpec w = mark(MarkPosition::top_left);
  EXPECT_EQ(image_size(w, 640, 360, 200, 100), (Rect{0, 0, 200, 100}));  // its own size
  w.width = Length{10, true};                                            // 64 px wide
  EXPECT_EQ(image_size(w, 640, 360, 200, 100), (Rect{0, 0, 64, 32}));
  w.width.reset();
  w.height = Length{50};
  EXPECT_EQ(image_size(w, 640, 360, 200, 100), (Rect{0, 0, 100, 50}));
  w.width = Length{30};  // both: as given
  EXPECT_EQ(image_size(w, 640, 360, 200, 100), (Rect{0, 0, 30, 50}));
  WatermarkSpec big = mark(MarkPosition::top_left);
  EXPECT_THROW(image_size(big, 640, 360, 1000, 10), SpecError);
}

TEST(WatermarkTiming, WindowIsStartToStartPlusDurationOnTheInputTimeline) {
  EXPECT_EQ(enable_expression(std::nullopt, std::nullopt, 30, "w"), "");
  EXPECT_EQ(enable_expression(8.0, 15.0, 30, "w"), "gte(t,8)*lt(t,23)");
  EXPECT_EQ(enable_expression(2.5, std::nullopt, 30, "w"), "gte(t,2.5)");
  EXPECT_EQ(enable_expression(std::nullopt, 1.0, 30, "w"), "gte(t,0)*lt(t,1)");
  EXPECT_THROW(enable_expression(30.0, 1.0, 30, "w"), SpecError);
  EXPECT_NO_THROW(enable_expression(100.0, 1.0, 0, "w"));  // unknown duration: not checked
}

TEST(WatermarkFilters, ValuesSurviveBothParsersUnchanged) {
  for (std::string v : {"plain", "it's: a [logo], v1; 50%", "back\\slash", "  spaced  ", "'", "a'b'c", "if(gte(t,1),2,3)"})
    EXPECT_EQ(av::read_filter_value(av::filter_value(v)), v) << av::filter_value(v);
}

TEST(WatermarkFilters, ImagesOverlayInOrderTextIsDrawnDelogoComesFirst) {
  OutputMarks m;
  m.watermarks.push_back(mark(MarkPosition::top_left, {16}, {16}));
  m.watermarks.back().start = 8;
  m.watermarks.back().duration = 15;
  WatermarkSpec text;
  text.text = "hi";
  text.position = MarkPosition::bottom_right;
  text.dx = {10};
  text.dy = {10};
  m.watermarks.push_back(text);
  m.delogo.push_back(DelogoSpec{10, 20, 30, 40, 1.0, 2.0, "d"});
  std::vector<PlacedMark> placed{{&m.watermarks[0], Rect{16, 16, 64, 32}, ""}, {&m.watermarks[1], {}, "/f.ttf"}};
  MarkFilters f = build_filters(m, placed, 640, 360, 1280, 720, 30, "yuv420p");
  ASSERT_EQ(f.pre.size(), 1u);
  EXPECT_EQ(f.pre[0], "delogo=x=10:y=20:w=30:h=40:enable=" + av::filter_value("gte(t,1)*lt(t,3)"));
  ASSERT_EQ(f.images.size(), 1u);
  EXPECT_EQ(f.images[0].path, "logo.png");
  EXPECT_EQ(f.images[0].label, image_label(0));
  EXPECT_EQ(image_label(0), "wm0");
  EXPECT_NE(f.post.find("[wm0]scale=w=64:h=32"), std::string::npos) << f.post;
  EXPECT_NE(f.post.find("overlay=x=" + av::filter_value("if(gte(t,8)*lt(t,23),16,1048576)") + ":y=16:format=yuv420"),
            std::string::npos) << f.post;
  EXPECT_NE(f.post.find("drawtext=fontfile=" + av::filter_value("/f.ttf")), std::string::npos) << f.post;
  EXPECT_NE(f.post.find(":x=" + av::filter_value("w-tw-10") + ":y=" + av::filter_value("h-th-10")), std::string::npos) << f.post;
  EXPECT_TRUE(f.post.starts_with("null[wmv0];")) << f.post;
  EXPECT_TRUE(f.post.ends_with(";[wmv2]null")) << f.post;
  // A delogo rectangle must lie inside the source picture.
  m.delogo[0] = DelogoSpec{1270, 0, 20, 10, {}, {}, "d"};
  EXPECT_THROW(build_filters(m, placed, 640, 360, 1280, 720, 30, "yuv420p"), SpecError);
}

TEST(WatermarkFilters, OverlayWorksInTheOutputsOwnFormat) {
  EXPECT_EQ(overlay_format("yuv420p"), "yuv420");
  EXPECT_EQ(overlay_format("yuv420p10le"), "yuv420p10");
  EXPECT_EQ(overlay_format("yuv422p"), "yuv422");
  EXPECT_EQ(overlay_format("yuv444p"), "yuv444");
}

TEST(WatermarkSpecs, CommandLineItemsBecomeTableValues) {
  toml::table t = parse_mark_option("a\\,b.png,position=top-right,dx=2%,dy=16,width=10.5%,start=8,duration=1.5", "image");
  EXPECT_EQ(t["image"].value<std::string>(), "a,b.png");
  EXPECT_EQ(t["position"].value<std::string>(), "top-right");
  EXPECT_EQ(t["dx"].value<std::string>(), "2%");
  EXPECT_EQ(t["dy"].value<int64_t>(), 16);
  EXPECT_EQ(t["start"].value<int64_t>(), 8);
  EXPECT_EQ(t["duration"].value<double>(), 1.5);
  toml::table x = parse_mark_option("2024,size=20,color=white", "text");
  EXPECT_EQ(x["text"].value<std::string>(), "2024");  // text stays text
  EXPECT_EQ(x["font_size"].value<int64_t>(), 20);
  EXPECT_THROW(parse_mark_option("logo.png,oops", "image"), SpecError);
  toml::table d = parse_delogo_option("10,20,30,40,1.5,2");
  EXPECT_EQ(d["w"].value<int64_t>(), 30);
  EXPECT_EQ(d["start"].value<double>(), 1.5);
  EXPECT_THROW(parse_delogo_option("10,20,30"), SpecError);
}

TEST(WatermarkSpecs, TemplatesGiveDefaultsThatTheJobOverrides) {
  const Catalog catalog({std::filesystem::path(GOPCAST_SOURCE_DIR) / "templates"});
  toml::table t{{"template", "corner-logo"}, {"image", "logo.png"}, {"dy", 4}, {"start", 8}};
  spec::TableReader r(&t, "outputs[0].watermarks[0]", "job.toml");
  WatermarkSpec w = read_watermark(r, "job.toml: outputs[0].watermarks[0]", "/jobs", catalog);
  EXPECT_EQ(w.position, MarkPosition::top_right);
  EXPECT_EQ(w.dx, (Length{2, true}));
  EXPECT_EQ(w.dy, (Length{4, false}));
  EXPECT_EQ(w.width, (Length{12, true}));
  EXPECT_EQ(w.image, "/jobs/logo.png");
  EXPECT_EQ(w.start, 8.0);
  // The table written back stands alone (the template's values spelled out).
  toml::table back = watermark_to_table(w);
  EXPECT_EQ(back["position"].value<std::string>(), "top-right");
  EXPECT_EQ(back["width"].value<std::string>(), "12%");

  auto code_of = [&](toml::table bad) {
    spec::TableReader br(&bad, "w", "job.toml");
    try {
      read_watermark(br, "job.toml: w", "/jobs", catalog);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Internal;
  };
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"position", "middle"}}), ErrorCode::OutOfRange);
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"dx", -3}}), ErrorCode::OutOfRange);
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"dx", "12px"}}), ErrorCode::InvalidKey);
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"text", "b"}}), ErrorCode::InvalidKey);
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"template", "no-such"}}), ErrorCode::TemplateNotFound);
  EXPECT_EQ(code_of(toml::table{{"image", "a.png"}, {"colour", "red"}}), ErrorCode::InvalidKey);
}
