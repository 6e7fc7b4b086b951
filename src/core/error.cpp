#include "core/error.hpp"

#include <cerrno>

#include <algorithm>

namespace gopcast {

const std::vector<ErrorCodeInfo>& error_codes() {
  static const std::vector<ErrorCodeInfo> codes = {
      {ErrorCode::Internal, "InternalError", 1, "an unexpected failure inside gopcast or a library it uses"},
      {ErrorCode::Usage, "InvalidParameter.Usage", 2, "the command line is malformed (unknown option, missing argument)"},
      {ErrorCode::ResourceNotFound, "InvalidParameter.ResourceNotFound", 3, "an input, template or job file does not exist"},
      {ErrorCode::ResourceContentBad, "InvalidParameter.ResourceContentBad", 4,
       "an input exists but is not readable media: empty, not media, truncated or corrupt"},
      {ErrorCode::OutOfRange, "InvalidParameter.OutOfRange", 5, "a template or job value is outside its allowed range"},
      {ErrorCode::TemplateNotFound, "InvalidParameter.TemplateNotFound", 6, "no shipped template or template file has that name"},
      {ErrorCode::InvalidKey, "InvalidParameter.InvalidKey", 7, "an unknown key, or a value of the wrong type"},
      {ErrorCode::SpecSyntax, "InvalidParameter.SpecSyntax", 8, "a TOML template or job file does not parse"},
      {ErrorCode::UnsupportedCodec, "InvalidParameter.UnsupportedCodec", 9, "an input stream uses a codec that cannot be decoded here"},
      {ErrorCode::Incompatible, "InvalidParameter.Incompatible", 10,
       "values that are each valid but cannot be combined (a codec the container cannot hold)"},
      {ErrorCode::StreamNotFound, "InvalidParameter.StreamNotFound", 11, "a stream selector matches no stream of the input"},
      {ErrorCode::OutputNotWritable, "InvalidParameter.OutputNotWritable", 12,
       "the output folder does not exist or is not writable, the output would overwrite the input, or serve's port is taken"},
      {ErrorCode::TranscodeFailed, "InternalError.TranscodeFailed", 20, "decoding, filtering, encoding or muxing failed part-way"},
      {ErrorCode::PipelineNotFound, "InvalidParameter.PipelineNotFound", 13, "no pipeline of that name (see `gopcast pipelines list`)"},
      {ErrorCode::JobNotFound, "InvalidParameter.JobNotFound", 14, "no job of that id in the job store (see `gopcast jobs list`)"},
      {ErrorCode::SchedulerFailed, "InternalError.SchedulerFailed", 21, "a Slurm command (sbatch, squeue, scontrol, scancel) failed"},
      {ErrorCode::SchedulerLimit, "LimitExceeded.SchedulerLimit", 22,
       "a batch is larger than the cluster lets gopcast submit now (Slurm's MaxJobCount or MaxArraySize)"},
      {ErrorCode::OutputLocked, "ResourceInUse.OutputLocked", 23,
       "another run (named in the message) is writing the same output; wait, or pass --wait-lock"},
      {ErrorCode::WaitTimeout, "Timeout.Wait", 124, "the job did not end within the time given to `jobs wait`"},
      {ErrorCode::Cancelled, "Cancelled", 130, "interrupted by a signal; nothing was left at the output path"},
  };
  return codes;
}

ErrorCode write_error(int errnum, ErrorCode otherwise) {
  return errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG || errnum == EROFS ? ErrorCode::OutputNotWritable : otherwise;
}

const ErrorCodeInfo& error_code_info(ErrorCode code) {
  const auto& codes = error_codes();
  auto it = std::find_if(codes.begin(), codes.end(), [code](const ErrorCodeInfo& c) { return c.code == code; });
  return it != codes.end() ? *it : codes.front();
}

}  // namespace gopcast
