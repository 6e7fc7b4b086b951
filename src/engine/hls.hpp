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
#include "engine/resolve.hpp"
#include "plan/playlist.hpp"

namespace gopcast::engine {

// Where an output's key files go: beside the playlist, or hls.key_dir (relative to the
// output's folder); and the name of key number `index` of playlist `playlist`.
std::filesystem::path hls_key_dir(const HlsSpec& spec, const std::filesystem::path& output);
std::string hls_key_name(const std::filesystem::path& playlist, int index);

// What a master playlist says about one rendition, measured on the written segments.
struct HlsStats {
  std::vector<int64_t> segment_bytes;
  std::vector<double> segment_seconds;
  int width = 0, height = 0;
  double frame_rate = 0;
  std::string codecs;  // RFC 6381, video then audio
};

class HlsWriter {
 public:
  // `playlist` is the staged playlist path; segments and keys beside it are published by
  // `staged` (early for live playlists, at commit otherwise).
  HlsWriter(const std::filesystem::path& playlist, const OutputPlan& plan, StagedOutput& staged);
  HlsWriter(const HlsWriter&) = delete;
  HlsWriter& operator=(const HlsWriter&) = delete;
  ~HlsWriter();

  int add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate);
  void open();
  // Packets arrive in decoding-time order (the gather interleaves them).
  void write(AVPacket* packet, int stream, AVRational time_base);
  void finish();
  const HlsStats& stats() const { return stats_; }

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
  OutputPlan plan_;
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
