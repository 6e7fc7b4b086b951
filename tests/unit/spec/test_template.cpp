#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "spec/catalog.hpp"
#include "spec/job.hpp"
#include "spec/value.hpp"
#include "../test_support.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

// ---------------------------------------------------------------------------
// Template values, one rule at a time.

namespace {
using gopcast::test::expect_error;

Template from(const std::string& text) { return template_from_table(toml::parse(text), "t", "test"); }
std::string printed(const Template& t) {
  std::ostringstream os;
  os << t.to_table();
  return os.str();
}

// Every field of a template, compared one by one (a field that to_table() forgot
// would make both printed forms equal and hide the loss).
void expect_same(const Template& a, const Template& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.container, b.container);
  EXPECT_EQ(a.video.codec, b.video.codec);
  EXPECT_EQ(a.video.remove, b.video.remove);
  EXPECT_EQ(a.video.profile, b.video.profile);
  EXPECT_EQ(a.video.preset, b.video.preset);
  EXPECT_EQ(a.video.crf, b.video.crf);
  EXPECT_EQ(a.video.qp, b.video.qp);
  EXPECT_EQ(a.video.bitrate, b.video.bitrate);
  EXPECT_EQ(a.video.maxrate, b.video.maxrate);
  EXPECT_EQ(a.video.bufsize, b.video.bufsize);
  EXPECT_EQ(a.video.width, b.video.width);
  EXPECT_EQ(a.video.height, b.video.height);
  EXPECT_EQ(a.video.fps.has_value(), b.video.fps.has_value());
  if (a.video.fps && b.video.fps) {
    EXPECT_EQ(a.video.fps->num, b.video.fps->num);
    EXPECT_EQ(a.video.fps->den, b.video.fps->den);
  }
  EXPECT_EQ(a.video.gop_frames, b.video.gop_frames);
  EXPECT_EQ(a.video.gop_seconds, b.video.gop_seconds);
  EXPECT_EQ(a.video.pix_fmt, b.video.pix_fmt);
  EXPECT_EQ(a.video.threads, b.video.threads);
  EXPECT_EQ(a.audio.codec, b.audio.codec);
  EXPECT_EQ(a.audio.remove, b.audio.remove);
  EXPECT_EQ(a.audio.bitrate, b.audio.bitrate);
  EXPECT_EQ(a.audio.sample_rate, b.audio.sample_rate);
  EXPECT_EQ(a.audio.channels, b.audio.channels);
  EXPECT_EQ(a.trans.mode, b.trans.mode);
  EXPECT_EQ(a.trans.no_upscale, b.trans.no_upscale);
  EXPECT_EQ(a.trans.cap_video_bitrate, b.trans.cap_video_bitrate);
  EXPECT_EQ(a.trans.cap_audio_bitrate, b.trans.cap_audio_bitrate);
  EXPECT_EQ(a.trans.aspect, b.trans.aspect);
  EXPECT_EQ(a.mux.hls_segment_seconds, b.mux.hls_segment_seconds);
  EXPECT_EQ(a.mux.gif_loop, b.mux.gif_loop);
  EXPECT_EQ(a.mux.gif_final_delay, b.mux.gif_final_delay);
  EXPECT_EQ(a.mux.faststart, b.mux.faststart);
}

void expect_round_trip(const Template& t) {
  Template again = template_from_table(t.to_table(), "other-name", "round-trip");
  EXPECT_EQ(printed(t), printed(again));
  expect_same(t, again);
}

Rational fps_of(const std::string& toml_value) { return *from("[video]\nfps = " + toml_value + "\n").video.fps; }
}  // namespace

