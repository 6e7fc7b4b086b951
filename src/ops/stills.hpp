#pragma once
// Still images written to files: frames at times, sprite sheets with their WebVTT index,
// the best cover frame. One request (spec/snapshots.hpp) from `gopcast snapshot|sprite|
// cover` or a job's [[snapshots]]. Everything is written staged and appears at its final
// paths only on commit: an error leaves nothing behind.
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/paths.hpp"
#include "ops/cover.hpp"
#include "ops/sprite.hpp"
#include "spec/snapshots.hpp"

namespace gopcast::ops {

struct StillImage {
  std::filesystem::path path;  // the image (frames, cover) or the sheet holding the tile (sprite)
  double requested = 0;        // the time asked for, seconds
  double time = 0;             // the picture's own presentation time, seconds
  int width = 0;
  int height = 0;
  std::optional<TileRect> tile;  // sprite: where on its sheet
};

struct StillsResult {
  SnapshotKind kind = SnapshotKind::Frames;
  SnapshotMode mode = SnapshotMode::Exact;
  std::filesystem::path input;
  std::vector<StillImage> images;            // in the order asked (sprite: tile order)
  std::vector<std::filesystem::path> files;  // every file written, final paths
  std::optional<SpriteLayout> layout;        // sprite
  std::filesystem::path vtt;                 // sprite, "" without an index
  std::optional<CoverScore> cover;           // cover: the chosen frame's score
  std::vector<CoverCandidate> candidates;    // cover: every candidate scored
  double seconds = 0;                        // wall-clock time
};

// Written, not yet published.
class StagedStills {
 public:
  StagedStills() = default;
  StagedStills(StagedStills&&) = default;
  StagedStills& operator=(StagedStills&&) = default;
  const StillsResult& result() const { return result_; }
  // Publishes every file (the rename of each staged folder); returns the result.
  StillsResult commit();
  // The staged folders, for a caller that publishes them with other outputs.
  std::vector<StagedOutput*> outputs() const;

 private:
  friend StagedStills stage_stills(const std::filesystem::path&, const SnapshotSpec&, const std::atomic<bool>*);
  std::vector<std::unique_ptr<StagedOutput>> staged_;
  StillsResult result_;
};

// Validates, decodes and encodes into staging folders beside the final paths.
// Errors: ResourceNotFound (input), StreamNotFound, OutOfRange (a time past the end, a
// value out of range), Usage (several images for a path that names one file),
// OutputNotWritable (a missing or read-only folder).
StagedStills stage_stills(const std::filesystem::path& input, const SnapshotSpec& spec,
                          const std::atomic<bool>* cancel = nullptr);
inline StillsResult take_stills(const std::filesystem::path& input, const SnapshotSpec& spec,
                                const std::atomic<bool>* cancel = nullptr) {
  return stage_stills(input, spec, cancel).commit();
}

// Where the images of a frames request go: `path` with {name} {ext} {dir} expanded, then
// a %d / %0Nd in its file name numbered 1..n, or a folder (an existing one, or a path
// ending in '/') holding <input name>-00001.<ext>..., or one file for one image. The
// format is `format`, else the file's extension (.jpg, .jpeg, .png), else jpg in a folder.
struct ImageTargets {
  std::vector<std::filesystem::path> files;
  ImageFormat format = ImageFormat::Jpg;
};
ImageTargets image_targets(const std::string& path, const std::filesystem::path& input, size_t count, ImageFormat format,
                           const std::string& origin);

nlohmann::json to_json(const StillsResult& result);
// A cover score as `gopcast cover --json` prints it: the components and their measures.
nlohmann::json to_json(const CoverScore& score);
// One line per image: "PATH  t=REQUESTED s  frame=TIME s  WxH" (sprites: the tile's sheet and
// rectangle; covers: the score).
std::string summary(const StillsResult& result);

}  // namespace gopcast::ops
