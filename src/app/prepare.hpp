#pragma once
// A request checked against its inputs and staged, before anything is encoded: every
// input probed, every output planned (templates against the source, watermarks,
// subtitles, a concatenation's per-input filters), every output folder checked and a
// staging folder made beside each output. Everything a user can get wrong fails here.
#include <memory>
#include <optional>
#include <vector>

#include "app/request.hpp"
#include "core/media_info.hpp"
#include "core/paths.hpp"
#include "engine/hls.hpp"
#include "engine/pipeline.hpp"
#include "engine/task.hpp"
#include "plan/timeline.hpp"

namespace gopcast::app {

// The validated, staged form of a request: the source's media info, the chosen streams,
// one staged output and pipeline target per output.
struct PreparedTranscode {
  MediaInfo source;
  plan::ClipWindow clip;  // the request's clip checked against the source
  engine::StreamChoice streams;
  std::vector<std::unique_ptr<StagedOutput>> staged;
  std::vector<engine::Target> targets;
  std::vector<std::unique_ptr<StagedOutput>> masters;  // one per ladder
  std::vector<StagedOutput*> stills;                   // the job's snapshots, published with the outputs
  std::vector<std::optional<engine::HlsStats>> hls;    // per output, from the gather
  plan::Timeline timeline;  // a concatenation's inputs and their per-output filters
  std::vector<std::string> warnings;  // shortfalls found while planning (RunResult::warnings)
};
PreparedTranscode prepare(const TranscodeRequest& request);

// The plans every rank derives from the same request, without staging anything (the
// workers of an MPI run).
engine::JobContext job_context(const TranscodeRequest& request);
// The same from what prepare() already probed and planned (the coordinator).
engine::JobContext job_context(const TranscodeRequest& request, const PreparedTranscode& prepared);

}  // namespace gopcast::app
