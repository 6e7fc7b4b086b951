// Resolving a template against hand-made source streams (plan/output.hpp).
#include <gtest/gtest.h>

#include <functional>

#include "../test_support.hpp"
#include "av/capabilities.hpp"
#include "plan/output.hpp"

using namespace gopcast;
using namespace gopcast::plan;
using gopcast::test::contains;
using gopcast::test::expect_error;

namespace {
StreamInfo video(int w = 854, int h = 480, const char* pix_fmt = "yuv420p", std::optional<int64_t> bit_rate = 900000) {
  StreamInfo s;
  s.index = 0;
  s.type = "video";
  s.codec = "h264";
  s.width = w;
  s.height = h;
  s.sample_aspect_ratio = Rational{1, 1};
  s.avg_frame_rate = s.real_frame_rate = Rational{24, 1};
  if (pix_fmt) s.pix_fmt = pix_fmt;
  s.bit_rate = bit_rate;
  return s;
}

StreamInfo audio(int channels = 2, int rate = 48000, std::optional<int64_t> bit_rate = 192000, const char* codec = "aac") {
  StreamInfo s;
  s.index = 1;
  s.type = "audio";
  s.codec = codec;
  s.sample_rate = rate;
  s.channels = channels;
  s.sample_fmt = "fltp";
  s.bit_rate = bit_rate;
  return s;
}

Template tmpl(const std::function<void(Template&)>& f = {}) {
  Template t;
  t.name = "unit";
  if (f) f(t);
  return t;
}

plan::OutputPlan planned(const Template& t, std::optional<StreamInfo> v = video(), std::optional<StreamInfo> a = audio()) {
  return plan_output(t, v ? &*v : nullptr, a ? &*a : nullptr, "input.mp4", av::capabilities());
}

std::string pix(const char* src_fmt, const std::string& want, const std::string& profile = "",
                VideoCodec codec = VideoCodec::h264) {
  return planned(tmpl([&](Template& t) {
                t.video.codec = codec;
                t.video.pix_fmt = want;
                t.video.profile = profile;
              }),
              video(854, 480, src_fmt))
      .video.pix_fmt;
}
}  // namespace

TEST(PlanOutputContainers, DefaultTemplateIsH264AacMp4WithFaststart) {
  auto p = planned(tmpl());
  EXPECT_EQ(p.container, Container::mp4);
  EXPECT_EQ(p.muxer, "mp4");
  ASSERT_TRUE(p.video.present);
  EXPECT_FALSE(p.video.copy);
  EXPECT_EQ(p.video.encoder, "libx264");
  EXPECT_EQ(p.video.width, 854);
  EXPECT_EQ(p.video.height, 480);
  EXPECT_EQ(p.video.pix_fmt, "yuv420p");
  EXPECT_EQ(p.video.crf, 23);  // quality 23 when no rate control is given
  EXPECT_EQ(p.video.bitrate, 0);
  EXPECT_DOUBLE_EQ(p.video.keyframe_grid, 0);
  ASSERT_TRUE(p.audio.present);
  EXPECT_EQ(p.audio.encoder, "aac");
  EXPECT_EQ(p.audio.sample_rate, 48000);
  EXPECT_EQ(p.audio.channels, 2);
  EXPECT_EQ(p.audio.bitrate, 128);
  EXPECT_EQ(p.muxer_options, (std::vector<std::pair<std::string, std::string>>{{"movflags", "+faststart"}}));
  EXPECT_TRUE(planned(tmpl([](Template& t) { t.mux.faststart = false; })).muxer_options.empty());
}

