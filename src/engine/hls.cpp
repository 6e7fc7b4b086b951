#include "engine/hls.hpp"

#include <cmath>

#include "av/input.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "engine/cmaf.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

fs::path hls_key_dir(const HlsSpec& spec, const fs::path& output) {
  const fs::path dir = spec.key_dir;
  return dir.empty() ? output.parent_path() : dir.is_relative() ? output.parent_path() / dir : dir;
}

std::string hls_key_name(const fs::path& playlist, int index) { return fmt::format("{}-{}.key", playlist.stem().string(), index); }

void HlsStats::set_video(const AVCodecParameters* params, AVRational rate) {
  width = params->width;
  height = params->height;
  if (rate.num > 0 && rate.den > 0) {
    frame_rate_num = rate.num;
    frame_rate_den = rate.den;
  }
}

BitRates bit_rates(const std::vector<int64_t>& bytes, const std::vector<double>& seconds) {
  BitRates r;
  int64_t total = 0;
  double length = 0;
  for (size_t i = 0; i < bytes.size() && i < seconds.size(); ++i) {
    total += bytes[i];
    length += seconds[i];
    if (seconds[i] > 0) r.peak = std::max<int64_t>(r.peak, static_cast<int64_t>(std::ceil(static_cast<double>(bytes[i]) * 8.0 / seconds[i])));
  }
  r.average = length > 0 ? static_cast<int64_t>(std::ceil(static_cast<double>(total) * 8.0 / length)) : 0;
  r.peak = std::max(r.peak, r.average);
  return r;
}

BitRates bit_rates(const TrackStats& track) {
  std::vector<double> seconds;
  for (size_t i = 0; i < track.starts.size(); ++i) {
    const int64_t next = i + 1 < track.starts.size() ? track.starts[i + 1] : track.end;
    seconds.push_back(track.timescale > 0 ? static_cast<double>(next - track.starts[i]) / static_cast<double>(track.timescale) : 0);
  }
  return bit_rates(track.bytes, seconds);
}

plan::Variant master_entry(const HlsStats& st, const std::string& uri, const std::string& audio_group) {
  plan::Variant v;
  const BitRates r = bit_rates(st.segment_bytes, st.segment_seconds);
  v.uri = uri;
  v.bandwidth = r.peak;
  v.average_bandwidth = r.average;
  v.width = st.width;
  v.height = st.height;
  v.frame_rate = st.frame_rate();
  v.codecs = st.codecs;
  const fs::path dir = fs::path(uri).parent_path();
  for (auto r : st.subtitles) {
    r.uri = (dir / r.uri).generic_string();
    v.subtitles.push_back(std::move(r));
  }
  if (!st.variant_uri.empty()) {
    v.uri = (dir / st.variant_uri).generic_string();
    for (const auto& t : st.tracks)
      if (t.audio) {
        v.audio_group = audio_group;
        v.audio_uri = (dir / t.playlist_uri).generic_string();
      }
  }
  return v;
}

bool starts_next_segment(const AVPacket* video, AVRational time_base, double first_start, int segment, double grid_seconds) {
  if (!(video->flags & AV_PKT_FLAG_KEY) || video->pts == AV_NOPTS_VALUE) return false;
  const double t = static_cast<double>(video->pts) * av_q2d(time_base);
  const double dur = video->duration > 0 ? static_cast<double>(video->duration) * av_q2d(time_base) : 0;
  return t >= first_start + (segment + 1) * grid_seconds - std::max(dur / 2, 1e-3);
}

std::string audio_codec_string(const AVCodecParameters* params) {
  // AAC LC is mp4a.40.2, HE-AAC mp4a.40.5; MP3 is mp4a.40.34 (RFC 6381 / HLS authoring).
  if (params->codec_id == AV_CODEC_ID_AAC) return params->profile == FF_PROFILE_AAC_HE ? "mp4a.40.5" : "mp4a.40.2";
  if (params->codec_id == AV_CODEC_ID_MP3) return "mp4a.40.34";
  return {};
}

