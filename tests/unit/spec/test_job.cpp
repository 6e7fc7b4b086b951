// Job files (spec/job.hpp).
#include <gtest/gtest.h>

#include <sstream>

#include "../test_support.hpp"
#include "spec/job.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;
using gopcast::test::write_file;

namespace {
Catalog shipped() { return Catalog({fs::path(GOPCAST_SOURCE_DIR) / "templates"}); }

const char* kJob = R"(# three renditions
[input]
path = "media/in.mp4"
video_stream = "0:v:0"
audio_stream = "0:a:1"

[[outputs]]
path = "out/{name}-720p.mp4"
template = "android-mp4-720p"
user_data = "android: first"

[outputs.override.video]
crf = 20
bitrate = 0
maxrate = 0
bufsize = 0

[outputs.override.audio]
bitrate = 96

[[outputs]]
path = "/abs/{name}.m3u8"
template = "ios-hls-360p"

[outputs.override]
mux = { hls_segment_seconds = 4 }

[[outputs]]
path = "{dir}/{name}.mp3"
user_data = "third"
)";
}  // namespace

TEST(Jobs, ReadsInputOutputsOverridesAndUserData) {
  TempDir d;
  write_file(d / "job.toml", kJob);
  Job job = load_job(d / "job.toml");
  EXPECT_EQ(job.file, d / "job.toml");
  EXPECT_EQ(job.input.path, d / "media" / "in.mp4");  // relative to the job file's folder
  EXPECT_TRUE(job.input.path.is_absolute());
  EXPECT_EQ(job.input.video_stream, "0:v:0");
  EXPECT_EQ(job.input.audio_stream, "0:a:1");
  ASSERT_EQ(job.outputs.size(), 3u);

  EXPECT_EQ(job.outputs[0].path, (d / "out" / "{name}-720p.mp4").string());
  EXPECT_EQ(job.outputs[0].template_name, "android-mp4-720p");
  EXPECT_EQ(job.outputs[0].user_data, "android: first");
  EXPECT_EQ(job.outputs[1].path, "/abs/{name}.m3u8");  // absolute paths stay
  EXPECT_EQ(job.outputs[1].template_name, "ios-hls-360p");
  EXPECT_EQ(job.outputs[1].user_data, "");
  EXPECT_EQ(job.outputs[2].path, "{dir}/{name}.mp3");  // {dir} is the input's folder
  EXPECT_EQ(job.outputs[2].template_name, "");
  EXPECT_EQ(job.outputs[2].user_data, "third");
  for (size_t i = 0; i < 3; ++i) EXPECT_NE(job.outputs[i].origin.find("outputs[" + std::to_string(i) + "]"), std::string::npos);

  // Override tables as read.
  EXPECT_EQ(job.outputs[0].override_table["video"]["crf"].value<int64_t>(), 20);
  EXPECT_EQ(job.outputs[0].override_table["audio"]["bitrate"].value<int64_t>(), 96);
  EXPECT_EQ(job.outputs[1].override_table["mux"]["hls_segment_seconds"].value<int64_t>(), 4);
  EXPECT_TRUE(job.outputs[2].override_table.empty());
}

TEST(Jobs, OutputTemplatesApplyOverridesThenSet) {
  TempDir d;
  write_file(d / "job.toml", kJob);
  Job job = load_job(d / "job.toml");
  Catalog c = shipped();
  Template a = resolve_output_template(c, job.outputs[0], "out/in-720p.mp4", {});
  EXPECT_EQ(a.name, "android-mp4-720p");
  EXPECT_EQ(a.video.crf, 20);
  EXPECT_FALSE(a.video.bitrate);
  EXPECT_EQ(a.video.height, 720);
  EXPECT_EQ(a.audio.bitrate, 96);
  Template b = resolve_output_template(c, job.outputs[1], "in.m3u8", {"mux.hls_segment_seconds=2", "video.height=480"});
  EXPECT_EQ(b.container, Container::m3u8);
  EXPECT_DOUBLE_EQ(b.mux.hls_segment_seconds, 2);  // --set comes last
  EXPECT_EQ(b.video.height, 480);
  Template mp3 = resolve_output_template(c, job.outputs[2], "/x/in.mp3", {});
  EXPECT_EQ(mp3.name, "default-mp3");  // by the output's extension
  EXPECT_EQ(mp3.container, Container::mp3);
}

