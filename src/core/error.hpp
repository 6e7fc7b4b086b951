#pragma once
// The error vocabulary of gopcast. Every failure a user can cause maps to one
// stable code (named in the style of cloud transcoding APIs) and one exit status.
// Only main() and the Python layer turn an Error into an exit status or exception.
#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gopcast {

enum class ErrorCode {
  Internal,            // a bug or an unexpected library failure
  Usage,               // the command line itself is wrong
  ResourceNotFound,    // an input (media, template file, job file) does not exist
  ResourceContentBad,  // an input exists but is not usable media (empty, text, truncated)
  OutOfRange,          // a template or job value outside its documented range
  TemplateNotFound,    // a template name that is neither shipped nor a file
  InvalidKey,          // an unknown key or a value of the wrong type
  SpecSyntax,          // a TOML file that does not parse
  UnsupportedCodec,    // an input stream no decoder here can decode
  Incompatible,        // valid values that cannot go together (h265 in FLV)
  StreamNotFound,      // a stream selector that matches nothing
  OutputNotWritable,   // output folder missing, not writable, or output == input
  TranscodeFailed,     // the media pipeline failed part-way
  Cancelled,           // interrupted by the user (SIGINT/SIGTERM)
  PipelineNotFound,    // no pipeline of that name in the pipelines folder
  JobNotFound,         // no job of that id in the job store
  SchedulerFailed,     // a Slurm command failed (sbatch, scontrol, scancel...)
  SchedulerLimit,      // a batch larger than the cluster's limits (MaxJobCount, MaxArraySize)
  OutputLocked,        // another run is writing the same output
  WaitTimeout,         // `jobs wait --timeout` ran out before the job ended
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;  // stable, documented, e.g. "InvalidParameter.OutOfRange"
  int exit_status;        // stable, distinct
  std::string_view meaning;
};

// All codes in documentation order.
const std::vector<ErrorCodeInfo>& error_codes();
const ErrorCodeInfo& error_code_info(ErrorCode code);

// The code of a write that failed with `errnum`: a full, over-quota or read-only file
// system (ENOSPC, EDQUOT, EFBIG, EROFS) is the output's (OutputNotWritable), anything
// else `otherwise`.
ErrorCode write_error(int errnum, ErrorCode otherwise);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }
  std::string_view code_name() const { return error_code_info(code_).name; }
  int exit_status() const { return error_code_info(code_).exit_status; }

 private:
  ErrorCode code_;
};

// Errors in a template or job (TOML or override): always name the file and key.
class SpecError : public Error {
 public:
  using Error::Error;
};

// A Slurm command that failed: the message names the command and carries its stderr.
class SlurmError : public Error {
 public:
  using Error::Error;
};

// Errors reading, decoding, encoding or writing media.
class MediaError : public Error {
 public:
  using Error::Error;
};

template <typename E = Error, typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw E(code, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace gopcast
