#pragma once
// Publishing a run's outputs: the master playlists and DASH manifests written from the
// renditions' measured segments, then every staged output renamed into place (all or
// nothing), then what was written probed back.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "app/prepare.hpp"

namespace gopcast::app {

struct OutputResult {
  std::filesystem::path path;
  std::string template_name;
  std::string user_data;
  int64_t video_frames = 0;
  std::vector<std::filesystem::path> files;  // everything written: the output, then e.g. HLS segments
  int64_t bytes = 0;                         // their total size
  MediaInfo info;                            // probe of the written output
};

// The paths a run writes and locks (its outputs and ladders' masters), absolute, in path
// order: the order their locks are taken in, the first names the publication journal.
std::set<std::filesystem::path> claimed_outputs(const TranscodeRequest& request);

// What killed runs of these outputs left, cleaned up once their locks are held: an
// interrupted publication is completed (finish_publication), orphaned staging folders
// and temporary files beside them are removed (not those of `prepared`, this run's).
void recover_outputs(const std::set<std::filesystem::path>& claimed, const PreparedTranscode& prepared);

// Publishes the job's outputs, its staged stills with them and the masters last, as one
// step (publish_together: all or none, a kill part-way completed by the next run's
// recover_outputs); then probes what was written.
std::vector<OutputResult> publish(const TranscodeRequest& request, PreparedTranscode& prepared,
                                  const std::vector<int64_t>& video_frames);

}  // namespace gopcast::app
