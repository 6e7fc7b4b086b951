// The job store (jobs/store.hpp): records round-trip, ids are unique and updates
// are never lost when many processes change one record at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "../test_support.hpp"
#include "jobs/store.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;

namespace {

// Starts `n` processes that each run `body` and exit; returns their pids.
template <typename F>
std::vector<pid_t> fork_each(int n, F body) {
  std::vector<pid_t> kids;
  for (int p = 0; p < n; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      body();
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  return kids;
}

TEST(JobStore, RecordsRoundTripThroughJson) {
  TempDir dir;
  jobs::Store store(dir.path);
  jobs::JobRecord r;
  r.id = store.create_id();
  r.pipeline = "web";
  r.priority = 9;
  r.user_data = "ünïcødé \"quoted\"\n";
  r.input = "/media/a b.mp4";
  r.outputs = {"/out/a.mp4", "/out/a.m3u8"};
  r.slurm_job_id = "12_3";
  r.error_code = "InternalError.TranscodeFailed";
  r.error_message = "boom";
  jobs::set_state(r, jobs::JobState::Submitted);
  jobs::set_state(r, jobs::JobState::TranscodeFail, "why");
  store.put(r);
  auto back = store.get(r.id);
  EXPECT_EQ(jobs::to_json(back), jobs::to_json(r));
  EXPECT_EQ(back.state, jobs::JobState::TranscodeFail);
  ASSERT_EQ(back.history.size(), 2u);
  EXPECT_EQ(back.history[1].note, "why");
}

TEST(JobStore, UnknownIdsAreJobNotFound) {
  TempDir dir;
  jobs::Store store(dir.path);
  expect_error([&] { store.get("nope"); }, ErrorCode::JobNotFound, {"nope"});
  expect_error([&] { store.get("../etc"); }, ErrorCode::JobNotFound);
  expect_error([&] { store.update("nope", [](jobs::JobRecord&) { return true; }); }, ErrorCode::JobNotFound);
}

TEST(JobStore, IdsAreUniqueAcrossProcessesAndSortBySubmission) {
  TempDir dir;
  constexpr int kProcs = 4, kEach = 50;
  auto kids = fork_each(kProcs, [&] {
    jobs::Store store(dir.path);
    for (int i = 0; i < kEach; ++i) {
      jobs::JobRecord r;
      r.id = store.create_id();
      store.put(r);
    }
  });
  for (pid_t k : kids) {
    int ws = 0;
    ::waitpid(k, &ws, 0);
    EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
  jobs::Store store(dir.path);
  auto all = store.list();
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kProcs * kEach));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; }));
}

TEST(JobStore, ConcurrentUpdatesFromManyProcessesAreNeverLost) {
  TempDir dir;
  jobs::Store store(dir.path);
  jobs::JobRecord r;
  r.id = store.create_id();
  store.put(r);
  constexpr int kProcs = 4, kEach = 100;
  auto kids = fork_each(kProcs, [&] {
    jobs::Store s(dir.path);
    for (int i = 0; i < kEach; ++i) s.update(r.id, [](jobs::JobRecord& x) { return ++x.attempts, true; });
  });
  // A reader meanwhile never sees a torn record.
  int reads = 0;
  for (bool running = true; running;) {
    auto x = store.get(r.id);
    EXPECT_GE(x.attempts, 0);
    ++reads;
    running = false;
    for (pid_t k : kids)
      if (::waitpid(k, nullptr, WNOHANG) == 0) running = true;
  }
  for (pid_t k : kids) ::waitpid(k, nullptr, 0);
  EXPECT_EQ(store.get(r.id).attempts, kProcs * kEach);
  EXPECT_GT(reads, 0);
}

TEST(JobStore, StatesHaveStableNames) {
  for (auto s : {jobs::JobState::Submitted, jobs::JobState::Transcoding, jobs::JobState::TranscodeSuccess,
                 jobs::JobState::TranscodeFail, jobs::JobState::TranscodeCancelled})
    EXPECT_EQ(parse_enum<jobs::JobState>(to_string(s)), s);
  EXPECT_FALSE(parse_enum<jobs::JobState>("Done"));
  EXPECT_TRUE(jobs::is_final(jobs::JobState::TranscodeCancelled));
  EXPECT_FALSE(jobs::is_final(jobs::JobState::Transcoding));
}

}  // namespace