TEST(PlanOutputContainers, CodecsTheContainerCannotHoldAreIncompatible) {
  expect_error<SpecError>([] { planned(tmpl([](Template& t) {
                                 t.container = Container::flv;
                                 t.video.codec = VideoCodec::h265;
                               })); },
                          ErrorCode::Incompatible, {"video.codec", "h265", "flv"});
  expect_error<SpecError>([] { planned(tmpl([](Template& t) { t.video.codec = VideoCodec::gif; })); }, ErrorCode::Incompatible,
                          {"video.codec", "gif", "mp4"});
  expect_error<SpecError>([] { planned(tmpl([](Template& t) { t.container = Container::gif; })); }, ErrorCode::Incompatible,
                          {"video.codec", "h264", "gif"});
  expect_error<SpecError>([] { planned(tmpl([](Template& t) { t.audio.codec = AudioCodec::vorbis; })); }, ErrorCode::Incompatible,
                          {"audio.codec", "vorbis", "mp4"});
  expect_error<SpecError>([] { planned(tmpl([](Template& t) {
                                 t.container = Container::m4a;
                                 t.audio.codec = AudioCodec::mp3;
                               })); },
                          ErrorCode::Incompatible, {"audio.codec"});
  expect_error<SpecError>([] { planned(tmpl([](Template& t) { t.container = Container::ogg; })); }, ErrorCode::Incompatible,
                          {"audio.codec", "aac", "ogg"});
  // What docs/templates.md allows.
  EXPECT_NO_THROW(planned(tmpl([](Template& t) {
    t.container = Container::mkv;
    t.video.codec = VideoCodec::h265;
    t.audio.codec = AudioCodec::flac;
  })));
  EXPECT_NO_THROW(planned(tmpl([](Template& t) {
    t.container = Container::ts;
    t.audio.codec = AudioCodec::mp3;
  })));
  EXPECT_NO_THROW(planned(tmpl([](Template& t) { t.container = Container::flv; })));
  EXPECT_EQ(planned(tmpl([](Template& t) { t.container = Container::mkv; })).muxer, "matroska");
  EXPECT_EQ(planned(tmpl([](Template& t) { t.container = Container::ts; })).muxer, "mpegts");
}

TEST(PlanOutputContainers, GifNeedsVideoAndDropsAudio) {
  auto gif = tmpl([](Template& t) {
    t.container = Container::gif;
    t.video.codec = VideoCodec::gif;
    t.mux.gif_loop = -1;
    t.mux.gif_final_delay = 50;
  });
  expect_error<MediaError>([&] { planned(gif, std::nullopt, audio()); }, ErrorCode::ResourceContentBad, {"input.mp4"});
  auto p = planned(gif);
  EXPECT_EQ(p.muxer, "gif");
  ASSERT_TRUE(p.video.present);
  EXPECT_EQ(p.video.encoder, "gif");
  EXPECT_EQ(p.video.pix_fmt, "pal8");
  EXPECT_TRUE(p.video.palette);
  EXPECT_FALSE(p.video.crf);
  EXPECT_TRUE(contains(p.video.filters, "fps=10")) << p.video.filters;  // 10 fps unless told otherwise
  EXPECT_FALSE(p.audio.present);
  EXPECT_EQ(p.muxer_options,
            (std::vector<std::pair<std::string, std::string>>{{"loop", "-1"}, {"final_delay", "50"}}));
}

TEST(PlanOutputContainers, AudioOnlyContainersDropTheVideo) {
  struct Case {
    Container c;
    AudioCodec a;
    const char* muxer;
    const char* encoder;
  };
  for (const Case& c : {Case{Container::mp3, AudioCodec::mp3, "mp3", "libmp3lame"}, Case{Container::m4a, AudioCodec::aac, "ipod", "aac"},
                        Case{Container::ogg, AudioCodec::vorbis, "ogg", "libvorbis"},
                        Case{Container::flac, AudioCodec::flac, "flac", "flac"}}) {
    SCOPED_TRACE(c.muxer);
    auto t = tmpl([&](Template& t) {
      t.container = c.c;
      t.audio.codec = c.a;
    });
    auto p = planned(t);
    EXPECT_FALSE(p.video.present);
    EXPECT_EQ(p.video.encoder, "");
    EXPECT_TRUE(p.audio.present);
    EXPECT_EQ(p.muxer, c.muxer);
    EXPECT_EQ(p.audio.encoder, c.encoder);
    // Without an audio stream there is nothing to write.
    expect_error<MediaError>([&] { planned(t, video(), std::nullopt); }, ErrorCode::ResourceContentBad, {"input.mp4"});
  }
}

