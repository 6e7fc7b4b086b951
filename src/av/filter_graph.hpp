#pragma once
// A libavfilter graph with one source and one sink: buffer -> chain -> buffersink.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "av/handles.hpp"

namespace gopcast::av {

struct VideoSourceParams {
  int width = 0;
  int height = 0;
  AVPixelFormat format = AV_PIX_FMT_NONE;
  AVRational time_base{1, 1};
  AVRational sample_aspect_ratio{0, 1};
  AVRational frame_rate{0, 1};
};

struct AudioSourceParams {
  int sample_rate = 0;
  AVSampleFormat format = AV_SAMPLE_FMT_NONE;
  AVChannelLayout layout{};  // a native-order layout (see normalise_layout)
  AVRational time_base{1, 1};
};

class FilterGraph {
 public:
  // `chain` is a filter description with one input and one output ("scale=640:-2,format=yuv420p");
  // an empty chain passes frames through.
  static FilterGraph video(const VideoSourceParams& source, const std::string& chain);
  // A graph with more video inputs, each referred to by its label in `chain` (a palette
  // for paletteuse, watermark images for overlay). Feed input i with push_extra(i, ...).
  struct ExtraInput {
    std::string label;
    VideoSourceParams params;
  };
  static FilterGraph video(const VideoSourceParams& source, const std::string& chain, const std::vector<ExtraInput>& extras);
  static FilterGraph audio(const AudioSourceParams& source, const std::string& chain);

  // Feeds a frame (nullptr: end of stream). The graph takes its own reference, so one
  // decoded frame can feed several graphs. The end of stream is stamped with the end
  // of the last frame (its pts plus duration), as the ffmpeg tool does, so filters
  // such as fps give the last frame its full duration.
  void push(AVFrame* frame);
  void push_extra(size_t input, AVFrame* frame);
  // The next filtered frame; false when the graph needs more input or is drained.
  bool pull(AVFrame* frame);

  // Audio: make the sink deliver frames of exactly `samples` (the last one may be short).
  void set_frame_size(int samples);

  // What the sink gives: the picture, its format and timing (for the encoder it feeds).
  struct SinkParams {
    int width = 0, height = 0;
    AVPixelFormat format = AV_PIX_FMT_NONE;
    AVRational sample_aspect_ratio{0, 1};
    AVRational time_base{1, 1};
    AVRational frame_rate{0, 1};
  };
  SinkParams sink_params() const;
  AVFilterContext* sink() const { return sink_; }
  const std::string& description() const { return description_; }

 private:
  FilterGraph() = default;
  void build(const char* source_filter, const std::string& source_args, const char* sink_filter, const std::string& chain,
             const std::vector<ExtraInput>& extras = {});

  FilterGraphPtr graph_;
  AVFilterContext* source_ = nullptr;  // owned by graph_
  std::vector<AVFilterContext*> extras_;  // owned by graph_
  int64_t end_pts_ = AV_NOPTS_VALUE;   // end of the latest frame pushed, source time base
  int64_t default_duration_ = 0;       // one frame at the source's rate, when frames carry none
  AVFilterContext* sink_ = nullptr;    // owned by graph_
  std::string description_;
};

// A value for a filter option inside a filter graph description: quoted for the option
// parser, then escaped for the graph parser, so any text (quotes, colons, commas,
// brackets, backslashes, a file name) reaches the filter unchanged.
std::string filter_value(std::string_view value);
// What libavfilter reads back from such a value: the graph parser's token, then the
// option parser's (av_get_token twice). The inverse of filter_value, for tests.
std::string read_filter_value(std::string_view escaped);

// Frames of `samples` silent samples in `format` (its rate, sample format, layout).
void make_silence(AVFrame* frame, const AudioSourceParams& format, int samples);
// A number a filter wrote into a frame's metadata ("lavfi.r128.I"), if there is one.
std::optional<double> metadata_number(const AVFrame* frame, const std::string& key);
// libav's names of pixel and sample formats, and back.
std::string pixel_format_name(AVPixelFormat format);
AVSampleFormat sample_format(const std::string& name);

// Decoders may report "N channels, order unspecified" (e.g. WMA). Filters and
// encoders need a concrete layout: use the default layout for that channel count.
void normalise_layout(AVChannelLayout& layout);

}  // namespace gopcast::av
