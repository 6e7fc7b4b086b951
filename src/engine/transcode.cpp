#include "engine/transcode.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <memory>
#include <sstream>

#include "av/input.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/paths.hpp"
#include "ops/watermark.hpp"
#include "plan/dash.hpp"
#include "engine/parallel.hpp"
#include "engine/subtitles.hpp"
#include "plan/playlist.hpp"
#include "spec/ladder.hpp"

namespace fs = std::filesystem;

namespace gopcast {

PreparedTranscode prepare_transcode(const TranscodeRequest& request) {
  if (request.outputs.empty()) fail(ErrorCode::Usage, "{}: no outputs requested", request.input.string());
  PreparedTranscode p;
  std::vector<engine::OutputPlan> concat_plans;
  if (request.concat()) {
    PlannedTimeline planned = plan_timeline(request);
    p.source = std::move(planned.reference);
    p.source.duration = planned.seconds;
    p.streams = planned.streams;
    p.timeline = std::move(planned.timeline);
    concat_plans = std::move(planned.plans);
  } else {
    av::Input input = av::Input::open(request.input);
    p.source = describe(input);
    p.streams.video = input.select(AVMEDIA_TYPE_VIDEO, request.video_stream, "video_stream");
    p.streams.audio = input.select(AVMEDIA_TYPE_AUDIO, request.audio_stream, "audio_stream");
  }
  p.clip = engine::resolve_clip(request.clip, p.source.duration, request.input);
  if (request.mix.active()) {
    // Found out now, not after the video is encoded: the music must open and hold audio.
    av::Input music = av::Input::open(request.mix.path);
    if (music.select(AVMEDIA_TYPE_AUDIO, "", "input.mix") < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: input.mix: has no audio stream to mix in", request.mix.path.string());
    if (p.streams.audio < 0)
      fail<MediaError>(ErrorCode::ResourceContentBad, "{}: input.mix: the input has no audio to mix {} under",
                       request.input.string(), request.mix.path.string());
  }
  const StreamInfo* vsrc = p.streams.video >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.video)] : nullptr;
  const StreamInfo* asrc = p.streams.audio >= 0 ? &p.source.streams[static_cast<size_t>(p.streams.audio)] : nullptr;
  for (const auto& out : request.outputs) {
    for (const auto& s : p.staged)
      if (s->final_path() == out.path) fail(ErrorCode::OutputNotWritable, "{}: named by two outputs", out.path.string());
    engine::Target target;
    target.plan = request.concat() ? concat_plans[p.targets.size()]
                                   : plan_transcode_output(out, vsrc, asrc, request.input.string(), p.clip, p.source.duration, request.mix);
    if (p.clip.active && target.plan.video.present && target.plan.video.copy)
      fail<SpecError>(ErrorCode::Incompatible, "{}: input.start/duration/end_offset: a clip is cut frame-exactly, which needs "
                      "re-encoded video (the template {} copies it)", out.path.string(), out.tmpl.name);
    if (!out.tmpl.hls.key_dir.empty() && out.tmpl.hls.encryption == HlsEncryption::aes128) {
      // Found out now, not after the encode: the key folder must exist and be writable.
      const fs::path dir = engine::hls_key_dir(out.tmpl.hls, out.path);
      std::error_code ec;
      if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0)
        fail(ErrorCode::OutputNotWritable, "{}: hls.key_dir {} does not exist or is not writable", out.path.string(), dir.string());
    }
    p.staged.push_back(std::make_unique<StagedOutput>(out.path, request.input));
    target.file = p.staged.back()->staging_file();
    target.scratch_dir = p.staged.back()->scratch_dir();
    p.targets.push_back(std::move(target));
  }
  for (const auto& l : request.ladders) p.masters.push_back(std::make_unique<StagedOutput>(l.master, request.input));
  return p;
}

