#include "spec/catalog.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <system_error>

#include "core/paths.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;

namespace gopcast {

Catalog Catalog::standard() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("GOPCAST_TEMPLATE_PATH")) {
    std::string_view rest = env;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  // An installed program finds its templates beside it (<prefix>/share/gopcast/templates,
  // wherever the prefix was moved); one run from a build tree uses the source tree's.
  std::error_code ec;
  const auto candidates = data_dir_candidates("templates", GOPCAST_TEMPLATE_DIR_BUILD, GOPCAST_TEMPLATE_DIR_INSTALL);
  auto found = std::find_if(candidates.begin(), candidates.end(), [&](const fs::path& d) { return fs::is_directory(d, ec); });
  dirs.push_back(found != candidates.end() ? *found : candidates.back());
  return Catalog(std::move(dirs));
}

std::vector<TemplateEntry> Catalog::list() const {
  std::vector<TemplateEntry> out;
  std::set<std::string> seen;
  for (const auto& dir : dirs_) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".toml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (seen.insert(f.stem().string()).second) out.push_back({f.stem().string(), f});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

fs::path Catalog::locate(std::string_view name_or_path) const {
  std::string s(name_or_path);
  std::error_code ec;
  const bool looks_like_path = s.find('/') != std::string::npos || s.ends_with(".toml");
  if (looks_like_path) {
    if (fs::is_regular_file(s, ec)) return s;
    fail<SpecError>(ErrorCode::TemplateNotFound, "{}: no such template file", s);
  }
  for (const auto& dir : dirs_) {
    fs::path p = dir / (s + ".toml");
    if (fs::is_regular_file(p, ec)) return p;
  }
  fail<SpecError>(ErrorCode::TemplateNotFound, "template \"{}\" not found (see `gopcast templates list`)", s);
}

toml::table Catalog::load_table(std::string_view name_or_path) const { return load_table(name_or_path, 0); }

toml::table Catalog::load_table(std::string_view name_or_path, int depth) const {
  if (depth > 16)
    fail<SpecError>(ErrorCode::InvalidKey, "template \"{}\": base chain deeper than 16 (a cycle?)", name_or_path);
  fs::path path = locate(name_or_path);
  toml::table own = spec::parse_file(path);
  const toml::node* base = own.get("base");
  if (!base) return own;
  auto base_name = base->value<std::string>();
  if (!base_name)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: base: expected a template name", spec::where(*base, path.string()));
  // A base given as a file (a path or a .toml name) is relative to the file that names it.
  std::string target = *base_name;
  const bool is_file = target.find('/') != std::string::npos || target.ends_with(".toml");
  if (is_file && fs::path(target).is_relative()) target = (path.parent_path() / target).string();
  toml::table merged = load_table(target, depth + 1);
  merged.erase("name");
  merged.erase("description");
  spec::merge_into(merged, std::move(own));
  return merged;
}

Template Catalog::load(std::string_view name_or_path, const std::vector<std::string>& overrides,
                       toml::table override_table, const std::string& origin) const {
  toml::table table = load_table(name_or_path);
  spec::merge_into(table, std::move(override_table));
  for (const auto& o : overrides) spec::apply_override(table, o);
  std::string name(name_or_path);
  if (name.find('/') != std::string::npos || name.ends_with(".toml")) name = fs::path(name).stem().string();
  std::string label = !overrides.empty() ? "--set" : !origin.empty() ? origin : std::string(name_or_path);
  return template_from_table(table, name, label);
}

std::string Catalog::default_for(const fs::path& output) const {
  auto container = container_for_extension(output.extension().string());
  if (!container)
    fail<SpecError>(ErrorCode::TemplateNotFound,
                    "{}: no default template for extension \"{}\" (name one with -t, see `gopcast templates list`)",
                    output.string(), output.extension().string());
  return "default-" + std::string(to_string(*container));
}

}  // namespace gopcast
