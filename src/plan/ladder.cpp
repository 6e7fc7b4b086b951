#include "plan/ladder.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace gopcast::plan {

void check_renditions(const std::vector<Rendition>& renditions, const std::string& origin, const std::string& ladder) {
  for (const auto& r : renditions) {
    const Template& t = r.tmpl;
    if (t.container != Container::m3u8 || t.video.codec == VideoCodec::copy || t.video.remove)
      fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: rendition {} is not an HLS output with re-encoded video", origin,
                      ladder, r.name);
    // The master is measured on the finished renditions, so it exists only at the end.
    if (t.hls.playlist == HlsPlaylistType::event)
      fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: hls.playlist = \"event\" is for single renditions (a ladder's master "
                      "playlist is written when every rendition is done)", origin, ladder);
  }
}

std::vector<Rendition> renditions_for_source(std::vector<Rendition> all, int height) {
  std::vector<Rendition> kept;
  for (auto& r : all)
    if (!r.tmpl.video.height || height == 0 || *r.tmpl.video.height <= height) kept.push_back(r);
  if (kept.empty() && !all.empty())
    kept.push_back(*std::min_element(all.begin(), all.end(), [](const Rendition& a, const Rendition& b) {
      return a.tmpl.video.height.value_or(0) < b.tmpl.video.height.value_or(0);
    }));
  return kept;
}

std::filesystem::path rendition_path(const std::filesystem::path& master, const Rendition& r) {
  const std::string tag = r.tmpl.video.height ? fmt::format("{}p", *r.tmpl.video.height) : r.name;
  return master.parent_path() / fmt::format("{}_{}.m3u8", master.stem().string(), tag);
}

}  // namespace gopcast::plan
