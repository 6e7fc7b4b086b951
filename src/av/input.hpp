#pragma once
// A demuxed input file.
#include <cstddef>
#include <filesystem>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "av/handles.hpp"

namespace gopcast::av {

// What opening an input may read besides the file the user named. By default: regular
// files only (a FIFO, device or socket would hang or read what nobody meant), and, for an
// HLS playlist, segments and keys at or below the playlist's own folder (a playlist
// naming /etc/passwd, ../ or file:// elsewhere is refused). A job widens it with
// [input] special_files = true and [input] hls_allow = ["/folder", ...].
struct InputPolicy {
  bool special_files = false;
  std::vector<std::filesystem::path> hls_allow;  // more folders a playlist may read from
  int special_open_seconds = 60;  // a FIFO with no writer after this long is an error
};
// The policy of this process (set once, before a job's inputs are opened).
void set_input_policy(InputPolicy policy);
const InputPolicy& input_policy();

struct OpenGuard;

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

  // True until the first packet is read (after opening or a rewind): reading from here
  // starts at the file's first packet without a seek.
  bool fresh() const { return fresh_; }

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
  Input(InputContextPtr ctx, std::filesystem::path path, std::shared_ptr<OpenGuard> guard)
      : guard_(std::move(guard)), ctx_(std::move(ctx)), path_(std::move(path)) {}
  void check_refused() const;
  std::shared_ptr<OpenGuard> guard_;  // what nested opens (HLS segments, keys) were refused; before ctx_, outlives it
  InputContextPtr ctx_;
  std::filesystem::path path_;
  int64_t end_us_ = 0;  // the latest packet end seen, in AV_TIME_BASE units from the start
  bool fresh_ = true;
};

// The inputs one worker keeps open between its tasks. Opening a long MP4 reads its
// whole sample table (a tenth of a CPU second and 100+ MB at 10 hours), so a worker
// opens each input once and seeks from task to task; a seek gives the packets a fresh
// open and the same seek give, so the output is the same bytes. Not thread-safe: one
// per worker. At most `capacity` inputs stay open (a concatenation has many): the one
// used least recently is closed first.
class InputCache {
 public:
  explicit InputCache(size_t capacity = 3) : capacity_(capacity == 0 ? 1 : capacity) {}
  // The open input of `path`, opened on first use (Input::open's errors).
  Input& get(const std::filesystem::path& path);
  // Files opened so far.
  int opens() const { return opens_; }
  // Closes every kept input (after a failure: the next task opens afresh).
  void clear() { open_.clear(); }

 private:
  size_t capacity_;
  std::list<Input> open_;  // most recently used first
  int opens_ = 0;
};

}  // namespace gopcast::av
