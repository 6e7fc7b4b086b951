// The job store (jobs/store.hpp): records round-trip, ids are unique, updates are
// never lost when many processes change one record at once, a batch is stored whole or
// not at all, filters and the open-job query use the database's indexes, and a store
// of record.json folders is read in once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "../test_support.hpp"
#include "core/files.hpp"
#include "core/sqlite.hpp"
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
  store.insert({r}, {"[input]\n"});
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
      store.insert({r}, {""});
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
  store.insert({r}, {""});
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

jobs::JobRecord member(const std::string& id, const std::string& pipeline, const std::string& batch, jobs::JobState st) {
  jobs::JobRecord r;
  r.id = id;
  r.pipeline = pipeline;
  r.batch_id = batch;
  r.input = "/in/" + id + ".mp4";
  r.submitted_at = jobs::now_iso8601();
  jobs::set_state(r, st);
  return r;
}

TEST(JobStore, ABatchIsStoredWholeOrNotAtAll) {
  TempDir dir;
  jobs::Store store(dir.path);
  store.insert({member("b-000001", "web", "b", jobs::JobState::Submitted)}, {"job 1"});
  // The second batch collides with the first on its last id: none of it is stored.
  std::vector<jobs::JobRecord> rs;
  std::vector<std::string> texts;
  for (int i = 2; i <= 5; ++i) rs.push_back(member(fmt::format("b-{:06d}", i), "web", "b", jobs::JobState::Submitted));
  rs.push_back(member("b-000001", "web", "b", jobs::JobState::Submitted));
  texts.assign(rs.size(), "job");
  EXPECT_ANY_THROW(store.insert(rs, texts));
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.job_text("b-000001"), "job 1");
  rs.pop_back();
  texts.pop_back();
  store.insert(rs, texts);
  EXPECT_EQ(store.list({.batch_id = "b"}).size(), 5u);
  // Their Slurm ids are set in one go, the rest of each record left as it was.
  store.set_slurm_ids({{"b-000002", "77_0"}, {"b-000003", "77_1"}}, true);
  auto two = store.get("b-000002");
  EXPECT_EQ(two.slurm_job_id, "77_0");
  EXPECT_TRUE(two.held);
  EXPECT_EQ(two.input, "/in/b-000002.mp4");
  EXPECT_EQ(jobs::to_json(two).dump(), jobs::to_json(jobs::record_from_json(jobs::to_json(two))).dump());
  store.remove_batch("b");
  EXPECT_TRUE(store.list().empty());
  expect_error([&] { store.get("b-000002"); }, ErrorCode::JobNotFound);
}

TEST(JobStore, FiltersAndOpenJobsComeFromTheIndexesInIdOrder) {
  TempDir dir;
  jobs::Store store(dir.path);
  std::vector<jobs::JobRecord> rs;
  for (int i = 0; i < 300; ++i)
    rs.push_back(member(fmt::format("j-{:06d}", 299 - i), i % 3 ? "web" : "archive", i % 2 ? "b1" : "",
                        i % 5 ? jobs::JobState::TranscodeSuccess : jobs::JobState::Transcoding));
  store.insert(rs, std::vector<std::string>(rs.size(), ""));
  std::vector<std::string> ids;
  store.for_each({.pipeline = "archive", .state = jobs::JobState::Transcoding}, [&](const jobs::JobRow& r) {
    EXPECT_EQ(r.pipeline, "archive");
    EXPECT_EQ(r.state, "Transcoding");
    EXPECT_EQ(jobs::record_from_json(nlohmann::json::parse(r.json)).id, r.id);
    ids.emplace_back(r.id);
  });
  EXPECT_EQ(ids.size(), 20u);  // i % 15 == 0
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(store.list({.batch_id = "b1"}).size(), 150u);
  auto open = store.open_jobs({.pipeline = "web"});
  EXPECT_EQ(open.size(), 40u);  // i % 5 == 0 and i % 3 != 0
  for (const auto& o : open) EXPECT_EQ(store.get(o.id).state, jobs::JobState::Transcoding);
  // A state filter does not narrow the open jobs: any of them may end in that state now.
  EXPECT_EQ(store.open_jobs({.state = jobs::JobState::TranscodeFail}).size(), 60u);
  // The planner answers these from the indexes, not a scan of every record.
  for (const char* q : {"SELECT id FROM jobs WHERE state = 'x' ORDER BY id", "SELECT id FROM jobs WHERE batch_id = 'x' ORDER BY id",
                        "SELECT id FROM jobs WHERE pipeline = 'x' ORDER BY id", "SELECT id FROM jobs WHERE final = 0 ORDER BY id"}) {
    sqlite::Db db(dir.path / "jobs.db");
    sqlite::Stmt explain(db, std::string("EXPLAIN QUERY PLAN ") + q);
    std::string plan;
    while (explain.step()) plan += std::string(explain.text(3)) + "\n";
    EXPECT_NE(plan.find("USING"), std::string::npos) << q << "\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << q << "\n" << plan;
  }
}

TEST(JobStore, ListingPagesThroughManyRowsAndLetsWritersInBetween) {
  TempDir dir;
  jobs::Store store(dir.path);
  std::vector<jobs::JobRecord> rs;
  for (int i = 0; i < 2500; ++i) rs.push_back(member(fmt::format("p-{:06d}", i), "web", "", jobs::JobState::Submitted));
  store.insert(rs, std::vector<std::string>(rs.size(), ""));
  std::vector<std::string> ids;
  store.for_each({.state = jobs::JobState::Submitted}, [&](const jobs::JobRow& r) {
    ids.emplace_back(r.id);
    // A writer in another process commits while the listing is between rows (it would
    // wait for the reader's lock with a rollback journal if a page stayed open).
    if (ids.size() == 1500) {
      pid_t pid = ::fork();
      if (pid == 0) {
        jobs::Store other(dir.path);
        other.update("p-000000", [](jobs::JobRecord& x) { return ++x.attempts, true; });
        ::_exit(0);
      }
      int ws = 0;
      ::waitpid(pid, &ws, 0);
      EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
  });
  ASSERT_EQ(ids.size(), 2500u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 2500u);
  EXPECT_EQ(store.get("p-000000").attempts, 1);
}

TEST(JobStore, AStoreOfRecordFoldersIsReadInOnce) {
  TempDir dir;
  auto r = member("20261101-000000-0000abcd", "web", "", jobs::JobState::TranscodeSuccess);
  fs::create_directories(dir.path / "jobs" / r.id);
  files::write_atomic(dir.path / "jobs" / r.id / "record.json", jobs::to_json(r).dump(2));
  files::write_atomic(dir.path / "jobs" / r.id / "job.toml", "[input]\npath = \"/in/a.mp4\"\n");
  fs::create_directories(dir.path / "jobs" / "torn");
  files::write_atomic(dir.path / "jobs" / "torn" / "record.json", "{\"id\": \"to");
  {
    jobs::Store store(dir.path);
    ASSERT_EQ(store.list().size(), 1u);
    EXPECT_EQ(jobs::to_json(store.get(r.id)), jobs::to_json(r));
    EXPECT_EQ(store.job_text(r.id), "[input]\npath = \"/in/a.mp4\"\n");
    store.remove(r.id);
  }
  // Once: a record removed from the database does not come back from its folder.
  fs::create_directories(dir.path / "jobs" / r.id);
  files::write_atomic(dir.path / "jobs" / r.id / "record.json", jobs::to_json(r).dump(2));
  jobs::Store again(dir.path);
  EXPECT_TRUE(again.list().empty());
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
