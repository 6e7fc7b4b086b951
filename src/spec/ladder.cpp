#include "spec/ladder.hpp"

#include "core/log.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;

namespace gopcast {

Ladder load_ladder(const Catalog& catalog, const std::string& name) {
  fs::path file;
  std::error_code ec;
  if (name.find('/') != std::string::npos || name.ends_with(".toml")) {
    file = name;
  } else {
    for (const auto& dir : catalog.dirs())
      if (fs::is_regular_file(dir / "ladders" / (name + ".toml"), ec)) {
        file = dir / "ladders" / (name + ".toml");
        break;
      }
  }
  if (file.empty() || !fs::is_regular_file(file, ec))
    fail<SpecError>(ErrorCode::TemplateNotFound, "ladder \"{}\" not found (ladders live in templates/ladders/)", name);
  toml::table table = spec::parse_file(file);
  spec::TableReader r(&table, "", file.string());
  Ladder l;
  l.name = file.stem().string();
  l.file = file;
  l.description = r.string("description").value_or("");
  // "segment_seconds" was this key's name before "segment" came to mean only the
  // parallel engine's unit; ladders written then still load.
  if (r.raw("segment_seconds") && !r.raw("hls_segment_seconds")) {
    log::warn("{}: segment_seconds: renamed hls_segment_seconds (the HLS segment length)", file.string());
    l.hls_segment_seconds = *r.number("segment_seconds", 1, 60);
  } else {
    l.hls_segment_seconds = r.number("hls_segment_seconds", 1, 60).value_or(l.hls_segment_seconds);
  }
  const toml::node* rend = r.raw("renditions");
  const toml::array* a = rend ? rend->as_array() : nullptr;
  if (!a || a->empty()) r.fail_at("renditions", ErrorCode::InvalidKey, "expected a non-empty array of template names");
  for (const auto& e : *a) {
    const auto* v = e.as_string();
    if (!v) r.fail_at("renditions", ErrorCode::InvalidKey, "expected template names");
    l.renditions.push_back(v->get());
  }
  r.finish();
  return l;
}

}  // namespace gopcast
