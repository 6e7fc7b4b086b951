// The HDF5 segment manifest: round trips through write()/read(), atomic replacement,
// the errors a user sees, and the documented layout as h5py (not gopcast) reads it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>

#include "../test_support.hpp"
#include "manifest/manifest.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using namespace gopcast::manifest;

namespace {

plan::Segment segment(int index, int64_t first, int64_t end, int64_t step) {
  return {index, first, end, first * step, end * step, {1, 12288}};
}

SegmentRecord record(plan::Segment s, int64_t bytes, double seconds, int rank, std::string host, SegmentStatus status,
                     int attempts) {
  return {s, bytes, seconds, rank, std::move(host), status, attempts};
}

// Three 2 s segments of a 24 fps input (1/12288 time base, 512 ticks per frame),
// keyframes every 48 frames, two outputs, two timed phases.
Manifest sample() {
  Manifest m;
  m.info.job_key = "3f2a9c0d5e";
  m.info.input = "../shared/media/bbb-480p-30s.mp4";
  m.info.input_bytes = 4139823;
  m.info.templates = "[video]\ncodec = \"h264\"\ncrf = 23\n";
  m.info.outputs = {"out/a.mp4", "out/b-\xc3\xa9.mp4"};  // é: UTF-8 survives
  m.info.gopcast_version = "0.4.0";
  m.info.segment_seconds = 2;
  m.info.grid_seconds = 0.5;
  m.info.workers = 4;
  m.info.engine = "mpi";
  m.info.state = "running";
  m.info.resumed_segments = 1;
  m.info.phases = {{"index", 0.25}, {"encode", 12.5}};
  m.index.time_base = {1, 12288};
  m.index.end_pts = 144 * 512;
  m.index.total_frames = 144;
  m.index.keyframes = {{0, 48, 48}, {48 * 512, 48, 90210}, {96 * 512, 48, -1}};
  m.segments = {
      record(segment(0, 0, 48, 512), 123456, 1.5, 0, "node-a", SegmentStatus::done, 1),
      record(segment(1, 48, 96, 512), 0, 0.75, 3, "node-b.cluster.example", SegmentStatus::running, 2),
      record(segment(2, 96, 144, 512), 0, 0, -1, "", SegmentStatus::pending, 0),
  };
  return m;
}

void expect_same(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.info.job_key, b.info.job_key);
  EXPECT_EQ(a.info.input, b.info.input);
  EXPECT_EQ(a.info.input_bytes, b.info.input_bytes);
  EXPECT_EQ(a.info.templates, b.info.templates);
  EXPECT_EQ(a.info.outputs, b.info.outputs);
  EXPECT_EQ(a.info.gopcast_version, b.info.gopcast_version);
  EXPECT_EQ(a.info.segment_seconds, b.info.segment_seconds);
  EXPECT_EQ(a.info.grid_seconds, b.info.grid_seconds);
  EXPECT_EQ(a.info.workers, b.info.workers);
  EXPECT_EQ(a.info.engine, b.info.engine);
  EXPECT_EQ(a.info.state, b.info.state);
  EXPECT_EQ(a.info.resumed_segments, b.info.resumed_segments);
  EXPECT_EQ(a.info.phases, b.info.phases);

  EXPECT_EQ(a.index.time_base.num, b.index.time_base.num);
  EXPECT_EQ(a.index.time_base.den, b.index.time_base.den);
  EXPECT_EQ(a.index.end_pts, b.index.end_pts);
  EXPECT_EQ(a.index.total_frames, b.index.total_frames);
  ASSERT_EQ(a.index.keyframes.size(), b.index.keyframes.size());
  for (size_t i = 0; i < a.index.keyframes.size(); ++i) {
    SCOPED_TRACE("keyframe " + std::to_string(i));
    EXPECT_EQ(a.index.keyframes[i].pts, b.index.keyframes[i].pts);
    EXPECT_EQ(a.index.keyframes[i].frames, b.index.keyframes[i].frames);
    EXPECT_EQ(a.index.keyframes[i].byte_pos, b.index.keyframes[i].byte_pos);
  }

  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    const SegmentRecord& x = a.segments[i];
    const SegmentRecord& y = b.segments[i];
    EXPECT_EQ(x.segment.index, y.segment.index);
    EXPECT_EQ(x.segment.first_frame, y.segment.first_frame);
    EXPECT_EQ(x.segment.end_frame, y.segment.end_frame);
    EXPECT_EQ(x.segment.start_pts, y.segment.start_pts);
    EXPECT_EQ(x.segment.end_pts, y.segment.end_pts);
    EXPECT_EQ(x.segment.time_base.num, y.segment.time_base.num);
    EXPECT_EQ(x.segment.time_base.den, y.segment.time_base.den);
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.encode_seconds, y.encode_seconds);
    EXPECT_EQ(x.rank, y.rank);
    EXPECT_EQ(x.host, y.host);
    EXPECT_EQ(x.status, y.status);
    EXPECT_EQ(x.attempts, y.attempts);
  }
}

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs Debian's Python (with h5py) on `code`, the manifest path as sys.argv[1].
Ran python(const std::string& code, const fs::path& file) {
  test::TempDir scripts;
  const fs::path script = scripts / "oracle.py";
  test::write_file(script, code);
  const std::string cmd = "/usr/bin/python3 '" + script.string() + "' '" + file.string() + "' 2>&1";
  Ran ran;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return ran;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) ran.output.append(buf, n);
  const int status = pclose(pipe);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

}  // namespace