std::unique_ptr<PlaylistWriter> make_playlist_writer(const fs::path& playlist, const plan::OutputPlan& plan, StagedOutput& staged) {
  if (plan.hls.segments == HlsSegmentFormat::fmp4) return std::make_unique<CmafWriter>(playlist, plan, staged);
  return std::make_unique<HlsWriter>(playlist, plan, staged);
}

HlsWriter::HlsWriter(const fs::path& playlist, const plan::OutputPlan& plan, StagedOutput& staged)
    : playlist_(playlist), plan_(plan), staged_(staged) {
  list_.type = plan.hls.playlist == HlsPlaylistType::event ? plan::PlaylistType::Event : plan::PlaylistType::Vod;
  list_.target_seconds = plan.hls_segment_seconds;
  current_ = segment_path(0);
  out_ = std::make_unique<av::Output>(current_, "mpegts");
}

HlsWriter::~HlsWriter() = default;

fs::path HlsWriter::segment_path(int index) const {
  return playlist_.parent_path() / fmt::format("{}_{:05d}.ts", playlist_.stem().string(), index);
}

int HlsWriter::add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) {
  int index = out_->add_encoded_stream(params, time_base, frame_rate);
  if (params->codec_type == AVMEDIA_TYPE_VIDEO && video_ < 0) {
    video_ = index;
    video_codec_ = params->codec_id;
    stats_.set_video(params, frame_rate);
    if (params->extradata_size > 0) note_video_codec(params->extradata, static_cast<size_t>(params->extradata_size));
  } else if (params->codec_type == AVMEDIA_TYPE_AUDIO) {
    audio_codecs_ = audio_codec_string(params);
  }
  return index;
}

void HlsWriter::note_video_codec(const uint8_t* data, size_t size) {
  if (video_codecs_known_) return;
  auto c = video_codec_ == AV_CODEC_ID_HEVC ? plan::hevc_codec_string(data, size) : plan::avc_codec_string(data, size);
  if (c) {
    stats_.codecs = *c;
    video_codecs_known_ = true;
  }
}

void HlsWriter::open() {
  if (video_ < 0) fail(ErrorCode::Internal, "hls: {}: no video stream to cut segments at", playlist_.string());
  av::Dictionary defaults;  // the MPEG-TS muxer's own
  out_->open(defaults);
  opened_ = true;
}

void HlsWriter::write(AVPacket* packet, int stream, AVRational time_base) {
  if (stream == video_ && packet->pts != AV_NOPTS_VALUE) {
    if (!video_codecs_known_ && packet->data) note_video_codec(packet->data, static_cast<size_t>(packet->size));
    const double t = static_cast<double>(packet->pts) * av_q2d(time_base);
    const double dur = packet->duration > 0 ? static_cast<double>(packet->duration) * av_q2d(time_base) : 0;
    if (first_start_ < 0) first_start_ = segment_start_ = t;
    if (starts_next_segment(packet, time_base, first_start_, segment_, plan_.hls_segment_seconds)) {
      // What the muxer holds goes into the finished segment; the rest into the next one.
      const fs::path finished = current_;
      current_ = segment_path(segment_ + 1);
      out_->switch_file(current_);
      seal(finished, t - segment_start_, false);
      ++segment_;
      segment_start_ = t;
    }
    video_end_ = std::max(video_end_, t + dur);
  }
  out_->write(packet, stream, time_base);
}

int HlsWriter::key_index(int segment) const { return plan_.hls.key_rotation > 0 ? segment / plan_.hls.key_rotation : 0; }

