// Values between Python and the library's two document types: JSON (probe, results,
// job records) and TOML (templates, jobs, overrides).
#include <sstream>

#include <deque>

#include "bindings.hpp"
#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::python {

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(to_python(v));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default: return py::none();  // binary and discarded values never occur in gopcast documents
  }
}

py::object to_python(const toml::node& node) {
  if (auto t = node.as_table()) {
    py::dict out;
    for (const auto& [k, v] : *t) out[py::str(std::string(k.str()))] = to_python(v);
    return out;
  }
  if (auto a = node.as_array()) {
    py::list out;
    for (const auto& v : *a) out.append(to_python(v));
    return out;
  }
  if (auto s = node.as_string()) return py::str(s->get());
  if (auto i = node.as_integer()) return py::int_(i->get());
  if (auto f = node.as_floating_point()) return py::float_(f->get());
  if (auto b = node.as_boolean()) return py::bool_(b->get());
  std::ostringstream os;  // dates and times: their TOML text
  node.visit([&os](auto&& v) { os << v; });
  return py::str(os.str());
}

std::unique_ptr<toml::node> to_toml(py::handle value, const std::string& key) {
  if (py::isinstance<py::bool_>(value)) return std::make_unique<toml::value<bool>>(value.cast<bool>());
  if (py::isinstance<py::str>(value)) return std::make_unique<toml::value<std::string>>(value.cast<std::string>());
  // Integers, numpy integers included (anything with __index__).
  if (py::isinstance<py::int_>(value) || py::hasattr(value, "__index__")) {
    py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(value.ptr()));
    if (!i) throw py::error_already_set();
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow) fail<SpecError>(ErrorCode::OutOfRange, "{}: {} does not fit a 64-bit integer", key, py::str(value).cast<std::string>());
    return std::make_unique<toml::value<int64_t>>(v);
  }
  if (py::isinstance<py::float_>(value) || py::hasattr(value, "__float__"))
    return std::make_unique<toml::value<double>>(value.cast<double>());
  if (py::hasattr(value, "__fspath__")) return std::make_unique<toml::value<std::string>>(to_path(value).string());
  if (py::isinstance<py::dict>(value) || py::hasattr(value, "items")) {
    auto table = std::make_unique<toml::table>();
    for (auto item : value.attr("items")()) {
      auto pair = item.cast<py::tuple>();
      if (!py::isinstance<py::str>(pair[0]))
        fail<SpecError>(ErrorCode::InvalidKey, "{}: table keys must be strings, got {}", key, py::repr(pair[0]).cast<std::string>());
      const std::string k = pair[0].cast<std::string>();
      if (pair[1].is_none()) continue;
      table->insert_or_assign(k, std::move(*to_toml(pair[1], key.empty() ? k : key + "." + k)));
    }
    return table;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    auto array = std::make_unique<toml::array>();
    size_t i = 0;
    for (auto v : value) array->push_back(std::move(*to_toml(v, fmt::format("{}[{}]", key, i++))));
    return array;
  }
  fail<SpecError>(ErrorCode::InvalidKey, "{}: a {} cannot be written as a TOML value (use bool, int, float, str, list or dict)",
                  key, py::str(value.get_type().attr("__name__")).cast<std::string>());
}

namespace {
std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (parts.back().empty()) fail<SpecError>(ErrorCode::InvalidKey, "{}: empty key component", key);
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}
}  // namespace

const toml::node* find_dotted(const toml::table& table, const std::string& key) {
  const toml::table* at = &table;
  const auto parts = split_key(key);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const toml::node* n = at->get(parts[i]);
    if (!n || !n->is_table()) return nullptr;
    at = n->as_table();
  }
  return at->get(parts.back());
}

void set_dotted(toml::table& table, const std::string& key, py::handle value) {
  const auto parts = split_key(key);
  toml::table* at = &table;
  std::vector<toml::table*> path = {at};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    toml::node* n = at->get(parts[i]);
    if (!n) {
      if (value.is_none()) return;  // nothing to remove
      at->insert_or_assign(parts[i], toml::table{});
      n = at->get(parts[i]);
    }
    if (!n->is_table()) fail<SpecError>(ErrorCode::InvalidKey, "{}: {} is not a table", key, parts[i]);
    at = n->as_table();
    path.push_back(at);
  }
  if (!value.is_none()) {
    at->insert_or_assign(parts.back(), std::move(*to_toml(value, key)));
    return;
  }
  at->erase(parts.back());
  // Tables left empty by the removal go too, so the table stays as a file would write it.
  for (size_t i = path.size() - 1; i > 0 && path[i]->empty(); --i) path[i - 1]->erase(parts[i - 1]);
}

void merge_settings(toml::table& table, py::handle mapping, const std::string& prefix) {
  for (auto item : mapping.attr("items")()) {
    auto pair = item.cast<py::tuple>();
    const std::string key = prefix.empty() ? py::str(pair[0]).cast<std::string>() : prefix + "." + py::str(pair[0]).cast<std::string>();
    if (py::isinstance<py::dict>(pair[1])) merge_settings(table, pair[1], key);
    else set_dotted(table, key, pair[1]);
  }
}

std::vector<std::string> dotted_leaves(const toml::table& table, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& [k, v] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto t = v.as_table()) {
      auto inner = dotted_leaves(*t, key);
      out.insert(out.end(), inner.begin(), inner.end());
    } else {
      out.push_back(key);
    }
  }
  return out;
}

std::string toml_text(const toml::table& table) {
  std::ostringstream os;
  os << toml::toml_formatter(table) << "\n";
  return os.str();
}

std::vector<std::string> set_strings(py::handle overrides) {
  std::vector<std::string> out;
  if (overrides.is_none()) return out;
  if (py::isinstance<py::str>(overrides)) return {overrides.cast<std::string>()};
  if (py::isinstance<py::dict>(overrides) || py::hasattr(overrides, "items")) {
    // Nested mappings flatten to dotted keys; each value is written as TOML text, which
    // the library reads back exactly as it reads `--set key=value`.
    toml::table table;
    merge_settings(table, overrides);
    for (const auto& key : dotted_leaves(table)) {
      toml::table one;
      one.insert("v", *find_dotted(table, key));
      std::string text = toml_text(one);  // "v = <value>\n"
      text = text.substr(4);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      out.push_back(key + "=" + text);
    }
    return out;
  }
  for (auto v : overrides) out.push_back(py::str(v).cast<std::string>());
  return out;
}

fs::path to_path(py::handle value, bool absolute) {
  py::object os = py::module_::import("os");
  fs::path p(py::str(os.attr("fsdecode")(value)).cast<std::string>());
  if (absolute && !p.empty()) p = fs::absolute(p).lexically_normal();
  return p;
}

const char* doc_string(std::string text) {
  static std::deque<std::string> kept;  // never moved: the pointers stay valid
  kept.push_back(std::move(text));
  return kept.back().c_str();
}

}  // namespace gopcast::python
