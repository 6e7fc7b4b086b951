#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace gopcast::log {
namespace {
std::atomic<Level> g_level{Level::Warn};
std::mutex g_mutex;
}  // namespace

const EnumNames<Level>& enum_names(Level) {
  static const EnumNames<Level> names{
      {Level::Debug, "debug"}, {Level::Info, "info"}, {Level::Warn, "warn"}, {Level::Error, "error"}, {Level::Quiet, "quiet"}};
  return names;
}

Level level_for(bool quiet, int verbose) {
  return quiet ? Level::Quiet : verbose >= 2 ? Level::Debug : verbose == 1 ? Level::Info : Level::Warn;
}

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

void write(Level l, std::string_view message) {
  static constexpr const char* names[] = {"debug", "info", "warning", "error", ""};
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "gopcast: %s: %.*s\n", names[static_cast<int>(l)], static_cast<int>(message.size()), message.data());
}

}  // namespace gopcast::log
