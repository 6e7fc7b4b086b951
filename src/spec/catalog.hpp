#pragma once
// Where templates come from: the shipped presets, folders on GOPCAST_TEMPLATE_PATH,
// or a TOML file named directly. Templates may inherit with `base = "NAME"`.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "spec/template.hpp"

namespace gopcast {

struct TemplateEntry {
  std::string name;
  std::filesystem::path path;
};

class Catalog {
 public:
  // Folders from $GOPCAST_TEMPLATE_PATH (colon-separated, searched first), then the
  // shipped templates: <prefix>/share/gopcast/templates beside an installed program,
  // else the source tree's templates/ for a program run from its build tree.
  static Catalog standard();
  explicit Catalog(std::vector<std::filesystem::path> dirs) : dirs_(std::move(dirs)) {}

  std::vector<TemplateEntry> list() const;
  const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

  // The merged table of a template (its bases applied first). `name_or_path` is a
  // catalogue name or a path to a .toml file. Unknown names raise TemplateNotFound.
  toml::table load_table(std::string_view name_or_path) const;

  // Loads, merges `override_table` (a job output's overrides), applies `overrides`
  // ("video.crf=20") in order, validates. `origin` labels values that have no file position.
  Template load(std::string_view name_or_path, const std::vector<std::string>& overrides = {},
                toml::table override_table = {}, const std::string& origin = "") const;

  // The template used when none is named: picked by the output's extension
  // (default-mp4, default-m3u8, default-mp3...). Unknown extensions raise TemplateNotFound.
  std::string default_for(const std::filesystem::path& output) const;

 private:
  toml::table load_table(std::string_view name_or_path, int depth) const;
  std::filesystem::path locate(std::string_view name_or_path) const;
  std::vector<std::filesystem::path> dirs_;
};

}  // namespace gopcast
