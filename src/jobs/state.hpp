#pragma once
// The job-state vocabulary: where a job of the job store is in its life. Its names are
// stable (records, --json, webhooks, `jobs list --state`, pipelines' [notify] events).
#include "core/enum_names.hpp"

namespace gopcast::jobs {

enum class JobState { Submitted, Transcoding, TranscodeSuccess, TranscodeFail, TranscodeCancelled };
const EnumNames<JobState>& enum_names(JobState);
// Success, failure and cancellation: nothing changes a job after them.
bool is_final(JobState s);

}  // namespace gopcast::jobs
