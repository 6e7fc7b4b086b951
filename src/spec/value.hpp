#pragma once
// Typed, validated reads from TOML tables, and the override/merge machinery shared
// by template inheritance (`base = "..."`), job overrides and `--set key=value`.
#include <toml++/toml.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/enum_names.hpp"
#include "core/error.hpp"

namespace gopcast::spec {

// Parses a TOML file; syntax errors raise SpecError(SpecSyntax) with file:line:col,
// a missing file raises ResourceNotFound.
toml::table parse_file(const std::filesystem::path& path);

// Deep-merges `over` into `base`: tables merge key by key, anything else replaces.
// `over` is consumed: moving its nodes keeps their file positions for error messages
// (toml++ drops positions on copy).
void merge_into(toml::table& base, toml::table&& over);

// Applies "dotted.key=value" to `table`. The value is read as a TOML value when it
// parses as one (20, true, "x", [1,2]) and as a plain string otherwise (slow, yuv420p).
void apply_override(toml::table& table, std::string_view assignment);

// Where a value came from, for error messages: "file:line:col" or the fallback label.
std::string where(const toml::node& node, std::string_view fallback);

// Reads the keys of one table, checking types and ranges, and reports keys nobody read.
class TableReader {
 public:
  // `prefix` is the table's own dotted key ("video"), `origin` names the file or
  // "--set" for values without a source position.
  TableReader(const toml::table* table, std::string prefix, std::string origin);

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  // A string restricted to `choices`; anything else is OutOfRange listing them.
  std::optional<std::string> choice(std::string_view key, std::initializer_list<std::string_view> choices);
  // One of an enum's names (its table, core/enum_names.hpp); anything else is OutOfRange
  // listing them. `fold_case`: "H264" reads as "h264".
  template <typename E>
  std::optional<E> enumerated(std::string_view key, bool fold_case = false) {
    auto v = string(key);
    if (!v) return std::nullopt;
    std::string text = *v;
    if (fold_case)
      for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto e = enum_names(E{}).parse(text)) return e;
    fail_at(key, ErrorCode::OutOfRange, fmt::format("\"{}\" is not one of {}", *v, enum_names(E{}).list()));
  }
  // A sub-table reader (an absent table reads as empty).
  TableReader table(std::string_view key);
  const toml::node* raw(std::string_view key);

  // Raises InvalidKey for the first key that was never read.
  void finish() const;

  std::string full_key(std::string_view key) const { return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key); }
  [[noreturn]] void fail_at(std::string_view key, ErrorCode code, const std::string& what) const;
  const std::string& origin() const { return origin_; }

 private:
  const toml::node* get(std::string_view key);
  const toml::table* table_;
  std::string prefix_;
  std::string origin_;
  std::set<std::string, std::less<>> used_;
};

}  // namespace gopcast::spec
