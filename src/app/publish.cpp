#include "app/publish.hpp"

#include <signal.h>
#include <unistd.h>

#include "av/probe.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "plan/dash.hpp"
#include "plan/playlist.hpp"
#include "sched/failpoint.hpp"

namespace fs = std::filesystem;

namespace gopcast::app {

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
// key URIs point elsewhere (a key server) is read through a private copy of its
// playlist that names the local key files instead (its writer rendered it).
MediaInfo probe_output(const fs::path& path, const std::optional<engine::HlsStats>& hls) {
  if (!hls || hls->local_playlist.empty()) return probe(path);
  const fs::path copy = fs::temp_directory_path() / fmt::format("gopcast-probe-{}-{}.m3u8", ::getpid(), path.stem().string());
  files::write_atomic(copy, hls->local_playlist, 0600);
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

std::vector<OutputResult> publish(const TranscodeRequest& request, PreparedTranscode& prepared,
                                  const std::vector<int64_t>& video_frames) {
  const auto& stills = prepared.stills;
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
                          plan::render_mpd(reps, request.ladders[k].hls_segment_seconds));
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
  // Everything is written: one publication, the masters last (they name the renditions).
  std::vector<StagedOutput*> all;
  for (auto& s : prepared.staged) all.push_back(s.get());
  all.insert(all.end(), stills.begin(), stills.end());
  for (auto& m : prepared.masters) all.push_back(m.get());
  std::function<void(size_t)> after_rename;
  if (const auto& fp = sched::failpoint(); fp && fp->publish_renames > 0)
    after_rename = [n = static_cast<size_t>(fp->publish_renames)](size_t done) {
      if (done == n) ::kill(::getpid(), SIGKILL);
    };
  const auto published = publish_together(all, publication_journal(*claimed_outputs(request).begin()), after_rename);

  std::vector<OutputResult> results;
  for (size_t i = 0; i < prepared.staged.size(); ++i) {
    OutputResult r;
    // HLS writes its segments beside the playlist; everything else is one file.
    r.files = published[i];
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.outputs[i].path;
    r.template_name = request.outputs[i].tmpl.name;
    r.user_data = request.outputs[i].user_data;
    r.video_frames = video_frames[i];
    r.info = probe_output(r.path, i < prepared.hls.size() ? prepared.hls[i] : std::nullopt);
    results.push_back(std::move(r));
  }
  for (size_t k = 0; k < request.ladders.size(); ++k) {
    OutputResult r;
    r.files = published[prepared.staged.size() + stills.size() + k];
    for (const auto& f : r.files) r.bytes += static_cast<int64_t>(fs::file_size(f));
    r.path = request.ladders[k].master;
    r.template_name = "ladder:" + request.ladders[k].name;
    r.user_data = request.ladders[k].user_data;
    r.info = probe(r.path);
    results.push_back(std::move(r));
  }
  return results;
}

std::set<fs::path> claimed_outputs(const TranscodeRequest& request) {
  std::set<fs::path> claimed;
  for (const auto& o : request.outputs) claimed.insert(fs::absolute(o.path).lexically_normal());
  for (const auto& l : request.ladders) claimed.insert(fs::absolute(l.master).lexically_normal());
  return claimed;
}

void recover_outputs(const std::set<fs::path>& claimed, const PreparedTranscode& prepared) {
  std::set<fs::path> ours;
  for (const auto* list : {&prepared.staged, &prepared.masters})
    for (const auto& s : *list) ours.insert(fs::absolute(s->staging_dir()).lexically_normal());
  for (const auto* s : prepared.stills) ours.insert(fs::absolute(s->staging_dir()).lexically_normal());
  for (const auto& output : claimed) {
    const auto finished = finish_publication(publication_journal(output));
    if (!finished.empty())
      log::warn("{}: completed the publication of a run killed while publishing ({} files)", output.string(), finished.size());
    for (const auto& p : remove_orphaned_staging(output, ours))
      log::info("{}: removed {}, left by a run that was killed", output.string(), p.string());
  }
}

}  // namespace gopcast::app