TEST(ManifestStatus, NamesAreStableLowercase) {
  EXPECT_EQ(to_string(SegmentStatus::pending), "pending");
  EXPECT_EQ(to_string(SegmentStatus::running), "running");
  EXPECT_EQ(to_string(SegmentStatus::done), "done");
  EXPECT_EQ(to_string(SegmentStatus::failed), "failed");
}

TEST(ManifestRoundTrip, SegmentsKeyframesPhasesAndOutputs) {
  test::TempDir dir;
  const fs::path file = dir / "job.manifest.h5";
  Manifest m = sample();
  m.segments[2].status = SegmentStatus::failed;
  write(file, m);
  std::optional<Manifest> back = read(file);
  ASSERT_TRUE(back.has_value());
  expect_same(m, *back);
}

TEST(ManifestRoundTrip, ZeroSegmentsZeroKeyframesNoOutputsNoPhases) {
  test::TempDir dir;
  const fs::path file = dir / "empty.h5";
  Manifest m;
  m.info.job_key = "k";
  m.info.state = "running";
  m.index.time_base = {1, 90000};
  write(file, m);
  std::optional<Manifest> back = read(file);
  ASSERT_TRUE(back.has_value());
  expect_same(m, *back);
  EXPECT_TRUE(back->segments.empty());
  EXPECT_TRUE(back->index.keyframes.empty());
  EXPECT_TRUE(back->info.outputs.empty());
}

TEST(ManifestRoundTrip, HostLongerThanTheFieldIsCutAt64Bytes) {
  test::TempDir dir;
  Manifest m = sample();
  m.segments[0].host = std::string(70, 'h');
  write(dir / "m.h5", m);
  EXPECT_EQ(read(dir / "m.h5")->segments[0].host, std::string(64, 'h'));
}

// Issue 17 item 8: a run whose segments all came from an earlier run recorded
// "encode -1822.89 s, gather 1822.95 s" (seconds of the steady clock since boot).
TEST(ManifestPhases, NeverNegativeAndOnlyThosePassed) {
  using P = std::map<std::string, double>;
  const double boot = 1822.0;  // the steady clock does not start at 0
  manifest::RunTimes t{boot, boot + 0.5, 0, 0, 0};
  EXPECT_EQ(manifest::phases(t), (P{{"index", 0.5}}));
  t.gathered = boot + 0.7;  // every segment reused: the gather ends before the dispatch does
  EXPECT_EQ(manifest::phases(t), (P{{"index", 0.5}}));
  t.encoded = boot + 0.9;
  t.muxed = boot + 1.0;
  const P resumed = manifest::phases(t);
  EXPECT_EQ(resumed.at("gather"), 0.0);
  EXPECT_NEAR(resumed.at("encode"), 0.4, 1e-9);
  EXPECT_NEAR(resumed.at("mux"), 0.1, 1e-9);  // from the later of encode and gather
  const P fresh = manifest::phases({boot, boot + 1, boot + 11, boot + 12, boot + 13});
  EXPECT_NEAR(fresh.at("index"), 1, 1e-9);
  EXPECT_NEAR(fresh.at("encode"), 10, 1e-9);
  EXPECT_NEAR(fresh.at("gather"), 1, 1e-9);
  EXPECT_NEAR(fresh.at("mux"), 1, 1e-9);
  for (const auto& p : {resumed, fresh})
    for (const auto& [name, seconds] : p) EXPECT_GE(seconds, 0) << name;
}

