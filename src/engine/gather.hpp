#pragma once
// The gather of a segment-parallel run: the encoded segments of every segmented output,
// appended in order into the output (muxed by libavformat, or cut into HLS segments by
// gopcast's writers) with the whole timeline's audio interleaved by decoding time. It
// holds one packet at a time, never a segment, so it runs while later segments are
// still being encoded.
#include <memory>
#include <optional>
#include <vector>

#include "core/paths.hpp"
#include "engine/hls.hpp"
#include "engine/task.hpp"

namespace gopcast::engine {

class GatherOutput;

class Gather {
 public:
  // `targets` and `staged`: per output, where it is written (segmented ones only).
  Gather(const JobContext& ctx, const std::vector<Target>& targets, std::vector<std::unique_ptr<StagedOutput>>& staged);
  ~Gather();
  Gather(const Gather&) = delete;
  Gather& operator=(const Gather&) = delete;

  // Appends segment `segment` (whose files and the audio's are whole) to every
  // segmented output; the first call opens them.
  void append(int segment);
  // Writes the rest of the audio and closes every output; the HLS outputs' figures (for
  // master playlists and DASH manifests), per output.
  std::vector<std::optional<HlsStats>> finish();
  // Video frames written, per output.
  const std::vector<int64_t>& frames() const { return frames_; }

 private:
  const JobContext& ctx_;
  const std::vector<Target>& targets_;
  std::vector<std::unique_ptr<StagedOutput>>& staged_;
  std::vector<std::unique_ptr<GatherOutput>> outputs_;
  std::vector<int64_t> frames_;
};

}  // namespace gopcast::engine
