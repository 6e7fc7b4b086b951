#pragma once
// External subtitles in the engine, as the plan carries them (ops/subtitles.hpp reads
// and checks the files and attaches them to the plan): burn-in scripts drawn by the
// video filter, and the two ways out for soft tracks: subtitle streams muxed beside
// video and audio (mov_text in MP4/MOV, SubRip or ASS in MKV), and WebVTT renditions of
// an HLS output (segmented subtitle playlists and a master playlist naming them).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "av/handles.hpp"
#include "av/output.hpp"
#include "engine/hls.hpp"
#include "plan/output.hpp"

namespace gopcast::engine {

// The video filter chain with the burn-in scripts drawn last (libavfilter's ass filter,
// which renders by each frame's own timestamp, so any segment of the timeline gets the
// same pixels); the scripts are written into `scratch` as clean UTF-8 ASS files.
std::string video_filters(const plan::VideoPlan& plan, const std::filesystem::path& scratch);

// The soft subtitle streams of one muxed output: encoded once with libavcodec's
// subtitle encoders when the streams are added, written interleaved by time.
class SubtitleMux {
 public:
  // Adds the streams (call before the output is opened).
  SubtitleMux(av::Output& out, const std::vector<plan::SubtitleTrack>& tracks);
  // Writes every cue that starts at or before `ts` (in `time_base`); INT64_MAX: the rest.
  void write_until(int64_t ts, AVRational time_base);

 private:
  struct Pending {
    av::PacketPtr packet;
    int stream;
  };
  av::Output& out_;
  std::vector<Pending> packets_;  // in start order
  size_t next_ = 0;
};

// After an HLS output's media is written (`playlist` is its staged playlist): one WebVTT
// media playlist per track, cut on the video's segment durations, and the output's
// playlist made the master (an MPEG-TS output's media playlist moves to
// NAME_media.m3u8) with a SUBTITLES group; `stats` learns the group for ladder masters.
void write_hls_subtitles(const std::filesystem::path& playlist, const plan::OutputPlan& plan, HlsStats& stats);

}  // namespace gopcast::engine
