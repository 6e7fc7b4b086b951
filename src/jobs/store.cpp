#include "jobs/store.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/sqlite.hpp"

namespace fs = std::filesystem;

namespace gopcast::jobs {

std::string now_iso8601() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, ms);
}

fs::path default_home() {
  if (const char* h = std::getenv("GOPCAST_HOME"); h && *h) return fs::path(h);
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".gopcast";
}

nlohmann::json to_json(const JobRecord& r) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& h : r.history) history.push_back({{"state", to_string(h.state)}, {"at", h.at}, {"note", h.note}});
  nlohmann::json j = {{"id", r.id},
                      {"pipeline", r.pipeline},
                      {"state", to_string(r.state)},
                      {"priority", r.priority},
                      {"user_data", r.user_data},
                      {"input", r.input},
                      {"outputs", r.outputs},
                      {"manifest", r.manifest},
                      {"job_file", r.job_file},
                      {"slurm_job_id", r.slurm_job_id},
                      {"batch_id", r.batch_id},
                      {"submitted_at", r.submitted_at},
                      {"started_at", r.started_at},
                      {"finished_at", r.finished_at},
                      {"host", r.host},
                      {"attempts", r.attempts},
                      {"resumed_segments", r.resumed_segments},
                      {"cancel_requested", r.cancel_requested},
                      {"held", r.held},
                      {"history", history}};
  j["error"] = r.error_code.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"code", r.error_code}, {"message", r.error_message}};
  return j;
}

JobRecord record_from_json(const nlohmann::json& j) {
  JobRecord r;
  r.id = j.value("id", "");
  r.pipeline = j.value("pipeline", "");
  r.state = parse_enum<JobState>(j.value("state", "Submitted")).value_or(JobState::Submitted);
  r.priority = j.value("priority", 6);
  r.user_data = j.value("user_data", "");
  r.input = j.value("input", "");
  r.outputs = j.value("outputs", std::vector<std::string>{});
  r.manifest = j.value("manifest", "");
  r.job_file = j.value("job_file", "");
  r.slurm_job_id = j.value("slurm_job_id", "");
  r.batch_id = j.value("batch_id", "");
  r.submitted_at = j.value("submitted_at", "");
  r.started_at = j.value("started_at", "");
  r.finished_at = j.value("finished_at", "");
  r.host = j.value("host", "");
  r.attempts = j.value("attempts", 0);
  r.resumed_segments = j.value("resumed_segments", 0);
  r.cancel_requested = j.value("cancel_requested", false);
  r.held = j.value("held", false);
  if (j.contains("error") && j["error"].is_object()) {
    r.error_code = j["error"].value("code", "");
    r.error_message = j["error"].value("message", "");
  }
  if (j.contains("history"))
    for (const auto& h : j["history"])
      r.history.push_back({parse_enum<JobState>(h.value("state", "Submitted")).value_or(JobState::Submitted), h.value("at", ""), h.value("note", "")});
  return r;
}

void set_state(JobRecord& r, JobState s, std::string note) {
  r.state = s;
  r.history.push_back({s, now_iso8601(), std::move(note)});
}

namespace {

// One row per job. The record's JSON is what `jobs show --json` prints; the columns
// beside it are what listing filters and sorts on, kept equal to the JSON's fields by
// bind_record, the one place that writes them.
constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY NOT NULL,
  pipeline TEXT NOT NULL,
  state TEXT NOT NULL,
  final INTEGER NOT NULL,
  batch_id TEXT NOT NULL,
  slurm_job_id TEXT NOT NULL,
  priority INTEGER NOT NULL,
  input TEXT NOT NULL,
  record TEXT NOT NULL,
  job TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE INDEX IF NOT EXISTS jobs_by_pipeline ON jobs (pipeline, id);
CREATE INDEX IF NOT EXISTS jobs_by_batch ON jobs (batch_id, id);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (id) WHERE final = 0;
)";
constexpr int kSchemaVersion = 1;

constexpr const char* kColumns = "pipeline, state, final, batch_id, slurm_job_id, priority, input, record";

// Binds the record's columns as parameters first..first+7.
void bind_record(sqlite::Stmt& st, int first, const JobRecord& r) {
  st.bind(first, r.pipeline)
      .bind(first + 1, to_string(r.state))
      .bind(first + 2, int64_t{is_final(r.state) ? 1 : 0})
      .bind(first + 3, r.batch_id)
      .bind(first + 4, r.slurm_job_id)
      .bind(first + 5, int64_t{r.priority})
      .bind(first + 6, r.input)
      .bind(first + 7, to_json(r).dump());
}

bool valid_id(std::string_view id) { return !id.empty() && id.find('/') == std::string_view::npos && id != "." && id != ".."; }

struct Where {
  std::string sql;
  std::vector<std::string> values;
};

