#pragma once
// HLS output of the segment-parallel gather: MPEG-TS segments cut at the video
// keyframes on the template's grid (the engine forces them there), optionally each
// encrypted with AES-128-CBC under rotating keys with its own IV, and the media
// playlist. An EVENT ("live") playlist is published after every segment, listing each
// one as soon as it and all before it are in place, so playback starts long before
// the job ends; ENDLIST is added at the end.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "av/handles.hpp"
#include "av/output.hpp"
#include "core/paths.hpp"
#include "crypto/crypto.hpp"
#include "plan/output.hpp"
#include "plan/playlist.hpp"

namespace gopcast::engine {

// Where an output's key files go: beside the playlist, or hls.key_dir (relative to the
// output's folder); and the name of key number `index` of playlist `playlist`.
std::filesystem::path hls_key_dir(const HlsSpec& spec, const std::filesystem::path& output);
std::string hls_key_name(const std::filesystem::path& playlist, int index);

// One track of an fMP4 output: its own init segment, media segments and media
// playlist, shared by HLS and DASH.
struct TrackStats {
  bool audio = false;
  std::string playlist_uri;  // its HLS media playlist, beside the output
  std::string init_uri;
  std::string segment_prefix, segment_suffix;  // segment i is prefix + i (kHlsSegmentDigits digits) + suffix
  int64_t timescale = 0;                        // of the times below (the mp4 track's)
  std::vector<int64_t> starts;                  // each segment's first presentation time
  int64_t end = 0;                              // the end of the last sample
  std::vector<int64_t> bytes;                   // each segment's size
  std::string codecs;                           // RFC 6381
  int sample_rate = 0, channels = 0;
};

constexpr int kHlsSegmentDigits = 5;

// What a master playlist (and a DASH manifest) says about one rendition, measured on the
// written segments.
struct HlsStats {
  std::vector<int64_t> segment_bytes;  // all tracks of segment i together
  std::vector<double> segment_seconds;
  int width = 0, height = 0;
  int frame_rate_num = 0, frame_rate_den = 1;  // 0/1: unknown
  std::string codecs;  // RFC 6381, video then audio
  // fMP4 outputs: the variant is the video track's playlist, audio is a rendition group.
  std::string variant_uri;  // "" = the output's own playlist
  std::vector<TrackStats> tracks;
  // Where media time 0 is in the segments' own timeline (MPEG-TS: the muxer's shift of
  // negative timestamps; fMP4: the shift to start at zero), seconds: WebVTT renditions
  // map their cue times onto it (X-TIMESTAMP-MAP).
  double timeline_offset = 0;
  std::vector<plan::SubtitleRendition> subtitles;  // WebVTT renditions (engine/subtitles.hpp)
  // An encrypted output whose key URIs are not its key files (a key server's): its media
  // playlist naming the key files and segments by their published paths, so that what
  // was written can be read back (probed) without the key server.
  std::string local_playlist;

  double frame_rate() const { return frame_rate_num > 0 ? static_cast<double>(frame_rate_num) / frame_rate_den : 0; }
  // The video stream's picture size and frame rate (both writers take them the same way).
  void set_video(const AVCodecParameters* params, AVRational rate);
};

// Peak segment bit rate (RFC 8216 4.3.4.2: the short last segment included) and the
// average over all segments, bit/s.
struct BitRates {
  int64_t peak = 0;
  int64_t average = 0;
};
BitRates bit_rates(const std::vector<int64_t>& bytes, const std::vector<double>& seconds);
// The same for one fMP4 track, each segment's length taken from its timeline.
BitRates bit_rates(const TrackStats& track);

// A rendition's line in a master playlist, from what its segments weigh. `uri` is its
// output playlist (relative to the master); an fMP4 rendition is listed by its video
// playlist instead, with its audio playlist as the rendition group `audio_group`.
plan::Variant master_entry(const HlsStats& st, const std::string& uri, const std::string& audio_group);

// Whether a video packet starts HLS segment `segment` + 1 of a playlist whose first
// video frame is at `first_start` seconds: the first keyframe at or past the next grid
// point, with half a frame of slack for the grid's rounding to the stream's time base
// (the one rule of the TS and fMP4 writers).
bool starts_next_segment(const AVPacket* video, AVRational time_base, double first_start, int segment, double grid_seconds);

// RFC 6381 name of an audio codec as HLS and DASH write it ("" when it has none).
std::string audio_codec_string(const AVCodecParameters* params);

// What the parallel gather writes an m3u8 output through.
class PlaylistWriter {
 public:
  virtual ~PlaylistWriter() = default;
  virtual int add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) = 0;
  virtual void open() = 0;
  // Packets arrive in decoding-time order (the gather interleaves them).
  virtual void write(AVPacket* packet, int stream, AVRational time_base) = 0;
  virtual void finish() = 0;
  virtual const HlsStats& stats() const = 0;
};

// The writer for the output's [hls] settings (TS or fMP4 segments).
std::unique_ptr<PlaylistWriter> make_playlist_writer(const std::filesystem::path& playlist, const plan::OutputPlan& plan,
                                                     StagedOutput& staged);

class HlsWriter final : public PlaylistWriter {
 public:
  // `playlist` is the staged playlist path; segments and keys beside it are published by
  // `staged` (early for live playlists, at commit otherwise).
  HlsWriter(const std::filesystem::path& playlist, const plan::OutputPlan& plan, StagedOutput& staged);
  HlsWriter(const HlsWriter&) = delete;
  HlsWriter& operator=(const HlsWriter&) = delete;
  ~HlsWriter() override;

  int add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) override;
  void open() override;
  void write(AVPacket* packet, int stream, AVRational time_base) override;
  void finish() override;
  const HlsStats& stats() const override { return stats_; }

 private:
  std::filesystem::path segment_path(int index) const;
  int key_index(int segment) const;
  const crypto::Block& key(int index);  // created (and its file written) on first use
  // Encrypts a finished segment if asked, lists it, and for live playlists publishes it
  // and then the playlist that names it.
  void seal(const std::filesystem::path& file, double duration, bool last);
  void write_playlist(bool ended);
  void note_video_codec(const uint8_t* data, size_t size);

  std::filesystem::path playlist_;
  plan::OutputPlan plan_;
  StagedOutput& staged_;
  std::unique_ptr<av::Output> out_;
  int video_ = -1;
  bool opened_ = false;
  int segment_ = 0;                    // index of the segment being written
  double segment_start_ = 0;           // its first video frame, seconds
  double first_start_ = -1;            // the first segment's start
  double video_end_ = 0;               // end of the last video frame written
  std::filesystem::path current_;      // the segment file being written (plain)
  std::vector<crypto::Block> keys_;
  plan::MediaPlaylist list_;
  HlsStats stats_;
  int video_codec_ = 0;  // AVCodecID of the video stream
  std::string audio_codecs_;
  bool video_codecs_known_ = false;
};

}  // namespace gopcast::engine
