// The error vocabulary: one stable name and one distinct exit status per code.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>

#include "core/error.hpp"

using namespace gopcast;

namespace {
// Every enumerator, spelled out so that a new code without an entry is noticed here.
const ErrorCode kAll[] = {ErrorCode::Internal,       ErrorCode::Usage,           ErrorCode::ResourceNotFound,
                          ErrorCode::ResourceContentBad, ErrorCode::OutOfRange,  ErrorCode::TemplateNotFound,
                          ErrorCode::InvalidKey,     ErrorCode::SpecSyntax,      ErrorCode::UnsupportedCodec,
                          ErrorCode::Incompatible,   ErrorCode::StreamNotFound,  ErrorCode::OutputNotWritable,
                          ErrorCode::TranscodeFailed, ErrorCode::PipelineNotFound, ErrorCode::JobNotFound,
                          ErrorCode::SchedulerFailed, ErrorCode::SchedulerLimit, ErrorCode::OutputLocked, ErrorCode::WaitTimeout, ErrorCode::Cancelled};
}  // namespace

TEST(ErrorCodes, EveryCodeIsListedOnceInDocumentationOrder) {
  const auto& codes = error_codes();
  ASSERT_EQ(codes.size(), std::size(kAll));
  for (size_t i = 0; i < codes.size(); ++i) EXPECT_EQ(codes[i].code, kAll[i]) << "entry " << i << " " << codes[i].name;
}

TEST(ErrorCodes, EveryCodeHasItsOwnInfo) {
  for (ErrorCode c : kAll) {
    const ErrorCodeInfo& info = error_code_info(c);
    EXPECT_EQ(info.code, c) << info.name;  // not the fallback entry of another code
    EXPECT_FALSE(info.meaning.empty()) << info.name;
  }
}

TEST(ErrorCodes, ExitStatusesAreDistinctAndNotSuccess) {
  std::map<int, std::string_view> seen;
  for (ErrorCode c : kAll) {
    const auto& info = error_code_info(c);
    EXPECT_GT(info.exit_status, 0) << info.name;
    EXPECT_LT(info.exit_status, 256) << info.name;  // must survive as a process exit status
    auto [it, fresh] = seen.emplace(info.exit_status, info.name);
    EXPECT_TRUE(fresh) << info.name << " and " << it->second << " share exit status " << info.exit_status;
  }
  EXPECT_EQ(seen.size(), std::size(kAll));
}

TEST(ErrorCodes, NamesAreDistinctAndStable) {
  std::set<std::string_view> names;
  const std::regex style(R"([A-Z][A-Za-z]*(\.[A-Z][A-Za-z]*)?)");
  for (ErrorCode c : kAll) {
    const auto name = error_code_info(c).name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    EXPECT_TRUE(std::regex_match(std::string(name), style)) << name;
  }
  // The documented names and statuses users script against (README "Errors").
  const std::map<ErrorCode, std::pair<std::string_view, int>> documented = {
      {ErrorCode::Internal, {"InternalError", 1}},
      {ErrorCode::Usage, {"InvalidParameter.Usage", 2}},
      {ErrorCode::ResourceNotFound, {"InvalidParameter.ResourceNotFound", 3}},
      {ErrorCode::ResourceContentBad, {"InvalidParameter.ResourceContentBad", 4}},
      {ErrorCode::OutOfRange, {"InvalidParameter.OutOfRange", 5}},
      {ErrorCode::TemplateNotFound, {"InvalidParameter.TemplateNotFound", 6}},
      {ErrorCode::InvalidKey, {"InvalidParameter.InvalidKey", 7}},
      {ErrorCode::SpecSyntax, {"InvalidParameter.SpecSyntax", 8}},
      {ErrorCode::UnsupportedCodec, {"InvalidParameter.UnsupportedCodec", 9}},
      {ErrorCode::Incompatible, {"InvalidParameter.Incompatible", 10}},
      {ErrorCode::StreamNotFound, {"InvalidParameter.StreamNotFound", 11}},
      {ErrorCode::OutputNotWritable, {"InvalidParameter.OutputNotWritable", 12}},
      {ErrorCode::TranscodeFailed, {"InternalError.TranscodeFailed", 20}},
      {ErrorCode::PipelineNotFound, {"InvalidParameter.PipelineNotFound", 13}},
      {ErrorCode::JobNotFound, {"InvalidParameter.JobNotFound", 14}},
      {ErrorCode::SchedulerFailed, {"InternalError.SchedulerFailed", 21}},
      {ErrorCode::SchedulerLimit, {"LimitExceeded.SchedulerLimit", 22}},
      {ErrorCode::OutputLocked, {"ResourceInUse.OutputLocked", 23}},
      {ErrorCode::WaitTimeout, {"Timeout.Wait", 124}},
      {ErrorCode::Cancelled, {"Cancelled", 130}},
  };
  for (const auto& [code, want] : documented) {
    EXPECT_EQ(error_code_info(code).name, want.first);
    EXPECT_EQ(error_code_info(code).exit_status, want.second) << want.first;
  }
}

TEST(ErrorCodes, ErrorsCarryTheirCode) {
  SpecError spec(ErrorCode::InvalidKey, "job.toml:3:1: outputs[0].x: unknown key");
  EXPECT_EQ(spec.code(), ErrorCode::InvalidKey);
  EXPECT_EQ(spec.code_name(), "InvalidParameter.InvalidKey");
  EXPECT_EQ(spec.exit_status(), 7);
  EXPECT_STREQ(spec.what(), "job.toml:3:1: outputs[0].x: unknown key");
  try {
    fail<MediaError>(ErrorCode::TranscodeFailed, "{}: encoder said {}", "out.mp4", -22);
  } catch (const MediaError& e) {
    EXPECT_EQ(e.code(), ErrorCode::TranscodeFailed);
    EXPECT_EQ(e.exit_status(), 20);
    EXPECT_STREQ(e.what(), "out.mp4: encoder said -22");
    return;
  }
  FAIL() << "fail<MediaError> did not throw a MediaError";
}