engine::OutputPlan plan_transcode_output(const TranscodeOutput& output, const StreamInfo* video, const StreamInfo* audio,
                                         const std::string& input_name, const engine::ClipWindow& clip, double source_seconds,
                                         const AudioMix& mix) {
  // A clip's frames are timed from its start; the marks' windows move there with them.
  const double length = clip.active ? clip.seconds() : source_seconds;
  engine::OutputPlan plan = engine::plan_output(output.tmpl, video, audio, input_name,
                                                ops::on_clip_timeline(output.marks, clip.active ? clip.start : 0, length), length);
  if (clip.active)
    engine::attach_subtitles(plan, output.subtitles, output.path, std::llround(clip.start * 1000), std::llround(clip.end * 1000));
  else
    engine::attach_subtitles(plan, output.subtitles, output.path);
  if (mix.active() && plan.audio.present) {
    if (plan.audio.copy)
      fail<SpecError>(ErrorCode::Incompatible, "{}: input.mix: mixing needs re-encoded audio (the template {} copies it)",
                      output.path.string(), output.tmpl.name);
    plan.audio.mix = mix;
  }
  return plan;
}

namespace {

// The DASH manifest of an HLS output (or of a ladder's master playlist): beside it, named after it.
std::string dash_manifest_name(const fs::path& playlist) { return playlist.stem().string() + ".mpd"; }

// A rendition's tracks in a DASH manifest, over the same fMP4 segments its HLS
// playlists list; `dir` is where its files are, relative to the manifest.
void add_dash_entries(std::vector<plan::DashRepresentation>& reps, const engine::HlsStats& st, const std::string& id,
                      const fs::path& dir) {
  const std::string d = dir.generic_string();
  const std::string prefix = d.empty() || d == "." ? std::string() : d + "/";
  for (const auto& t : st.tracks) {
    plan::DashRepresentation r;
    r.content = t.audio ? plan::DashContent::audio : plan::DashContent::video;
    r.id = id + (t.audio ? "-audio" : "-video");
    r.bandwidth = engine::bit_rates(t).peak;
    if (!t.audio) {
      r.width = st.width;
      r.height = st.height;
      r.frame_rate_num = st.frame_rate_num;
      r.frame_rate_den = st.frame_rate_den;
    }
    r.sample_rate = t.sample_rate;
    r.channels = t.channels;
    r.codecs = t.codecs;
    r.init_uri = prefix + t.init_uri;
    r.media_template = plan::dash_media_template(prefix + t.segment_prefix, engine::kHlsSegmentDigits, t.segment_suffix);
    r.timescale = t.timescale;
    r.starts = t.starts;
    r.end = t.end;
    reps.push_back(std::move(r));
  }
}

// What an output holds, read back from the written files. An encrypted HLS output whose
// key URIs point elsewhere (a key server) is read through a private copy of its playlist
// that names the local key files instead.
MediaInfo probe_output(const fs::path& path, const Template& t) {
  const bool remote_keys = t.container == Container::m3u8 && t.hls.encryption == HlsEncryption::aes128 &&
                           (!t.hls.key_dir.empty() || t.hls.key_uri != "{key}");
  if (!remote_keys) return probe(path);
  const fs::path key_dir = engine::hls_key_dir(t.hls, path);
  std::istringstream in(files::read(path));
  std::ostringstream local;
  std::string line;
  std::vector<std::string> uris;
  while (std::getline(in, line)) {
    const auto at = line.find("URI=\"");
    if (line.starts_with("#EXT-X-KEY:") && at != std::string::npos) {
      const auto end = line.find('"', at + 5);
      const std::string uri = line.substr(at + 5, end - at - 5);
      auto it = std::find(uris.begin(), uris.end(), uri);
      const size_t k = static_cast<size_t>(it - uris.begin());
      if (it == uris.end()) uris.push_back(uri);
      line = line.substr(0, at + 5) + (key_dir / engine::hls_key_name(path, static_cast<int>(k))).string() + line.substr(end);
    } else if (!line.empty() && line[0] != '#') {
      line = (path.parent_path() / line).string();
    }
    local << line << "\n";
  }
  const fs::path copy = fs::temp_directory_path() / fmt::format("gopcast-probe-{}-{}.m3u8", ::getpid(), path.stem().string());
  files::write_atomic(copy, local.str(), 0600);
  MediaInfo info;
  try {
    info = probe(copy);
  } catch (...) {
    fs::remove(copy);
    throw;
  }
  fs::remove(copy);
  info.path = path.string();
  return info;
}

}  // namespace