const crypto::Block& HlsWriter::key(int index) {
  while (static_cast<int>(keys_.size()) <= index) {
    const int k = static_cast<int>(keys_.size());
    const crypto::Block key = plan_.hls.key ? *plan_.hls.key : crypto::random_block();
    const std::string name = hls_key_name(playlist_, k);
    // Keys are secrets: mode 0600, beside the playlist (published with it) or in key_dir
    // (written in place, checked by prepare_transcode, removed if the output fails).
    const std::string bytes(reinterpret_cast<const char*>(key.data()), key.size());
    if (plan_.hls.key_dir.empty()) {
      files::write_atomic(playlist_.parent_path() / name, bytes, 0600);
      if (list_.type == plan::PlaylistType::Event) staged_.publish_now(playlist_.parent_path() / name);
    } else {
      const fs::path file = hls_key_dir(plan_.hls, staged_.final_path()) / name;
      files::write_atomic(file, bytes, 0600);
      staged_.adopt(file);
    }
    list_.key_uris.push_back(plan::key_uri(plan_.hls.key_uri, name, k));
    keys_.push_back(key);
  }
  return keys_[static_cast<size_t>(index)];
}

void HlsWriter::seal(const fs::path& file, double duration, bool last) {
  // Where media time 0 landed in the MPEG-TS timeline (the muxer shifts negative
  // timestamps), read back from the first segment before it is encrypted: WebVTT
  // subtitle renditions map their cue times with it.
  if (segment_ == 0 && !plan_.subtitles.empty()) {
    av::Input in = av::Input::open(file);
    av::PacketPtr p = av::make_packet();
    while (in.read(p.get())) {
      const AVStream* st = in.stream(p->stream_index);
      const bool found = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && p->pts != AV_NOPTS_VALUE;
      if (found) stats_.timeline_offset = static_cast<double>(p->pts) * av_q2d(st->time_base) - first_start_;
      av_packet_unref(p.get());
      if (found) break;
    }
  }
  plan::HlsSegmentEntry entry;
  entry.uri = file.filename().string();
  entry.duration = duration;
  if (plan_.hls.encryption == HlsEncryption::aes128) {
    entry.key = key_index(segment_);
    const crypto::Block iv = crypto::random_block();  // a fresh IV for every segment
    const fs::path enc = file.parent_path() / (".enc-" + file.filename().string());
    crypto::aes128_cbc_encrypt_file(file, enc, key(entry.key), iv);
    fs::rename(enc, file);
    entry.iv_hex = crypto::to_hex(iv);
  }
  list_.segments.push_back(std::move(entry));
  stats_.segment_bytes.push_back(static_cast<int64_t>(fs::file_size(file)));
  stats_.segment_seconds.push_back(duration);
  if (list_.type == plan::PlaylistType::Event) {
    staged_.publish_now(file);
    if (!last) write_playlist(false);
  }
}

void HlsWriter::write_playlist(bool ended) {
  list_.ended = ended;
  const std::string text = plan::render_media_playlist(list_);
  if (ended) {
    files::write_atomic(playlist_, text);  // published by commit(), last of all
  } else {
    // A live playlist replaces the published one atomically: players never read half.
    const fs::path tmp = playlist_.parent_path() / (".live-" + playlist_.filename().string());
    files::write_atomic(tmp, text);
    staged_.publish_now(tmp, playlist_.filename().string());
  }
}

void HlsWriter::finish() {
  if (!opened_) return;
  out_->finish();
  seal(current_, video_end_ - segment_start_, true);
  write_playlist(true);
  if (plan_.hls.encryption == HlsEncryption::aes128 && (!plan_.hls.key_dir.empty() || plan_.hls.key_uri != "{key}")) {
    const fs::path final_path = fs::absolute(staged_.final_path());
    const fs::path final_dir = final_path.parent_path();
    const fs::path key_dir = hls_key_dir(plan_.hls, final_path);
    plan::MediaPlaylist local = list_;
    for (size_t k = 0; k < local.key_uris.size(); ++k) local.key_uris[k] = (key_dir / hls_key_name(playlist_, static_cast<int>(k))).string();
    for (auto& s : local.segments) s.uri = (final_dir / s.uri).string();
    stats_.local_playlist = plan::render_media_playlist(local);
  }
  if (!audio_codecs_.empty()) stats_.codecs += (stats_.codecs.empty() ? "" : ",") + audio_codecs_;
}

}  // namespace gopcast::engine
