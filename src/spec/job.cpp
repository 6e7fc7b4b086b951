#include "spec/job.hpp"

#include "core/paths.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;

namespace gopcast {

namespace {

// [[outputs.subtitles]]: external subtitle tracks of one output.
template <typename Resolve>
void read_output_subtitles(const toml::node& node, const std::string& key, const std::string& origin, Resolve&& resolve,
                           std::vector<SubtitleSpec>& out) {
  const toml::array* list = node.as_array();
  if (!list) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}.subtitles: expected [[outputs.subtitles]] tables", spec::where(node, origin), key);
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string sub_key = fmt::format("{}.subtitles[{}]", key, i);
    const toml::table* t = (*list)[i].as_table();
    if (!t) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: expected a table", spec::where((*list)[i], origin), sub_key);
    spec::TableReader r(t, sub_key, origin);
    out.push_back(read_subtitle_spec(r, fmt::format("{}: {}", origin, sub_key), [&](const std::string& p) { return resolve(p); }));
  }
}

}  // namespace

const EnumNames<MixDuration>& enum_names(MixDuration) {
  static const EnumNames<MixDuration> names{{MixDuration::first, "first"}, {MixDuration::longest, "longest"}};
  return names;
}

Job load_job(const fs::path& path, bool input_optional) {
  toml::table table = spec::parse_file(path);
  const std::string origin = path.string();
  Job job;
  job.file = path;
  const fs::path base = path.parent_path();
  auto resolve = [&](const std::string& p) {
    return (fs::path(p).is_relative() && !base.empty() ? (base / p) : fs::path(p)).lexically_normal();
  };

  spec::TableReader root(&table, "", origin);
  auto input = root.table("input");
  auto in_path = input.string("path");
  if (in_path) job.input.path = resolve(*in_path);
  if (auto v = input.string("video_stream")) job.input.video_stream = *v;
  if (auto v = input.string("audio_stream")) job.input.audio_stream = *v;
  if (auto v = input.boolean("special_files")) job.input.special_files = *v;
  // An array of paths at `key` of `table` (dotted `name` in messages), each resolved.
  auto paths = [&](spec::TableReader& table, const char* key, const std::string& name, const char* what) {
    std::vector<fs::path> out;
    if (const toml::node* list = table.raw(key)) {
      const toml::array* a = list->as_array();
      if (!a) table.fail_at(key, ErrorCode::InvalidKey, fmt::format("expected an array of {}s", what));
      for (size_t i = 0; i < a->size(); ++i) {
        const auto* p = (*a)[i].as_string();
        if (!p || p->get().empty())
          fail<SpecError>(ErrorCode::InvalidKey, "{}: {}[{}]: expected a {}", spec::where((*a)[i], origin), name, i, what);
        out.push_back(resolve(p->get()));
      }
    }
    return out;
  };
  job.input.hls_allow = paths(input, "hls_allow", "input.hls_allow", "folder");
  if (auto v = input.number("start", 0, 1e7)) job.input.clip.start = *v;
  job.input.clip.duration = input.number("duration", 1e-3, 1e7);
  job.input.clip.end_offset = input.number("end_offset", 0, 1e7);
  if (job.input.clip.duration && job.input.clip.end_offset)
    input.fail_at("end_offset", ErrorCode::Incompatible, "give duration or end_offset, not both");
  {
    auto mix = input.table("mix");
    auto mix_path = mix.string("path");
    if (mix_path) job.input.mix.path = resolve(*mix_path);
    auto gain = mix.number("gain", -60, 20);
    auto duration = mix.enumerated<MixDuration>("duration");
    if (gain) job.input.mix.gain_db = *gain;
    if (duration) job.input.mix.duration = *duration;
    if (!mix_path && (gain || duration))
      fail<SpecError>(ErrorCode::InvalidKey, "{}: input.mix.path: missing (the audio file to mix in)", origin);
    mix.finish();
  }
  {
    auto concat = input.table("concat");
    job.input.concat.inputs = paths(concat, "inputs", "input.concat.inputs", "path");
    if (auto v = concat.string("list")) {
      for (auto& p : read_concat_list(resolve(*v))) job.input.concat.inputs.push_back(std::move(p));
    }
    if (auto v = concat.string("intro")) job.input.concat.intro = resolve(*v);
    if (auto v = concat.string("outro")) job.input.concat.outro = resolve(*v);
    if (auto v = concat.boolean("fill_silence")) job.input.concat.fill_silence = *v;
    concat.finish();
  }
  input.finish();
  if (job.input.path.empty() && job.input.concat.inputs.empty() && !input_optional)
    fail<SpecError>(ErrorCode::InvalidKey, "{}: input.path: missing (the media file to transcode, or [input.concat] inputs)", origin);

  auto parallel = root.table("parallel");
  job.parallel.segment_seconds = parallel.number("segment_seconds", 0, kMaxSegmentSeconds);
  if (auto v = parallel.integer("max_attempts", 1, kMaxAttempts)) job.parallel.max_attempts = static_cast<int>(*v);
  if (auto v = parallel.string("manifest")) job.parallel.manifest = resolve(*v);
  parallel.finish();

  const toml::node* outputs = root.raw("outputs");
  const toml::array* array = outputs ? outputs->as_array() : nullptr;
  if (!array || array->empty())
    fail<SpecError>(ErrorCode::InvalidKey, "{}: outputs: missing (add at least one [[outputs]] table)", origin);
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table* t = (*array)[i].as_table();
    std::string key = fmt::format("outputs[{}]", i);
    if (!t) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: expected a table", spec::where((*array)[i], origin), key);
    spec::TableReader r(t, key, origin);
    JobOutput out;
    out.origin = fmt::format("{}: {}", origin, key);
    auto p = r.string("path");
    if (!p) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}.path: missing", spec::where(*t, origin), key);
    // "{dir}/..." is already anchored at the input's folder.
    out.path = p->starts_with("{dir}") ? *p : resolve(*p).string();
    if (auto v = r.string("template")) {
      // A template file named by a relative path is relative to the job file, like every path in it.
      const bool is_file = v->find('/') != std::string::npos || v->ends_with(".toml");
      out.template_name = is_file ? resolve(*v).string() : *v;
    }
    if (auto v = r.string("user_data")) out.user_data = *v;
    if (auto v = r.string("ladder")) {
      const bool is_file = v->find('/') != std::string::npos || v->ends_with(".toml");
      out.ladder = is_file ? resolve(*v).string() : *v;
      if (!out.template_name.empty())
        fail<SpecError>(ErrorCode::Incompatible, "{}: {}.ladder: give a ladder or a template, not both", spec::where(*t, origin), key);
    }
    if (const toml::node* o = r.raw("override")) {
      if (!o->is_table()) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}.override: expected a table", spec::where(*o, origin), key);
      // Moved, not copied, so errors in it can still name job.toml:line:col.
      out.override_table = std::move(*const_cast<toml::table*>(o->as_table()));
    }
    out.marks = read_output_marks(r, origin, base, Catalog::standard());
    if (const toml::node* subs = r.raw("subtitles")) read_output_subtitles(*subs, key, origin, resolve, out.subtitles);
    r.finish();
    job.outputs.push_back(std::move(out));
  }
  if (const toml::node* snaps = root.raw("snapshots")) {
    const toml::array* list = snaps->as_array();
    if (!list) fail<SpecError>(ErrorCode::InvalidKey, "{}: snapshots: expected [[snapshots]] tables", spec::where(*snaps, origin));
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      const std::string key = fmt::format("snapshots[{}]", i);
      if (!t) fail<SpecError>(ErrorCode::InvalidKey, "{}: {}: expected a table", spec::where((*list)[i], origin), key);
      spec::TableReader r(t, key, origin);
      SnapshotSpec snap = read_snapshot_spec(r, fmt::format("{}: {}", origin, key));
      // Like outputs: relative to the job file, "{dir}/..." anchored at the input's folder.
      auto place = [&](const std::string& p) {
        if (p.empty() || p.starts_with("{dir}")) return p;
        const bool folder = p.ends_with('/');
        std::string out = resolve(p).string();
        if (folder && !out.ends_with('/')) out += '/';
        return out;
      };
      snap.path = place(snap.path);
      snap.vtt = place(snap.vtt);
      if (snap.video_stream.empty()) snap.video_stream = job.input.video_stream;
      job.snapshots.push_back(std::move(snap));
    }
  }
  root.finish();
  return job;
}

