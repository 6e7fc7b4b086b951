#pragma once
// Publishing a run's outputs: the master playlists and DASH manifests written from the
// renditions' measured segments, then every staged output renamed into place (all or
// nothing), then what was written probed back.
#include <filesystem>
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

std::vector<OutputResult> publish(const TranscodeRequest& request, PreparedTranscode& prepared,
                                  const std::vector<int64_t>& video_frames);

}  // namespace gopcast::app
