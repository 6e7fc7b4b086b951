// MPEG-DASH manifest text (plan/dash.hpp).
#include <gtest/gtest.h>

#include "plan/dash.hpp"

using namespace gopcast::plan;

namespace {

DashRepresentation video() {
  DashRepresentation r;
  r.id = "v-video";
  r.bandwidth = 1000000;
  r.width = 854;
  r.height = 480;
  r.frame_rate_num = 24000;
  r.frame_rate_den = 1001;
  r.codecs = "avc1.64001e";
  r.init_uri = "v_video_init.mp4";
  r.media_template = dash_media_template("v_video_", 5, ".m4s");
  r.timescale = 12288;
  r.starts = {1024, 74752, 148480, 222208};
  r.end = 250000;
  return r;
}

DashRepresentation audio() {
  DashRepresentation r;
  r.content = DashContent::audio;
  r.id = "v-audio";
  r.bandwidth = 130000;
  r.sample_rate = 48000;
  r.channels = 2;
  r.codecs = "mp4a.40.2";
  r.init_uri = "v_audio_init.mp4";
  r.media_template = dash_media_template("v_audio_", 5, ".m4s");
  r.timescale = 48000;
  r.starts = {2976, 288672};
  r.end = 576416;
  return r;
}

TEST(DashTemplate, NumbersAndEscapedDollars) {
  EXPECT_EQ(dash_media_template("v_video_", 5, ".m4s"), "v_video_$Number%05d$.m4s");
  EXPECT_EQ(dash_media_template("a$b_", 3, ".m4s"), "a$$b_$Number%03d$.m4s");
}

TEST(DashManifest, VideoAndAudioAdaptationSetsWithCompressedTimelines) {
  const std::string mpd = render_mpd({video(), audio()}, 6);
  EXPECT_NE(mpd.find("type=\"static\""), std::string::npos);
  EXPECT_NE(mpd.find("minBufferTime=\"PT6.000S\""), std::string::npos);
  // From the earliest start (audio's 2976/48000 = 0.062 s) to the latest end (video's
  // 250000/12288 = 20.345 s).
  EXPECT_NE(mpd.find("mediaPresentationDuration=\"PT20.283S\""), std::string::npos);
  const auto vset = mpd.find("contentType=\"video\" mimeType=\"video/mp4\"");
  const auto aset = mpd.find("contentType=\"audio\" mimeType=\"audio/mp4\"");
  ASSERT_NE(vset, std::string::npos);
  ASSERT_NE(aset, std::string::npos);
  EXPECT_LT(vset, aset);
  EXPECT_NE(mpd.find("width=\"854\" height=\"480\" frameRate=\"24000/1001\""), std::string::npos);
  EXPECT_NE(mpd.find("audioSamplingRate=\"48000\""), std::string::npos);
  EXPECT_NE(mpd.find("audio_channel_configuration:2011\" value=\"2\""), std::string::npos);
  // Three equal video segments become one S with r=2, then the short last one.
  EXPECT_NE(mpd.find("<S t=\"1024\" d=\"73728\" r=\"2\"/>\n            <S t=\"222208\" d=\"27792\"/>"), std::string::npos);
  // Every track's zero is the earliest start of all, in its own timescale: 0.062 s.
  EXPECT_NE(mpd.find("timescale=\"12288\" presentationTimeOffset=\"762\""), std::string::npos);
  EXPECT_NE(mpd.find("timescale=\"48000\" presentationTimeOffset=\"2976\""), std::string::npos);
  EXPECT_NE(mpd.find("media=\"v_video_$Number%05d$.m4s\""), std::string::npos);
}

TEST(DashManifest, NamesAreXmlEscaped) {
  DashRepresentation r = video();
  r.id = "a&b";
  r.init_uri = "a&b_video_init.mp4";
  r.media_template = dash_media_template("a&b\"_", 5, ".m4s");
  const std::string mpd = render_mpd({r}, 6);
  EXPECT_NE(mpd.find("id=\"a&amp;b\""), std::string::npos);
  EXPECT_NE(mpd.find("initialization=\"a&amp;b_video_init.mp4\""), std::string::npos);
  EXPECT_NE(mpd.find("media=\"a&amp;b&quot;_$Number%05d$.m4s\""), std::string::npos);
  EXPECT_EQ(mpd.find("contentType=\"audio\""), std::string::npos);  // no empty audio set
}

TEST(DashManifest, IsoDurations) {
  EXPECT_EQ(iso_duration(30.0366), "PT30.037S");
  EXPECT_EQ(iso_duration(-1), "PT0.000S");
}

}  // namespace
