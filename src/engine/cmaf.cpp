#include "engine/cmaf.hpp"

#include <algorithm>

#include "av/check.hpp"
#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

CmafWriter::CmafWriter(const fs::path& playlist, const plan::OutputPlan& plan, StagedOutput& staged)
    : playlist_(playlist), plan_(plan), staged_(staged) {}

CmafWriter::~CmafWriter() = default;

fs::path CmafWriter::track_file(const Track& t, const std::string& suffix) const {
  return playlist_.parent_path() / fmt::format("{}_{}{}", playlist_.stem().string(), t.kind, suffix);
}

fs::path CmafWriter::segment_path(const Track& t, int index) const {
  return track_file(t, fmt::format("_{:0{}d}.m4s", index, kHlsSegmentDigits));
}

int CmafWriter::add_encoded_stream(const AVCodecParameters* params, AVRational time_base, AVRational frame_rate) {
  const bool video = params->codec_type == AVMEDIA_TYPE_VIDEO;
  if (!video && params->codec_type != AVMEDIA_TYPE_AUDIO)
    fail(ErrorCode::Internal, "hls: {}: fMP4 segments hold video or audio only", playlist_.string());
  Track t;
  t.kind = video ? "video" : "audio";
  if (std::any_of(tracks_.begin(), tracks_.end(), [&](const Track& o) { return o.kind == t.kind; }))
    fail(ErrorCode::Internal, "hls: {}: a second {} stream", playlist_.string(), t.kind);
  // The mp4 muxer writes ftyp+moov into the init segment at open, then one fragment
  // (moof+mdat) into each segment file as the writer switches files.
  t.out = std::make_unique<av::Output>(track_file(t, "_init.mp4"), "mp4");
  t.out->add_encoded_stream(params, time_base, frame_rate);
  t.list.type = plan::PlaylistType::Vod;
  t.list.target_seconds = plan_.hls_segment_seconds;
  t.list.map_uri = track_file(t, "_init.mp4").filename().string();
  t.stats.audio = !video;
  t.stats.playlist_uri = track_file(t, ".m3u8").filename().string();
  t.stats.init_uri = t.list.map_uri;
  t.stats.segment_prefix = fmt::format("{}_{}_", playlist_.stem().string(), t.kind);
  t.stats.segment_suffix = ".m4s";
  if (video) {
    const auto codec = params->codec_id == AV_CODEC_ID_HEVC ? plan::hevc_codec_string(params->extradata, static_cast<size_t>(params->extradata_size))
                                                            : plan::avc_codec_string(params->extradata, static_cast<size_t>(params->extradata_size));
    t.stats.codecs = codec.value_or("");
    stats_.set_video(params, frame_rate);
    video_ = static_cast<int>(tracks_.size());
  } else {
    t.stats.codecs = audio_codec_string(params);
    t.stats.sample_rate = params->sample_rate;
    t.stats.channels = params->ch_layout.nb_channels;
  }
  tracks_.push_back(std::move(t));
  return static_cast<int>(tracks_.size()) - 1;
}

void CmafWriter::open() {
  if (video_ < 0) fail(ErrorCode::Internal, "hls: {}: no video stream to cut segments at", playlist_.string());
  for (auto& t : tracks_) {
    av::Dictionary options;
    // Fragments only where the writer cuts (frag_custom), each self-contained
    // (default_base_moof), no mfra index after the last one. frag_discont with no edit
    // list makes a track's first tfdt its first packet's decoding time as given (else
    // the muxer starts every track at zero on its own, moving video, which a B-frame
    // delay starts early, against audio); write() shifts the timeline so that no time
    // is negative. The cmaf flag is left out: its negative composition offsets move
    // video a B-frame delay later again.
    options.set("movflags", "+frag_custom+empty_moov+default_base_moof+skip_trailer+frag_discont");
    options.set("use_editlist", "0");
    options.set("avoid_negative_ts", "disabled");
    t.out->open(options);
    t.time_base = t.out->ctx()->streams[0]->time_base;
    t.stats.timescale = t.time_base.den / std::max(t.time_base.num, 1);
    t.current = segment_path(t, 0);
    t.out->switch_file(t.current);
  }
  opened_ = true;
}