std::vector<OutputResult> publish_outputs(const TranscodeRequest& request, PreparedTranscode& prepared,
                                          const std::vector<int64_t>& video_frames) {
  // Master playlists first, from the renditions' written segments (all still staged).
  for (size_t k = 0; k < request.ladders.size(); ++k) {
    std::vector<plan::Variant> variants;
    std::vector<plan::DashRepresentation> reps;
    for (size_t o : request.ladders[k].outputs) {
      if (o >= prepared.hls.size() || !prepared.hls[o])
        fail(ErrorCode::Internal, "{}: ladder rendition {} was not written as HLS", request.ladders[k].master.string(),
             request.outputs[o].path.string());
      variants.push_back(engine::master_entry(*prepared.hls[o], request.outputs[o].path.filename().string(),
                                              "audio-" + request.outputs[o].path.stem().string()));
      if (request.outputs[o].tmpl.hls.dash)
        add_dash_entries(reps, *prepared.hls[o], request.outputs[o].path.stem().string(),
                         request.outputs[o].path.parent_path().lexically_relative(request.ladders[k].master.parent_path()));
    }
    files::write_atomic(prepared.masters[k]->staging_file(), plan::render_master_playlist(variants));
    if (!reps.empty()) {
      const fs::path& master = request.ladders[k].master;
      files::write_atomic(prepared.masters[k]->staging_dir() / dash_manifest_name(master),
                          plan::render_mpd(reps, request.outputs[request.ladders[k].outputs.front()].tmpl.mux.hls_segment_seconds));
    }
  }
  // A DASH manifest beside each fMP4 output that asks for one.
  for (size_t o = 0; o < request.outputs.size(); ++o) {
    const Template& t = request.outputs[o].tmpl;
    if (!t.hls.dash) continue;
    if (o >= prepared.hls.size() || !prepared.hls[o])
      fail(ErrorCode::Internal, "{}: a DASH output was not written as fMP4 HLS", request.outputs[o].path.string());
    std::vector<plan::DashRepresentation> reps;
    add_dash_entries(reps, *prepared.hls[o], request.outputs[o].path.stem().string(), {});
    files::write_atomic(prepared.staged[o]->staging_dir() / dash_manifest_name(request.outputs[o].path),
                        plan::render_mpd(reps, t.mux.hls_segment_seconds));
  }
  std::vector<OutputResult> results;
  for (size_t i = 0; i < prepared.staged.size(); ++i) {
    OutputResult r;
    // HLS writes its segments beside the playlist; everything else is one file.
    r.files = prepared.staged[i]->commit();
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.outputs[i].path;
    r.template_name = request.outputs[i].tmpl.name;
    r.user_data = request.outputs[i].user_data;
    r.video_frames = video_frames[i];
    r.info = probe_output(r.path, request.outputs[i].tmpl);
    results.push_back(std::move(r));
  }
  for (size_t k = 0; k < request.ladders.size(); ++k) {
    OutputResult r;
    r.files = prepared.masters[k]->commit();
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.ladders[k].master;
    r.template_name = "ladder:" + request.ladders[k].name;
    r.user_data = request.ladders[k].user_data;
    r.info = probe(r.path);
    results.push_back(std::move(r));
  }
  return results;
}

