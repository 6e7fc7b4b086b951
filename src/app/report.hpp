#pragma once
// The JSON every entry point prints or returns, written in one place: a run's result
// (schema "gopcast.result/1": `gopcast run|transcode --json`, `gopcast-mpi --json`, the
// Slurm runner's record, Python's RunResult.to_dict()) and an error's
// ({"error": {"code", "message", "exit_status"}}).
#include <nlohmann/json.hpp>

#include "app/run.hpp"
#include "core/error.hpp"

namespace gopcast::app {

nlohmann::json result_json(const RunResult& result);
nlohmann::json error_json(const Error& error);
nlohmann::json error_json(ErrorCode code, const std::string& message);
// Every error code with its exit status and meaning, in documentation order
// (`gopcast errors --json`, Python's gopcast.error_codes()).
nlohmann::json error_codes_json();

}  // namespace gopcast::app