void CmafWriter::write(AVPacket* packet, int stream, AVRational time_base) {
  if (!shift_known_) {
    // Streams do not all start at once (video's B-frame delay starts it before audio's
    // priming), so the first packets wait until every track has shown its first one.
    if (packet->dts != AV_NOPTS_VALUE && packet->dts < 0 && (shift_ == 0 || av_compare_ts(-packet->dts, time_base, shift_, shift_time_base_) > 0)) {
      shift_ = -packet->dts;
      shift_time_base_ = time_base;
    }
    if (std::find(started_.begin(), started_.end(), stream) == started_.end()) started_.push_back(stream);
    av::PacketPtr copy = av::make_packet();
    av::check(av_packet_ref(copy.get(), packet), "av_packet_ref", playlist_.string());
    held_.push_back(Held{std::move(copy), stream, time_base});
    // A track that never starts must not make the writer hold the whole file.
    if (started_.size() == tracks_.size() || held_.size() >= 512) release_held();
    return;
  }
  write_now(packet, stream, time_base);
}

void CmafWriter::release_held() {
  shift_known_ = true;
  for (auto& h : held_) write_now(h.packet.get(), h.stream, h.time_base);
  held_.clear();
}

void CmafWriter::write_now(AVPacket* packet, int stream, AVRational time_base) {
  if (shift_ > 0) {
    const int64_t d = av_rescale_q(shift_, shift_time_base_, time_base);
    if (packet->pts != AV_NOPTS_VALUE) packet->pts += d;
    if (packet->dts != AV_NOPTS_VALUE) packet->dts += d;
  }
  Track& t = tracks_.at(static_cast<size_t>(stream));
  if (stream == video_ && packet->pts != AV_NOPTS_VALUE) {
    if (first_start_ < 0) first_start_ = static_cast<double>(packet->pts) * av_q2d(time_base);
    if (t.segment_has_samples && starts_next_segment(packet, time_base, first_start_, segment_, plan_.hls_segment_seconds))
      cut(true);
  }
  if (packet->pts != AV_NOPTS_VALUE) {
    const int64_t pts = av_rescale_q(packet->pts, time_base, t.time_base);
    if (!t.segment_has_samples) t.segment_start = pts;
    t.segment_start = std::min(t.segment_start, pts);
    t.end = std::max(t.end, pts + av_rescale_q(std::max<int64_t>(packet->duration, 0), time_base, t.time_base));
  }
  t.segment_has_samples = true;
  t.out->write(packet, 0, time_base);
}

void CmafWriter::cut(bool next) {
  for (auto& t : tracks_) {
    const fs::path finished = t.current;
    if (next) {
      t.current = segment_path(t, segment_ + 1);
      t.out->switch_file(t.current);
    } else {
      t.out->finish();
    }
    if (!t.segment_has_samples) {
      // A track with nothing in this stretch (audio that ended early) lists nothing.
      fs::remove(finished);
      continue;
    }
    plan::HlsSegmentEntry entry;
    entry.uri = finished.filename().string();
    entry.duration = static_cast<double>(t.end - t.segment_start) * av_q2d(t.time_base);
    t.list.segments.push_back(std::move(entry));
    t.stats.starts.push_back(t.segment_start);
    t.stats.bytes.push_back(static_cast<int64_t>(fs::file_size(finished)));
    t.segment_has_samples = false;
  }
  // The master's numbers: each segment's bytes across tracks over the video's length.
  const Track& v = tracks_[static_cast<size_t>(video_)];
  int64_t bytes = 0;
  for (const auto& t : tracks_)
    if (static_cast<int>(t.stats.bytes.size()) == segment_ + 1) bytes += t.stats.bytes.back();
  stats_.segment_bytes.push_back(bytes);
  stats_.segment_seconds.push_back(v.list.segments.empty() ? 0 : v.list.segments.back().duration);
  ++segment_;
}

void CmafWriter::finish() {
  if (!opened_) return;
  if (!held_.empty()) release_held();
  cut(false);
  std::string codecs;
  for (auto& t : tracks_) {
    t.list.ended = true;
    // Segment durations are measured, so a segment may run past the nominal length by a frame.
    files::write_atomic(track_file(t, ".m3u8"), plan::render_media_playlist(t.list));
    t.stats.end = t.end;
    if (!t.stats.codecs.empty()) codecs += (codecs.empty() ? "" : ",") + t.stats.codecs;
    stats_.tracks.push_back(t.stats);
  }
  stats_.codecs = codecs;
  stats_.timeline_offset = static_cast<double>(shift_) * av_q2d(shift_time_base_);
  stats_.variant_uri = tracks_[static_cast<size_t>(video_)].stats.playlist_uri;
  // The output's own playlist: a master with this one variant.
  files::write_atomic(playlist_, plan::render_master_playlist({master_entry(stats_, playlist_.filename().string(), "audio")}));
}

}  // namespace gopcast::engine