toml::table job_to_table(const Job& job, bool literal_outputs) {
  auto escape = [](const std::string& p) {
    std::string out;
    for (char c : p) {
      if (c == '{' || c == '}') out += c;
      out += c;
    }
    return out;
  };
  toml::table input;
  if (!job.input.path.empty()) input.insert("path", job.input.path.string());
  if (!job.input.video_stream.empty()) input.insert("video_stream", job.input.video_stream);
  if (job.input.special_files) input.insert("special_files", true);
  if (!job.input.hls_allow.empty()) {
    toml::array folders;
    for (const auto& p : job.input.hls_allow) folders.push_back(p.string());
    input.insert("hls_allow", std::move(folders));
  }
  if (!job.input.audio_stream.empty()) input.insert("audio_stream", job.input.audio_stream);
  if (job.input.clip.start > 0) input.insert("start", job.input.clip.start);
  if (job.input.clip.duration) input.insert("duration", *job.input.clip.duration);
  if (job.input.clip.end_offset) input.insert("end_offset", *job.input.clip.end_offset);
  if (job.input.mix.active())
    input.insert("mix", toml::table{{"path", job.input.mix.path.string()},
                                    {"gain", job.input.mix.gain_db},
                                    {"duration", std::string(to_string(job.input.mix.duration))}});
  if (job.input.concat.active()) {
    const Concat& c = job.input.concat;
    toml::table concat;
    toml::array inputs;
    for (const auto& p : c.inputs) inputs.push_back(p.string());
    if (!inputs.empty()) concat.insert("inputs", std::move(inputs));
    if (!c.intro.empty()) concat.insert("intro", c.intro.string());
    if (!c.outro.empty()) concat.insert("outro", c.outro.string());
    if (c.fill_silence) concat.insert("fill_silence", true);
    input.insert("concat", std::move(concat));
  }
  toml::table root{{"input", std::move(input)}};
  toml::table parallel;
  if (job.parallel.segment_seconds) parallel.insert("segment_seconds", *job.parallel.segment_seconds);
  if (job.parallel.max_attempts) parallel.insert("max_attempts", *job.parallel.max_attempts);
  if (!job.parallel.manifest.empty()) parallel.insert("manifest", job.parallel.manifest.string());
  if (!parallel.empty()) root.insert("parallel", std::move(parallel));
  toml::array outputs;
  for (const auto& o : job.outputs) {
    toml::table t{{"path", literal_outputs ? escape(o.path) : o.path}};
    if (!o.template_name.empty()) t.insert("template", o.template_name);
    if (!o.ladder.empty()) t.insert("ladder", o.ladder);
    if (!o.user_data.empty()) t.insert("user_data", o.user_data);
    if (!o.override_table.empty()) t.insert("override", o.override_table);
    add_output_marks(t, o.marks);
    if (!o.subtitles.empty()) {
      toml::array subs;
      for (const auto& sub : o.subtitles) subs.push_back(subtitle_to_table(sub));
      t.insert("subtitles", std::move(subs));
    }
    outputs.push_back(std::move(t));
  }
  root.insert("outputs", std::move(outputs));
  if (!job.snapshots.empty()) {
    toml::array snaps;
    for (const auto& sn : job.snapshots) {
      toml::table t = snapshot_to_table(sn);
      if (literal_outputs) {
        t.insert_or_assign("path", escape(sn.path));
        if (!sn.vtt.empty()) t.insert_or_assign("vtt", escape(sn.vtt));
      }
      snaps.push_back(std::move(t));
    }
    root.insert("snapshots", std::move(snaps));
  }
  return root;
}

std::vector<fs::path> read_concat_list(const fs::path& list) {
  std::vector<fs::path> out = read_path_list(list, "concat list");
  if (out.empty()) fail<SpecError>(ErrorCode::OutOfRange, "{}: concat list: no inputs in it", list.string());
  return out;
}

Template resolve_output_template(const Catalog& catalog, JobOutput& output, const fs::path& output_path,
                                 const std::vector<std::string>& extra) {
  std::string name = output.template_name.empty() ? catalog.default_for(output_path) : output.template_name;
  return catalog.load(name, extra, std::move(output.override_table), output.origin);
}

}  // namespace gopcast
