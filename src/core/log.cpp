#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace gopcast::log {
namespace {
std::atomic<Level> g_level{Level::Warn};
std::mutex g_mutex;
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }

void write(Level l, std::string_view message) {
  static constexpr const char* names[] = {"debug", "info", "warning", "error", ""};
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "gopcast: %s: %.*s\n", names[static_cast<int>(l)], static_cast<int>(message.size()), message.data());
}

}  // namespace gopcast::log