TEST(Jobs, ErrorsInOverridesNameTheJobFilePosition) {
  TempDir d;
  write_file(d / "job.toml", "[input]\npath = 'a.mp4'\n[[outputs]]\npath = 'o.mp4'\n[outputs.override.video]\ncrf = 99\n");
  Job job = load_job(d / "job.toml");
  expect_error<SpecError>([&] { resolve_output_template(shipped(), job.outputs[0], "o.mp4", {}); }, ErrorCode::OutOfRange,
                          {(d / "job.toml").string() + ":6:", "video.crf"});
  write_file(d / "job2.toml", "[input]\npath = 'a.mp4'\n[[outputs]]\npath = 'o.mp4'\n[outputs.override.vidoe]\ncrf = 20\n");
  Job job2 = load_job(d / "job2.toml");
  expect_error<SpecError>([&] { resolve_output_template(shipped(), job2.outputs[0], "o.mp4", {}); }, ErrorCode::InvalidKey,
                          {"vidoe"});
  write_file(d / "job3.toml", "[input]\npath = 'a.mp4'\n[[outputs]]\npath = 'o.mp4'\ntemplate = 'no-such'\n");
  Job job3 = load_job(d / "job3.toml");  // templates resolve at run time
  expect_error<SpecError>([&] { resolve_output_template(shipped(), job3.outputs[0], "o.mp4", {}); }, ErrorCode::TemplateNotFound,
                          {"no-such"});
}

TEST(Jobs, PathsAreNormalised) {
  TempDir d;
  write_file(d / "jobs" / "j.toml", "[input]\npath = '../media/./in.mp4'\n[[outputs]]\npath = '../out/{name}.mp4'\n");
  Job job = load_job(d / "jobs" / "j.toml");
  EXPECT_EQ(job.input.path, d / "media" / "in.mp4");
  EXPECT_EQ(job.outputs[0].path, (d / "out" / "{name}.mp4").string());
}

