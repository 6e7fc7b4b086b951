#include "jobs/events.hpp"

#include <algorithm>

namespace fs = std::filesystem;

namespace gopcast::jobs {

nlohmann::json event_body(const JobRecord& r, JobState previous) {
  return {{"event", "job.state_changed"},
          {"event_id", fmt::format("{}.{}", r.id, r.history.size())},
          {"job_id", r.id},
          {"pipeline", r.pipeline},
          {"state", to_string(r.state)},
          {"previous_state", r.history.size() > 1 ? nlohmann::json(to_string(previous)) : nlohmann::json(nullptr)},
          {"input", r.input},
          {"outputs", r.outputs},
          {"manifest", r.manifest},
          {"error", r.error_code.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"code", r.error_code}, {"message", r.error_message}}},
          {"user_data", r.user_data},
          {"priority", r.priority},
          {"slurm_job_id", r.slurm_job_id},
          {"attempts", r.attempts},
          {"submitted_at", r.submitted_at},
          {"started_at", r.started_at},
          {"finished_at", r.finished_at},
          {"timestamp", now_iso8601()}};
}

// Queues the event of a state change for the pipeline's webhook (if any wants it).
void post_event(notify::Notifier& notifier, const slurm::Pipeline* p, const JobRecord& r, JobState previous) {
  if (!p || !p->notify) return;
  const auto& n = *p->notify;
  if (!n.events.empty() && std::find(n.events.begin(), n.events.end(), r.state) == n.events.end()) return;
  notify::WebhookConfig cfg;
  cfg.url = n.url;
  cfg.secret = n.secret;
  cfg.attempts = n.attempts;
  cfg.timeout_seconds = n.timeout_seconds;
  cfg.backoff_seconds = n.backoff_seconds;
  cfg.allow = n.allow;
  auto body = event_body(r, previous);
  notifier.post(std::move(cfg), body.dump(), body["event_id"].get<std::string>());
}

// A notifier for one command; its undelivered log is in the store.
std::unique_ptr<notify::Notifier> make_notifier(const Store& s) {
  std::error_code ec;
  fs::create_directories(s.undelivered_log().parent_path(), ec);
  return std::make_unique<notify::Notifier>(s.undelivered_log());
}

}  // namespace gopcast::jobs
