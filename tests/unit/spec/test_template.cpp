#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "spec/catalog.hpp"
#include "spec/job.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("gopcast-spec-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

Catalog shipped() { return Catalog({fs::path(GOPCAST_SOURCE_DIR) / "templates"}); }

// Runs `f`, expects a SpecError of `code` whose message contains every `parts`.
template <typename F>
void expect_spec_error(F f, ErrorCode code, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code_name(), error_code_info(code).name) << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << p << " not in " << e.what();
  }
}

Template from(const std::string& text) { return template_from_table(toml::parse(text), "t", "test"); }
std::string printed(const Template& t) {
  std::ostringstream os;
  os << t.to_table();
  return os.str();
}
}  // namespace

TEST(Overrides, ValuesParseAsTomlOrBareStrings) {
  toml::table t;
  spec::apply_override(t, "video.crf=20");
  spec::apply_override(t, "video.preset=slow");
  spec::apply_override(t, "trans.no_upscale=false");
  spec::apply_override(t, "mux.hls_segment_seconds=2.5");
  spec::apply_override(t, "video.pix_fmt=");
  EXPECT_EQ(t["video"]["crf"].value<int64_t>(), 20);
  EXPECT_EQ(t["video"]["preset"].value<std::string>(), "slow");
  EXPECT_EQ(t["trans"]["no_upscale"].value<bool>(), false);
  EXPECT_EQ(t["mux"]["hls_segment_seconds"].value<double>(), 2.5);
  EXPECT_EQ(t["video"]["pix_fmt"].value<std::string>(), "");
  EXPECT_THROW(spec::apply_override(t, "no-equals-sign"), SpecError);
  EXPECT_THROW(spec::apply_override(t, "video.crf.x=1"), SpecError);  // crf is not a table
}

TEST(Overrides, MergeIsDeep) {
  toml::table base = toml::parse("[video]\ncrf = 23\npreset = 'fast'\n[audio]\nbitrate = 128\n");
  spec::merge_into(base, toml::parse("[video]\ncrf = 18\n"));
  EXPECT_EQ(base["video"]["crf"].value<int64_t>(), 18);
  EXPECT_EQ(base["video"]["preset"].value<std::string>(), "fast");
  EXPECT_EQ(base["audio"]["bitrate"].value<int64_t>(), 128);
}

TEST(Templates, Defaults) {
  Template t = from("");
  EXPECT_EQ(t.container, Container::mp4);
  EXPECT_EQ(t.video.codec, VideoCodec::h264);
  EXPECT_EQ(t.audio.codec, AudioCodec::aac);
  EXPECT_TRUE(t.trans.no_upscale);
  EXPECT_EQ(t.trans.aspect, AspectMode::rescale);
  EXPECT_DOUBLE_EQ(t.mux.hls_segment_seconds, 10);
}

TEST(Templates, RangesAndKeysAreChecked) {
  expect_spec_error([] { from("[video]\ncrf = 99\n"); }, ErrorCode::OutOfRange, {"video.crf", "99", "0..51"});
  expect_spec_error([] { from("[video]\nwidth = -5\n"); }, ErrorCode::OutOfRange, {"video.width"});
  expect_spec_error([] { from("[mux]\nhls_segment_seconds = 0.5\n"); }, ErrorCode::OutOfRange, {"mux.hls_segment_seconds"});
  expect_spec_error([] { from("[video]\ncodec = 'vp9'\n"); }, ErrorCode::OutOfRange, {"video.codec", "vp9", "h264"});
  expect_spec_error([] { from("[video]\ncrff = 3\n"); }, ErrorCode::InvalidKey, {"video.crff", "unknown key"});
  expect_spec_error([] { from("[video]\ncrf = 'high'\n"); }, ErrorCode::InvalidKey, {"video.crf", "expected an integer"});
  expect_spec_error([] { from("colour = 1\n"); }, ErrorCode::InvalidKey, {"colour"});
  expect_spec_error([] { from("[video]\ngop = '2 seconds'\n"); }, ErrorCode::InvalidKey, {"video.gop"});
}

