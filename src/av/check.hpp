#pragma once
// The one checked-call helper for libav*: a negative return becomes a MediaError
// whose message says "av: operation: what (context)".
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace gopcast::av {

std::string error_string(int averror);

// Returns `ret` when it is not negative; throws MediaError otherwise.
int check(int ret, std::string_view operation, std::string_view context = {},
          ErrorCode code = ErrorCode::TranscodeFailed);

// Routes libav's own log lines through gopcast's log level.
void configure_logging();

}  // namespace gopcast::av
