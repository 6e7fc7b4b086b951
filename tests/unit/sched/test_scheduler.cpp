// The scheduler, the dispatch loop and the wire codec of sched/, without MPI or media:
// the pure scheduler driven by hand, the dispatch loop over local threads running fake
// tasks, and the messages round-tripped and mangled.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "../test_support.hpp"
#include "sched/codec.hpp"
#include "sched/dispatch.hpp"
#include "sched/failpoint.hpp"
#include "sched/job_key.hpp"
#include "sched/resume.hpp"
#include "sched/scheduler.hpp"

using namespace gopcast;
using namespace gopcast::sched;
using gopcast::test::contains;
using gopcast::test::expect_error;
using manifest::SegmentStatus;

namespace {

// Segments of `frames[i]` frames each, back to back.
std::vector<manifest::SegmentRecord> rows_of(const std::vector<int64_t>& frames) {
  std::vector<manifest::SegmentRecord> rows;
  int64_t first = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    manifest::SegmentRecord r;
    r.segment.index = static_cast<int>(i);
    r.segment.first_frame = first;
    r.segment.end_frame = first + frames[i];
    r.segment.start_pts = first;
    r.segment.end_pts = first + frames[i];
    r.segment.time_base = {1, 24};
    first += frames[i];
    rows.push_back(r);
  }
  return rows;
}

SchedulerSetup setup_of(const std::vector<int64_t>& frames) {
  SchedulerSetup s;
  s.rows = rows_of(frames);
  return s;
}

}  // namespace

TEST(Scheduler, WholeAndAudioFirstThenLongestSegmentFirst) {
  SchedulerSetup s = setup_of({24, 72, 48, 72});
  s.whole = true;
  s.audio = true;
  Scheduler sch(std::move(s));
  // A remote worker never gets the whole task.
  auto t = sch.take(1, "node2", false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TaskKind::audio);
  t = sch.take(0, "node1", true);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TaskKind::whole);
  std::vector<int> order;
  for (int w = 2; auto seg = sch.take(w, "node3", false); ++w) order.push_back(seg->segment.index);
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 0}));  // longest first, ties by index
  EXPECT_EQ(sch.in_flight().size(), 6u);
  EXPECT_FALSE(sch.finished());
}

TEST(Scheduler, LocalOnlyAudioWaitsForALocalWorker) {
  SchedulerSetup s = setup_of({24});
  s.audio = true;
  s.audio_local = true;  // a concatenation's
  Scheduler sch(std::move(s));
  auto t = sch.take(1, "node2", false);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TaskKind::segment);
  t = sch.take(0, "node1", true);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, TaskKind::audio);
}

TEST(Scheduler, InOrderForALivePlaylist) {
  SchedulerSetup s = setup_of({24, 72, 48});
  s.in_order = true;
  Scheduler sch(std::move(s));
  std::vector<int> order;
  while (auto t = sch.take(0, "h", true)) order.push_back(t->segment.index);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(Scheduler, DoneRowsRecordTheirFiguresAndFinish) {
  Scheduler sch(setup_of({24, 48}));
  auto a = sch.take(3, "node4", false), b = sch.take(5, "node6", false);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(sch.rows()[static_cast<size_t>(a->segment.index)].status, SegmentStatus::running);
  sch.done(*a, 3, TaskResult{1000, a->segment.frames(), 1.5});
  EXPECT_FALSE(sch.finished());
  sch.done(*b, 5, TaskResult{2000, b->segment.frames(), 2.5});
  EXPECT_TRUE(sch.finished());
  EXPECT_TRUE(sch.idle());
  EXPECT_EQ(sch.frames_done(), 72);
  const auto& r = sch.rows()[static_cast<size_t>(a->segment.index)];
  EXPECT_EQ((r.status == SegmentStatus::done), true);
  EXPECT_EQ(r.bytes, 1000);
  EXPECT_DOUBLE_EQ(r.encode_seconds, 1.5);
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.host, "node4");
  EXPECT_EQ(r.attempts, 1);
}

