#pragma once
// Segment files: the encoded packets of one task of the parallel engine (one video
// segment of every output, or the whole timeline's audio), exactly as the encoder
// produced them: every timestamp in its own time base, flags, and the full codec
// parameters (extradata, profile, colour information) the final muxer needs.
//
// Why not a libavformat container: Matroska rounds timestamps to milliseconds, NUT
// drops colour information, and the gather must be a lossless remux. The format:
//   "GOPCSEG1", u32 stream count, per stream its parameters, then packet records,
//   then an end record with the packet count. A file is written under a temporary
//   name and renamed into place by finish(), so a file at its name is complete.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "av/output.hpp"
#include "core/files.hpp"

namespace gopcast::engine {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Collects streams first, then packets. Streams must all be added before the first write.
class SegmentWriter : public av::Sink {
 public:
  // `global_header`: what the final muxer wants, so its encoders are set up for it.
  SegmentWriter(std::filesystem::path path, bool global_header);
  ~SegmentWriter() override;
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  bool wants_global_header() const override { return global_header_; }
  int add_stream(const AVCodecContext* encoder) override;
  int add_copy_stream(const AVStream* source) override;
  void write(AVPacket* packet, int stream, AVRational time_base) override;
  // Writes the end record, syncs and renames the file into place.
  void finish() override;

  int64_t bytes() const { return payload_bytes_; }

 private:
  struct Stream {
    av::CodecParametersPtr params;
    AVRational time_base;
    AVRational frame_rate;
  };
  void write_header();
  std::filesystem::path path_;
  bool global_header_;
  std::unique_ptr<files::AtomicFile> atomic_;  // the file until finish() renames it into place
  FilePtr file_;
  std::vector<Stream> streams_;
  bool header_written_ = false;
  bool finished_ = false;
  int64_t packets_ = 0;
  int64_t payload_bytes_ = 0;
};

class SegmentReader {
 public:
  // Raises TranscodeFailed naming the file when it is missing or not a segment file.
  explicit SegmentReader(const std::filesystem::path& path);

  int streams() const { return static_cast<int>(streams_.size()); }
  const AVCodecParameters* params(int stream) const { return streams_[static_cast<size_t>(stream)].params.get(); }
  AVRational time_base(int stream) const { return streams_[static_cast<size_t>(stream)].time_base; }
  AVRational frame_rate(int stream) const { return streams_[static_cast<size_t>(stream)].frame_rate; }

  // The next packet (timestamps in its stream's time base); false at the end record.
  // A file that ends without one is an error: it was not written whole.
  bool read(AVPacket* packet);

 private:
  struct Stream {
    av::CodecParametersPtr params;
    AVRational time_base;
    AVRational frame_rate;
  };
  std::string name_;
  FilePtr file_;
  std::vector<Stream> streams_;
  bool ended_ = false;
  int64_t packets_read_ = 0;
};

// True when `path` holds a whole segment file (its end record is present).
bool segment_file_complete(const std::filesystem::path& path);

}  // namespace gopcast::engine