TEST(Templates, RateControlMustBeUnambiguous) {
  expect_spec_error([] { from("[video]\ncrf = 20\nbitrate = 900\n"); }, ErrorCode::Incompatible, {"video.crf"});
  expect_spec_error([] { from("[trans]\nmode = 'twopass'\n"); }, ErrorCode::Incompatible, {"twopass", "video.bitrate"});
  expect_spec_error([] { from("[trans]\nmode = 'cbr'\n"); }, ErrorCode::Incompatible, {"cbr"});
  Template t = from("[video]\ncrf = 20\nbitrate = 0\n");  // 0 clears a bitrate
  EXPECT_FALSE(t.video.bitrate);
  EXPECT_EQ(t.video.crf, 20);
}

TEST(Templates, GopAndFrameRateForms) {
  EXPECT_DOUBLE_EQ(*from("[video]\ngop = '2s'\n").video.gop_seconds, 2.0);
  EXPECT_EQ(*from("[video]\ngop = 250\n").video.gop_frames, 250);
  auto fps = [](const std::string& v) { return *from("[video]\nfps = " + v + "\n").video.fps; };
  EXPECT_EQ(fps("29.97").num, 30000);
  EXPECT_EQ(fps("29.97").den, 1001);
  EXPECT_EQ(fps("25").num, 25);
  EXPECT_EQ(fps("25").den, 1);
  EXPECT_EQ(fps("'24000/1001'").num, 24000);
  expect_spec_error([] { from("[video]\nfps = 500\n"); }, ErrorCode::OutOfRange, {"video.fps"});
}

TEST(Templates, ToTableRoundTrips) {
  Template t = from(
      "[container]\nformat='m3u8'\n[video]\ncodec='h265'\nbitrate=900\nmaxrate=1200\nheight=720\nfps='30000/1001'\ngop='2s'\n"
      "[audio]\ncodec='mp3'\nchannels=1\n[trans]\nmode='cbr'\naspect='pad'\n[mux]\nhls_segment_seconds=4\n");
  Template again = template_from_table(t.to_table(), "t", "test");
  EXPECT_EQ(printed(t), printed(again));
}

TEST(Catalog, EveryShippedTemplateValidates) {
  Catalog c = shipped();
  auto list = c.list();
  EXPECT_GE(list.size(), 30u);
  for (const auto& e : list) EXPECT_NO_THROW(c.load(e.name)) << e.name;
  EXPECT_EQ(c.default_for("x.MP4"), "default-mp4");
  EXPECT_EQ(c.default_for("a/b.m3u8"), "default-m3u8");
  expect_spec_error([&] { c.default_for("x.xyz"); }, ErrorCode::TemplateNotFound, {".xyz"});
  expect_spec_error([&] { c.load("no-such-template"); }, ErrorCode::TemplateNotFound, {"no-such-template"});
}

TEST(Catalog, PresetsInheritAndOverride) {
  Template t = shipped().load("android-mp4-720p", {"video.crf=20", "video.bitrate=0"});
  EXPECT_EQ(t.container, Container::mp4);  // from default-mp4 via base
  EXPECT_EQ(*t.video.height, 720);
  EXPECT_EQ(*t.video.crf, 20);
  EXPECT_FALSE(t.video.bitrate);
}