TEST(Scheduler, RetriesAFailedSegmentFirstUpToMaxAttempts) {
  SchedulerSetup s = setup_of({48, 24, 24});
  s.max_attempts = 3;
  Scheduler sch(std::move(s));
  auto first = sch.take(0, "h", true);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->segment.index, 0);
  EXPECT_EQ(first->attempt, 1);
  EXPECT_TRUE(sch.failed(*first, 0, true));
  EXPECT_EQ(sch.rows()[0].status, SegmentStatus::pending);
  // The retry comes before the rest of the queue.
  auto again = sch.take(1, "h", true);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->segment.index, 0);
  EXPECT_EQ(again->attempt, 2);
  EXPECT_TRUE(sch.failed(*again, 1, true));
  auto third = sch.take(1, "h", true);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->attempt, 3);
  EXPECT_FALSE(sch.failed(*third, 1, true));  // the last attempt fails the job
  EXPECT_EQ(sch.rows()[0].status, SegmentStatus::failed);
  EXPECT_EQ(sch.rows()[0].attempts, 3);
}

TEST(Scheduler, NotRetryableFailsAtOnce) {
  Scheduler sch(setup_of({24}));
  auto t = sch.take(0, "h", true);
  EXPECT_FALSE(sch.failed(*t, 0, false));
  EXPECT_FALSE(sch.take(0, "h", true));
}

TEST(Scheduler, ResumedRowsAreNotHandedOutAgainAndAttemptsAddUp) {
  SchedulerSetup s = setup_of({24, 24, 24});
  s.rows[1].status = SegmentStatus::done;
  s.rows[1].attempts = 2;
  s.rows[2].attempts = 1;  // started by the earlier run, never finished
  Scheduler sch(std::move(s));
  EXPECT_EQ(sch.resumed(), 1u);
  EXPECT_EQ(sch.frames_done(), 24);
  std::set<int> handed;
  while (auto t = sch.take(0, "h", true)) {
    handed.insert(t->segment.index);
    EXPECT_EQ(t->attempt, 1);  // this run's first try
  }
  EXPECT_EQ(handed, (std::set<int>{0, 2}));
  EXPECT_EQ(sch.rows()[2].attempts, 2);  // the manifest counts every run
}

TEST(Scheduler, AbandonPutsRunningRowsBackToPending) {
  Scheduler sch(setup_of({24, 24}));
  auto t = sch.take(0, "h", true);
  sch.abandon();
  EXPECT_EQ(sch.rows()[static_cast<size_t>(t->segment.index)].status, SegmentStatus::pending);
}

TEST(Scheduler, ManySegmentsStayLinear) {
  // 10^5 segments on 1,000 workers: every take and done is constant work.
  std::vector<int64_t> frames(100000, 240);
  Scheduler sch(setup_of(frames));
  std::vector<Task> held;
  for (int w = 0; w < 1000; ++w) held.push_back(*sch.take(w, "h", false));
  size_t done = 0;
  while (!held.empty()) {
    Task t = held.back();
    held.pop_back();
    const int w = static_cast<int>(done % 1000);
    sch.done(t, w, TaskResult{1, 240, 0.1});
    ++done;
    if (auto next = sch.take(w, "h", false)) held.push_back(*next);
  }
  EXPECT_EQ(done, frames.size());
  EXPECT_TRUE(sch.finished());
}

// --- the dispatch loop over local threads --------------------------------------------

namespace {

struct FakeRun {
  std::mutex mutex;
  std::map<int, int> tries;  // per segment
  std::set<int> fail_once, fail_always;
  std::set<int> bad_input;
  std::atomic<int> whole{0}, audio{0};