TEST(PlanOutputContainers, RemovedStreams) {
  auto p = planned(tmpl([](Template& t) { t.video.remove = true; }));
  EXPECT_FALSE(p.video.present);
  EXPECT_TRUE(p.audio.present);
  p = planned(tmpl([](Template& t) { t.audio.remove = true; }));
  EXPECT_TRUE(p.video.present);
  EXPECT_FALSE(p.audio.present);
  p = planned(tmpl(), video(), std::nullopt);  // a silent source: video only
  EXPECT_TRUE(p.video.present);
  EXPECT_FALSE(p.audio.present);
  expect_error<MediaError>([] { planned(tmpl([](Template& t) { t.video.remove = true; }), video(), std::nullopt); },
                           ErrorCode::ResourceContentBad, {"input.mp4"});
}

TEST(PlanOutputContainers, CopyNeedsACodecTheContainerTakes) {
  auto copy_video = [](Container c) {
    return tmpl([c](Template& t) {
      t.container = c;
      t.video.codec = VideoCodec::copy;
      t.audio.codec = AudioCodec::copy;
    });
  };
  auto p = planned(copy_video(Container::mkv));
  EXPECT_TRUE(p.video.copy);
  EXPECT_TRUE(p.audio.copy);
  EXPECT_EQ(p.video.width, 854);
  EXPECT_EQ(p.audio.channels, 2);
  StreamInfo vp6 = video(352, 288);
  vp6.codec = "vp6f";
  expect_error<SpecError>([&] { planned(copy_video(Container::mp4), vp6, audio()); }, ErrorCode::Incompatible, {"vp6f", "mp4"});
  StreamInfo wma = audio(1, 16000, 16000, "wmav2");
  expect_error<SpecError>([&] { planned(copy_video(Container::mp4), video(), wma); }, ErrorCode::Incompatible, {"wmav2"});
}

// ---------------------------------------------------------------------------

TEST(PlanOutputPixels, EmptyMeansTheSourcesFormat) {
  EXPECT_EQ(pix("yuv422p", ""), "yuv422p");
  EXPECT_EQ(pix("yuv444p", ""), "yuv444p");
  EXPECT_EQ(pix("yuv420p", ""), "yuv420p");
  EXPECT_EQ(pix("yuvj420p", ""), "yuvj420p");
  EXPECT_EQ(pix(nullptr, ""), "yuv420p");  // unknown source format
  EXPECT_EQ(pix("pal8", ""), "yuv420p");   // the source's, but x264 cannot take it
}

TEST(PlanOutputPixels, ValidFormatsAreUsed) {
  EXPECT_EQ(pix("yuv420p", "yuv444p"), "yuv444p");
  EXPECT_EQ(pix("yuv420p", "yuv422p"), "yuv422p");
  EXPECT_EQ(pix("yuv420p", "yuv420p10le", "high10"), "yuv420p10le");
  EXPECT_EQ(pix("yuv420p", "yuv444p", "high444"), "yuv444p");
  EXPECT_EQ(pix("yuv420p", "yuv422p", "high422"), "yuv422p");
  EXPECT_EQ(pix("yuv420p", "yuv444p", "", VideoCodec::h265), "yuv444p");
  auto p = planned(tmpl([](Template& t) { t.video.pix_fmt = "yuv444p"; }));
  EXPECT_TRUE(contains(p.video.filters, "format=yuv444p")) << p.video.filters;
}

TEST(PlanOutputPixels, FormatsTheProfileOrEncoderCannotTakeFallBackToYuv420p) {
  EXPECT_EQ(pix("yuv420p", "yuv444p", "high"), "yuv420p");
  EXPECT_EQ(pix("yuv420p", "yuv422p", "main"), "yuv420p");
  EXPECT_EQ(pix("yuv420p", "yuv444p", "baseline"), "yuv420p");
  EXPECT_EQ(pix("yuv444p", "", "high"), "yuv420p");  // the source's format, but not in the profile
  EXPECT_EQ(pix("yuv420p", "rgb24"), "yuv420p");
  EXPECT_EQ(pix("yuv420p", "pal8"), "yuv420p");
  auto p = planned(tmpl([](Template& t) {
    t.video.pix_fmt = "yuv444p";
    t.video.profile = "high";
  }));
  EXPECT_TRUE(contains(p.video.filters, "format=yuv420p")) << p.video.filters;
}

