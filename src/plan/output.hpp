#pragma once
// Resolving a template against a source: what exactly the output will be. Pure: what
// the media library can do is asked through core/capabilities.hpp, and the filters of
// watermarks and logo removal come from the caller's MarkPlanner (ops/watermark.hpp).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/capabilities.hpp"
#include "core/media_info.hpp"
#include "plan/subtitles.hpp"
#include "spec/job.hpp"
#include "spec/template.hpp"
#include "spec/watermark.hpp"

namespace gopcast::plan {

// Output frame geometry, from the rules users rely on (README "Templates").
struct SizeRequest {
  int width = 0;   // source storage size
  int height = 0;
  Rational sar{1, 1};
  int rotation = 0;  // clockwise degrees applied before scaling
  std::optional<int> want_width;
  std::optional<int> want_height;
  AspectMode aspect = AspectMode::rescale;
  bool no_upscale = true;
  int align_w = 2;  // what the pixel format's chroma subsampling needs
  int align_h = 2;
};

struct SizePlan {
  int width = 0;  // the encoded frame
  int height = 0;
  int scale_w = 0;  // the picture before crop or pad (== width/height otherwise)
  int scale_h = 0;
  bool scaled = false;  // false: frames pass at the source's size and aspect
  bool crop = false;
  bool pad = false;
};

// The rules, in display terms (storage width x SAR, after rotation):
//  - nothing asked: the stored size, unscaled (the source's SAR is kept);
//  - only width or only height: the other follows the display aspect ratio; with
//    no_upscale the given side is capped at the source's;
//  - both (a box): rescale fits the picture inside the box; pad fits it and fills the
//    box with black bars; crop covers the box and cuts the overflow; none stretches.
//    no_upscale caps the picture's scale factor at 1 (the canvas of pad may still be
//    larger; crop then cuts only what overflows; none caps each axis at the source's).
// Every result is rounded to the alignment (nearest multiple, ties up, like ffmpeg's -2).
SizePlan plan_size(const SizeRequest& r);

// A still image a filter graph reads as a further input, by its label in the chain.
struct OverlayImage {
  std::string label;
  std::filesystem::path path;
};

// The filters that draw watermarks and hide logos on one output.
struct MarkFilters {
  std::vector<std::string> pre;  // on the source picture, first in the chain (delogo)
  // On the output picture (after scaling, cropping, padding): one chain element that
  // takes and gives one unlabelled stream and reads `images`; "" when nothing is drawn.
  std::string post;
  std::vector<OverlayImage> images;
};
// Where they are drawn: the source and output frames, the input's duration (seconds,
// 0: unknown) and the pixel format the pictures have where marks are drawn.
struct MarkGeometry {
  int source_width = 0, source_height = 0;
  int width = 0, height = 0;
  double duration = 0;
  std::string pix_fmt;
};
// Checks the marks against the geometry and builds their filters (ops::plan_marks).
using MarkPlanner = std::function<MarkFilters(const OutputMarks&, const MarkGeometry&)>;

struct VideoPlan {
  bool present = false;
  bool copy = false;
  std::string encoder;  // libx264, libx265, gif
  int width = 0;
  int height = 0;
  std::string pix_fmt;
  std::string filters;  // decoded source frame -> encoder input
  std::vector<OverlayImage> overlay_images;  // watermark images `filters` reads as further graph inputs
  std::optional<int> crf;
  std::optional<int> qp;
  int bitrate = 0;  // kbit/s
  int maxrate = 0;
  int bufsize = 0;
  std::optional<int> gop_frames;
  std::optional<double> gop_seconds;
  std::string profile;
  std::string preset;
  int threads = 0;
  double keyframe_grid = 0;  // > 0: force a keyframe at every multiple of this many seconds
  bool palette = false;      // GIF: an analysis pass computes one palette over all frames
  std::vector<std::string> burn_scripts;  // ASS scripts drawn onto the frames (engine/subtitles.hpp)
  RateMode mode = RateMode::onepass;
};

struct AudioPlan {
  bool present = false;
  bool copy = false;
  std::string encoder;  // aac, libmp3lame, libvorbis, flac
  int sample_rate = 0;
  int channels = 0;
  std::string sample_fmt;
  int bitrate = 0;  // kbit/s, 0 = encoder's choice
  std::string filters;
  std::optional<double> loudness;  // LUFS: an analysis pass measures, then one gain applies
  double true_peak = -1;           // dBTP ceiling for that gain
  AudioMix mix;                    // background audio mixed under the track
};

struct OutputPlan {
  Container container = Container::mp4;
  std::string muxer;  // libavformat muxer name
  VideoPlan video;
  AudioPlan audio;
  std::vector<std::pair<std::string, std::string>> muxer_options;
  // Whether encoders put codec headers out of band (extradata) for the final file:
  // what the muxer wants, and for fMP4 HLS segments what the mp4 muxer of gopcast's
  // HLS writer wants.
  bool global_header = false;
  // m3u8 outputs: the HLS segment length and delivery options (engine/hls.hpp writes
  // them on the segment-parallel path; a single pass uses libavformat's hls muxer).
  double hls_segment_seconds = 0;
  HlsSpec hls;
  std::vector<SubtitleTrack> subtitles;  // soft subtitle streams (engine/subtitles.hpp)
  // Where the output will not be quite what was asked, found while planning (glyphs no
  // installed font has): said once, by the coordinator, as warnings.
  std::vector<std::string> shortfalls;
};

// Raises Incompatible for codec/container mismatches, OutOfRange for values the
// chosen encoder cannot take (sample rates), UnsupportedCodec for an encoder this build
// lacks, ResourceContentBad when the template needs a stream the source lacks. `marks`
// (watermarks, logo removal) are checked by `mark_planner` against the source and
// output frames and the input's duration (seconds, 0: unknown).
OutputPlan plan_output(const Template& t, const StreamInfo* video, const StreamInfo* audio, const std::string& input_name,
                       const Capabilities& caps, const OutputMarks& marks = {}, const MarkPlanner& mark_planner = {},
                       double input_duration = 0);

}  // namespace gopcast::plan