TranscodeResult transcode(const TranscodeRequest& request, const engine::RunControl& control) {
  const auto started = std::chrono::steady_clock::now();
  // A concatenation is a timeline of inputs, which only the segment-parallel engine reads.
  if (request.concat()) return transcode_parallel(request, ParallelOptions{}, control);
  PreparedTranscode prepared = prepare_transcode(request);
  auto stats = engine::run_pipeline(request.input, prepared.streams, prepared.targets, control, engine::clip_span(prepared.clip));
  std::vector<int64_t> frames;
  for (const auto& s : stats) frames.push_back(s.video_frames);
  TranscodeResult result;
  result.input = request.input;
  result.media_seconds = prepared.clip.active ? prepared.clip.seconds() : prepared.source.duration;
  result.outputs = publish_outputs(request, prepared, frames);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

namespace {

// The height of the video a ladder starts from (0 when there is none).
int source_height(const Job& job) {
  av::Input input = av::Input::open(job.input.path);
  const int v = input.select(AVMEDIA_TYPE_VIDEO, job.input.video_stream, "video_stream");
  if (v < 0) return 0;
  const MediaInfo info = describe(input);
  return info.streams[static_cast<size_t>(v)].height;
}

// A ladder output becomes one HLS output per rendition, beside its master playlist:
// <master>_<height>p.m3u8. Renditions taller than the source are left out (the
// smallest stays, never upscaled), so a 480p source gets no 1080p copy of itself.
void expand_ladder(JobOutput& o, const fs::path& master, const Catalog& catalog, const std::vector<std::string>& extra,
                   int height, TranscodeRequest& req) {
  if (master.extension() != ".m3u8")
    fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: the master playlist must be an .m3u8 path, not {}", o.origin, o.ladder,
                    master.string());
  const Ladder ladder = load_ladder(catalog, o.ladder);
  std::vector<std::string> sets = extra;
  sets.push_back(fmt::format("mux.hls_segment_seconds={}", ladder.segment_seconds));
  struct Chosen {
    std::string name;
    Template tmpl;
  };
  std::vector<Chosen> all;
  for (const auto& r : ladder.renditions) {
    JobOutput copy = o;
    copy.template_name = r;
    copy.origin = fmt::format("{} (ladder {}, {})", o.origin, ladder.name, r);
    Template t = resolve_output_template(catalog, copy, master, sets);
    if (t.container != Container::m3u8 || t.video.codec == VideoCodec::copy || t.video.remove)
      fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: rendition {} is not an HLS output with re-encoded video", o.origin,
                      ladder.name, r);
    // The master is measured on the finished renditions, so it exists only at the end.
    if (t.hls.playlist == HlsPlaylistType::event)
      fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: hls.playlist = \"event\" is for single renditions (a ladder's master "
                      "playlist is written when every rendition is done)", o.origin, ladder.name);
    all.push_back({r, std::move(t)});
  }
  std::vector<Chosen> kept;
  for (auto& c : all)
    if (!c.tmpl.video.height || height == 0 || *c.tmpl.video.height <= height) kept.push_back(std::move(c));
  if (kept.empty()) {
    auto smallest = std::min_element(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.tmpl.video.height.value_or(0) < b.tmpl.video.height.value_or(0);
    });
    kept.push_back(std::move(*smallest));
  }
  LadderOutput lo{master, ladder.name, o.user_data, {}};
  for (auto& c : kept) {
    TranscodeOutput out;
    const std::string tag = c.tmpl.video.height ? fmt::format("{}p", *c.tmpl.video.height) : c.name;
    out.path = master.parent_path() / fmt::format("{}_{}.m3u8", master.stem().string(), tag);
    for (const auto& other : req.outputs)
      if (other.path == out.path)
        fail<SpecError>(ErrorCode::Incompatible, "{}: ladder {}: two renditions would both write {}", o.origin, ladder.name,
                        out.path.string());
    out.tmpl = std::move(c.tmpl);
    out.user_data = o.user_data;
    out.marks = o.marks;
    out.subtitles = o.subtitles;
    lo.outputs.push_back(req.outputs.size());
    req.outputs.push_back(std::move(out));
  }
  req.ladders.push_back(std::move(lo));
}

}  // namespace

