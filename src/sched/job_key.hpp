#pragma once
// The job key: what makes two runs the same job, so that a rerun may resume from the
// manifest an interrupted one left. A stable hash (the same across processes, hosts and
// builds) over everything the segments' bytes depend on.
#include <string>
#include <string_view>
#include <vector>

namespace gopcast::sched {

// FNV-1a as 16 hex digits: stable where std::hash is not.
std::string stable_hash(std::string_view text);

struct JobKeyParts {
  std::string input;      // the input's identity: path, size, modification time
  int video_stream = -1;  // the streams used
  int audio_stream = -1;
  std::string templates;  // every output's resolved template, as TOML
  double segment_seconds = 0;  // the plan's parameters
  double grid_seconds = 0;
  std::string version;    // gopcast's
  double clip_start = 0;  // the clip (end -1: none)
  double clip_end = -1;
  std::vector<std::string> burned;  // the burned-in subtitle scripts: part of the pictures
  std::string mix;        // the background audio's identity and how it is mixed ("" = none)
  std::vector<std::string> timeline;  // a concatenation's inputs' identities, in order
  bool concat = false;
  bool fill_silence = false;
};
std::string job_key(const JobKeyParts& parts);

}  // namespace gopcast::sched