TEST(TemplateValues, EveryDefault) {
  Template t = template_from_table(toml::table{}, "my-name", "test");
  EXPECT_EQ(t.name, "my-name");
  EXPECT_EQ(t.description, "");
  EXPECT_EQ(t.container, Container::mp4);
  EXPECT_EQ(t.video.codec, VideoCodec::h264);
  EXPECT_FALSE(t.video.remove);
  EXPECT_EQ(t.video.profile, "");
  EXPECT_EQ(t.video.preset, "medium");
  EXPECT_FALSE(t.video.crf);  // crf 23 is chosen at planning time, not stored
  EXPECT_FALSE(t.video.qp);
  EXPECT_FALSE(t.video.bitrate);
  EXPECT_FALSE(t.video.maxrate);
  EXPECT_FALSE(t.video.bufsize);
  EXPECT_FALSE(t.video.width);
  EXPECT_FALSE(t.video.height);
  EXPECT_FALSE(t.video.fps);
  EXPECT_FALSE(t.video.gop_frames);
  EXPECT_FALSE(t.video.gop_seconds);
  EXPECT_EQ(t.video.pix_fmt, "");
  EXPECT_EQ(t.video.threads, 0);
  EXPECT_EQ(t.audio.codec, AudioCodec::aac);
  EXPECT_FALSE(t.audio.remove);
  EXPECT_FALSE(t.audio.bitrate);
  EXPECT_FALSE(t.audio.sample_rate);
  EXPECT_FALSE(t.audio.channels);
  EXPECT_EQ(t.trans.mode, RateMode::onepass);
  EXPECT_TRUE(t.trans.no_upscale);
  EXPECT_FALSE(t.trans.cap_video_bitrate);
  EXPECT_FALSE(t.trans.cap_audio_bitrate);
  EXPECT_EQ(t.trans.aspect, AspectMode::rescale);
  EXPECT_DOUBLE_EQ(t.mux.hls_segment_seconds, 10);
  EXPECT_EQ(t.mux.gif_loop, 0);
  EXPECT_EQ(t.mux.gif_final_delay, 0);
  EXPECT_TRUE(t.mux.faststart);
}

TEST(TemplateValues, EveryKeyIsRead) {
  Template t = from(R"(
name = "custom"
description = "all keys"
base = "ignored-here"
[container]
format = "mkv"
[video]
codec = "h265"
remove = false
profile = "main10"
preset = "slow"
qp = 0
maxrate = 4000
bufsize = 8000
width = 1280
height = 720
fps = 50
gop = 100
pix_fmt = "yuv420p10le"
threads = 4
[audio]
codec = "flac"
remove = false
bitrate = 256
sample_rate = 96000
channels = 1
[trans]
mode = "onepass"
no_upscale = false
cap_video_bitrate = true
cap_audio_bitrate = true
aspect = "crop"
[mux]
hls_segment_seconds = 6
gif_loop = -1
gif_final_delay = 150
faststart = false
)");
  EXPECT_EQ(t.name, "custom");  // the table's name wins over the file stem
  EXPECT_EQ(t.description, "all keys");
  EXPECT_EQ(t.container, Container::mkv);
  EXPECT_EQ(t.video.codec, VideoCodec::h265);
  EXPECT_EQ(t.video.profile, "main10");
  EXPECT_EQ(t.video.preset, "slow");
  EXPECT_EQ(t.video.qp, 0);  // lossless is a value, not "absent"
  EXPECT_EQ(t.video.maxrate, 4000);
  EXPECT_EQ(t.video.bufsize, 8000);
  EXPECT_EQ(t.video.width, 1280);
  EXPECT_EQ(t.video.height, 720);
  EXPECT_EQ(t.video.fps->num, 50);
  EXPECT_EQ(t.video.fps->den, 1);
  EXPECT_EQ(t.video.gop_frames, 100);
  EXPECT_FALSE(t.video.gop_seconds);
  EXPECT_EQ(t.video.pix_fmt, "yuv420p10le");
  EXPECT_EQ(t.video.threads, 4);
  EXPECT_EQ(t.audio.codec, AudioCodec::flac);
  EXPECT_EQ(t.audio.bitrate, 256);
  EXPECT_EQ(t.audio.sample_rate, 96000);
  EXPECT_EQ(t.audio.channels, 1);
  EXPECT_FALSE(t.trans.no_upscale);
  EXPECT_TRUE(t.trans.cap_video_bitrate);
  EXPECT_TRUE(t.trans.cap_audio_bitrate);
  EXPECT_EQ(t.trans.aspect, AspectMode::crop);
  EXPECT_DOUBLE_EQ(t.mux.hls_segment_seconds, 6);
  EXPECT_EQ(t.mux.gif_loop, -1);
  EXPECT_EQ(t.mux.gif_final_delay, 150);
  EXPECT_FALSE(t.mux.faststart);
}