TEST(PlanOutputPixels, UnknownFormatNamesAreOutOfRange) {
  expect_error<SpecError>([] { pix("yuv420p", "yuv999p"); }, ErrorCode::OutOfRange, {"video.pix_fmt", "yuv999p"});
  expect_error<SpecError>([] { pix("yuv420p", "YUV420P"); }, ErrorCode::OutOfRange, {"video.pix_fmt"});
}

TEST(PlanOutputPixels, FrameSizesFollowTheChromaSubsampling) {
  // 4:2:0 needs even sizes even when nothing is asked.
  auto p = planned(tmpl(), video(853, 481));
  EXPECT_EQ(p.video.width, 852);
  EXPECT_EQ(p.video.height, 480);
  EXPECT_TRUE(contains(p.video.filters, "scale=852:480")) << p.video.filters;
  // 4:4:4 takes any size: nothing to scale.
  p = planned(tmpl([](Template& t) { t.video.pix_fmt = "yuv444p"; }), video(853, 481));
  EXPECT_EQ(p.video.width, 853);
  EXPECT_EQ(p.video.height, 481);
  EXPECT_FALSE(contains(p.video.filters, "scale=")) << p.video.filters;
  // An even source with nothing asked passes unscaled.
  p = planned(tmpl());
  EXPECT_FALSE(contains(p.video.filters, "scale=")) << p.video.filters;
  EXPECT_TRUE(contains(p.video.filters, "format=yuv420p"));
}

// ---------------------------------------------------------------------------

TEST(PlanOutputVideo, SizeRotationAndFilters) {
  auto p = planned(tmpl([](Template& t) { t.video.width = 640; }));
  EXPECT_EQ(p.video.width, 640);
  EXPECT_EQ(p.video.height, 360);
  EXPECT_TRUE(contains(p.video.filters, "scale=640:360")) << p.video.filters;
  EXPECT_TRUE(contains(p.video.filters, "setsar=1")) << p.video.filters;
  // Pad centres the picture on the canvas.
  p = planned(tmpl([](Template& t) {
    t.video.width = 640;
    t.video.height = 640;
    t.trans.aspect = AspectMode::pad;
  }));
  EXPECT_EQ(p.video.width, 640);
  EXPECT_EQ(p.video.height, 640);
  EXPECT_TRUE(contains(p.video.filters, "scale=640:360")) << p.video.filters;
  EXPECT_TRUE(contains(p.video.filters, "pad=640:640:(ow-iw)/2:(oh-ih)/2")) << p.video.filters;
  // Crop cuts to the box.
  p = planned(tmpl([](Template& t) {
    t.video.width = 400;
    t.video.height = 400;
    t.trans.aspect = AspectMode::crop;
  }));
  EXPECT_EQ(p.video.width, 400);
  EXPECT_EQ(p.video.height, 400);
  EXPECT_TRUE(contains(p.video.filters, "scale=712:400")) << p.video.filters;
  EXPECT_TRUE(contains(p.video.filters, "crop=400:400")) << p.video.filters;
  // A sideways phone video comes out upright, sized in display terms.
  StreamInfo phone = video(1280, 720);
  phone.rotation = 90;
  p = planned(tmpl([](Template& t) { t.video.height = 640; }), phone);
  EXPECT_EQ(p.video.width, 360);
  EXPECT_EQ(p.video.height, 640);
  EXPECT_EQ(p.video.filters.rfind("transpose=clock", 0), 0u) << p.video.filters;  // turned first, then scaled
  phone.rotation = 270;
  EXPECT_TRUE(contains(planned(tmpl(), phone).video.filters, "transpose=cclock"));
  EXPECT_EQ(planned(tmpl(), phone).video.width, 720);
  phone.rotation = 180;
  EXPECT_TRUE(contains(planned(tmpl(), phone).video.filters, "hflip,vflip"));
  EXPECT_EQ(planned(tmpl(), phone).video.width, 1280);
  // A frame rate goes into the chain.
  EXPECT_TRUE(contains(planned(tmpl([](Template& t) { t.video.fps = Rational{30000, 1001}; })).video.filters, "fps=30000/1001"));
}

