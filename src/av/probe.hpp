#pragma once
// Media information (`gopcast probe`) read with libavformat, as the plain data of
// core/media_info.hpp: no libav types cross this header.
#include <filesystem>

#include "core/media_info.hpp"

namespace gopcast {

namespace av {
class Input;
}

// Probes a file (container headers and a short look at the packets; no full decode).
MediaInfo probe(const std::filesystem::path& path);
// The same for an input already open.
MediaInfo describe(const av::Input& input);


}  // namespace gopcast
