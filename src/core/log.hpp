#pragma once
// Minimal levelled logging to stderr. Library code logs; it never prints results.
#include <fmt/format.h>

#include <string_view>

#include "core/enum_names.hpp"

namespace gopcast::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Quiet = 4 };
// "debug", "info", "warn", "error", "quiet": the names Python's set_log_level takes.
const EnumNames<Level>& enum_names(Level);
// What -q and -v (given `verbose` times) mean on every command line.
Level level_for(bool quiet, int verbose);

void set_level(Level level);
Level level();
void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::Debug) write(Level::Debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::Info) write(Level::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() <= Level::Warn) write(Level::Warn, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace gopcast::log