TEST(ManifestRead, MissingPathIsNullopt) {
  test::TempDir dir;
  EXPECT_FALSE(read(dir / "nothing.h5").has_value());
}

TEST(ManifestRead, TextFileIsNotAManifest) {
  test::TempDir dir;
  const fs::path file = dir / "notes.h5";
  test::write_file(file, "segments = 3\n");
  test::expect_error([&] { read(file); }, ErrorCode::ResourceContentBad, {file.string(), "not a gopcast manifest"});
}

TEST(ManifestRead, Hdf5FileWithoutSchemaIsNotAManifest) {
  test::TempDir dir;
  const fs::path file = dir / "other.h5";
  Ran made = python("import sys, h5py\nwith h5py.File(sys.argv[1], 'w') as f:\n    f.attrs['job_key'] = 'x'\n", file);
  ASSERT_EQ(made.status, 0) << made.output;
  test::expect_error([&] { read(file); }, ErrorCode::ResourceContentBad,
                     {file.string(), "not a gopcast manifest", "no schema attribute"});
}

TEST(ManifestRead, OtherSchemaIsNotAManifest) {
  test::TempDir dir;
  const fs::path file = dir / "m.h5";
  write(file, sample());
  Ran edited = python("import sys, h5py\nwith h5py.File(sys.argv[1], 'a') as f:\n"
                      "    f.attrs['schema'] = 'gopcast.manifest/2'\n",
                      file);
  ASSERT_EQ(edited.status, 0) << edited.output;
  test::expect_error([&] { read(file); }, ErrorCode::ResourceContentBad, {file.string(), "gopcast.manifest/2"});
}

TEST(ManifestRead, UnknownSegmentStatusIsContentBad) {
  test::TempDir dir;
  const fs::path file = dir / "m.h5";
  write(file, sample());
  Ran edited = python("import sys, h5py\nwith h5py.File(sys.argv[1], 'a') as f:\n"
                      "    rows = f['segments'][:]\n    rows['status'][1] = b'lost'\n    f['segments'][:] = rows\n",
                      file);
  ASSERT_EQ(edited.status, 0) << edited.output;
  test::expect_error([&] { read(file); }, ErrorCode::ResourceContentBad,
                     {file.string(), "segment 1 has unknown status \"lost\""});
}

TEST(ManifestRead, MissingSegmentFieldIsContentBad) {
  test::TempDir dir;
  const fs::path file = dir / "m.h5";
  write(file, sample());
  Ran edited = python("import sys, h5py\nimport numpy.lib.recfunctions as rf\n"
                      "with h5py.File(sys.argv[1], 'a') as f:\n"
                      "    rows = rf.drop_fields(f['segments'][:], 'attempts')\n"
                      "    del f['segments']\n    f['segments'] = rows\n",
                      file);
  ASSERT_EQ(edited.status, 0) << edited.output;
  test::expect_error([&] { read(file); }, ErrorCode::ResourceContentBad,
                     {file.string(), "/segments has no field attempts"});
}

TEST(ManifestRead, FolderIsNotAManifest) {
  test::TempDir dir;
  test::expect_error([&] { read(dir.path); }, ErrorCode::ResourceContentBad,
                     {dir.path.string(), "not a gopcast manifest"});
}

TEST(ManifestWrite, MissingFolderIsOutputNotWritable) {
  test::TempDir dir;
  const fs::path file = dir / "no" / "such" / "m.h5";
  test::expect_error([&] { write(file, sample()); }, ErrorCode::OutputNotWritable,
                     {file.string(), "cannot write manifest"});
  EXPECT_FALSE(fs::exists(dir / "no"));
}

TEST(ManifestWrite, UnwritableAttributeNameLeavesNoTemporaryFile) {
  test::TempDir dir;
  Manifest m = sample();
  m.info.phases[""] = 1.0;  // HDF5 refuses an empty attribute name, part-way through the file
  test::expect_error([&] { write(dir / "m.h5", m); }, ErrorCode::OutputNotWritable,
                     {(dir / "m.h5").string(), "cannot write manifest: hdf5: H5Acreate2"});
  EXPECT_TRUE(test::names_in(dir.path).empty());
}

