#pragma once
// The messages between the coordinator and remote workers (MPI ranks), as bytes: a
// version byte, then little-endian fixed-width fields and length-prefixed strings, so
// the encoding does not depend on the host or the compiler. A message that is short,
// long or of another version is an Internal error naming what was being read.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "plan/task.hpp"

namespace gopcast::sched::codec {

std::string encode(const plan::Task& task);
plan::Task decode_task(std::string_view bytes);

std::string encode(const plan::Task& task, const plan::TaskResult& result);
std::pair<plan::Task, plan::TaskResult> decode_done(std::string_view bytes);

std::string encode(const plan::Task& task, const plan::TaskFailure& failure);
std::pair<plan::Task, plan::TaskFailure> decode_failure(std::string_view bytes);

// A worker's first message: its process id and host, for messages about it.
struct Ready {
  int64_t pid = 0;
  std::string host;
};
std::string encode(const Ready& ready);
Ready decode_ready(std::string_view bytes);

}  // namespace gopcast::sched::codec