Where where(const JobFilter& f, bool open_only) {
  Where w;
  auto add = [&](const char* clause, std::string value) {
    w.sql += w.sql.empty() ? " WHERE " : " AND ";
    w.sql += clause;
    w.values.push_back(std::move(value));
  };
  if (!f.pipeline.empty()) add("pipeline = ?", f.pipeline);
  if (f.state) add("state = ?", std::string(to_string(*f.state)));
  if (!f.batch_id.empty()) add("batch_id = ?", f.batch_id);
  if (open_only) w.sql += w.sql.empty() ? " WHERE final = 0" : " AND final = 0";
  return w;
}

}  // namespace

Store::Store(fs::path home) : home_(std::move(home)) {
  std::error_code ec;
  fs::create_directories(home_ / "jobs", ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot create the job store: {}", (home_ / "jobs").string(), ec.message());
  // Opening sets the journal mode and may create the schema, which SQLite answers with
  // "database is locked" (not waiting) while another process does the same: openers
  // take turns. Held for the open only.
  files::Lock opening(home_ / "jobs.db.open-lock", files::Lock::Mode::Exclusive);
  const bool fresh = !fs::exists(database(), ec);
  db_ = std::make_unique<sqlite::Db>(database());
  int64_t version = 0;
  {
    sqlite::Stmt q(*db_, "PRAGMA user_version");
    if (q.step()) version = q.integer(0);
  }
  if (version == kSchemaVersion) return;
  sqlite::Transaction t(*db_);
  db_->exec(kSchema);
  db_->exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  if (fresh) import_folders();
  t.commit();
}

Store::~Store() = default;

// A store from before the database kept one record.json per job folder: they are read
// into the database once, when it is created.
void Store::import_folders() {
  std::error_code ec;
  sqlite::Stmt ins(*db_, fmt::format("INSERT OR IGNORE INTO jobs (id, {}, job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kColumns));
  for (const auto& e : fs::directory_iterator(home_ / "jobs", ec)) {
    const fs::path f = e.path() / "record.json";
    if (!fs::is_regular_file(f, ec)) continue;
    try {
      JobRecord r = record_from_json(nlohmann::json::parse(files::read(f)));
      if (!valid_id(r.id)) continue;
      std::string job;
      if (fs::is_regular_file(e.path() / "job.toml", ec)) job = files::read(e.path() / "job.toml");
      ins.bind(1, r.id);
      bind_record(ins, 2, r);
      ins.bind(10, job);
      ins.run();
    } catch (const nlohmann::json::exception&) {
      // A record torn by a crash of the old store: nothing to keep.
    }
  }
}

fs::path Store::job_dir(std::string_view id) const { return home_ / "jobs" / std::string(id); }

std::string Store::create_id() {
  // Drawn from the kernel each time: processes forked from one parent (or seeded alike)
  // never walk the same sequence.
  std::random_device rng;
  for (int tries = 0; tries < 100; ++tries) {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    std::string id = fmt::format("{}-{:08x}", stamp, static_cast<uint32_t>(rng()));
    // mkdir is atomic on every shared filesystem: two submitters never get one id.
    if (::mkdir(job_dir(id).c_str(), 0755) == 0) return id;
    if (errno != EEXIST) fail(ErrorCode::OutputNotWritable, "{}: cannot create: {}", job_dir(id).string(), std::strerror(errno));
  }
  fail(ErrorCode::Internal, "job store: no free job id after 100 tries");
}

void Store::insert(const std::vector<JobRecord>& records, const std::vector<std::string>& jobs) {
  if (records.size() != jobs.size()) fail(ErrorCode::Internal, "job store: {} records but {} jobs", records.size(), jobs.size());
  sqlite::Transaction t(*db_);
  sqlite::Stmt ins(*db_, fmt::format("INSERT INTO jobs (id, {}, job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kColumns));
  for (size_t i = 0; i < records.size(); ++i) {
    if (!valid_id(records[i].id)) fail(ErrorCode::Internal, "job store: invalid job id '{}'", records[i].id);
    ins.bind(1, records[i].id);
    bind_record(ins, 2, records[i]);
    ins.bind(10, jobs[i]);
    ins.run();
  }
  t.commit();
}

void Store::put(const JobRecord& r) {
  sqlite::Stmt up(*db_, "UPDATE jobs SET pipeline = ?, state = ?, final = ?, batch_id = ?, slurm_job_id = ?, priority = ?, "
                        "input = ?, record = ? WHERE id = ?");
  bind_record(up, 1, r);
  up.bind(9, r.id);
  up.run();
  if (db_->changes() == 0) fail(ErrorCode::JobNotFound, "job {}: not found in {}", r.id, database().string());
}

JobRecord Store::get(std::string_view id) const {
  if (valid_id(id)) {
    sqlite::Stmt q(*db_, "SELECT record FROM jobs WHERE id = ?");
    q.bind(1, id);
    if (q.step()) {
      try {
        return record_from_json(nlohmann::json::parse(q.text(0)));
      } catch (const nlohmann::json::exception& e) {
        fail(ErrorCode::Internal, "{}: job {}: unreadable record: {}", database().string(), id, e.what());
      }
    }
  }
  fail(ErrorCode::JobNotFound, "job {}: not found in {}", id, database().string());
}

std::string Store::job_text(std::string_view id) const {
  sqlite::Stmt q(*db_, "SELECT job FROM jobs WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) fail(ErrorCode::JobNotFound, "job {}: not found in {}", id, database().string());
  return std::string(q.text(0));
}

JobRecord Store::update(std::string_view id, const std::function<bool(JobRecord&)>& change) {
  sqlite::Transaction t(*db_);
  JobRecord r = get(id);
  if (change(r)) {
    put(r);
    t.commit();
  }
  return r;
}

std::vector<JobRecord> Store::update_many(const std::vector<std::string>& ids, const std::function<bool(JobRecord&)>& change) {
  std::vector<JobRecord> changed;
  if (ids.empty()) return changed;
  sqlite::Transaction t(*db_);
  for (const auto& id : ids) {
    JobRecord r;
    try {
      r = get(id);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::JobNotFound) continue;
      throw;
    }
    if (change(r)) {
      put(r);
      changed.push_back(std::move(r));
    }
  }
  t.commit();
  return changed;
}

void Store::set_slurm_ids(const std::vector<std::pair<std::string, std::string>>& id_to_slurm, bool held) {
  sqlite::Transaction t(*db_);
  // The record's JSON is changed in place (json_set keeps every other field as it is).
  sqlite::Stmt up(*db_, "UPDATE jobs SET slurm_job_id = ?1, record = json_set(record, '$.slurm_job_id', ?1, '$.held', json(?2)) "
                        "WHERE id = ?3");
  for (const auto& [id, slurm_id] : id_to_slurm) {
    up.bind(1, slurm_id).bind(2, held ? "true" : "false").bind(3, id);
    up.run();
  }
  t.commit();
}

void Store::for_each(const JobFilter& filter, const std::function<void(const JobRow&)>& row) const {
  // Pages of rows by id, each read in a read transaction of its own that ends before the
  // caller sees the rows: a slow reader (`jobs list | less`) never holds the database,
  // which with the rollback journal would keep running jobs from recording their state.
  constexpr int kPage = 1000;
  const Where w = where(filter, false);
  const std::string sql = "SELECT id, pipeline, state, slurm_job_id, input, record, priority FROM jobs" + w.sql +
                          (w.sql.empty() ? " WHERE" : " AND") + " id > ? ORDER BY id LIMIT " + std::to_string(kPage);
  sqlite::Stmt q(*db_, sql);
  struct Row {
    std::string id, pipeline, state, slurm_job_id, input, json;
    int priority;
  };
  std::vector<Row> page;
  std::string last;
  for (;;) {
    for (size_t i = 0; i < w.values.size(); ++i) q.bind(static_cast<int>(i + 1), w.values[i]);
    q.bind(static_cast<int>(w.values.size() + 1), last);
    page.clear();
    while (q.step())
      page.push_back({std::string(q.text(0)), std::string(q.text(1)), std::string(q.text(2)), std::string(q.text(3)),
                      std::string(q.text(4)), std::string(q.text(5)), static_cast<int>(q.integer(6))});
    q.reset();
    for (const auto& r : page) row({r.id, r.pipeline, r.state, r.slurm_job_id, r.input, r.json, r.priority});
    if (page.size() < static_cast<size_t>(kPage)) return;
    last = page.back().id;
  }
}

std::vector<JobRecord> Store::list(const JobFilter& filter) const {
  std::vector<JobRecord> out;
  for_each(filter, [&](const JobRow& r) {
    try {
      out.push_back(record_from_json(nlohmann::json::parse(r.json)));
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorCode::Internal, "{}: job {}: unreadable record: {}", database().string(), r.id, e.what());
    }
  });
  return out;
}

std::vector<OpenJob> Store::open_jobs(const JobFilter& filter) const {
  JobFilter f = filter;
  f.state.reset();  // a job that has not ended may end now in any state
  const Where w = where(f, true);
  sqlite::Stmt q(*db_, "SELECT id, pipeline, slurm_job_id, json_extract(record, '$.submitted_at') FROM jobs" + w.sql + " ORDER BY id");
  for (size_t i = 0; i < w.values.size(); ++i) q.bind(static_cast<int>(i + 1), w.values[i]);
  std::vector<OpenJob> out;
  while (q.step()) out.push_back({std::string(q.text(0)), std::string(q.text(1)), std::string(q.text(2)), std::string(q.text(3))});
  return out;
}

void Store::remove(std::string_view id) {
  sqlite::Stmt del(*db_, "DELETE FROM jobs WHERE id = ?");
  del.bind(1, id);
  del.run();
  std::error_code ec;
  if (valid_id(id)) fs::remove_all(job_dir(id), ec);
}

void Store::remove_batch(std::string_view batch_id) {
  if (!valid_id(batch_id)) return;
  sqlite::Stmt del(*db_, "DELETE FROM jobs WHERE batch_id = ?");
  del.bind(1, batch_id);
  del.run();
  std::error_code ec;
  fs::remove_all(job_dir(batch_id), ec);
}

}  // namespace gopcast::jobs
