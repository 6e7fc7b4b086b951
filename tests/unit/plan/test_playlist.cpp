// HLS media playlist text (plan/playlist.hpp).
#include <gtest/gtest.h>

#include "plan/playlist.hpp"

using namespace gopcast::plan;

namespace {

TEST(MediaPlaylistText, VodWithoutEncryption) {
  MediaPlaylist p;
  p.target_seconds = 6;
  p.segments = {{"a_00000.ts", 6.0}, {"a_00001.ts", 6.0}, {"a_00002.ts", 2.5}};
  EXPECT_EQ(render_media_playlist(p),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n#EXTINF:6.000000,\na_00000.ts\n#EXTINF:6.000000,\na_00001.ts\n"
            "#EXTINF:2.500000,\na_00002.ts\n#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylistText, AKeyLineBeforeEverySegmentWithItsOwnIv) {
  MediaPlaylist p;
  p.key_uris = {"k-0.key", "k-1.key"};
  p.segments = {{"s0.ts", 6, 0, "00000000000000000000000000000001"},
                {"s1.ts", 6, 0, "00000000000000000000000000000002"},
                {"s2.ts", 6, 1, "00000000000000000000000000000003"}};
  const std::string text = render_media_playlist(p);
  EXPECT_NE(text.find("#EXT-X-KEY:METHOD=AES-128,URI=\"k-0.key\",IV=0x00000000000000000000000000000001\n#EXTINF:6.000000,\ns0.ts"),
            std::string::npos) << text;
  EXPECT_NE(text.find("URI=\"k-0.key\",IV=0x00000000000000000000000000000002\n#EXTINF:6.000000,\ns1.ts"), std::string::npos);
  EXPECT_NE(text.find("URI=\"k-1.key\",IV=0x00000000000000000000000000000003\n#EXTINF:6.000000,\ns2.ts"), std::string::npos);
}

TEST(MediaPlaylistText, AGrowingEventPlaylistHasNoEndUntilTheEnd) {
  MediaPlaylist p;
  p.type = PlaylistType::Event;
  p.ended = false;
  p.segments = {{"s0.ts", 4}};
  std::string text = render_media_playlist(p);
  EXPECT_NE(text.find("#EXT-X-PLAYLIST-TYPE:EVENT\n"), std::string::npos);
  EXPECT_EQ(text.find("#EXT-X-ENDLIST"), std::string::npos);
  p.ended = true;
  EXPECT_NE(render_media_playlist(p).find("#EXT-X-ENDLIST\n"), std::string::npos);
}

TEST(TargetDuration, CoversTheTemplateLengthAndEverySegment) {
  MediaPlaylist p;
  p.target_seconds = 6;
  EXPECT_EQ(target_duration(p), 6);
  p.segments = {{"a", 6.4}};
  EXPECT_EQ(target_duration(p), 6);
  p.segments = {{"a", 6.6}};
  EXPECT_EQ(target_duration(p), 7);
  p.target_seconds = 2.5;
  p.segments = {};
  EXPECT_EQ(target_duration(p), 3);
}

TEST(KeyUri, ExpandsKeyAndIndex) {
  EXPECT_EQ(key_uri("{key}", "film-3.key", 3), "film-3.key");
  EXPECT_EQ(key_uri("https://keys.example.org/vod/{index}?f={key}", "film-3.key", 3),
            "https://keys.example.org/vod/3?f=film-3.key");
}

}  // namespace

namespace {

TEST(MasterPlaylistText, OneStreamInfPerVariantWithEveryAttribute) {
  std::vector<Variant> v = {{"film_720p.m3u8", 2500000, 2100000, 1280, 720, 24, "avc1.64001f,mp4a.40.2"},
                            {"film_360p.m3u8", 800000, 700000, 640, 360, 29.97, "avc1.4d401e,mp4a.40.2"}};
  EXPECT_EQ(render_master_playlist(v),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2100000,RESOLUTION=1280x720,FRAME-RATE=24.000,"
            "CODECS=\"avc1.64001f,mp4a.40.2\"\nfilm_720p.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,FRAME-RATE=29.970,"
            "CODECS=\"avc1.4d401e,mp4a.40.2\"\nfilm_360p.m3u8\n");
}

TEST(CodecStrings, FromTheSpsOfAnAnnexBStream) {
  // An access unit: AUD, then an SPS of High profile, level 3.0.
  const uint8_t avc[] = {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40};
  EXPECT_EQ(avc_codec_string(avc, sizeof avc), "avc1.64001e");
  // H.265 Main, Main tier, level 3.1 (93), with the emulation-prevention bytes a real
  // stream has in its runs of zeros: Apple's "hvc1.1.6.L93.B0".
  const uint8_t hevc[] = {0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0xb0,
                          0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0};
  EXPECT_EQ(hevc_codec_string(hevc, sizeof hevc), "hvc1.1.6.L93.B0");
  const uint8_t none[] = {0, 0, 1, 0x65, 0x88};
  EXPECT_FALSE(avc_codec_string(none, sizeof none));
}

TEST(CodecStrings, FromTheDecoderConfigurationRecordOfMp4Extradata) {
  // avcC: version 1, profile 100 (High), compatibility 0, level 30, then lengths and sets.
  const uint8_t avcc[] = {0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1e};
  EXPECT_EQ(avc_codec_string(avcc, sizeof avcc), "avc1.64001e");
  // hvcC: version 1, then the same profile_tier_level bytes as the SPS above.
  const uint8_t hvcc[23] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5d};
  EXPECT_EQ(hevc_codec_string(hvcc, sizeof hvcc), "hvc1.1.6.L93.B0");
  const uint8_t short_hvcc[5] = {0x01, 0x01, 0x60, 0x00, 0x00};
  EXPECT_FALSE(hevc_codec_string(short_hvcc, sizeof short_hvcc));
}

TEST(MediaPlaylistText, FragmentedMp4NamesItsInitSegmentFirst) {
  MediaPlaylist p;
  p.map_uri = "v_video_init.mp4";
  p.segments = {{"v_video_00000.m4s", 6.0}};
  const std::string text = render_media_playlist(p);
  EXPECT_NE(text.find("#EXT-X-VERSION:7\n"), std::string::npos);
  const auto map = text.find("#EXT-X-MAP:URI=\"v_video_init.mp4\"\n");
  ASSERT_NE(map, std::string::npos);
  EXPECT_LT(map, text.find("#EXTINF"));
}

TEST(MasterPlaylistText, AudioGroupsAreListedOnceAndNamedByTheirVariants) {
  Variant hi{"hi_video.m3u8", 2000000, 1800000, 1280, 720, 24, "avc1.64001f,mp4a.40.2", "audio", "hi_audio.m3u8"};
  Variant lo{"lo_video.m3u8", 900000, 800000, 640, 360, 24, "avc1.64001e,mp4a.40.2", "audio", "hi_audio.m3u8"};
  const std::string text = render_master_playlist({hi, lo});
  const std::string media = "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,URI=\"hi_audio.m3u8\"\n";
  ASSERT_NE(text.find(media), std::string::npos);
  EXPECT_EQ(text.find(media), text.rfind(media));
  EXPECT_LT(text.find(media), text.find("#EXT-X-STREAM-INF"));
  EXPECT_NE(text.find("CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"audio\"\nlo_video.m3u8\n"), std::string::npos);
}

}  // namespace