TEST(ManifestWrite, LeavesOnlyTheManifestInTheFolder) {
  test::TempDir dir;
  write(dir / "job.manifest.h5", sample());
  write(dir / "job.manifest.h5", sample());
  EXPECT_EQ(test::names_in(dir.path), std::set<std::string>{"job.manifest.h5"});
}

TEST(ManifestWrite, OverwriteReplacesTheWholeFile) {
  test::TempDir dir;
  const fs::path file = dir / "m.h5";
  Manifest big = sample();
  for (int i = 3; i < 200; ++i)
    big.segments.push_back(record(segment(i, i * 48, i * 48 + 48, 512), 1, 1, 1, "node", SegmentStatus::done, 1));
  big.info.phases["gather"] = 3;
  write(file, big);
  const auto big_size = fs::file_size(file);

  Manifest small = sample();
  small.segments.resize(1);
  small.info.outputs.clear();
  small.info.state = "done";
  write(file, small);
  std::optional<Manifest> back = read(file);
  ASSERT_TRUE(back.has_value());
  expect_same(small, *back);
  EXPECT_LT(fs::file_size(file), big_size);
  EXPECT_EQ(test::names_in(dir.path), std::set<std::string>{"m.h5"});
}

// A writer SIGKILLed at random moments never leaves a broken manifest at the path:
// what read() finds is always one whole version (its job key says how many segments
// it holds). Temporary files of killed writers may stay behind; they are not the manifest.
TEST(ManifestWrite, KilledWriterLeavesAWholeManifest) {
  test::TempDir dir;
  const fs::path file = dir / "m.h5";
  auto version = [](int n) {
    Manifest m = sample();
    m.info.job_key = "v" + std::to_string(n);
    m.segments.resize(static_cast<size_t>(n % 3 + 1));
    for (int i = 0; i < n % 50; ++i)
      m.index.keyframes.push_back({int64_t{i} * 512, 1, -1});
    return m;
  };
  write(file, version(0));
  std::mt19937 random(12345);
  for (int round = 0; round < 25; ++round) {
    const pid_t parent = getpid();
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // writes until killed; never returns into the test runner
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // nor outlives a test runner that dies first
      if (getppid() != parent) _exit(1);
      try {
        for (int n = 1;; ++n) write(file, version(n));
      } catch (...) {
      }
      _exit(1);
    }
    usleep(std::uniform_int_distribution<useconds_t>(0, 20000)(random));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    std::optional<Manifest> back;
    ASSERT_NO_THROW(back = read(file)) << "round " << round;
    ASSERT_TRUE(back.has_value());
    const int n = std::stoi(back->info.job_key.substr(1));
    EXPECT_EQ(back->segments.size(), static_cast<size_t>(n % 3 + 1)) << back->info.job_key;
    EXPECT_EQ(back->index.keyframes.size(), static_cast<size_t>(3 + n % 50)) << back->info.job_key;
  }
}

