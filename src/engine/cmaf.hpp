#pragma once
// fMP4 output of the segment-parallel gather: one track per file, as CMAF has it. Each
// track (video, audio) gets an init segment (ftyp+moov), media segments of one
// fragment each (moof+mdat) cut at the video keyframes on the template's grid, and an
// HLS media playlist (EXT-X-MAP); the output's own playlist is a master playlist naming
// the video playlist as its variant and the audio playlist as its audio group. The same
// segments serve an MPEG-DASH manifest (transcode.cpp writes it from stats()).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "av/handles.hpp"
#include "av/output.hpp"
#include "engine/hls.hpp"

namespace gopcast::engine {

class CmafWriter final : public PlaylistWriter {
 public:
  CmafWriter(const std::filesystem::path& playlist, const plan::OutputPlan& plan, StagedOutput& staged);
  ~CmafWriter() override;

  // Returns the track's index (the stream number write() takes).
  int add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) override;
  void open() override;
  void write(AVPacket* packet, int stream, AVRational time_base) override;
  void finish() override;
  const HlsStats& stats() const override { return stats_; }

 private:
  struct Track {
    std::string kind;  // "video" or "audio": in its file names
    std::unique_ptr<av::Output> out;
    AVRational time_base{0, 1};        // the mp4 muxer's, after open
    std::filesystem::path current;     // the segment file being written
    bool segment_has_samples = false;  // current holds at least one packet
    int64_t segment_start = 0;         // its first presentation time (time_base)
    int64_t end = 0;                   // end of the latest sample (time_base)
    plan::MediaPlaylist list;
    TrackStats stats;
  };
  struct Held {
    av::PacketPtr packet;
    int stream;
    AVRational time_base;
  };

  std::filesystem::path track_file(const Track& t, const std::string& suffix) const;
  std::filesystem::path segment_path(const Track& t, int index) const;
  void write_now(AVPacket* packet, int stream, AVRational time_base);
  void release_held();
  // Closes segment `segment_` of every track and lists it; `next` opens the next one.
  void cut(bool next);

  std::filesystem::path playlist_;
  plan::OutputPlan plan_;
  StagedOutput& staged_;
  std::vector<Track> tracks_;
  int video_ = -1;
  bool opened_ = false;
  int segment_ = 0;
  double first_start_ = -1;  // the first video frame, seconds
  // MP4 fragments cannot start before zero: every timestamp moves later by shift_ (in
  // shift_time_base_), known once every track has started; until then packets are held.
  bool shift_known_ = false;
  int64_t shift_ = 0;
  AVRational shift_time_base_{1, 1};
  std::vector<int> started_;
  std::vector<Held> held_;
  HlsStats stats_;
};

}  // namespace gopcast::engine