  TaskResult operator()(const Task& t, int, const std::atomic<bool>&) {
    if (t.kind == TaskKind::whole) {
      ++whole;
      return {};
    }
    if (t.kind == TaskKind::audio) {
      ++audio;
      return {};
    }
    int n;
    {
      std::lock_guard lock(mutex);
      n = ++tries[t.segment.index];
    }
    if (bad_input.count(t.segment.index)) fail(ErrorCode::ResourceContentBad, "in.mp4: corrupt at segment {}", t.segment.index);
    if (fail_always.count(t.segment.index) || (fail_once.count(t.segment.index) && n == 1))
      fail(ErrorCode::TranscodeFailed, "x264: encoder crashed on segment {}", t.segment.index);
    return TaskResult{100, t.segment.frames(), 0};
  }
};

}  // namespace

TEST(Dispatch, EveryTaskRunsOnceOnLocalThreads) {
  FakeRun run;
  SchedulerSetup s = setup_of(std::vector<int64_t>(40, 24));
  s.whole = s.audio = true;
  Scheduler sch(std::move(s));
  LocalTransport t(3, std::ref(run), "here");
  int done = 0;
  DispatchHooks hooks;
  hooks.done = [&](const Task&, int) { ++done; };
  EXPECT_EQ(dispatch(sch, t, hooks), nullptr);
  EXPECT_TRUE(sch.finished());
  EXPECT_EQ(done, 42);
  EXPECT_EQ(run.whole, 1);
  EXPECT_EQ(run.audio, 1);
  for (const auto& [seg, n] : run.tries) EXPECT_EQ(n, 1) << seg;
  EXPECT_EQ(run.tries.size(), 40u);
}

TEST(Dispatch, ATransientFailureIsRetriedAndTheJobSucceeds) {
  FakeRun run;
  run.fail_once = {3, 17};
  SchedulerSetup s = setup_of(std::vector<int64_t>(20, 24));
  Scheduler sch(std::move(s));
  LocalTransport t(2, std::ref(run), "here");
  EXPECT_EQ(dispatch(sch, t, {}), nullptr);
  EXPECT_TRUE(sch.finished());
  EXPECT_EQ(run.tries[3], 2);
  EXPECT_EQ(run.tries[17], 2);
  EXPECT_EQ(run.tries[4], 1);
  EXPECT_EQ(sch.rows()[3].attempts, 2);
  EXPECT_EQ(sch.retried(), 2u);
}

TEST(Dispatch, ASegmentThatAlwaysFailsFailsTheJobNamingItAndTheLastError) {
  FakeRun run;
  run.fail_always = {5};
  SchedulerSetup s = setup_of(std::vector<int64_t>(10, 24));
  s.max_attempts = 3;
  Scheduler sch(std::move(s));
  LocalTransport t(2, std::ref(run), "here");
  std::exception_ptr e = dispatch(sch, t, {});
  ASSERT_NE(e, nullptr);
  const std::string msg = expect_error([&] { std::rethrow_exception(e); }, ErrorCode::TranscodeFailed,
                                       {"segment 5 (frames 120..143, 5.000-6.000 s)", "failed on attempt 3 of 3", "encoder crashed on segment 5"});
  EXPECT_EQ(run.tries[5], 3);
  EXPECT_EQ(sch.rows()[5].status, SegmentStatus::failed);
}

TEST(Dispatch, BadInputIsNotRetried) {
  FakeRun run;
  run.bad_input = {2};
  Scheduler sch(setup_of(std::vector<int64_t>(6, 24)));
  LocalTransport t(1, std::ref(run), "here");
  std::exception_ptr e = dispatch(sch, t, {});
  ASSERT_NE(e, nullptr);
  expect_error([&] { std::rethrow_exception(e); }, ErrorCode::ResourceContentBad, {"corrupt at segment 2"});
  EXPECT_EQ(run.tries[2], 1);
}