TEST(Jobs, MissingRequiredKeysAreInvalidKey) {
  TempDir d;
  write_file(d / "a.toml", "[[outputs]]\npath = 'o.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "a.toml"); }, ErrorCode::InvalidKey, {"input.path", (d / "a.toml").string()});
  write_file(d / "a2.toml", "[input]\nvideo_stream = '0:v:0'\n[[outputs]]\npath = 'o.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "a2.toml"); }, ErrorCode::InvalidKey, {"input.path"});
  write_file(d / "b.toml", "[input]\npath = 'x.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "b.toml"); }, ErrorCode::InvalidKey, {"outputs"});
  write_file(d / "c.toml", "outputs = []\n[input]\npath = 'x.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "c.toml"); }, ErrorCode::InvalidKey, {"outputs"});
  write_file(d / "e.toml", "[input]\npath = 'x.mp4'\n[[outputs]]\ntemplate = 'default-mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "e.toml"); }, ErrorCode::InvalidKey, {"outputs[0].path"});
}

TEST(Jobs, UnknownKeysNameTheirOutput) {
  TempDir d;
  write_file(d / "j.toml",
             "[input]\npath = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\n[[outputs]]\npath = 'b.mp4'\nuserdata = 'typo'\n");
  expect_error<SpecError>([&] { load_job(d / "j.toml"); }, ErrorCode::InvalidKey,
                          {"outputs[1].userdata", (d / "j.toml").string() + ":7:"});
  write_file(d / "k.toml", "[input]\npath = 'x.mp4'\naudio = '0:a:0'\n[[outputs]]\npath = 'a.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "k.toml"); }, ErrorCode::InvalidKey, {"input.audio"});
  write_file(d / "l.toml", "priority = 3\n[input]\npath = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "l.toml"); }, ErrorCode::InvalidKey, {"priority"});
}

TEST(Jobs, WrongTypesAreInvalidKey) {
  TempDir d;
  write_file(d / "a.toml", "[input]\npath = 5\n[[outputs]]\npath = 'a.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "a.toml"); }, ErrorCode::InvalidKey, {"input.path"});
  write_file(d / "b.toml", "[input]\npath = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\nuser_data = 7\n");
  expect_error<SpecError>([&] { load_job(d / "b.toml"); }, ErrorCode::InvalidKey, {"outputs[0].user_data"});
  write_file(d / "c.toml", "[input]\npath = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\noverride = 'crf=20'\n");
  expect_error<SpecError>([&] { load_job(d / "c.toml"); }, ErrorCode::InvalidKey, {"outputs[0].override"});
  write_file(d / "e.toml", "outputs = ['a.mp4']\n[input]\npath = 'x.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "e.toml"); }, ErrorCode::InvalidKey, {"outputs[0]"});
  write_file(d / "f.toml", "input = 'x.mp4'\n[[outputs]]\npath = 'a.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "f.toml"); }, ErrorCode::InvalidKey, {"input"});
}

TEST(Jobs, SyntaxErrorsAndMissingFiles) {
  TempDir d;
  write_file(d / "s.toml", "[input]\npath = 'x.mp4'\n[[outputs]\npath = 'a.mp4'\n");
  expect_error<SpecError>([&] { load_job(d / "s.toml"); }, ErrorCode::SpecSyntax, {(d / "s.toml").string() + ":3:"});
  expect_error<SpecError>([&] { load_job(d / "absent.toml"); }, ErrorCode::ResourceNotFound, {"absent.toml"});
}

TEST(Jobs, ShippedExampleJobsLoad) {
  Catalog c = shipped();
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(GOPCAST_SOURCE_DIR) / "jobs")) {
    if (e.path().extension() != ".toml") continue;
    SCOPED_TRACE(e.path().string());
    ++n;
    Job job;
    ASSERT_NO_THROW(job = load_job(e.path()));
    EXPECT_TRUE(job.input.path.is_absolute());
    EXPECT_TRUE(fs::exists(job.input.path)) << job.input.path;  // ../../shared/media from jobs/
    for (auto& out : job.outputs) {
      fs::path p = out.path;
      EXPECT_NO_THROW(resolve_output_template(c, out, p, {})) << out.path;
    }
  }
  EXPECT_GE(n, 3);
}

TEST(Jobs, SnapshotsAreReadRelativeToTheJobAndSurviveARoundTrip) {
  TempDir d;
  write_file(d / "job.toml", R"([input]
path = "in.mp4"
[[outputs]]
path = "out/{name}.mp4"
[[snapshots]]
path = "out/{name}-%03d.jpg"
every = 10
width = 320
mode = "keyframe"
[[snapshots]]
kind = "sprite"
path = "out/sheet.jpg"
count = 20
columns = 5
padding = 2
vtt = "out/sheet.vtt"
[[snapshots]]
kind = "cover"
path = "{dir}/cover.png"
)");
  Job job = load_job(d / "job.toml");
  ASSERT_EQ(job.snapshots.size(), 3u);
  EXPECT_EQ(job.snapshots[0].path, (d / "out" / "{name}-%03d.jpg").string());
  EXPECT_EQ(job.snapshots[0].every, 10.0);
  EXPECT_EQ(job.snapshots[0].mode, SnapshotMode::Keyframe);
  EXPECT_EQ(job.snapshots[1].kind, SnapshotKind::Sprite);
  EXPECT_EQ(job.snapshots[1].columns, 5);
  EXPECT_EQ(job.snapshots[1].vtt, (d / "out" / "sheet.vtt").string());
  EXPECT_EQ(job.snapshots[2].path, "{dir}/cover.png");
  write_file(d / "again.toml", [&] {
    std::ostringstream s;
    s << job_to_table(job);
    return s.str();
  }());
  Job again = load_job(d / "again.toml");
  ASSERT_EQ(again.snapshots.size(), 3u);
  EXPECT_EQ(again.snapshots[1].padding, 2);
  EXPECT_EQ(again.snapshots[0].path, job.snapshots[0].path);

  write_file(d / "bad.toml", "[input]\npath = \"in.mp4\"\n[[outputs]]\npath = \"o.mp4\"\n[[snapshots]]\nkind = \"sprite\"\npath = \"s.jpg\"\ncount = 4\n");
  expect_error([&] { load_job(d / "bad.toml"); }, ErrorCode::OutOfRange, {"bad.toml", "snapshots[0]", "columns"});
  write_file(d / "typo.toml", "[input]\npath = \"in.mp4\"\n[[outputs]]\npath = \"o.mp4\"\n[[snapshots]]\npath = \"s.jpg\"\ntime = 1\ncolums = 4\n");
  expect_error([&] { load_job(d / "typo.toml"); }, ErrorCode::InvalidKey, {"colums"});
}
