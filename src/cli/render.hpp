#pragma once
// Human-readable output of the gopcast command (tables; the progress line is app::ProgressLine).
#include <string>

#include "av/probe.hpp"
#include "app/run.hpp"
#include "spec/catalog.hpp"

namespace gopcast::cli {

std::string media_table(const MediaInfo& info);
std::string templates_table(const Catalog& catalog);
std::string result_summary(const app::RunResult& result);

}  // namespace gopcast::cli