TEST(Dispatch, AnInterruptStopsTheJobAndReleasesEveryWorker) {
  FakeRun run;
  Scheduler sch(setup_of(std::vector<int64_t>(200, 24)));
  LocalTransport t(2, std::ref(run), "here");
  int done = 0;
  DispatchHooks hooks;
  hooks.done = [&](const Task&, int) { ++done; };
  hooks.interrupt = [&]() -> std::optional<Interrupt> {
    if (done < 5) return std::nullopt;
    return Interrupt{std::make_exception_ptr(Error(ErrorCode::Cancelled, "in.mp4: cancelled")), true};
  };
  std::exception_ptr e = dispatch(sch, t, hooks);
  ASSERT_NE(e, nullptr);
  expect_error([&] { std::rethrow_exception(e); }, ErrorCode::Cancelled);
  EXPECT_FALSE(sch.finished());
}

// Two remote workers: worker 0 died holding its task (it never answers), worker 1 was
// signalled and answers with Cancelled before this process sees the signal. The loop
// must not wait for worker 0, and the error is the interrupt's (which names the dead
// rank), not the consequence.
class DeadAndSignalled final : public Transport {
 public:
  int size() const override { return 2; }
  bool local(int) const override { return false; }
  std::string host(int) const override { return "node"; }
  void assign(int worker, const Task& task) override { held_[worker] = task; }
  void release(int worker) override { released_.insert(worker); }
  std::optional<WorkerEvent> next(std::chrono::milliseconds) override {
    if (ready_ < 2) return WorkerEvent{WorkerEvent::Kind::ready, ready_++, {}, {}, {}};
    if (!answered_ && held_.count(1)) {
      answered_ = true;
      return WorkerEvent{WorkerEvent::Kind::failed, 1, held_[1], {}, TaskFailure{ErrorCode::Cancelled, "in.mp4: cancelled (on rank 2)"}};
    }
    if (++idle_turns_ > 1000) throw std::runtime_error("the loop waits for a task that will not come back");
    return std::nullopt;
  }
  void stop() override {}
  int idle_turns_ = 0;
  std::set<int> released_;

 private:
  int ready_ = 0;
  bool answered_ = false;
  std::map<int, Task> held_;
};

TEST(Dispatch, AWorkersCancellationBeforeTheSignalDoesNotWaitForADeadRank) {
  Scheduler sch(setup_of(std::vector<int64_t>(10, 24)));
  DeadAndSignalled t;
  DispatchHooks hooks;
  hooks.interrupt = [&]() -> std::optional<Interrupt> {
    if (t.idle_turns_ < 3) return std::nullopt;  // the signal reaches this process a little later
    return Interrupt{std::make_exception_ptr(Error(ErrorCode::TranscodeFailed, "rank 1 (pid 7 on node) died")), true};
  };
  std::exception_ptr e = dispatch(sch, t, hooks);
  ASSERT_NE(e, nullptr);
  expect_error([&] { std::rethrow_exception(e); }, ErrorCode::TranscodeFailed, {"rank 1", "died"});
  EXPECT_LT(t.idle_turns_, 10);
}

TEST(Dispatch, RetryableCodes) {
  EXPECT_TRUE(retryable(ErrorCode::TranscodeFailed));
  EXPECT_TRUE(retryable(ErrorCode::Internal));
  EXPECT_TRUE(retryable(ErrorCode::OutputNotWritable));
  EXPECT_FALSE(retryable(ErrorCode::Cancelled));
  EXPECT_FALSE(retryable(ErrorCode::ResourceContentBad));
  EXPECT_FALSE(retryable(ErrorCode::OutOfRange));
}

// --- the wire -------------------------------------------------------------------------

