#include "jobs/state.hpp"

namespace gopcast::jobs {

const EnumNames<JobState>& enum_names(JobState) {
  static const EnumNames<JobState> names{{JobState::Submitted, "Submitted"},
                                         {JobState::Transcoding, "Transcoding"},
                                         {JobState::TranscodeSuccess, "TranscodeSuccess"},
                                         {JobState::TranscodeFail, "TranscodeFail"},
                                         {JobState::TranscodeCancelled, "TranscodeCancelled"}};
  return names;
}

bool is_final(JobState s) { return s == JobState::TranscodeSuccess || s == JobState::TranscodeFail || s == JobState::TranscodeCancelled; }

}  // namespace gopcast::jobs