TEST(TemplateValues, OutOfRangeValuesNameTheirKey) {
  struct Case {
    const char* toml;
    const char* key;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"[video]\ncrf = 99\n", "video.crf"},
           {"[video]\ncrf = -1\n", "video.crf"},
           {"[video]\nqp = 52\n", "video.qp"},
           {"[video]\nwidth = -5\n", "video.width"},
           {"[video]\nwidth = 8193\n", "video.width"},
           {"[video]\nheight = 15\n", "video.height"},
           {"[video]\nbitrate = 5\n", "video.bitrate"},
           {"[video]\nbitrate = -100\n", "video.bitrate"},
           {"[video]\nbitrate = 100001\n", "video.bitrate"},
           {"[video]\nmaxrate = 9\n", "video.maxrate"},
           {"[video]\nbufsize = 200001\n", "video.bufsize"},
           {"[video]\nthreads = 65\n", "video.threads"},
           {"[video]\ngop = 0\n", "video.gop"},
           {"[video]\ngop = 10001\n", "video.gop"},
           {"[video]\ngop = '0.05s'\n", "video.gop"},
           {"[video]\ngop = '61s'\n", "video.gop"},
           {"[video]\nfps = 0\n", "video.fps"},
           {"[video]\nfps = 121\n", "video.fps"},
           {"[video]\nfps = '240/1'\n", "video.fps"},
           {"[video]\ncodec = 'vp9'\n", "video.codec"},
           {"[video]\npreset = 'turbo'\n", "video.preset"},
           {"[video]\nprofile = 'extreme'\n", "video.profile"},
           {"[audio]\ncodec = 'opus'\n", "audio.codec"},
           {"[audio]\nbitrate = 7\n", "audio.bitrate"},
           {"[audio]\nbitrate = 1025\n", "audio.bitrate"},
           {"[audio]\nsample_rate = 7999\n", "audio.sample_rate"},
           {"[audio]\nchannels = 6\n", "audio.channels"},
           {"[audio]\nchannels = 0\n", "audio.channels"},
           {"[container]\nformat = 'webm'\n", "container.format"},
           {"[trans]\nmode = 'threepass'\n", "trans.mode"},
           {"[trans]\naspect = 'zoom'\n", "trans.aspect"},
           {"[mux]\nhls_segment_seconds = 0.5\n", "mux.hls_segment_seconds"},
           {"[mux]\nhls_segment_seconds = 61\n", "mux.hls_segment_seconds"},
           {"[mux]\ngif_loop = -2\n", "mux.gif_loop"},
           {"[mux]\ngif_final_delay = 65536\n", "mux.gif_final_delay"},
       }) {
    SCOPED_TRACE(c.toml);
    expect_error<SpecError>([&] { from(c.toml); }, ErrorCode::OutOfRange, {c.key});
  }
  // The message lists what is allowed.
  expect_error<SpecError>([] { from("[video]\ncodec = 'vp9'\n"); }, ErrorCode::OutOfRange, {"vp9", "h264", "h265", "gif", "copy"});
  expect_error<SpecError>([] { from("[audio]\ncodec = 'opus'\n"); }, ErrorCode::OutOfRange, {"aac", "mp3", "vorbis", "flac"});
}

TEST(TemplateValues, BoundsAreAllowed) {
  EXPECT_NO_THROW(from("[video]\ncrf = 0\n"));
  EXPECT_NO_THROW(from("[video]\ncrf = 51\n"));
  EXPECT_NO_THROW(from("[video]\nwidth = 16\nheight = 8192\n"));
  EXPECT_NO_THROW(from("[video]\nbitrate = 10\n"));
  EXPECT_NO_THROW(from("[video]\nfps = 1\n"));
  EXPECT_NO_THROW(from("[video]\nfps = 120\n"));
  EXPECT_NO_THROW(from("[video]\ngop = '0.1s'\n"));
  EXPECT_NO_THROW(from("[video]\ngop = '60s'\n"));
  EXPECT_NO_THROW(from("[mux]\nhls_segment_seconds = 1\n"));
  EXPECT_NO_THROW(from("[mux]\nhls_segment_seconds = 60\n"));
  EXPECT_NO_THROW(from("[audio]\nsample_rate = 8000\n"));
}

TEST(TemplateValues, WrongTypesAndUnknownKeysAreInvalidKey) {
  expect_error<SpecError>([] { from("[video]\nwidth = '640'\n"); }, ErrorCode::InvalidKey, {"video.width"});
  expect_error<SpecError>([] { from("[video]\nremove = 1\n"); }, ErrorCode::InvalidKey, {"video.remove"});
  expect_error<SpecError>([] { from("[trans]\nno_upscale = 'yes'\n"); }, ErrorCode::InvalidKey, {"trans.no_upscale"});
  expect_error<SpecError>([] { from("[video]\ncodec = 264\n"); }, ErrorCode::InvalidKey, {"video.codec"});
  expect_error<SpecError>([] { from("[video]\nfps = true\n"); }, ErrorCode::InvalidKey, {"video.fps"});
  expect_error<SpecError>([] { from("video = 'h264'\n"); }, ErrorCode::InvalidKey, {"video"});
  expect_error<SpecError>([] { from("[audio]\nbitrate = 128\nsamplerate = 44100\n"); }, ErrorCode::InvalidKey,
                          {"audio.samplerate", "unknown key"});
  expect_error<SpecError>([] { from("[mux]\nhls_time = 4\n"); }, ErrorCode::InvalidKey, {"mux.hls_time"});
  expect_error<SpecError>([] { from("[transcode]\nmode = 'cbr'\n"); }, ErrorCode::InvalidKey, {"transcode"});
}