// The independent oracle: h5py reads the documented layout with no gopcast code.
TEST(ManifestOracle, H5pyReadsTheDocumentedLayout) {
  test::TempDir dir;
  const fs::path file = dir / "job.manifest.h5";
  write(file, sample());
  Ran ran = python(R"(import sys, h5py
with h5py.File(sys.argv[1], 'r') as f:
    a = f.attrs
    print('schema', a['schema'], type(a['schema']).__name__)
    print('info', a['job_key'], a['input'], int(a['input_bytes']), a['gopcast_version'], a['engine'], a['state'])
    print('plan', float(a['segment_seconds']), float(a['grid_seconds']), int(a['workers']))
    print('templates', repr(a['templates']))
    print('outputs', list(a['outputs']))
    s = f['segments']
    print('segments', s.shape, s.dtype.names)
    r = s[:]
    print('first_frame', [int(x) for x in r['first_frame']])
    print('last_frame', [int(x) for x in r['last_frame']])
    print('frames', [int(x) for x in r['frames']])
    print('end_seconds', [float(x) for x in r['end_seconds']])
    print('status', [bytes(x) for x in r['status']], r['status'][0] == b'done')
    print('host', [bytes(x) for x in r['host']], r.dtype['host'].itemsize, r.dtype['status'].itemsize)
    print('rank', [int(x) for x in r['rank']], 'attempts', [int(x) for x in r['attempts']])
    print('entry', [int(x) for x in r['entry']], [int(x) for x in r['entry_offset_us']])
    k = f['keyframes']
    print('keyframes', k.shape, k.dtype.names)
    print('time_base', int(k.attrs['time_base_num']), int(k.attrs['time_base_den']),
          int(k.attrs['end_pts']), int(k.attrs['total_frames']))
    print('pts', [int(x) for x in k['pts']], 'seconds', [float(x) for x in k['seconds']])
    print('byte_pos', [int(x) for x in k['byte_pos']])
    print('phases', sorted((n, float(v)) for n, v in f['phases'].attrs.items()))
)",
                   file);
  ASSERT_EQ(ran.status, 0) << ran.output;
  EXPECT_EQ(ran.output,
            "schema gopcast.manifest/1 str\n"
            "info 3f2a9c0d5e ../shared/media/bbb-480p-30s.mp4 4139823 0.4.0 mpi running\n"
            "plan 2.0 0.5 4\n"
            "templates '[video]\\ncodec = \"h264\"\\ncrf = 23\\n'\n"
            "outputs ['out/a.mp4', 'out/b-\xc3\xa9.mp4']\n"
            "segments (3,) ('index', 'first_frame', 'last_frame', 'frames', 'start_pts', 'end_pts', "
            "'time_base_num', 'time_base_den', 'start_seconds', 'end_seconds', 'bytes', 'encode_seconds', "
            "'rank', 'host', 'status', 'attempts', 'entry', 'entry_offset_us')\n"
            "first_frame [0, 48, 96]\n"
            "last_frame [47, 95, 143]\n"
            "frames [48, 48, 48]\n"
            "end_seconds [2.0, 4.0, 6.0]\n"
            "status [b'done', b'running', b'pending'] True\n"
            "host [b'node-a', b'node-b.cluster.example', b''] 64 8\n"
            "rank [0, 3, -1] attempts [1, 2, 0]\n"
            "entry [-1, -1, -1] [0, 0, 0]\n"
            "keyframes (3,) ('pts', 'seconds', 'frames', 'byte_pos')\n"
            "time_base 1 12288 73728 144\n"
            "pts [0, 24576, 49152] seconds [0.0, 2.0, 4.0]\n"
            "byte_pos [48, 90210, -1]\n"
            "phases [('encode', 12.5), ('index', 0.25)]\n");
}

TEST(ManifestOracle, H5pyReadsEmptyTables) {
  test::TempDir dir;
  const fs::path file = dir / "empty.h5";
  Manifest m;
  m.index.time_base = {1, 90000};
  write(file, m);
  Ran ran = python(R"(import sys, h5py
with h5py.File(sys.argv[1], 'r') as f:
    s, k = f['segments'][:], f['keyframes'][:]
    print(s.shape, len(s.dtype.names), k.shape, len(k.dtype.names), len(f.attrs['outputs']),
          len(f['phases'].attrs), int(f['keyframes'].attrs['time_base_den']))
)",
                   file);
  ASSERT_EQ(ran.status, 0) << ran.output;
  EXPECT_EQ(ran.output, "(0,) 18 (0,) 4 0 0 90000\n");
}

// A concatenation's segments: their input, where it starts, and timeline times.
TEST(ManifestOracle, H5pyReadsAConcatenationsEntriesAndTimelineTimes) {
  test::TempDir dir;
  const fs::path file = dir / "cat.manifest.h5";
  Manifest m = sample();
  m.segments[1].segment.entry = 0;
  m.segments[2].segment.entry = 1;
  m.segments[2].segment.entry_offset_us = 7'500'000;  // input 1 starts 7.5 s into the output
  write(file, m);
  Ran ran = python(R"(import sys, h5py
with h5py.File(sys.argv[1], 'r') as f:
    r = f['segments'][:]
    print([int(x) for x in r['entry']], [int(x) for x in r['entry_offset_us']], [float(x) for x in r['start_seconds']])
)",
                   file);
  ASSERT_EQ(ran.status, 0) << ran.output;
  // Row 2 holds pts 96*512 of a 1/12288 time base (4 s) of its input: 11.5 s on the timeline.
  EXPECT_EQ(ran.output, "[-1, 0, 1] [0, 0, 7500000] [0.0, 2.0, 11.5]\n");
  std::optional<Manifest> back = read(file);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->segments[2].segment.entry, 1);
  EXPECT_EQ(back->segments[2].segment.entry_offset_us, 7'500'000);
}