TEST(Catalog, BaseChainsSearchPathAndCycles) {
  TempDir d;
  write(d.path / "parent.toml", "[video]\ncrf = 30\npreset = 'slow'\n");
  write(d.path / "child.toml", "base = 'parent'\n[video]\ncrf = 25\n");
  write(d.path / "default-mp4.toml", "description = 'mine first'\n");
  write(d.path / "loop-a.toml", "base = 'loop-b'\n");
  write(d.path / "loop-b.toml", "base = 'loop-a'\n");
  Catalog c({d.path, fs::path(GOPCAST_SOURCE_DIR) / "templates"});
  Template t = c.load("child");
  EXPECT_EQ(*t.video.crf, 25);
  EXPECT_EQ(t.video.preset, "slow");
  EXPECT_EQ(c.load("default-mp4").description, "mine first");  // earlier folders win
  expect_spec_error([&] { c.load("loop-a"); }, ErrorCode::InvalidKey, {"cycle"});
  expect_spec_error([&] { c.load((d.path / "missing.toml").string()); }, ErrorCode::TemplateNotFound, {"missing.toml"});
}

TEST(Catalog, ErrorsInDerivedTemplatesNameFileLineColumn) {
  TempDir d;
  write(d.path / "mine.toml", "base = 'default-mp4'\n\n[video]\ncrf = 70\n");
  Catalog c({d.path, fs::path(GOPCAST_SOURCE_DIR) / "templates"});
  expect_spec_error([&] { c.load("mine"); }, ErrorCode::OutOfRange, {(d.path / "mine.toml").string() + ":4:7", "video.crf"});
  write(d.path / "broken.toml", "[video\n");
  expect_spec_error([&] { c.load("broken"); }, ErrorCode::SpecSyntax, {(d.path / "broken.toml").string() + ":1:"});
}

TEST(Jobs, LoadResolvesPathsAgainstTheJobFile) {
  TempDir d;
  write(d.path / "job.toml",
        "[input]\npath = 'media/in.mp4'\naudio_stream = '0:a:1'\n"
        "[[outputs]]\npath = 'out/{name}.mp4'\ntemplate = 'android-mp4-360p'\nuser_data = 'u1'\n"
        "[outputs.override.video]\ncrf = 30\nbitrate = 0\n"
        "[[outputs]]\npath = '{dir}/{name}.mp3'\n");
  Job job = load_job(d.path / "job.toml");
  EXPECT_EQ(job.input.path, d.path / "media/in.mp4");
  EXPECT_EQ(job.input.audio_stream, "0:a:1");
  ASSERT_EQ(job.outputs.size(), 2u);
  EXPECT_EQ(job.outputs[0].path, (d.path / "out/{name}.mp4").string());
  EXPECT_EQ(job.outputs[1].path, "{dir}/{name}.mp3");  // anchored at the input's folder
  EXPECT_EQ(job.outputs[0].user_data, "u1");
  Template t = resolve_output_template(shipped(), job.outputs[0], "x.mp4", {});
  EXPECT_EQ(*t.video.crf, 30);
  EXPECT_EQ(*t.video.height, 360);
  Template mp3 = resolve_output_template(shipped(), job.outputs[1], "x.mp3", {"audio.bitrate=64"});
  EXPECT_EQ(mp3.container, Container::mp3);
  EXPECT_EQ(*mp3.audio.bitrate, 64);
}

TEST(Jobs, ErrorsNameTheKey) {
  TempDir d;
  write(d.path / "a.toml", "[[outputs]]\npath = 'o.mp4'\n");
  expect_spec_error([&] { load_job(d.path / "a.toml"); }, ErrorCode::InvalidKey, {"input.path"});
  write(d.path / "b.toml", "[input]\npath = 'x.mp4'\n");
  expect_spec_error([&] { load_job(d.path / "b.toml"); }, ErrorCode::InvalidKey, {"outputs"});
  write(d.path / "c.toml", "[input]\npath = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\n[[outputs]]\npath = 'b.mp4'\ntemplat = 'x'\n");
  expect_spec_error([&] { load_job(d.path / "c.toml"); }, ErrorCode::InvalidKey, {"outputs[1].templat"});
  expect_spec_error([&] { load_job(d.path / "none.toml"); }, ErrorCode::ResourceNotFound, {"none.toml"});
}
