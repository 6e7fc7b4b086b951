// One open per worker: a worker keeps its input open and seeks from segment to segment.
// The segments it writes must be the same bytes as those of a fresh open per segment,
// whatever order the segments come in (a worker gets them longest first, and a retry
// may go back), for every demuxer whose seeking differs (MP4, Matroska, FLV, ASF, MPEG-TS).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "../test_support.hpp"
#include "av/capabilities.hpp"
#include "av/input.hpp"
#include "av/probe.hpp"
#include "engine/keyframes.hpp"
#include "engine/pipeline.hpp"
#include "plan/segments.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
const fs::path kMedia = fs::path(GOPCAST_SOURCE_DIR) / ".." / "shared" / "media";

struct Source {
  fs::path file;
  int video = -1, audio = -1;
  MediaInfo info;
};

Source source(const fs::path& file) {
  Source s{file, -1, -1, probe(file)};
  for (const auto& st : s.info.streams) {
    if (st.type == "video" && s.video < 0) s.video = st.index;
    if (st.type == "audio" && s.audio < 0) s.audio = st.index;
  }
  return s;
}

engine::Target target(const Source& src, const fs::path& file, bool video, const fs::path& scratch) {
  Template t;
  t.name = "segment";
  t.container = Container::mp4;
  t.video.preset = "ultrafast";
  t.video.crf = 30;
  t.video.threads = 1;
  t.video.width = 320;
  const StreamInfo* v = video ? &src.info.streams[static_cast<size_t>(src.video)] : nullptr;
  const StreamInfo* a = !video && src.audio >= 0 ? &src.info.streams[static_cast<size_t>(src.audio)] : nullptr;
  engine::Target out{plan::plan_output(t, v, a, src.file.filename().string(), av::capabilities()), file, scratch};
  out.segment_file = true;
  if (!video) out.plan.video.present = false;
  return out;
}

// Runs `segments` in `order` (indices, repeats allowed), through `inputs` when given;
// returns the bytes each run wrote, in `order`.
std::vector<std::string> run_segments(const Source& src, const std::vector<plan::Segment>& segments,
                                      const std::vector<size_t>& order, av::InputCache* inputs, const test::TempDir& dir) {
  std::vector<std::string> out;
  for (size_t k = 0; k < order.size(); ++k) {
    const auto& seg = segments.at(order[k]);
    const fs::path file = dir / ("seg-" + std::to_string(k) + ".bin");
    engine::RunControl control;
    control.decoder_threads = 1;
    control.inputs = inputs;
    engine::Span span{seg.start_pts, seg.end_pts, true};
    if (seg.index > 0) span.preroll_frames = 8;
    auto stats = engine::run_pipeline(src.file, {src.video, -1}, {target(src, file, true, dir.path)}, control, span);
    EXPECT_EQ(stats.at(0).source_frames, seg.frames()) << src.file << " segment " << seg.index;
    out.push_back(test::read_file(file));
  }
  return out;
}

void expect_kept_input_gives_the_same_bytes(const fs::path& file, double segment_seconds) {
  const Source src = source(file);
  ASSERT_GE(src.video, 0) << file;
  const auto segments = plan::plan_segments(engine::index_keyframes(file, src.video), {segment_seconds, 0});
  ASSERT_GE(segments.size(), 3u) << file;
  const size_t n = segments.size();
  // Backwards, then the first (a span from the top after others), the middle, the last again.
  std::vector<size_t> order;
  for (size_t i = n; i-- > 1;) order.push_back(i);
  order.push_back(0);
  order.push_back(n / 2);
  order.push_back(n - 1);
  test::TempDir fresh_dir, kept_dir;
  const auto fresh = run_segments(src, segments, order, nullptr, fresh_dir);
  av::InputCache inputs;
  const auto kept = run_segments(src, segments, order, &inputs, kept_dir);
  ASSERT_EQ(fresh.size(), kept.size());
  for (size_t k = 0; k < order.size(); ++k) {
    EXPECT_FALSE(fresh[k].empty());
    EXPECT_TRUE(fresh[k] == kept[k]) << file << ": segment " << order[k] << " (run " << k << ") differs with a kept input";
  }
  // A segment's bytes do not depend on what ran before it.
  EXPECT_TRUE(kept.back() == kept.front()) << file << ": the last segment, run twice";
  EXPECT_EQ(inputs.opens(), 1) << file;

  // The whole-timeline audio from the same kept input, after the segments moved it.
  if (src.audio >= 0) {
    auto audio = [&](av::InputCache* cache, const test::TempDir& dir) {
      engine::RunControl control;
      control.decoder_threads = 1;
      control.inputs = cache;
      const fs::path out = dir / "audio.bin";
      engine::run_pipeline(src.file, {-1, src.audio}, {target(src, out, false, dir.path)}, control, {});
      return test::read_file(out);
    };
    const std::string a_fresh = audio(nullptr, fresh_dir), a_kept = audio(&inputs, kept_dir);
    EXPECT_FALSE(a_fresh.empty());
    EXPECT_TRUE(a_fresh == a_kept) << file << ": the audio differs with a kept input";
    EXPECT_EQ(inputs.opens(), 1) << file;
  }
}

}  // namespace