TranscodeRequest request_for_job(Job job, const Catalog& catalog, const std::vector<std::string>& extra) {
  TranscodeRequest req;
  if (job.input.concat.active()) {
    // The timeline: intro, input.path, the concat inputs, outro; names expand from the
    // first main input.
    const Concat& c = job.input.concat;
    if (!c.intro.empty()) req.timeline.push_back(c.intro);
    req.reference = req.timeline.size();
    if (!job.input.path.empty()) req.timeline.push_back(job.input.path);
    req.timeline.insert(req.timeline.end(), c.inputs.begin(), c.inputs.end());
    if (req.timeline.size() == req.reference)
      fail<SpecError>(ErrorCode::InvalidKey, "{}: input.concat: no main inputs (give input.path, inputs or list)",
                      job.file.empty() ? std::string("concat") : job.file.string());
    if (!c.outro.empty()) req.timeline.push_back(c.outro);
    req.has_outro = !c.outro.empty();
    req.fill_silence = c.fill_silence;
    job.input.path = req.timeline[req.reference];
  }
  req.input = job.input.path;
  req.video_stream = job.input.video_stream;
  req.audio_stream = job.input.audio_stream;
  req.clip = job.input.clip;
  req.mix = job.input.mix;
  std::optional<int> height;  // probed once, only for ladders
  for (size_t i = 0; i < job.outputs.size(); ++i) {
    auto& o = job.outputs[i];
    const fs::path path = expand_output_pattern(o.path, job.input.path, fmt::format("outputs[{}].path", i));
    if (!o.ladder.empty()) {
      if (!height) height = source_height(job);
      expand_ladder(o, path, catalog, extra, *height, req);
      continue;
    }
    TranscodeOutput out;
    out.path = path;
    out.tmpl = resolve_output_template(catalog, o, out.path, extra);
    out.user_data = o.user_data;
    out.marks = std::move(o.marks);
    out.subtitles = o.subtitles;
    req.outputs.push_back(std::move(out));
  }
  return req;
}

nlohmann::json to_json(const TranscodeResult& r) {
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& o : r.outputs)
    outputs.push_back({{"path", o.path.string()},
                       {"template", o.template_name},
                       {"user_data", o.user_data},
                       {"video_frames", o.video_frames},
                       {"bytes", o.bytes},
                       {"files", [&] {
                          std::vector<std::string> v;
                          for (const auto& f : o.files) v.push_back(f.string());
                          return v;
                        }()},
                       {"media_info", to_json(o.info)}});
  nlohmann::json j = {{"schema", "gopcast.result/1"},
                       {"input", r.input.string()},
                       {"seconds", r.seconds},
                       {"media_seconds", r.media_seconds},
                       {"speed", r.seconds > 0 ? r.media_seconds / r.seconds : 0.0},
                       {"outputs", outputs}};
  if (!r.timeline.empty()) {
    nlohmann::json timeline = nlohmann::json::array();
    for (const auto& e : r.timeline)
      timeline.push_back({{"input", e.input.string()}, {"start", e.start}, {"duration", e.duration},
                          {"audio", e.silence ? "silence" : "source"}});
    j["timeline"] = std::move(timeline);
  }
  if (r.parallel) {
    const auto& p = *r.parallel;
    j["parallel"] = {{"engine", p.engine},         {"workers", p.workers},   {"segments", p.segments},
                     {"resumed_segments", p.resumed_segments}, {"manifest", p.manifest.string()}, {"phases", p.phases},
                     {"coordinator_peak_rss_kib", p.coordinator_peak_rss_kib}};
  }
  return j;
}

}  // namespace gopcast
