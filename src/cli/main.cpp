// gopcast: the command-line front over libgopcast. Argument parsing, rendering
// and exit statuses only; all work happens in the library.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "av/check.hpp"
#include "av/codec.hpp"
#include "av/probe.hpp"
#include "cli/jobs_cli.hpp"
#include "cli/render.hpp"
#include "cli/stills_cli.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "app/progress_line.hpp"
#include "app/report.hpp"
#include "app/run.hpp"
#include "ops/stills.hpp"
#include "sched/simulate.hpp"
#include "serve/server.hpp"
#include "spec/catalog.hpp"
#include "spec/keys.hpp"
#include "spec/job.hpp"

namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_signal(int) { g_cancel = true; }

struct Common {
  bool json = false;
  bool quiet = false;
  int verbose = 0;
};

void apply_verbosity(const Common& c) {
  using gopcast::log::Level;
  gopcast::log::set_level(gopcast::log::level_for(c.quiet, c.verbose));
  gopcast::av::configure_logging();
}

void add_common(CLI::App* app, Common& c, bool json = true) {
  if (json) app->add_flag("--json", c.json, "Machine-readable JSON on stdout");
  app->add_flag("-q,--quiet", c.quiet, "No warnings or progress");
  app->add_flag("-v,--verbose", c.verbose, "More detail (repeat for libav's own log)");
}

struct Parallel {
  std::optional<int> workers;
  std::optional<double> segment_seconds;
  std::optional<int> max_attempts;
  std::string manifest;
  bool wait_lock = false;
};

void add_parallel(CLI::App* app, Parallel& p) {
  app->add_option("-n,--workers", p.workers, "Local workers encoding segments at once (default: one per core)");
  app->add_option("--segment-seconds", p.segment_seconds,
                  fmt::format("Target segment length, cut at keyframes (default {} s; 0: one segment)", gopcast::kDefaultSegmentSeconds));
  app->add_option("--max-attempts", p.max_attempts,
                  fmt::format("Tries of a segment before it fails the job (default {})", gopcast::kDefaultMaxAttempts));
  app->add_option("--manifest", p.manifest, "Segment manifest (HDF5) path (default: <first output>.manifest.h5)");
  app->add_flag("--wait-lock", p.wait_lock, gopcast::app::kWaitLockHelp);
}

