#pragma once
// What the media library of this build can do, as plain data: the questions planning
// asks (which formats and rates an encoder takes, how a pixel format subsamples chroma,
// whether a muxer holds a codec or wants its headers out of band). plan/ asks through
// this interface without seeing libav; av/capabilities.hpp answers from libav, and tests
// may answer with a table of their own.
#include <optional>
#include <string>
#include <vector>

namespace gopcast {

struct EncoderCaps {
  std::string name;                         // libavcodec's encoder name ("libx264")
  std::vector<std::string> pixel_formats;   // those it takes; empty: any
  std::vector<int> sample_rates;            // those it takes; empty: any
  std::vector<std::string> sample_formats;  // those it takes, its preferred first; empty: any
};

struct PixelFormatCaps {
  int chroma_shift_w = 0;  // log2 of the horizontal chroma subsampling (4:2:0: 1)
  int chroma_shift_h = 0;
};

class Capabilities {
 public:
  virtual ~Capabilities() = default;
  // nullopt: this build has no encoder of that name.
  virtual std::optional<EncoderCaps> encoder(const std::string& name) const = 0;
  // nullopt: no pixel format of that name.
  virtual std::optional<PixelFormatCaps> pixel_format(const std::string& name) const = 0;
  // True when the muxer is known to refuse streams of `codec` (libavcodec's codec name).
  virtual bool muxer_refuses(const std::string& muxer, const std::string& codec) const = 0;
  // True when the muxer wants codec headers out of band (extradata).
  virtual bool muxer_wants_global_header(const std::string& muxer) const = 0;
};

}  // namespace gopcast