TEST(PlanOutputVideo, RateControl) {
  auto p = planned(tmpl([](Template& t) { t.video.crf = 18; }));
  EXPECT_EQ(p.video.crf, 18);
  EXPECT_EQ(p.video.bitrate, 0);
  p = planned(tmpl([](Template& t) { t.video.qp = 0; }));
  EXPECT_EQ(p.video.qp, 0);
  EXPECT_FALSE(p.video.crf);  // no default crf beside a qp
  p = planned(tmpl([](Template& t) { t.video.bitrate = 700; }));
  EXPECT_EQ(p.video.bitrate, 700);
  EXPECT_FALSE(p.video.crf);
  p = planned(tmpl([](Template& t) {
    t.video.bitrate = 700;
    t.trans.mode = RateMode::cbr;
  }));
  EXPECT_EQ(p.video.mode, RateMode::cbr);
  EXPECT_EQ(p.video.maxrate, 700);
  EXPECT_EQ(p.video.bufsize, 700);
  p = planned(tmpl([](Template& t) {
    t.video.gop_seconds = 2;
    t.video.profile = "high";
    t.video.preset = "slow";
    t.video.threads = 3;
  }));
  EXPECT_EQ(p.video.gop_seconds, 2.0);
  EXPECT_EQ(p.video.profile, "high");
  EXPECT_EQ(p.video.preset, "slow");
  EXPECT_EQ(p.video.threads, 3);
}

TEST(PlanOutputVideo, CapVideoBitrateAtTheSources) {
  auto capped = [](int bitrate, std::optional<int64_t> src_bps, bool cap, std::optional<int> maxrate = std::nullopt) {
    return planned(tmpl([&](Template& t) {
                  t.video.bitrate = bitrate;
                  t.video.maxrate = maxrate;
                  t.trans.cap_video_bitrate = cap;
                }),
                video(854, 480, "yuv420p", src_bps))
        .video;
  };
  EXPECT_EQ(capped(5000, 900000, true).bitrate, 873);  // 97% of the source's: room for each segment's own buffer
  EXPECT_EQ(capped(500, 900000, true).bitrate, 500);  // already below: unchanged
  EXPECT_EQ(capped(5000, 900000, false).bitrate, 5000);
  EXPECT_EQ(capped(5000, std::nullopt, true).bitrate, 5000);  // unknown source rate: nothing to cap at
  auto v = capped(5000, 900000, true, 7500);
  EXPECT_EQ(v.bitrate, 873);
  EXPECT_EQ(v.maxrate, 873);  // the cap holds as a peak, so the average holds too
  EXPECT_EQ(v.bufsize, 873);
  EXPECT_EQ(capped(500, 900000, true).maxrate, 873);
  EXPECT_EQ(capped(500, 900000, false).maxrate, 0);
  // A quality target is capped too (it used to go past the source's rate freely).
  auto crf = planned(tmpl([&](Template& t) {
                       t.video.crf = 18;
                       t.trans.cap_video_bitrate = true;
                     }),
                     video(854, 480, "yuv420p", 900000))
                 .video;
  EXPECT_EQ(crf.crf, 18);
  EXPECT_EQ(crf.maxrate, 873);
  EXPECT_EQ(crf.bufsize, 873);
}