TEST(InputCache, Mp4WithBFramesAndIrregularKeyframes) { expect_kept_input_gives_the_same_bytes(kMedia / "bbb-480p-30s.mp4", 4); }
TEST(InputCache, MatroskaVp8) { expect_kept_input_gives_the_same_bytes(kMedia / "me-echo-hereweare-vp8.webm", 3); }
TEST(InputCache, FlvVp6) { expect_kept_input_gives_the_same_bytes(kMedia / "me-grampa-vp6.flv", 2); }
TEST(InputCache, AsfWmv3) { expect_kept_input_gives_the_same_bytes(kMedia / "me-xbox-wmv3.wmv", 3); }

TEST(InputCache, MpegTs) {
  test::TempDir dir;
  const fs::path ts = dir / "bbb.ts";
  const std::string cmd = "ffmpeg -v error -nostdin -i '" + (kMedia / "bbb-480p-30s.mp4").string() + "' -c copy '" +
                          ts.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  expect_kept_input_gives_the_same_bytes(ts, 4);
}

TEST(InputCache, KeepsTheMostRecentlyUsedAndReopensWhatItClosed) {
  test::TempDir dir;
  std::vector<fs::path> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(dir / ("in" + std::to_string(i) + ".flv"));
    fs::copy_file(kMedia / "me-grampa-vp6.flv", files.back());
  }
  av::InputCache inputs(2);
  av::Input& first = inputs.get(files[0]);
  EXPECT_EQ(&inputs.get(files[0]), &first);
  inputs.get(files[1]);
  inputs.get(files[0]);  // now the most recent: files[1] goes first
  EXPECT_EQ(inputs.opens(), 2);
  inputs.get(files[2]);
  EXPECT_EQ(inputs.opens(), 3);
  EXPECT_EQ(&inputs.get(files[0]), &first) << "the most recently used stays open";
  EXPECT_EQ(inputs.opens(), 3);
  inputs.get(files[1]);
  EXPECT_EQ(inputs.opens(), 4) << "the least recently used was closed";
  test::expect_error([&] { inputs.get(dir / "missing.mp4"); }, ErrorCode::ResourceNotFound, {"no such file"});
  EXPECT_EQ(inputs.opens(), 4);
}

// A task that fails part-way closes the worker's kept inputs: its retry (on the same
// worker) opens the input afresh instead of trusting a demuxer left in any state, and
// gives the bytes of a clean run.
TEST(InputCache, AFailedTaskClosesTheKeptInputsSoTheRetryOpensAfresh) {
  const Source src = source(kMedia / "bbb-480p-30s.mp4");
  const auto segments = plan::plan_segments(engine::index_keyframes(src.file, src.video), {4, 0});
  ASSERT_GE(segments.size(), 3u);
  const auto& seg = segments[1];
  test::TempDir dir;
  av::InputCache inputs;
  const auto clean = run_segments(src, segments, {1}, &inputs, dir);
  ASSERT_EQ(inputs.opens(), 1);
  engine::RunControl control;
  control.decoder_threads = 1;
  control.inputs = &inputs;
  control.fail_after_frames = seg.frames() / 2;
  engine::Span span{seg.start_pts, seg.end_pts, true};
  span.preroll_frames = 8;
  EXPECT_ANY_THROW(engine::run_pipeline(src.file, {src.video, -1}, {target(src, dir / "failed.bin", true, dir.path)}, control, span));
  EXPECT_EQ(inputs.opens(), 1);
  const auto retry = run_segments(src, segments, {1}, &inputs, dir);
  EXPECT_EQ(inputs.opens(), 2) << "the retry reopened the input";
  EXPECT_TRUE(retry.at(0) == clean.at(0));
}

// A clip's audio task (audio alone, a bounded span) stops reading a second past the
// span's end instead of demuxing the rest of the file: at 10 hours that was most of
// a short clip's CPU. The kept input shows how far the pass read.
TEST(InputCache, ABoundedAudioPassStopsReadingPastItsEnd) {
  const Source src = source(kMedia / "bbb-480p-30s.mp4");
  ASSERT_GE(src.audio, 0);
  test::TempDir dir;
  av::InputCache inputs;
  engine::RunControl control;
  control.decoder_threads = 1;
  control.inputs = &inputs;
  engine::Span span{0, 4 * 1000000};  // the first 4 s
  span.time_base = AV_TIME_BASE_Q;
  const fs::path out = dir / "audio.bin";
  engine::run_pipeline(src.file, {-1, src.audio}, {target(src, out, false, dir.path)}, control, span);
  EXPECT_FALSE(test::read_file(out).empty());
  av::Input& input = inputs.get(src.file);
  const int64_t read_to = avio_tell(input.ctx()->pb);
  EXPECT_LT(read_to, static_cast<int64_t>(fs::file_size(src.file)) / 3) << "the pass read on to " << read_to;
}
