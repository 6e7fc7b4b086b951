#pragma once
// One table per vocabulary: an enum's stable lowercase (or documented) names, written
// once beside the enum and used by everything that reads or writes them: TOML parsing,
// command-line choices, to_string, --json and the docs checks.
//
//   enum class Color { red, green };
//   const EnumNames<Color>& enum_names(Color);   // declared next to the enum, found by ADL
//   to_string(Color::red) == "red";  parse_enum<Color>("green") == Color::green
#include <fmt/format.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gopcast {

template <typename E>
class EnumNames {
 public:
  struct Entry {
    E value;
    std::string_view name;
    bool alias = false;  // accepted when read, never written or listed ("hevc" for h265)
  };
  EnumNames(std::initializer_list<Entry> entries) : entries_(entries) {}

  std::string_view name(E value) const {
    for (const auto& e : entries_)
      if (e.value == value && !e.alias) return e.name;
    return "?";
  }
  std::optional<E> parse(std::string_view text) const {
    for (const auto& e : entries_)
      if (e.name == text) return e.value;
    return std::nullopt;
  }
  // The canonical names, in table order (CLI11's IsMember, error messages, docs).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_)
      if (!e.alias) out.emplace_back(e.name);
    return out;
  }
  // "a, b, c": what an error message lists.
  std::string list(std::string_view separator = ", ") const { return fmt::format("{}", fmt::join(names(), separator)); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// The name of any enum that has a table.
template <typename E>
  requires requires(E e) { enum_names(e); }
std::string_view to_string(E value) {
  return enum_names(value).name(value);
}

template <typename E>
std::optional<E> parse_enum(std::string_view text) {
  return enum_names(E{}).parse(text);
}

}  // namespace gopcast
