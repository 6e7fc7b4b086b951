#include "engine/segment_file.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "av/check.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

namespace {

constexpr char kMagic[8] = {'G', 'O', 'P', 'C', 'S', 'E', 'G', '1'};
constexpr uint32_t kPacket = 0x544b5050;  // "PPKT"
constexpr uint32_t kEnd = 0x444e4545;     // "EEND"

// Little-endian fixed-width fields; the file is read on the same kind of machine that
// wrote it (a cluster's nodes), but the format does not depend on that.
class Out {
 public:
  Out(std::FILE* f, const std::string& name) : f_(f), name_(name) {}
  void bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n)
      fail<MediaError>(write_error(errno, ErrorCode::TranscodeFailed), "segment: write: {} ({})", std::strerror(errno), name_);
  }
  void u32(uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    bytes(b, 4);
  }
  void i64(int64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
    bytes(b, 8);
  }

 private:
  std::FILE* f_;
  const std::string& name_;
};

class In {
 public:
  In(std::FILE* f, const std::string& name) : f_(f), name_(name) {}
  void bytes(void* p, size_t n) {
    if (n && std::fread(p, 1, n, f_) != n)
      fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: file ends early, it was not written whole ({})", name_);
  }
  uint32_t u32() {
    uint8_t b[4];
    bytes(b, 4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(b[i]) << (8 * i);
    return v;
  }
  int64_t i64() {
    uint8_t b[8];
    bytes(b, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    return static_cast<int64_t>(v);
  }
  int i32() { return static_cast<int>(static_cast<int32_t>(u32())); }

 private:
  std::FILE* f_;
  const std::string& name_;
};

// Every AVCodecParameters field a muxer reads, in a fixed order.
void write_params(Out& o, const AVCodecParameters* p, AVRational tb, AVRational rate) {
  const int64_t fields[] = {p->codec_type, p->codec_id, p->codec_tag, p->format, p->bit_rate,
                            p->bits_per_coded_sample, p->bits_per_raw_sample, p->profile, p->level, p->width,
                            p->height, p->sample_aspect_ratio.num, p->sample_aspect_ratio.den, p->field_order,
                            p->color_range, p->color_primaries, p->color_trc, p->color_space, p->chroma_location,
                            p->video_delay, p->ch_layout.order, p->ch_layout.nb_channels,
                            p->ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? static_cast<int64_t>(p->ch_layout.u.mask) : 0,
                            p->sample_rate, p->block_align, p->frame_size, p->initial_padding, p->trailing_padding,
                            p->seek_preroll, tb.num, tb.den, rate.num, rate.den};
  o.u32(static_cast<uint32_t>(std::size(fields)));
  for (int64_t f : fields) o.i64(f);
  o.u32(static_cast<uint32_t>(p->extradata_size));
  o.bytes(p->extradata, static_cast<size_t>(p->extradata_size));
}

void read_params(In& in, AVCodecParameters* p, AVRational& tb, AVRational& rate, const std::string& name) {
  const uint32_t n = in.u32();
  if (n != 33) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: unknown stream header ({})", name);
  int64_t v[33];
  for (auto& x : v) x = in.i64();
  int i = 0;
  auto next = [&]() { return v[i++]; };
  p->codec_type = static_cast<AVMediaType>(next());
  p->codec_id = static_cast<AVCodecID>(next());
  p->codec_tag = static_cast<uint32_t>(next());
  p->format = static_cast<int>(next());
  p->bit_rate = next();
  p->bits_per_coded_sample = static_cast<int>(next());
  p->bits_per_raw_sample = static_cast<int>(next());
  p->profile = static_cast<int>(next());
  p->level = static_cast<int>(next());
  p->width = static_cast<int>(next());
  p->height = static_cast<int>(next());
  p->sample_aspect_ratio.num = static_cast<int>(next());
  p->sample_aspect_ratio.den = static_cast<int>(next());
  p->field_order = static_cast<AVFieldOrder>(next());
  p->color_range = static_cast<AVColorRange>(next());
  p->color_primaries = static_cast<AVColorPrimaries>(next());
  p->color_trc = static_cast<AVColorTransferCharacteristic>(next());
  p->color_space = static_cast<AVColorSpace>(next());
  p->chroma_location = static_cast<AVChromaLocation>(next());
  p->video_delay = static_cast<int>(next());
  const auto order = static_cast<AVChannelOrder>(next());
  const int channels = static_cast<int>(next());
  const auto mask = static_cast<uint64_t>(next());
  if (order == AV_CHANNEL_ORDER_NATIVE) av_channel_layout_from_mask(&p->ch_layout, mask);
  else if (channels > 0) av_channel_layout_default(&p->ch_layout, channels);
  p->sample_rate = static_cast<int>(next());
  p->block_align = static_cast<int>(next());
  p->frame_size = static_cast<int>(next());
  p->initial_padding = static_cast<int>(next());
  p->trailing_padding = static_cast<int>(next());
  p->seek_preroll = static_cast<int>(next());
  tb = {static_cast<int>(next()), static_cast<int>(next())};
  rate = {static_cast<int>(next()), static_cast<int>(next())};
  const uint32_t extra = in.u32();
  if (extra > (1u << 24)) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: corrupt stream header ({})", name);
  if (extra) {
    p->extradata = static_cast<uint8_t*>(av_mallocz(extra + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!p->extradata) fail(ErrorCode::Internal, "av: av_mallocz: out of memory");
    p->extradata_size = static_cast<int>(extra);
    in.bytes(p->extradata, extra);
  }
}

}  // namespace

SegmentWriter::SegmentWriter(fs::path path, bool global_header)
    : path_(std::move(path)), global_header_(global_header), atomic_(std::make_unique<files::AtomicFile>(path_)) {
  file_.reset(std::fopen(atomic_->temp_path().c_str(), "wb"));
  if (!file_)
    fail<MediaError>(ErrorCode::OutputNotWritable, "segment: open: {} ({})", std::strerror(errno), atomic_->temp_path().string());
}

// An unfinished file goes with its AtomicFile.
SegmentWriter::~SegmentWriter() = default;

int SegmentWriter::add_stream(const AVCodecContext* encoder) {
  Stream s{av::make_codec_parameters(), encoder->time_base, encoder->framerate};
  av::check(avcodec_parameters_from_context(s.params.get(), encoder), "avcodec_parameters_from_context", path_.string());
  streams_.push_back(std::move(s));
  return static_cast<int>(streams_.size() - 1);
}

int SegmentWriter::add_copy_stream(const AVStream* source) {
  Stream s{av::make_codec_parameters(), source->time_base, source->avg_frame_rate};
  av::check(avcodec_parameters_copy(s.params.get(), source->codecpar), "avcodec_parameters_copy", path_.string());
  streams_.push_back(std::move(s));
  return static_cast<int>(streams_.size() - 1);
}

void SegmentWriter::write_header() {
  const std::string name = atomic_->temp_path().string();
  Out o(file_.get(), name);
  o.bytes(kMagic, sizeof kMagic);
  o.u32(static_cast<uint32_t>(streams_.size()));
  for (const auto& s : streams_) write_params(o, s.params.get(), s.time_base, s.frame_rate);
  header_written_ = true;
}

void SegmentWriter::write(AVPacket* p, int stream, AVRational time_base) {
  if (!header_written_) write_header();
  const Stream& s = streams_[static_cast<size_t>(stream)];
  av_packet_rescale_ts(p, time_base, s.time_base);
  const std::string name = atomic_->temp_path().string();
  Out o(file_.get(), name);
  o.u32(kPacket);
  o.u32(static_cast<uint32_t>(stream));
  o.i64(p->pts);
  o.i64(p->dts);
  o.i64(p->duration);
  o.u32(static_cast<uint32_t>(p->flags));
  o.u32(static_cast<uint32_t>(p->size));
  o.bytes(p->data, static_cast<size_t>(p->size));
  ++packets_;
  payload_bytes_ += p->size;
}

void SegmentWriter::finish() {
  if (finished_) return;
  if (!header_written_) write_header();
  const std::string name = atomic_->temp_path().string();
  Out o(file_.get(), name);
  o.u32(kEnd);
  o.i64(packets_);
  if (std::fflush(file_.get()) != 0)
    fail<MediaError>(write_error(errno, ErrorCode::TranscodeFailed), "segment: write: {} ({})", std::strerror(errno), name);
  file_.reset();
  try {
    atomic_->commit();
  } catch (const Error& e) {
    fail<MediaError>(e.code() == ErrorCode::OutputNotWritable ? e.code() : ErrorCode::TranscodeFailed, "segment: {}", e.what());
  }
  finished_ = true;
}

SegmentReader::SegmentReader(const fs::path& path) : name_(path.string()) {
  file_.reset(std::fopen(name_.c_str(), "rb"));
  if (!file_) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: open: {} ({})", std::strerror(errno), name_);
  In in(file_.get(), name_);
  char magic[8];
  in.bytes(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof magic) != 0)
    fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: not a gopcast segment file ({})", name_);
  const uint32_t n = in.u32();
  if (n > 1024) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: corrupt header ({})", name_);
  for (uint32_t i = 0; i < n; ++i) {
    Stream s{av::make_codec_parameters(), {1, 1}, {0, 1}};
    read_params(in, s.params.get(), s.time_base, s.frame_rate, name_);
    streams_.push_back(std::move(s));
  }
}

bool SegmentReader::read(AVPacket* p) {
  if (ended_) return false;
  In in(file_.get(), name_);
  const uint32_t tag = in.u32();
  if (tag == kEnd) {
    if (in.i64() != packets_read_)
      fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: packet count does not match, it was not written whole ({})", name_);
    ended_ = true;
    return false;
  }
  if (tag != kPacket) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: corrupt packet record ({})", name_);
  const uint32_t stream = in.u32();
  if (stream >= streams_.size()) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: bad stream index ({})", name_);
  const int64_t pts = in.i64(), dts = in.i64(), duration = in.i64();
  const int flags = static_cast<int>(in.u32());
  const uint32_t size = in.u32();
  if (size > (1u << 30)) fail<MediaError>(ErrorCode::TranscodeFailed, "segment: read: corrupt packet size ({})", name_);
  av::check(av_new_packet(p, static_cast<int>(size)), "av_new_packet", name_);  // resets the fields
  in.bytes(p->data, size);
  p->stream_index = static_cast<int>(stream);
  p->pts = pts;
  p->dts = dts;
  p->duration = duration;
  p->flags = flags;
  ++packets_read_;
  return true;
}

bool segment_file_complete(const fs::path& path) {
  // Files are renamed into place only after their end record: a check of the tail
  // is enough, without reading the packets.
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f || std::fseek(f.get(), -12, SEEK_END) != 0) return false;
  const std::string name = path.string();
  try {
    In in(f.get(), name);
    return in.u32() == kEnd && in.i64() >= 0;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace gopcast::engine
