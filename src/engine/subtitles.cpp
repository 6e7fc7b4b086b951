#include "engine/subtitles.hpp"

#include <algorithm>
#include <cmath>

#include "av/check.hpp"
#include "av/input.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "plan/playlist.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/mem.h>
}

namespace fs = std::filesystem;

namespace gopcast::engine {

namespace {

// The soft subtitle codec a container holds, or nothing.
const char* soft_codec(Container c, bool ass_source) {
  switch (c) {
    case Container::mp4:
    case Container::mov: return "mov_text";
    case Container::mkv: return ass_source ? "ass" : "subrip";
    case Container::m3u8: return "webvtt";
    default: return nullptr;
  }
}

// A value inside a filter graph description: escaped for the filter's option parser,
// then for the graph parser (FFmpeg's "Notes on filtergraph escaping").
std::string graph_value(const std::string& v) {
  std::string option, graph;
  for (char c : v) {
    if (c == '\\' || c == '\'' || c == ':') option += '\\';
    option += c;
  }
  for (char c : option) {
    if (c == '\\' || c == '\'' || c == '[' || c == ']' || c == ',' || c == ';') graph += '\\';
    graph += c;
  }
  return graph;
}

}  // namespace

void attach_subtitles(OutputPlan& plan, const std::vector<SubtitleSpec>& specs, const fs::path& output, int64_t from_ms,
                      int64_t to_ms) {
  if (specs.size() > kMaxSubtitleTracks)
    fail<SpecError>(ErrorCode::OutOfRange, "{}: {} subtitle tracks (at most {})", output.string(), specs.size(), kMaxSubtitleTracks);
  for (const auto& s : specs) {
    const std::string file = s.path.string();
    if (s.mode == SubtitleMode::burn) {
      if (!plan.video.present || plan.video.copy)
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: burning subtitles in needs re-encoded video (not video.codec = \"copy\" or no video)",
                        s.origin, file);
    } else {
      if (!soft_codec(plan.container, false))
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: {} cannot hold soft subtitles (use MP4, MOV, MKV or HLS, or mode = \"burn\")",
                        s.origin, file, to_string(plan.container));
      if (plan.container == Container::m3u8 && (!plan.video.present || plan.video.copy))
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: WebVTT subtitles in HLS need re-encoded video (the segment grid)", s.origin, file);
      if (plan.container == Container::m3u8 && plan.hls.playlist == HlsPlaylistType::event)
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}: soft subtitles need a VOD playlist (a live playlist has no master to name them)",
                        s.origin, file);
    }
    ops::SubtitleDoc doc = ops::load_subtitles(s.path, s.charset);
    if (from_ms != 0 || to_ms != INT64_MAX) doc.cues = ops::clip_cues(doc.cues, from_ms, to_ms);
    if (s.mode == SubtitleMode::burn) {
      ops::BurnStyle style;
      if (!s.font.empty()) style.font = s.font;
      style.font_size = s.font_size;
      plan.video.burn_scripts.push_back(ops::render_ass_script(doc, style, plan.video.width, plan.video.height));
      continue;
    }
    ops::SubtitleTrack t;
    const bool ass = doc.format == ops::SubtitleFormat::ass;
    t.codec = soft_codec(plan.container, ass);
    t.lang = s.lang;
    t.title = s.title.empty() ? ops::language_name(s.lang) : s.title;
    t.keep_ass = ass && t.codec == std::string("ass");
    if (t.keep_ass) t.ass_header = doc.ass_header;
    t.cues = std::move(doc.cues);
    plan.subtitles.push_back(std::move(t));
  }
}

std::string video_filters(const VideoPlan& plan, const fs::path& scratch) {
  if (plan.burn_scripts.empty()) return plan.filters;
  std::string chain = plan.filters;
  std::error_code ec;
  fs::create_directories(scratch, ec);
  for (size_t i = 0; i < plan.burn_scripts.size(); ++i) {
    const fs::path script = scratch / fmt::format("subtitles-{}.ass", i);
    files::write_atomic(script, plan.burn_scripts[i]);
    chain += (chain.empty() ? "" : ",") + fmt::format("ass=filename={}", graph_value(script.string()));
  }
  // The ass filter draws on what it is given, or has a format converted for it: the
  // encoder still gets the planned format (a GIF's palette comes after).
  if (!plan.palette && !plan.pix_fmt.empty()) chain += ",format=" + plan.pix_fmt;
  return chain;
}