// transcode and run: resolve the job, show progress on a terminal, print the result.
void run_job(gopcast::Job job, const std::vector<std::string>& sets, const Parallel& par, const std::string& label,
             const Common& common) {
  gopcast::app::RunOptions options;
  options.sets = sets;
  options.workers = par.workers;
  options.segment_seconds = par.segment_seconds;
  options.max_attempts = par.max_attempts;
  options.manifest = par.manifest;
  options.wait_lock = par.wait_lock;
  options.workers_key = "--workers";
  options.segment_seconds_key = "--segment-seconds";
  options.max_attempts_key = "--max-attempts";
  const gopcast::app::RunRequest request = gopcast::app::resolve(std::move(job), options);
  std::unique_ptr<gopcast::app::ProgressLine> line;
  if (!common.quiet && !common.json) line = std::make_unique<gopcast::app::ProgressLine>(label);
  gopcast::app::RunControl control;
  control.cancel = &g_cancel;
  if (line) control.progress = [&line](const gopcast::app::Progress& p) { line->update(p); };
  const gopcast::app::RunResult r = gopcast::app::run(request, control);
  line.reset();
  if (common.json) std::cout << gopcast::app::result_json(r).dump(2) << "\n";
  else std::cout << gopcast::cli::result_summary(r);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gopcast;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  CLI::App app{"gopcast: segment-parallel media transcoding for clusters and single machines"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("gopcast ") + GOPCAST_VERSION_STRING);
  Common common;

  // probe
  auto* probe_cmd = app.add_subcommand("probe", "Show media information of a file (as ffprobe sees it)");
  std::string probe_path;
  probe_cmd->add_option("FILE", probe_path, "Media file")->required();
  add_common(probe_cmd, common);

  // templates
  auto* templates_cmd = app.add_subcommand("templates", "List and show transcoding templates");
  templates_cmd->require_subcommand(1);
  auto* tlist = templates_cmd->add_subcommand("list", "List shipped and custom templates");
  add_common(tlist, common);
  auto* tshow = templates_cmd->add_subcommand("show", "Print a template as resolved TOML (bases and --set applied)");
  std::string show_name;
  std::vector<std::string> show_sets;
  tshow->add_option("NAME", show_name, "Template name or .toml path")->required();
  tshow->add_option("--set", show_sets, "Override a field, e.g. video.crf=20 (repeatable)");
  add_common(tshow, common, false);
  auto* tkeys = templates_cmd->add_subcommand("keys", "List every template key with its values and meaning");
  add_common(tkeys, common);

  // transcode
  auto* tc = app.add_subcommand("transcode", "Transcode an input (or concatenate several) to one output");
  std::vector<std::string> tc_inputs;
  std::string tc_output, tc_template, tc_vstream, tc_astream, tc_user, tc_ladder;
  std::vector<std::string> tc_sets;
  tc->add_option("INPUT", tc_inputs, "Input media file; several are concatenated in order (docs/concat.md)")->required();
  Concat tc_concat;
  std::string tc_list;
  tc->add_option("--list", tc_list, "Concatenate the inputs listed in a file (one path per line, # comments), after INPUT");
  tc->add_option("--intro", tc_concat.intro, "Concatenation: an opening clip before the inputs");
  tc->add_option("--outro", tc_concat.outro, "Concatenation: a closing clip after the inputs");
  tc->add_flag("--fill-silence", tc_concat.fill_silence, "Concatenation: silence for inputs without audio (otherwise an error)");
  tc->add_option("-o,--output", tc_output, "Output path; {name} {ext} {dir} expand from the input")->required();
  tc->add_option("-t,--template", tc_template, "Template name or .toml path (default: by the output's extension)");
  tc->add_option("--ladder", tc_ladder, "A bitrate ladder (templates/ladders/): the output is its HLS master playlist")
      ->excludes(tc->get_option("-t"));
  tc->add_option("--set", tc_sets, "Override a template field, e.g. video.crf=20 (repeatable)");
  tc->add_option("--video-stream", tc_vstream, "Video stream to use, e.g. 0:v:1 (default: the best)");
  tc->add_option("--audio-stream", tc_astream, "Audio stream to use, e.g. 0:a:1 (default: the best)");
  tc->add_option("--user-data", tc_user, "Free text carried into the result");
  Clip tc_clip;
  tc->add_option("--start", tc_clip.start, "Clip: start this many seconds into the input (frame-exact)")->check(CLI::Range(0.0, 1e7));
  auto* tc_duration = tc->add_option("--duration", tc_clip.duration, "Clip: this many seconds from the start")->check(CLI::Range(1e-3, 1e7));
  tc->add_option("--end-offset", tc_clip.end_offset, "Clip: end this many seconds before the input's end (cut a tail)")
      ->check(CLI::Range(0.0, 1e7))
      ->excludes(tc_duration);
  AudioMix tc_mix;
  std::string tc_mix_duration = "first";
  tc->add_option("--mix", tc_mix.path, "Background audio (music) to mix under the input's audio");
  tc->add_option("--mix-gain", tc_mix.gain_db, "Its level against the input's audio, dB (default -12)")->check(CLI::Range(-60.0, 20.0));
  tc->add_option("--mix-duration", tc_mix_duration, "first: as long as the input's audio; longest: as long as the longer")
      ->check(CLI::IsMember(enum_names(MixDuration{}).names()));
  std::vector<std::string> tc_marks, tc_text_marks, tc_delogo;
  tc->add_option("--watermark", tc_marks,
                 "An image watermark: IMAGE[,template=NAME][,position=P][,dx=..][,dy=..][,width=..][,height=..][,opacity=..]"
                 "[,start=S][,duration=D] (repeatable; docs/watermarks.md)");
  tc->add_option("--text-watermark", tc_text_marks,
                 "A text watermark: TEXT[,font=..][,size=..][,color=..][,opacity=..][,position=..][,dx=..][,dy=..][,start=S]"
                 "[,duration=D] (repeatable)");
  tc->add_option("--delogo", tc_delogo, "Hide a rectangle of the input picture: X,Y,W,H[,START,DURATION] (repeatable)");
  std::vector<std::string> tc_subtitles;
  tc->add_option("--subtitles", tc_subtitles,
                 "Subtitle file (SRT, WebVTT, ASS): FILE[:charset=gbk,mode=soft|burn,lang=eng,title=T,font=F,font_size=N] (repeatable)")
      ->allow_extra_args(false);
  Parallel par;
  add_parallel(tc, par);
  add_common(tc, common);

  // run
  auto* run_cmd = app.add_subcommand("run", "Run a job file (one input, one or more outputs)");
  std::string job_path;
  std::vector<std::string> run_sets;
  run_cmd->add_option("JOB", job_path, "Job file (TOML)")->required();
  run_cmd->add_option("--set", run_sets, "Override a field of every output's template (repeatable)");
  add_parallel(run_cmd, par);
  add_common(run_cmd, common);

  // version
  auto* version_cmd = app.add_subcommand("version", "Show versions of gopcast and the libraries it runs on");
  add_common(version_cmd, common);

  // errors
  auto* errors_cmd = app.add_subcommand("errors", "List the error codes and exit statuses");
  add_common(errors_cmd, common);

  // serve
  auto* serve_cmd = app.add_subcommand("serve", "Serve an output folder over HTTP, with a web player (hls.js) at /");
  serve::ServeOptions serve_opts;
  std::string serve_dir;
  serve_cmd->add_option("DIR", serve_dir, "Folder to serve")->required();
  serve_cmd->add_option("--port", serve_opts.port, "TCP port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--bind", serve_opts.bind, "Address to listen on (0.0.0.0: every interface)")->capture_default_str();
  serve_cmd->add_option("--max-connections", serve_opts.max_connections, "Connections open at once, all clients")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  serve_cmd->add_option("--max-per-client", serve_opts.max_per_client, "Connections open at once from one address")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  add_common(serve_cmd, common, false);

  // simulate
  auto* sim_cmd = app.add_subcommand(
      "simulate", "Run the scheduler, dispatch and gather of a segment-parallel job on simulated ranks (no media)");
  sched::SimSetup sim;
  std::string sim_manifest;
  sim_cmd->add_option("--ranks", sim.ranks, "Simulated ranks")->capture_default_str();
  sim_cmd->add_option("--segments", sim.segments, "Segments of the job")->capture_default_str();
  sim_cmd->add_option("--segment-seconds", sim.segment_seconds, "Media seconds per segment")->capture_default_str();
  sim_cmd->add_option("--fps", sim.fps, "Frames per second")->capture_default_str();
  sim_cmd->add_option("--speed", sim.speed, "Media seconds one rank encodes per second")->capture_default_str();
  sim_cmd->add_option("--jitter", sim.jitter, "Spread of a segment's encode time (fraction either way)")->capture_default_str();
  sim_cmd->add_option("--audio-fraction", sim.audio_fraction,
                      "The serial audio task's encode time as a fraction of the video's (0: no audio)")
      ->capture_default_str();
  sim_cmd->add_option("--segment-bytes", sim.segment_bytes, "Encoded bytes per segment")->capture_default_str();
  sim_cmd->add_option("--gather-bytes-per-second", sim.gather_bytes_per_second, "The gather's write speed")->capture_default_str();
  sim_cmd->add_option("--message-seconds", sim.message_seconds, "Latency of one message to or from a rank")->capture_default_str();
  sim_cmd->add_option("--failure-rate", sim.failure_rate, "Fraction of first attempts that fail and are retried")->capture_default_str();
  sim_cmd->add_option("--max-attempts", sim.max_attempts, "Tries of one segment")->capture_default_str();
  sim_cmd->add_flag("--in-order", sim.in_order, "Hand segments out in timeline order (a live playlist)");
  sim_cmd->add_option("--manifest", sim_manifest, "Write the run's HDF5 manifest here, as a real run does");
  sim_cmd->add_option("--seed", sim.seed, "Seed of the synthetic encode times")->capture_default_str();
  add_common(sim_cmd, common);

  // submit, jobs, pipelines
  cli::JobsCli jobs_cli(app, common.json, g_cancel);
  cli::StillsCli stills_cli(app, common.json, g_cancel);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const auto& info = error_code_info(ErrorCode::Usage);
    std::fprintf(stderr, "gopcast: error: %s: %s (see gopcast --help)\n", std::string(info.name).c_str(), e.what());
    return info.exit_status;
  }
  apply_verbosity(common);

  try {
    if (auto status = jobs_cli.dispatch()) return *status;
    if (auto status = stills_cli.dispatch()) return *status;
    if (*probe_cmd) {
      MediaInfo info = probe(probe_path);
      if (common.json) std::cout << to_json(info).dump(2) << "\n";
      else std::cout << cli::media_table(info);
    } else if (*tlist) {
      Catalog catalog = Catalog::standard();
      if (common.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : catalog.list()) list.push_back({{"name", e.name}, {"path", e.path.string()}});
        std::cout << list.dump(2) << "\n";
      } else {
        std::cout << cli::templates_table(catalog);
      }
    } else if (*tkeys) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& k : spec::template_keys()) {
        if (common.json) list.push_back({{"key", k.dotted()}, {"values", k.values}, {"doc", k.doc}});
        else std::cout << fmt::format("{:<26} {:<40} {}\n", k.dotted(), k.values, k.doc);
      }
      if (common.json) std::cout << list.dump(2) << "\n";
    } else if (*tshow) {
      Template t = Catalog::standard().load(show_name, show_sets);
      std::cout << t.to_table() << "\n";
    } else if (*tc) {
      JobOutput out;
      out.path = tc_output;
      out.template_name = tc_template;
      out.ladder = tc_ladder;
      out.user_data = tc_user;
      out.origin = tc_template.empty() ? "transcode" : tc_template;
      out.marks = marks_from_options(tc_marks, tc_text_marks, tc_delogo, Catalog::standard());
      for (const auto& s : tc_subtitles) out.subtitles.push_back(parse_subtitle_option(s));
      Job job;
      tc_mix.duration = *parse_enum<MixDuration>(tc_mix_duration);
      for (size_t i = 1; i < tc_inputs.size(); ++i) tc_concat.inputs.emplace_back(tc_inputs[i]);
      if (!tc_list.empty())
        for (auto& p : read_concat_list(tc_list)) tc_concat.inputs.push_back(std::move(p));
      job.input = {tc_inputs.front(), tc_vstream, tc_astream, tc_clip, tc_mix, tc_concat};
      job.outputs.push_back(out);
      run_job(std::move(job), tc_sets, par, "transcoding", common);
    } else if (*run_cmd) {
      run_job(load_job(job_path), run_sets, par, "running " + job_path, common);
    } else if (*serve_cmd) {
      serve_opts.root = serve_dir;
      serve::Server server(serve_opts);
      std::cout << fmt::format("serving {} at {}", server.root().string(), server.url()) << std::endl;
      server.run(g_cancel);
    } else if (*sim_cmd) {
      sim.manifest = sim_manifest;
      const sched::SimReport r = sched::simulate(sim);
      if (common.json) std::cout << sched::to_json(r).dump(2) << "\n";
      else
        std::cout << fmt::format(
            "{} segments on {} ranks: speed-up {:.1f}x, efficiency {:.1f}%, first segment at {:.1f} s of {:.1f} s\n"
            "coordinator: {:.3f} CPU s ({:.2f} us per segment), peak RSS {} KiB, {} manifest writes ({:.1f} ms each), {} retried\n",
            sim.segments, sim.ranks, r.speedup, 100 * r.efficiency, r.first_segment_seconds, r.makespan_seconds,
            r.coordinator_cpu_seconds, r.coordinator_us_per_segment, r.peak_rss_kib, r.manifest_writes, 1e3 * r.manifest_write_seconds, r.retried);
    } else if (*version_cmd) {
      nlohmann::json v = {{"gopcast", GOPCAST_VERSION_STRING},
                          {"libavcodec", av::libavcodec_version()},
                          {"libavformat", av::libavformat_version()},
                          {"x264_asm", av::x264_reproducible_cpu_flags()}};
      if (common.json) std::cout << v.dump(2) << "\n";
      else
        std::cout << fmt::format("gopcast {}\n{}, {}\nx264 CPU flags (asm=): {} (AVX-512 left out: see docs/benchmarks.md)\n",
                                 GOPCAST_VERSION_STRING, av::libavcodec_version(), av::libavformat_version(), av::x264_reproducible_cpu_flags());
    } else if (*errors_cmd) {
      if (common.json) std::cout << app::error_codes_json().dump(2) << "\n";
      else
        for (const auto& c : error_codes()) std::cout << fmt::format("{:>4}  {:<38} {}\n", c.exit_status, c.name, c.meaning);
    }
    return 0;
  } catch (const Error& e) {
    if (common.json) std::cout << app::error_json(e).dump(2) << "\n";
    std::fprintf(stderr, "gopcast: error: %s: %s\n", std::string(e.code_name()).c_str(), e.what());
    return e.exit_status();
  } catch (const std::exception& e) {
    const auto& info = error_code_info(ErrorCode::Internal);
    std::fprintf(stderr, "gopcast: error: %s: %s\n", std::string(info.name).c_str(), e.what());
    return info.exit_status;
  }
}
