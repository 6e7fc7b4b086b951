#include "sched/job_key.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace gopcast::sched {

std::string stable_hash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

std::string job_key(const JobKeyParts& p) {
  // The text hashed is kept as it was when manifests first carried keys, so that a run
  // of this version resumes what an earlier one left.
  std::string burned;
  for (const auto& script : p.burned) burned += stable_hash(script);
  std::string timeline;
  for (const auto& e : p.timeline) timeline += "\n" + e;
  if (p.concat) timeline += fmt::format("\nfill_silence:{}", p.fill_silence);
  return stable_hash(fmt::format("{}\n{}:{}\n{}\n{}\n{}\n{}\n{}:{}{}", p.input, p.video_stream, p.audio_stream, p.templates,
                                 p.segment_seconds, p.grid_seconds, p.version, p.clip_start, p.clip_end, burned + p.mix + timeline));
}

}  // namespace gopcast::sched
