#include "spec/value.hpp"

#include <cmath>
#include <sstream>
#include <system_error>

namespace fs = std::filesystem;

namespace gopcast::spec {

toml::table parse_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail<SpecError>(ErrorCode::ResourceNotFound, "{}: no such file", path.string());
  try {
    return toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    fail<SpecError>(ErrorCode::SpecSyntax, "{}:{}:{}: {}", path.string(), src.begin.line, src.begin.column, e.description());
  }
}

void merge_into(toml::table& base, toml::table&& over) {
  for (auto&& [key, value] : over) {
    auto* over_table = value.as_table();
    auto* base_node = base.get(key.str());
    if (over_table && base_node && base_node->is_table()) {
      merge_into(*base_node->as_table(), std::move(*over_table));
    } else {
      value.visit([&](auto&& concrete) { base.insert_or_assign(key.str(), std::move(concrete)); });
    }
  }
}

void apply_override(toml::table& table, std::string_view assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    fail<SpecError>(ErrorCode::InvalidKey, "--set {}: expected KEY=VALUE (e.g. video.crf=20)", assignment);
  std::string key(assignment.substr(0, eq));
  std::string text(assignment.substr(eq + 1));

  toml::table parsed;
  bool as_toml = true;
  try {
    parsed = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    as_toml = false;
  }
  // Walk/create the dotted path.
  toml::table* target = &table;
  std::string_view rest = key;
  for (;;) {
    auto dot = rest.find('.');
    if (dot == std::string_view::npos) break;
    std::string part(rest.substr(0, dot));
    rest.remove_prefix(dot + 1);
    if (part.empty()) fail<SpecError>(ErrorCode::InvalidKey, "--set {}: empty key component", assignment);
    auto* node = target->get(part);
    if (!node) {
      target->insert_or_assign(part, toml::table{});
      node = target->get(part);
    }
    if (!node->is_table()) fail<SpecError>(ErrorCode::InvalidKey, "--set {}: {} is not a table", assignment, part);
    target = node->as_table();
  }
  if (rest.empty()) fail<SpecError>(ErrorCode::InvalidKey, "--set {}: empty key", assignment);
  if (as_toml) target->insert_or_assign(std::string(rest), *parsed.get("v"));
  else target->insert_or_assign(std::string(rest), text);
}

std::string where(const toml::node& node, std::string_view fallback) {
  const auto& src = node.source();
  if (src.path && src.begin.line > 0) return fmt::format("{}:{}:{}", *src.path, src.begin.line, src.begin.column);
  return std::string(fallback);
}

TableReader::TableReader(const toml::table* table, std::string prefix, std::string origin)
    : table_(table), prefix_(std::move(prefix)), origin_(std::move(origin)) {}

const toml::node* TableReader::get(std::string_view key) {
  if (!table_) return nullptr;
  const toml::node* node = table_->get(key);
  if (node) used_.insert(std::string(key));
  return node;
}

const toml::node* TableReader::raw(std::string_view key) { return get(key); }

void TableReader::fail_at(std::string_view key, ErrorCode code, const std::string& what) const {
  const toml::node* node = table_ ? table_->get(key) : nullptr;
  std::string loc = node ? where(*node, origin_) : origin_;
  fail<SpecError>(code, "{}: {}: {}", loc, full_key(key), what);
}

namespace {
std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}
std::string show(const toml::node& n) {
  std::ostringstream os;
  n.visit([&os](auto&& v) { os << v; });
  return os.str();
}
}  // namespace

std::optional<int64_t> TableReader::integer(std::string_view key, int64_t min, int64_t max) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  std::optional<int64_t> v;
  if (auto i = n->as_integer()) v = i->get();
  else if (auto f = n->as_floating_point(); f && std::floor(f->get()) == f->get() && std::abs(f->get()) < 1e15)
    v = static_cast<int64_t>(f->get());
  if (!v) fail_at(key, ErrorCode::InvalidKey, fmt::format("expected an integer, got {} ({})", type_name(*n), show(*n)));
  if (*v < min || *v > max) fail_at(key, ErrorCode::OutOfRange, fmt::format("{} is out of range {}..{}", *v, min, max));
  return v;
}

std::optional<double> TableReader::number(std::string_view key, double min, double max) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  std::optional<double> v;
  if (auto i = n->as_integer()) v = static_cast<double>(i->get());
  else if (auto f = n->as_floating_point()) v = f->get();
  if (!v) fail_at(key, ErrorCode::InvalidKey, fmt::format("expected a number, got {} ({})", type_name(*n), show(*n)));
  if (!(*v >= min && *v <= max)) fail_at(key, ErrorCode::OutOfRange, fmt::format("{} is out of range {}..{}", *v, min, max));
  return v;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (auto b = n->as_boolean()) return b->get();
  fail_at(key, ErrorCode::InvalidKey, fmt::format("expected true or false, got {} ({})", type_name(*n), show(*n)));
}

std::optional<std::string> TableReader::string(std::string_view key) {
  const toml::node* n = get(key);
  if (!n) return std::nullopt;
  if (auto s = n->as_string()) return s->get();
  fail_at(key, ErrorCode::InvalidKey, fmt::format("expected a string, got {} ({})", type_name(*n), show(*n)));
}

std::optional<std::string> TableReader::choice(std::string_view key, std::initializer_list<std::string_view> choices) {
  auto v = string(key);
  if (!v) return v;
  for (auto c : choices)
    if (*v == c) return v;
  std::string list;
  for (auto c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  fail_at(key, ErrorCode::OutOfRange, fmt::format("\"{}\" is not one of {}", *v, list));
}

TableReader TableReader::table(std::string_view key) {
  const toml::node* n = get(key);
  if (n && !n->is_table()) fail_at(key, ErrorCode::InvalidKey, fmt::format("expected a table, got {}", type_name(*n)));
  return TableReader(n ? n->as_table() : nullptr, full_key(key), origin_);
}

void TableReader::finish() const {
  if (!table_) return;
  for (auto&& [key, value] : *table_) {
    if (!used_.contains(key.str())) {
      fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: unknown key", where(value, origin_), full_key(key.str()));
    }
  }
}

}  // namespace gopcast::spec