TEST(TemplateValues, CodecNamesAreCaseInsensitiveWithCommonAliases) {
  EXPECT_EQ(from("[video]\ncodec = 'HEVC'\n").video.codec, VideoCodec::h265);
  EXPECT_EQ(from("[video]\ncodec = 'avc'\n").video.codec, VideoCodec::h264);
  EXPECT_EQ(from("[video]\ncodec = 'H265'\n").video.codec, VideoCodec::h265);
  EXPECT_EQ(from("[audio]\ncodec = 'MP3'\n").audio.codec, AudioCodec::mp3);
  EXPECT_EQ(from("[container]\nformat = 'M3U8'\n").container, Container::m3u8);
}

TEST(TemplateValues, GopInSecondsOrFrames) {
  Template s = from("[video]\ngop = '2s'\n");
  EXPECT_DOUBLE_EQ(*s.video.gop_seconds, 2.0);
  EXPECT_FALSE(s.video.gop_frames);
  Template f = from("[video]\ngop = 250\n");
  EXPECT_EQ(f.video.gop_frames, 250);
  EXPECT_FALSE(f.video.gop_seconds);
  EXPECT_DOUBLE_EQ(*from("[video]\ngop = '1.5s'\n").video.gop_seconds, 1.5);
  for (const char* bad : {"'2'", "'2 s'", "'2sec'", "'s'", "'two'", "'2ms'"}) {
    SCOPED_TRACE(bad);
    expect_error<SpecError>([&] { from(std::string("[video]\ngop = ") + bad + "\n"); }, ErrorCode::InvalidKey, {"video.gop"});
  }
  expect_error<SpecError>([] { from("[video]\ngop = 2.5\n"); }, ErrorCode::InvalidKey, {"video.gop"});  // frames are whole
}

TEST(TemplateValues, FrameRateForms) {
  auto expect_fps = [](const std::string& v, int num, int den) {
    Rational r = fps_of(v);
    EXPECT_EQ(r.num, num) << v;
    EXPECT_EQ(r.den, den) << v;
  };
  expect_fps("29.97", 30000, 1001);
  expect_fps("23.976", 24000, 1001);
  expect_fps("59.94", 60000, 1001);
  expect_fps("25", 25, 1);
  expect_fps("25.0", 25, 1);
  expect_fps("'30000/1001'", 30000, 1001);
  expect_fps("'25/1'", 25, 1);
  EXPECT_DOUBLE_EQ(fps_of("12.5").value(), 12.5);
  // The same through --set, where 29.97 is a TOML float and 30000/1001 a bare word.
  toml::table t;
  spec::apply_override(t, "video.fps=30000/1001");
  EXPECT_EQ(template_from_table(t, "t", "--set").video.fps->den, 1001);
  toml::table u;
  spec::apply_override(u, "video.fps=29.97");
  EXPECT_EQ(template_from_table(u, "t", "--set").video.fps->num, 30000);
}

TEST(TemplateValues, MalformedFrameRatesAreRejected) {
  for (const char* bad : {"'fast'", "'/1001'", "'30000/'", "'30000/0'", "'30000/1001x'", "'30x/1'", "'30.5/1'"}) {
    SCOPED_TRACE(bad);
    try {
      Rational r = fps_of(bad);
      ADD_FAILURE() << "accepted as " << r.num << "/" << r.den;
    } catch (const SpecError& e) {
      EXPECT_TRUE(e.code() == ErrorCode::InvalidKey || e.code() == ErrorCode::OutOfRange) << e.what();
      EXPECT_NE(std::string(e.what()).find("video.fps"), std::string::npos) << e.what();
    }
  }
}

TEST(TemplateValues, FrameRateRangeAppliesToFractionsToo) {
  // docs/templates.md: fps is 1..120 in every form.
  for (const char* bad : {"0.5", "'0/1'", "'121/1'", "'240000/1001'", "'1/2'", "'1000/1001'"}) {
    SCOPED_TRACE(bad);
    expect_error<SpecError>([&] { fps_of(bad); }, ErrorCode::OutOfRange, {"video.fps"});
  }
}

