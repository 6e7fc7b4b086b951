#pragma once
// What jobs/ tells a pipeline's webhook when a job changes state (internal to jobs/:
// the submission side and the runner both notify).
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "jobs/store.hpp"
#include "notify/webhook.hpp"
#include "slurm/pipeline.hpp"

namespace gopcast::jobs {

// The event body of a state change (docs/pipelines.md).
nlohmann::json event_body(const JobRecord& r, JobState previous);
// Queues the event for the pipeline's webhook (if it has one that wants this state).
void post_event(notify::Notifier& notifier, const slurm::Pipeline* p, const JobRecord& r, JobState previous);
// A notifier for one command; its undelivered log is in the store.
std::unique_ptr<notify::Notifier> make_notifier(const Store& s);
// Events of commands (submit, cancel, list) wait two seconds at most; the rest is logged.
constexpr auto kCommandNotifyDeadline = std::chrono::seconds(2);

}  // namespace gopcast::jobs