SubtitleMux::SubtitleMux(av::Output& out, const std::vector<ops::SubtitleTrack>& tracks) : out_(out) {
  for (const auto& t : tracks) {
    const AVCodec* codec = avcodec_find_encoder_by_name(t.codec.c_str());
    if (!codec) fail(ErrorCode::UnsupportedCodec, "av: no subtitle encoder \"{}\" in this FFmpeg build", t.codec);
    av::CodecContextPtr ctx(avcodec_alloc_context3(codec));
    if (!ctx) fail(ErrorCode::Internal, "av: avcodec_alloc_context3: out of memory");
    ctx->time_base = AVRational{1, 1000};
    const std::string header = t.keep_ass ? t.ass_header + "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                                          : ops::default_ass_header();
    ctx->subtitle_header = static_cast<uint8_t*>(av_mallocz(header.size() + 1));
    if (!ctx->subtitle_header) fail(ErrorCode::Internal, "av: av_mallocz: out of memory");
    std::copy(header.begin(), header.end(), ctx->subtitle_header);
    ctx->subtitle_header_size = static_cast<int>(header.size());
    if (out.wants_global_header()) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av::check(avcodec_open2(ctx.get(), codec, nullptr), "avcodec_open2", t.codec);
    const int stream = out.add_stream(ctx.get());
    AVStream* st = out.ctx()->streams[stream];
    st->time_base = AVRational{1, 1000};
    if (!t.lang.empty()) av_dict_set(&st->metadata, "language", t.lang.c_str(), 0);
    if (!t.title.empty()) av_dict_set(&st->metadata, "title", t.title.c_str(), 0);
    std::vector<uint8_t> buf(1 << 16);
    int order = 0;
    for (const auto& cue : t.cues) {
      const std::string event = ops::ass_event_for_encoder(cue, order++, t.keep_ass);
      AVSubtitleRect rect{};
      rect.type = SUBTITLE_ASS;
      rect.ass = const_cast<char*>(event.c_str());
      AVSubtitleRect* rects[] = {&rect};
      AVSubtitle sub{};
      sub.num_rects = 1;
      sub.rects = rects;
      sub.end_display_time = static_cast<uint32_t>(cue.end_ms - cue.start_ms);
      sub.pts = av_rescale_q(cue.start_ms, AVRational{1, 1000}, AV_TIME_BASE_Q);
      const int size = avcodec_encode_subtitle(ctx.get(), buf.data(), static_cast<int>(buf.size()), &sub);
      av::check(size, "avcodec_encode_subtitle", t.codec);
      av::PacketPtr p = av::make_packet();
      av::check(av_new_packet(p.get(), size), "av_new_packet", t.codec);
      std::copy(buf.begin(), buf.begin() + size, p->data);
      p->pts = p->dts = cue.start_ms;
      p->duration = cue.end_ms - cue.start_ms;
      p->flags |= AV_PKT_FLAG_KEY;
      packets_.push_back(Pending{std::move(p), stream});
    }
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

void write_hls_subtitles(const fs::path& playlist, const OutputPlan& plan, HlsStats& stats) {
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
      files::write_atomic(dir / name, ops::render_webvtt(track.cues, bounds[k], bounds[k + 1], mpegts));
      list.segments.push_back(plan::HlsSegmentEntry{name, k < stats.segment_seconds.size() ? stats.segment_seconds[k] : 0, -1, {}});
    }
    files::write_atomic(dir / (tag + ".m3u8"), plan::render_media_playlist(list));
    plan::SubtitleRendition r;
    r.name = track.title;
    r.language = ops::bcp47_language(track.lang);
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
