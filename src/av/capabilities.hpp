#pragma once
// The capability queries (core/capabilities.hpp) answered by this build's libav*.
#include "core/capabilities.hpp"

namespace gopcast::av {

const Capabilities& capabilities();

}  // namespace gopcast::av
