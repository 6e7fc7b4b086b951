#include "engine/subtitles.hpp"

#include <algorithm>
#include <cmath>

#include "av/check.hpp"
#include "av/codec.hpp"
#include "av/filter_graph.hpp"
#include "av/input.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "plan/playlist.hpp"

namespace fs = std::filesystem;

namespace gopcast::engine {

std::string video_filters(const plan::VideoPlan& plan, const fs::path& scratch) {
  if (plan.burn_scripts.empty()) return plan.filters;
  std::string chain = plan.filters;
  std::error_code ec;
  fs::create_directories(scratch, ec);
  for (size_t i = 0; i < plan.burn_scripts.size(); ++i) {
    const fs::path script = scratch / fmt::format("subtitles-{}.ass", i);
    files::write_atomic(script, plan.burn_scripts[i]);
    chain += (chain.empty() ? "" : ",") + fmt::format("ass=filename={}", av::filter_value(script.string()));
  }
  // The ass filter draws on what it is given, or has a format converted for it: the
  // encoder still gets the planned format (a GIF's palette comes after).
  if (!plan.palette && !plan.pix_fmt.empty()) chain += ",format=" + plan.pix_fmt;
  return chain;
}

SubtitleMux::SubtitleMux(av::Output& out, const std::vector<plan::SubtitleTrack>& tracks) : out_(out) {
  for (const auto& t : tracks) {
    av::SubtitleEncoder encoder(t.codec, t.encoder_header, out.wants_global_header());
    const int stream = out.add_stream(encoder.ctx());
    out.set_stream_time_base(stream, AVRational{1, 1000});
    if (!t.lang.empty()) out.set_stream_metadata(stream, "language", t.lang);
    if (!t.title.empty()) out.set_stream_metadata(stream, "title", t.title);
    for (size_t i = 0; i < t.cues.size(); ++i)
      packets_.push_back(Pending{encoder.encode(t.encoder_events.at(i), t.cues[i].start_ms, t.cues[i].end_ms), stream});
  }
  std::stable_sort(packets_.begin(), packets_.end(), [](const Pending& a, const Pending& b) { return a.packet->pts < b.packet->pts; });
}

void SubtitleMux::write_until(int64_t ts, AVRational time_base) {
  while (next_ < packets_.size() &&
         (ts == INT64_MAX || av_compare_ts(packets_[next_].packet->pts, AVRational{1, 1000}, ts, time_base) <= 0)) {
    auto& p = packets_[next_++];
    out_.write(p.packet.get(), p.stream, AVRational{1, 1000});
    p.packet.reset();
  }
}

void write_hls_subtitles(const fs::path& playlist, const plan::OutputPlan& plan, HlsStats& stats) {
  if (plan.subtitles.empty()) return;
  const fs::path dir = playlist.parent_path();
  const std::string stem = playlist.stem().string();
  // Segment k of every track covers the video's segment k; cues that overlap two are in
  // both, whole (players drop the repeat).
  std::vector<int64_t> bounds{INT64_MIN};
  double t = 0;
  for (size_t k = 0; k + 1 < stats.segment_seconds.size(); ++k) {
    t += stats.segment_seconds[k];
    bounds.push_back(std::llround(t * 1000));
  }
  bounds.push_back(INT64_MAX);
  const int64_t mpegts = std::llround(stats.timeline_offset * 90000);
  for (size_t i = 0; i < plan.subtitles.size(); ++i) {
    const auto& track = plan.subtitles[i];
    const std::string tag = fmt::format("{}_subs{}{}", stem, i, track.lang.empty() ? "" : "_" + track.lang);
    plan::MediaPlaylist list;
    list.target_seconds = plan.hls_segment_seconds;
    for (size_t k = 0; k + 1 < bounds.size(); ++k) {
      const std::string name = fmt::format("{}_{:0{}d}.vtt", tag, k, kHlsSegmentDigits);
      files::write_atomic(dir / name, plan::render_webvtt(track.cues, bounds[k], bounds[k + 1], mpegts));
      list.segments.push_back(plan::HlsSegmentEntry{name, k < stats.segment_seconds.size() ? stats.segment_seconds[k] : 0, -1, {}});
    }
    files::write_atomic(dir / (tag + ".m3u8"), plan::render_media_playlist(list));
    plan::SubtitleRendition r;
    r.name = track.title;
    r.language = track.language;
    r.uri = tag + ".m3u8";
    r.is_default = i == 0;
    stats.subtitles.push_back(std::move(r));
  }
  // The output's playlist becomes (or stays) a master. MPEG-TS: its media playlist moves
  // aside and becomes the one variant.
  if (stats.variant_uri.empty()) {
    stats.variant_uri = stem + "_media.m3u8";
    fs::rename(playlist, dir / stats.variant_uri);
  }
  files::write_atomic(playlist, plan::render_master_playlist({master_entry(stats, playlist.filename().string(), "audio")}));
}

}  // namespace gopcast::engine
