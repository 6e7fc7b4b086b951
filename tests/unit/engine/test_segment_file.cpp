// Segment files carry packets exactly (timestamps in their own time base, flags, data)
// with the codec parameters the final muxer needs, and appear only when whole.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "../test_support.hpp"
#include "av/input.hpp"
#include "engine/keyframes.hpp"
#include "engine/segment_file.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
const fs::path kMedia = fs::path(GOPCAST_SOURCE_DIR) / ".." / "shared" / "media";

struct Seen {
  int64_t pts, dts, duration;
  int flags;
  std::string data;
};

Seen seen(const AVPacket* p) {
  return {p->pts, p->dts, p->duration, p->flags, std::string(reinterpret_cast<const char*>(p->data), static_cast<size_t>(p->size))};
}
}  // namespace

TEST(SegmentFile, RoundTripKeepsPacketsAndCodecParameters) {
  test::TempDir dir;
  av::Input in = av::Input::open(kMedia / "bbb-480p-30s.mp4");
  const fs::path file = dir / "seg.bin";
  std::vector<Seen> written;
  {
    engine::SegmentWriter w(file, true);
    ASSERT_EQ(w.add_copy_stream(in.stream(0)), 0);
    av::PacketPtr p = av::make_packet();
    while (written.size() < 60 && in.read(p.get())) {
      if (p->stream_index == 0) {
        written.push_back(seen(p.get()));
        w.write(p.get(), 0, in.stream(0)->time_base);
      }
      av_packet_unref(p.get());
    }
    EXPECT_FALSE(fs::exists(file)) << "a segment file appears only when whole";
    w.finish();
    EXPECT_EQ(w.bytes(), [&] {
      int64_t n = 0;
      for (const auto& s : written) n += static_cast<int64_t>(s.data.size());
      return n;
    }());
  }
  EXPECT_EQ(test::names_in(dir.path), std::set<std::string>{"seg.bin"});
  EXPECT_TRUE(engine::segment_file_complete(file));

  engine::SegmentReader r(file);
  ASSERT_EQ(r.streams(), 1);
  const AVCodecParameters* src = in.stream(0)->codecpar;
  const AVCodecParameters* got = r.params(0);
  EXPECT_EQ(got->codec_id, src->codec_id);
  EXPECT_EQ(got->width, src->width);
  EXPECT_EQ(got->height, src->height);
  EXPECT_EQ(got->profile, src->profile);
  EXPECT_EQ(got->color_primaries, src->color_primaries);
  ASSERT_EQ(got->extradata_size, src->extradata_size);
  EXPECT_EQ(0, memcmp(got->extradata, src->extradata, static_cast<size_t>(src->extradata_size)));
  EXPECT_EQ(r.time_base(0).den, in.stream(0)->time_base.den);
  av::PacketPtr p = av::make_packet();
  size_t i = 0;
  while (r.read(p.get())) {
    ASSERT_LT(i, written.size());
    const Seen s = seen(p.get());
    EXPECT_EQ(s.pts, written[i].pts);
    EXPECT_EQ(s.dts, written[i].dts);
    EXPECT_EQ(s.duration, written[i].duration);
    EXPECT_EQ(s.flags, written[i].flags);
    EXPECT_EQ(s.data, written[i].data);
    av_packet_unref(p.get());
    ++i;
  }
  EXPECT_EQ(i, written.size());
}

TEST(SegmentFile, UnfinishedWriterLeavesNothing) {
  test::TempDir dir;
  av::Input in = av::Input::open(kMedia / "bbb-480p-30s.mp4");
  {
    engine::SegmentWriter w(dir / "seg.bin", false);
    w.add_copy_stream(in.stream(0));
    av::PacketPtr p = av::make_packet();
    ASSERT_TRUE(in.read(p.get()));
    w.write(p.get(), 0, in.stream(p->stream_index)->time_base);
  }  // destroyed without finish(): an encode that failed
  EXPECT_TRUE(test::names_in(dir.path).empty());
}

TEST(SegmentFile, TruncatedFileIsNotCompleteAndReadsAsAnError) {
  test::TempDir dir;
  av::Input in = av::Input::open(kMedia / "bbb-480p-30s.mp4");
  const fs::path file = dir / "seg.bin";
  {
    engine::SegmentWriter w(file, true);
    w.add_copy_stream(in.stream(0));
    av::PacketPtr p = av::make_packet();
    for (int n = 0; n < 10 && in.read(p.get());) {
      if (p->stream_index == 0) {
        w.write(p.get(), 0, in.stream(0)->time_base);
        ++n;
      }
      av_packet_unref(p.get());
    }
    w.finish();
  }
  fs::resize_file(file, fs::file_size(file) - 7);
  EXPECT_FALSE(engine::segment_file_complete(file));
  EXPECT_FALSE(engine::segment_file_complete(dir / "missing.bin"));
  test::expect_error<MediaError>(
      [&] {
        engine::SegmentReader r(file);
        av::PacketPtr p = av::make_packet();
        while (r.read(p.get())) av_packet_unref(p.get());
      },
      ErrorCode::TranscodeFailed, {"seg.bin", "not written whole"});
  test::write_file(dir / "text.bin", "hello, not a segment file");
  test::expect_error<MediaError>([&] { engine::SegmentReader r(dir / "text.bin"); }, ErrorCode::TranscodeFailed,
                                 {"not a gopcast segment file", "text.bin"});
}

// The grid index (HLS outputs): one entry per 6 s interval, at its first frame, with
// the frames shown in it; together they cover every frame once.
TEST(KeyframeIndex, GridEntriesAreTheFirstFrameOfEachInterval) {
  auto index = engine::index_keyframes(kMedia / "bbb-480p-30s.mp4", 0, 6.0);
  ASSERT_EQ(index.keyframes.size(), 5u);
  int64_t total = 0;
  for (size_t i = 0; i < index.keyframes.size(); ++i) {
    EXPECT_NEAR(index.seconds(index.keyframes[i].pts), 6.0 * static_cast<double>(i), 1.0 / 24) << i;
    EXPECT_EQ(index.keyframes[i].frames, 144) << i;  // 6 s at 24 fps
    total += index.keyframes[i].frames;
  }
  EXPECT_EQ(total, index.total_frames);
  EXPECT_EQ(index.total_frames, 720);
}

TEST(KeyframeIndex, KeyframeEntriesAreTheInputsKeyframes) {
  // bbb-480p-30s.mp4: keyframes at 0, 10.417, 11.875, 15.75, 23.042 s (scene cuts).
  auto index = engine::index_keyframes(kMedia / "bbb-480p-30s.mp4", 0);
  ASSERT_EQ(index.keyframes.size(), 5u);
  const double expected[] = {0, 10.417, 11.875, 15.75, 23.042};
  for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(index.seconds(index.keyframes[i].pts), expected[i], 1e-3);
  EXPECT_EQ(index.keyframes[0].frames, 250);
}
