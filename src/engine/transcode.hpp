#pragma once
// The library's front door for local (single-process) transcoding: one input,
// one or more outputs, published atomically when every output succeeded.
#include <filesystem>
#include <string>
#include <vector>

#include "av/probe.hpp"
#include "engine/pipeline.hpp"
#include "spec/job.hpp"

namespace gopcast {

struct TranscodeOutput {
  std::filesystem::path path;  // final path (placeholders already expanded)
  Template tmpl;
  std::string user_data;
};

struct TranscodeRequest {
  std::filesystem::path input;
  std::string video_stream;  // selector, "" = best
  std::string audio_stream;
  std::vector<TranscodeOutput> outputs;
};

struct OutputResult {
  std::filesystem::path path;
  std::string template_name;
  std::string user_data;
  int64_t video_frames = 0;
  std::vector<std::filesystem::path> files;  // everything written: the output, then e.g. HLS segments
  int64_t bytes = 0;                         // their total size
  MediaInfo info;                            // probe of the written output
};

struct TranscodeResult {
  std::filesystem::path input;
  double seconds = 0;  // wall-clock time
  double media_seconds = 0;  // input duration
  std::vector<OutputResult> outputs;
};

// Validates everything first (input, streams, templates against the source, output
// folders), then runs. On any error nothing is left at any output path.
TranscodeResult transcode(const TranscodeRequest& request, const engine::RunControl& control = {});

// Builds the request for a job: expands output placeholders, resolves templates
// with the job's overrides and then `extra` overrides.
TranscodeRequest request_for_job(Job job, const Catalog& catalog, const std::vector<std::string>& extra = {});

nlohmann::json to_json(const TranscodeResult& result);

}  // namespace gopcast