TEST(TemplateValues, RateControlCombinations) {
  expect_error<SpecError>([] { from("[video]\ncrf = 20\nbitrate = 900\n"); }, ErrorCode::Incompatible, {"crf", "bitrate"});
  expect_error<SpecError>([] { from("[video]\nqp = 20\nbitrate = 900\n"); }, ErrorCode::Incompatible, {"qp", "bitrate"});
  expect_error<SpecError>([] { from("[video]\ncrf = 20\nqp = 20\n"); }, ErrorCode::Incompatible, {"crf", "qp"});
  expect_error<SpecError>([] { from("[trans]\nmode = 'twopass'\n"); }, ErrorCode::Incompatible, {"twopass", "video.bitrate"});
  expect_error<SpecError>([] { from("[video]\ncrf = 20\n[trans]\nmode = 'twopass'\n"); }, ErrorCode::Incompatible,
                          {"twopass"});
  expect_error<SpecError>([] { from("[video]\nbitrate = 0\n[trans]\nmode = 'cbr'\n"); }, ErrorCode::Incompatible, {"cbr"});
  // Valid combinations.
  EXPECT_EQ(from("[video]\nbitrate = 900\n[trans]\nmode = 'twopass'\n").trans.mode, RateMode::twopass);
  EXPECT_EQ(from("[video]\nbitrate = 900\n[trans]\nmode = 'cbr'\n").trans.mode, RateMode::cbr);
  EXPECT_EQ(from("[video]\ncrf = 20\nmaxrate = 900\nbufsize = 1800\n").video.maxrate, 900);  // capped CRF
  // twopass needs no bitrate when nothing is encoded.
  EXPECT_NO_THROW(from("[video]\ncodec = 'copy'\n[trans]\nmode = 'twopass'\n"));
  EXPECT_NO_THROW(from("[video]\nremove = true\n[trans]\nmode = 'twopass'\n"));
}

TEST(TemplateValues, ZeroClearsAnInheritedBitrate) {
  toml::table base = toml::parse("[video]\nbitrate = 2000\nmaxrate = 3000\nbufsize = 4000\n");
  {
    toml::table t = base;
    spec::merge_into(t, toml::parse("[video]\ncrf = 20\n"));
    expect_error<SpecError>([&] { template_from_table(t, "t", "job"); }, ErrorCode::Incompatible, {"bitrate = 0"});
  }
  toml::table t = base;
  spec::merge_into(t, toml::parse("[video]\ncrf = 20\nbitrate = 0\nmaxrate = 0\nbufsize = 0\n"));
  Template out = template_from_table(t, "t", "job");
  EXPECT_EQ(out.video.crf, 20);
  EXPECT_FALSE(out.video.bitrate);
  EXPECT_FALSE(out.video.maxrate);
  EXPECT_FALSE(out.video.bufsize);
}

TEST(TemplateValues, ToTableRoundTripsEveryField) {
  expect_round_trip(template_from_table(toml::table{}, "empty", "test"));
  expect_round_trip(from(R"(
name = "full"
description = "every key set"
[container]
format = "mkv"
[video]
codec = "h265"
profile = "main10"
preset = "veryslow"
qp = 0
maxrate = 4000
bufsize = 8000
width = 1280
height = 720
fps = 12.5
gop = 48
pix_fmt = "yuv420p10le"
threads = 3
[audio]
codec = "vorbis"
bitrate = 96
sample_rate = 32000
channels = 1
[trans]
no_upscale = false
cap_video_bitrate = true
cap_audio_bitrate = true
aspect = "none"
[mux]
hls_segment_seconds = 2.5
gif_loop = -1
gif_final_delay = 300
faststart = false
)"));
  expect_round_trip(from("[video]\ncrf = 0\nfps = 23.976\ngop = '0.5s'\n[audio]\nremove = true\n"));
  expect_round_trip(from("[container]\nformat = 'gif'\n[video]\ncodec = 'gif'\nwidth = 320\nfps = 10\n[mux]\ngif_loop = 3\n"));
  expect_round_trip(from("[container]\nformat = 'm3u8'\n[video]\nbitrate = 1500\ngop = '2s'\n[trans]\nmode = 'twopass'\n"));
}

TEST(TemplateValues, ToTableIsAValidTemplateFileThatGopcastReadsBack) {
  // `gopcast templates show` prints to_table(); that text must load as a template file.
  gopcast::test::TempDir d;
  Template t = from("[video]\ncodec='h265'\nbitrate=900\nfps='30000/1001'\ngop='2s'\n[trans]\nmode='cbr'\naspect='pad'\n");
  gopcast::test::write_file(d / "shown.toml", printed(t));
  Catalog c({d.path});
  Template back = c.load("shown");
  EXPECT_EQ(printed(back), printed(t));
}