namespace {
Task sample_task() {
  Task t;
  t.kind = TaskKind::segment;
  t.attempt = 2;
  t.segment.index = 41;
  t.segment.first_frame = 9840;
  t.segment.end_frame = 10080;
  t.segment.start_pts = 3690000;
  t.segment.end_pts = -7;
  t.segment.time_base = {1001, 30000};
  t.segment.entry = 3;
  t.segment.entry_offset_us = -123456789012;
  t.segment.entry_end_pts = INT64_MAX;
  return t;
}
void expect_same(const Task& a, const Task& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.attempt, b.attempt);
  EXPECT_EQ(a.segment.index, b.segment.index);
  EXPECT_EQ(a.segment.first_frame, b.segment.first_frame);
  EXPECT_EQ(a.segment.end_frame, b.segment.end_frame);
  EXPECT_EQ(a.segment.start_pts, b.segment.start_pts);
  EXPECT_EQ(a.segment.end_pts, b.segment.end_pts);
  EXPECT_EQ(a.segment.time_base, b.segment.time_base);
  EXPECT_EQ(a.segment.entry, b.segment.entry);
  EXPECT_EQ(a.segment.entry_offset_us, b.segment.entry_offset_us);
  EXPECT_EQ(a.segment.entry_end_pts, b.segment.entry_end_pts);
}
}  // namespace

TEST(Codec, MessagesRoundTrip) {
  const Task t = sample_task();
  expect_same(codec::decode_task(codec::encode(t)), t);
  auto [dt, res] = codec::decode_done(codec::encode(t, TaskResult{123456789, 240, 3.25}));
  expect_same(dt, t);
  EXPECT_EQ(res.bytes, 123456789);
  EXPECT_EQ(res.frames, 240);
  EXPECT_DOUBLE_EQ(res.seconds, 3.25);
  auto [ft, f] = codec::decode_failure(codec::encode(t, TaskFailure{ErrorCode::ResourceContentBad, "a message, with\nlines"}));
  expect_same(ft, t);
  EXPECT_EQ(f.code, ErrorCode::ResourceContentBad);
  EXPECT_EQ(f.message, "a message, with\nlines");
  const auto r = codec::decode_ready(codec::encode(codec::Ready{424242, "node-07.cluster"}));
  EXPECT_EQ(r.pid, 424242);
  EXPECT_EQ(r.host, "node-07.cluster");
}

TEST(Codec, TheBytesDoNotDependOnTheHost) {
  // Little-endian whatever the machine: the version byte, then the kind (segment = 2).
  const std::string bytes = codec::encode(sample_task());
  ASSERT_GE(bytes.size(), 9u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 2);
  for (int i = 2; i < 9; ++i) EXPECT_EQ(bytes[static_cast<size_t>(i)], 0);
}

TEST(Codec, ShortLongOrForeignMessagesAreErrors) {
  const std::string bytes = codec::encode(sample_task());
  expect_error([&] { codec::decode_task(bytes.substr(0, bytes.size() - 1)); }, ErrorCode::Internal, {"task", "too short"});
  expect_error([&] { codec::decode_task(bytes + "x"); }, ErrorCode::Internal, {"too many"});
  std::string other = bytes;
  other[0] = 9;
  expect_error([&] { codec::decode_task(other); }, ErrorCode::Internal, {"version"});
  expect_error([&] { codec::decode_task(""); }, ErrorCode::Internal);
  std::string bad_kind = bytes;
  bad_kind[1] = 7;
  expect_error([&] { codec::decode_task(bad_kind); }, ErrorCode::Internal, {"kind"});
  // A failure with a code this build does not know is still a failure.
  std::string unknown = codec::encode(sample_task(), TaskFailure{ErrorCode::TranscodeFailed, "x"});
  const size_t code_at = bytes.size();
  unknown[code_at] = 99;
  EXPECT_EQ(codec::decode_failure(unknown).second.code, ErrorCode::Internal);
}

// --- failpoints, job keys, resume -------------------------------------------------------

