#include "jobs/store.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>

#include "core/error.hpp"
#include "core/files.hpp"

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

Store::Store(fs::path home) : home_(std::move(home)) {
  std::error_code ec;
  fs::create_directories(home_ / "jobs", ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot create the job store: {}", (home_ / "jobs").string(), ec.message());
}

fs::path Store::job_dir(std::string_view id) const { return home_ / "jobs" / std::string(id); }

std::string Store::create_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
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

void Store::create_dir(std::string_view id) {
  if (::mkdir(job_dir(id).c_str(), 0755) != 0)
    fail(ErrorCode::OutputNotWritable, "{}: cannot create: {}", job_dir(id).string(), std::strerror(errno));
}

void Store::put(const JobRecord& r) {
  files::Lock lock(job_dir(r.id) / ".lock", files::Lock::Mode::Exclusive);
  files::write_atomic(job_dir(r.id) / "record.json", to_json(r).dump(2) + "\n");
}

JobRecord Store::get(std::string_view id) const {
  std::error_code ec;
  const fs::path f = job_dir(id) / "record.json";
  if (id.empty() || id.find('/') != std::string_view::npos || !fs::is_regular_file(f, ec))
    fail(ErrorCode::JobNotFound, "job {}: not found in {}", id, (home_ / "jobs").string());
  try {
    return record_from_json(nlohmann::json::parse(files::read(f)));
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCode::Internal, "{}: unreadable job record: {}", f.string(), e.what());
  }
}

JobRecord Store::update(std::string_view id, const std::function<bool(JobRecord&)>& change) {
  get(id);  // JobNotFound before creating a lock file in a missing folder
  files::Lock lock(job_dir(id) / ".lock", files::Lock::Mode::Exclusive);
  JobRecord r = get(id);
  if (change(r)) files::write_atomic(job_dir(id) / "record.json", to_json(r).dump(2) + "\n");
  return r;
}

std::vector<JobRecord> Store::list() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(home_ / "jobs", ec))
    if (e.is_directory(ec) && fs::exists(e.path() / "record.json", ec)) ids.push_back(e.path().filename().string());
  std::sort(ids.begin(), ids.end());
  std::vector<JobRecord> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    try {
      out.push_back(get(id));
    } catch (const Error&) {
      // A record being created right now; the next listing shows it.
    }
  }
  return out;
}

void Store::remove(std::string_view id) {
  std::error_code ec;
  fs::remove_all(job_dir(id), ec);
}

}  // namespace gopcast::jobs
