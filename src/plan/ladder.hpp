#pragma once
// A bitrate ladder resolved against its source: which renditions it gets and where each
// one's playlist goes. Pure (the templates are resolved before, spec/ladder.hpp reads the
// ladder file).
#include <filesystem>
#include <string>
#include <vector>

#include "spec/template.hpp"

namespace gopcast::plan {

struct Rendition {
  std::string name;  // the template's name in the ladder
  Template tmpl;     // resolved, with the ladder's HLS segment length
};

// Every rendition must be HLS with re-encoded video and a VOD playlist (the master is
// measured on the finished renditions): Incompatible naming `origin` and the ladder.
void check_renditions(const std::vector<Rendition>& renditions, const std::string& origin, const std::string& ladder);

// The renditions a source `height` pixels tall gets (0: unknown): none taller than the
// source, so a 480p source gets no 1080p copy of itself; the smallest when every one is.
std::vector<Rendition> renditions_for_source(std::vector<Rendition> renditions, int height);

// A rendition's playlist: <master>_<height>p.m3u8 beside the master playlist (the
// template's name when it has no height).
std::filesystem::path rendition_path(const std::filesystem::path& master, const Rendition& rendition);

}  // namespace gopcast::plan