TEST(Failpoint, ParsesAndMatchesAttempts) {
  const Failpoint once = parse_failpoint("segment:3:once");
  Task t = sample_task();
  t.segment.index = 3;
  t.attempt = 1;
  EXPECT_TRUE(once.matches(t));
  t.attempt = 2;
  EXPECT_FALSE(once.matches(t));
  EXPECT_TRUE(parse_failpoint("segment:3:always").matches(t));
  t.segment.index = 4;
  EXPECT_FALSE(parse_failpoint("segment:3:always").matches(t));
  Task audio;
  audio.kind = TaskKind::audio;
  EXPECT_TRUE(parse_failpoint("audio:once").matches(audio));
  EXPECT_FALSE(parse_failpoint("audio:once").matches(t));
  const Failpoint publish = parse_failpoint("publish:2");
  EXPECT_EQ(publish.publish_renames, 2);
  EXPECT_FALSE(publish.matches(t));  // it fails no task
  EXPECT_FALSE(publish.matches(audio));
  for (const char* bad : {"", "segment", "segment:x:once", "segment:3", "segment:3:sometimes", "video:once", "segment:-1:once",
                          "audio:once:x", "publish", "publish:0", "publish:2:once", "publish:x"})
    expect_error([&] { parse_failpoint(bad); }, ErrorCode::Usage, {"GOPCAST_FAILPOINT"});
}

TEST(JobKey, StableAndSensitiveToWhatTheBytesDependOn) {
  JobKeyParts p;
  p.input = "/in.mp4\n100\n5";
  p.templates = "[video]\ncrf = 23\n";
  p.segment_seconds = 10;
  p.version = "0.1.0";
  const std::string k = job_key(p);
  EXPECT_EQ(k.size(), 16u);
  EXPECT_EQ(job_key(p), k);
  EXPECT_EQ(stable_hash("abc"), "e16801510db89efd");  // FNV-1a, the same on every host and build
  for (auto change : std::vector<std::function<void(JobKeyParts&)>>{
           [](JobKeyParts& q) { q.input = "/in.mp4\n101\n5"; }, [](JobKeyParts& q) { q.segment_seconds = 6; },
           [](JobKeyParts& q) { q.clip_start = 2; }, [](JobKeyParts& q) { q.burned = {"[Script Info]"}; },
           [](JobKeyParts& q) { q.mix = "\nmix:x"; }, [](JobKeyParts& q) { q.timeline = {"a"}; },
           [](JobKeyParts& q) { q.audio_stream = 1; }}) {
    JobKeyParts q = p;
    change(q);
    EXPECT_NE(job_key(q), k);
  }
}

TEST(Resume, TakesOverWholeDoneRowsOfTheSameJobOnly) {
  manifest::Manifest prev;
  prev.info.job_key = "k";
  prev.segments = rows_of({24, 24, 24});
  prev.segments[0].status = SegmentStatus::done;
  prev.segments[0].bytes = 777;
  prev.segments[1].status = SegmentStatus::done;  // but its file is not whole
  prev.segments[2].attempts = 4;
  auto rows = rows_of({24, 24, 24});
  const Resumed r = resume(prev, "k", rows, [](size_t row) { return row != 1; });
  EXPECT_TRUE(r.same_job);
  EXPECT_EQ(r.segments, 1u);
  EXPECT_EQ(rows[0].status, SegmentStatus::done);
  EXPECT_EQ(rows[0].bytes, 777);
  EXPECT_NE(rows[1].status, SegmentStatus::done);
  EXPECT_EQ(rows[2].attempts, 4);
  auto fresh = rows_of({24, 24, 24});
  EXPECT_FALSE(resume(prev, "other", fresh, [](size_t) { return true; }).same_job);
  EXPECT_EQ(fresh[0].status, SegmentStatus::pending);
  auto longer = rows_of({24, 24, 24, 24});
  EXPECT_FALSE(resume(prev, "k", longer, [](size_t) { return true; }).same_job);  // another plan
  EXPECT_FALSE(resume(std::nullopt, "k", fresh, [](size_t) { return true; }).same_job);
}
