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

TEST(Jobs, ConcatReadsInputsListIntroOutroAndSurvivesARoundTrip) {
  TempDir d;
  fs::create_directories(d / "parts");
  write_file(d / "parts" / "list.txt", "# the episodes\n\nep2.mp4\n  ep3.mkv  \r\n/abs/ep4.mov\n");
  write_file(d / "job.toml", R"([input]
path = "ep1.mp4"
[input.concat]
inputs = ["extra/ep1b.mp4"]
list = "parts/list.txt"
intro = "brand/intro.mp4"
outro = "brand/outro.mp4"
fill_silence = true
[[outputs]]
path = "out.mp4"
)");
  Job job = load_job(d / "job.toml");
  EXPECT_EQ(job.input.path, d / "ep1.mp4");
  // inputs first, then the list's (relative to the list's folder, comments and blanks skipped).
  ASSERT_EQ(job.input.concat.inputs.size(), 4u);
  EXPECT_EQ(job.input.concat.inputs[0], d / "extra" / "ep1b.mp4");
  EXPECT_EQ(job.input.concat.inputs[1], d / "parts" / "ep2.mp4");
  EXPECT_EQ(job.input.concat.inputs[2], d / "parts" / "ep3.mkv");
  EXPECT_EQ(job.input.concat.inputs[3], fs::path("/abs/ep4.mov"));
  EXPECT_EQ(job.input.concat.intro, d / "brand" / "intro.mp4");
  EXPECT_EQ(job.input.concat.outro, d / "brand" / "outro.mp4");
  EXPECT_TRUE(job.input.concat.fill_silence);
  write_file(d / "again.toml", [&] {
    std::ostringstream s;
    s << job_to_table(job);
    return s.str();
  }());
  Job again = load_job(d / "again.toml");
  EXPECT_EQ(again.input.concat.inputs, job.input.concat.inputs);
  EXPECT_EQ(again.input.concat.intro, job.input.concat.intro);
  EXPECT_TRUE(again.input.concat.fill_silence);

  // [input.concat] alone is a job (input.path is then optional).
  write_file(d / "only.toml", "[input.concat]\ninputs = [\"a.mp4\", \"b.mp4\"]\n[[outputs]]\npath = \"o.mp4\"\n");
  EXPECT_TRUE(load_job(d / "only.toml").input.path.empty());
}

TEST(Jobs, ConcatErrorsNameTheirKeyOrFile) {
  TempDir d;
  write_file(d / "empty.txt", "# nothing\n\n");
  write_file(d / "a.toml", "[input.concat]\nlist = \"empty.txt\"\n[[outputs]]\npath = \"o.mp4\"\n");
  expect_error([&] { load_job(d / "a.toml"); }, ErrorCode::OutOfRange, {"empty.txt: concat list: no inputs"});
  write_file(d / "b.toml", "[input.concat]\nlist = \"missing.txt\"\n[[outputs]]\npath = \"o.mp4\"\n");
  expect_error([&] { load_job(d / "b.toml"); }, ErrorCode::ResourceNotFound, {"missing.txt: concat list: cannot be read"});
  write_file(d / "c.toml", "[input.concat]\ninputs = \"a.mp4\"\n[[outputs]]\npath = \"o.mp4\"\n");
  expect_error([&] { load_job(d / "c.toml"); }, ErrorCode::InvalidKey, {"input.concat.inputs"});
  write_file(d / "d.toml", "[input.concat]\ninputs = [\"a.mp4\"]\nintro_clip = \"x.mp4\"\n[[outputs]]\npath = \"o.mp4\"\n");
  expect_error([&] { load_job(d / "d.toml"); }, ErrorCode::InvalidKey, {"intro_clip"});
  write_file(d / "e.toml", "[input]\n[[outputs]]\npath = \"o.mp4\"\n");
  expect_error([&] { load_job(d / "e.toml"); }, ErrorCode::InvalidKey, {"input.path: missing"});
}
