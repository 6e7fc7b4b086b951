#pragma once
// A demuxed input file.
#include <filesystem>
#include <string_view>

#include "av/handles.hpp"

namespace gopcast::av {

class Input {
 public:
  // Opens and probes `path`. Missing files raise ResourceNotFound; empty files,
  // non-media and unreadable containers raise ResourceContentBad.
  static Input open(const std::filesystem::path& path);

  AVFormatContext* ctx() const { return ctx_.get(); }
  const std::filesystem::path& path() const { return path_; }
  AVStream* stream(int index) const { return ctx_->streams[index]; }

  // The stream chosen by a selector: "" (the best stream of `type`), "N" (absolute
  // index) or "0:v:N" / "v:N" / "0:a:N" / "a:N" (the Nth stream of that type).
  // Returns -1 when `selector` is empty and the input has no stream of that type;
  // a selector that matches nothing raises StreamNotFound naming `key`.
  int select(AVMediaType type, std::string_view selector, std::string_view key) const;

  // The next packet; false at the end. Read errors other than the end of file
  // raise ResourceContentBad (truncated or corrupt input).
  bool read(AVPacket* packet);

  // After the last read: raises ResourceContentBad when the packets ended well short
  // of the duration the container's headers promise (a file cut off mid-way whose
  // index survived, which demuxers report as a normal end of file).
  void check_complete() const;

  // Seeks so that the next packet read for `stream` is the keyframe at or before `ts`.
  void seek(int stream, int64_t ts);
  // Back to the first packet (the file is reopened: AVStream pointers taken before
  // are no longer valid; indices and parameters stay the same).
  void rewind();

  // The container's start time in AV_TIME_BASE units (0 if unknown); outputs start here.
  int64_t start_time() const;
  // The duration in seconds (0 if unknown).
  double duration_seconds() const;

 private:
  Input(InputContextPtr ctx, std::filesystem::path path) : ctx_(std::move(ctx)), path_(std::move(path)) {}
  InputContextPtr ctx_;
  std::filesystem::path path_;
  int64_t end_us_ = 0;  // the latest packet end seen, in AV_TIME_BASE units from the start
};

}  // namespace gopcast::av
