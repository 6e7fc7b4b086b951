#pragma once
// The template key schema: every key a template may hold, once, with its type, range,
// one line of documentation and its Python type. It feeds the parser
// (template_from_table), the resolved-TOML printer (Template::to_table), the Python
// module's attribute views (gopcast.Template().video.crf...) and the checks that the
// type stubs and docs/templates.md list every key. Rules that join several keys (crf
// or bitrate, twopass needs a bitrate...) stay in template_from_table.
#include <toml++/toml.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/template.hpp"
#include "spec/value.hpp"

namespace gopcast::spec {

struct KeySpec {
  std::string group;  // "video"; "" for the template's own name and description
  std::string name;   // "crf"
  std::string values;  // what it takes, for docs and help: "0..51", "h264 | h265 | ...", "bool"
  std::string doc;     // one line
  std::string python;  // the attribute's Python type: "int | None"
  // Reads the key (if present) from its group's table into the template, checking type
  // and range (errors name file:line:col and the key).
  std::function<void(TableReader&, Template&)> read;
  // Writes the template's value into its group's table (nothing when unset).
  std::function<void(const Template&, toml::table&)> write;

  std::string dotted() const { return group.empty() ? name : group + "." + name; }
};

// Every key, by group in the order templates are read: the root's (name, description),
// then container, video, audio, trans, mux, hls.
const std::vector<KeySpec>& template_keys();
// The groups, in that order.
const std::vector<std::string>& template_groups();
// The key of that dotted name, or nullptr.
const KeySpec* find_template_key(std::string_view dotted);

}  // namespace gopcast::spec
