#pragma once
// Bitrate ladders: one job output that becomes several HLS renditions of the same
// content and a master playlist naming them. Ladders live in a `ladders/` folder of the
// template folders (templates/ladders/NAME.toml) or are named by a .toml path.
#include <filesystem>
#include <string>
#include <vector>

#include "spec/catalog.hpp"

namespace gopcast {

struct Ladder {
  std::string name;
  std::string description;
  std::filesystem::path file;
  double hls_segment_seconds = 6;        // every rendition's HLS segment length (aligned cuts)
  std::vector<std::string> renditions;   // template names, in master-playlist order
};

// Finds and validates a ladder; unknown names raise TemplateNotFound.
Ladder load_ladder(const Catalog& catalog, const std::string& name_or_path);

}  // namespace gopcast