TEST(PlanOutputVideo, HlsForcesKeyframesOnTheSegmentGrid) {
  for (double seconds : {1.0, 2.5, 6.0, 10.0}) {
    auto p = planned(tmpl([&](Template& t) {
      t.container = Container::m3u8;
      t.mux.hls_segment_seconds = seconds;
    }));
    EXPECT_EQ(p.muxer, "hls");
    EXPECT_DOUBLE_EQ(p.video.keyframe_grid, seconds);
    bool has_time = false;
    for (const auto& [k, v] : p.muxer_options)
      if (k == "hls_time") {
        has_time = true;
        EXPECT_DOUBLE_EQ(std::stod(v), seconds);
      }
    EXPECT_TRUE(has_time);
  }
  for (Container c : {Container::mp4, Container::ts, Container::mkv, Container::flv})
    EXPECT_DOUBLE_EQ(planned(tmpl([&](Template& t) { t.container = c; })).video.keyframe_grid, 0) << to_string(c);
}

// ---------------------------------------------------------------------------

TEST(PlanOutputAudio, ChannelsAtMostTwoByDefault) {
  EXPECT_EQ(planned(tmpl(), video(), audio(6)).audio.channels, 2);  // 5.1 downmixed
  EXPECT_EQ(planned(tmpl(), video(), audio(8)).audio.channels, 2);
  EXPECT_EQ(planned(tmpl(), video(), audio(2)).audio.channels, 2);
  EXPECT_EQ(planned(tmpl(), video(), audio(1)).audio.channels, 1);  // mono stays mono
  EXPECT_EQ(planned(tmpl([](Template& t) { t.audio.channels = 1; }), video(), audio(6)).audio.channels, 1);
  auto six = planned(tmpl(), video(), audio(6)).audio;
  EXPECT_TRUE(contains(six.filters, "channel_layouts=stereo")) << six.filters;
  EXPECT_EQ(six.bitrate, 128);
  auto mono = planned(tmpl(), video(), audio(1)).audio;
  EXPECT_TRUE(contains(mono.filters, "channel_layouts=mono")) << mono.filters;
  EXPECT_EQ(mono.bitrate, 96);  // documented default for mono
}

TEST(PlanOutputAudio, SampleRates) {
  auto mp3 = [](std::optional<int> rate, int src_rate) {
    return planned(tmpl([&](Template& t) {
                  t.container = Container::mp3;
                  t.audio.codec = AudioCodec::mp3;
                  t.audio.sample_rate = rate;
                }),
                video(), audio(2, src_rate))
        .audio;
  };
  std::string msg = expect_error<SpecError>([&] { mp3(12345, 48000); }, ErrorCode::OutOfRange,
                                            {"audio.sample_rate", "12345", "44100"});
  EXPECT_EQ(mp3(22050, 48000).sample_rate, 22050);
  EXPECT_EQ(mp3(std::nullopt, 44100).sample_rate, 44100);  // the source's when supported
  EXPECT_EQ(mp3(std::nullopt, 96000).sample_rate, 48000);  // else the nearest supported
  EXPECT_EQ(mp3(std::nullopt, 11025).sample_rate, 11025);
  auto aac = planned(tmpl([](Template& t) { t.audio.sample_rate = 44100; }), video(), audio(2, 48000)).audio;
  EXPECT_EQ(aac.sample_rate, 44100);
  EXPECT_TRUE(contains(aac.filters, "aresample=44100")) << aac.filters;
  expect_error<SpecError>([] { planned(tmpl([](Template& t) { t.audio.sample_rate = 12345; })); }, ErrorCode::OutOfRange,
                          {"audio.sample_rate"});
}

TEST(PlanOutputAudio, CapAudioBitrateAndFlac) {
  auto a = planned(tmpl([](Template& t) {
                  t.audio.bitrate = 320;
                  t.trans.cap_audio_bitrate = true;
                }),
                video(), audio(2, 48000, 96000))
               .audio;
  EXPECT_EQ(a.bitrate, 96);
  a = planned(tmpl([](Template& t) {
             t.audio.bitrate = 320;
             t.trans.cap_audio_bitrate = false;
           }),
           video(), audio(2, 48000, 96000))
          .audio;
  EXPECT_EQ(a.bitrate, 320);
  a = planned(tmpl([](Template& t) {
             t.container = Container::flac;
             t.audio.codec = AudioCodec::flac;
             t.audio.bitrate = 320;
           }))
          .audio;
  EXPECT_EQ(a.bitrate, 0);  // FLAC is lossless: no bitrate
}
