// gopcast.Template, gopcast.Job, gopcast.Output and their views.
#include "spec.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <fstream>

#include "core/error.hpp"
#include "core/paths.hpp"
#include "app/request.hpp"
#include "spec/catalog.hpp"
#include "spec/keys.hpp"

namespace fs = std::filesystem;

namespace gopcast::python {

namespace {

// Attribute access, help() and tab completion come from the template key schema
// (spec/keys.hpp), as the parser does; t["group.key"] reaches any key.
bool known_key(const std::string& dotted) {
  return spec::find_template_key(dotted) != nullptr;
}

bool looks_like_file(const std::string& name) { return name.find('/') != std::string::npos || name.ends_with(".toml"); }

// A template named by a relative file is relative to the current folder (a job file's
// are relative to the job file; load_job resolves those).
std::string template_reference(py::handle value) {
  if (value.is_none()) return "";
  if (py::isinstance<TemplateObj>(value)) return value.cast<TemplateObj&>().reference();
  std::string name = to_path(value).string();
  return looks_like_file(name) ? fs::absolute(name).lexically_normal().string() : name;
}

std::string output_pattern(py::handle value) {
  std::string p = to_path(value).string();
  // "{dir}/..." is anchored at the input's folder, as in job files.
  return p.starts_with("{dir}") ? p : fs::absolute(p).lexically_normal().string();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) fail(ErrorCode::OutputNotWritable, "{}: cannot write the file", path.string());
}

// --- template group views -------------------------------------------------------

template <int G>
struct Group {
  std::shared_ptr<TemplateObj> owner;
};
constexpr const char* kGroupNames[] = {"video", "audio", "trans", "mux", "hls"};

py::object template_get(const TemplateObj& t, const std::string& key) {
  if (!known_key(key)) throw py::key_error(key);
  toml::table table = t.tmpl.to_table();
  const toml::node* n = find_dotted(table, key);
  return n ? to_python(*n) : py::none();
}

void template_set(TemplateObj& t, const std::string& key, py::handle value) {
  t.edit([&](toml::table& table) { set_dotted(table, key, value); });
}

template <int G>
void bind_group(py::module_& m, const char* class_name, const char* doc) {
  using View = Group<G>;
  const std::string group = kGroupNames[G];
  py::class_<View> cls(m, class_name, doc);
  for (const auto& k : spec::template_keys()) {
    if (k.group != group) continue;
    const std::string key = k.dotted();
    cls.def_property(
        k.name.c_str(), [key](const View& v) { return template_get(*v.owner, key); },
        [key](View& v, ValueArg value) { template_set(*v.owner, key, value); }, doc_string(k.values + ": " + k.doc));
  }
  cls.def(
      "to_dict",
      [group](const View& v) {
        toml::table table = v.owner->tmpl.to_table();
        const toml::node* n = table.get(group);
        return n ? to_python(*n) : py::object(py::dict());
      },
      "The group's keys that are set, as a dict.");
  cls.def("__repr__", [class_name, group](const View& v) {
    toml::table table = v.owner->tmpl.to_table();
    std::string out = std::string(class_name) + "(";
    bool first = true;
    if (const toml::node* n = table.get(group))
      for (const auto& [k, value] : *n->as_table()) {
        out += (first ? "" : ", ") + std::string(k.str()) + "=" + py::repr(to_python(value)).template cast<std::string>();
        first = false;
      }
    return out + ")";
  });
}

// --- overrides view ----------------------------------------------------------------

struct Overrides {
  std::shared_ptr<OutputObj> owner;
};

// An output as given; `validate`: check it now (attach() checks outputs made for a job).
std::shared_ptr<OutputObj> make_output(py::handle path, py::handle tmpl, py::handle overrides, const std::string& user_data,
                                       bool validate = true) {
  auto o = std::make_shared<OutputObj>();
  o->out.path = output_pattern(path);
  o->out.template_name = template_reference(tmpl);
  o->out.user_data = user_data;
  if (!overrides.is_none()) merge_settings(o->out.override_table, overrides);
  if (validate) o->edit([](JobOutput&) {});
  return o;
}

std::shared_ptr<OutputObj> attach(const std::shared_ptr<JobObj>& job, const OutputObj& source) {
  auto o = std::make_shared<OutputObj>();
  o->out = source.out;  // a copy: the job owns its outputs
  o->from_file = false;
  o->job = job;
  job->outputs.push_back(o);  // first: its origin is its index in the job
  try {
    o->edit([](JobOutput&) {});  // the job's input may decide the template ({ext})
  } catch (...) {
    job->outputs.pop_back();
    throw;
  }
  return o;
}

size_t output_index(const JobObj& job, py::handle which) {
  if (py::isinstance<OutputObj>(which)) {
    const OutputObj* target = &which.cast<OutputObj&>();
    for (size_t i = 0; i < job.outputs.size(); ++i)
      if (job.outputs[i].get() == target) return i;
    throw py::value_error("that output is not one of this job's");
  }
  auto i = which.cast<py::ssize_t>();
  const auto n = static_cast<py::ssize_t>(job.outputs.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) throw py::index_error("output index out of range");
  return static_cast<size_t>(i);
}

std::shared_ptr<TemplateObj> template_from_catalog(const std::string& name_or_path, py::handle overrides) {
  const Catalog catalog = Catalog::standard();
  auto t = std::make_shared<TemplateObj>();
  t->tmpl = catalog.load(name_or_path, set_strings(overrides));
  if (looks_like_file(name_or_path)) {
    t->path = fs::absolute(name_or_path).lexically_normal();
    t->source = t->path->string();
  } else {
    t->source = name_or_path;
    for (const auto& e : catalog.list())
      if (e.name == name_or_path) t->path = e.path;
  }
  t->changed = !set_strings(overrides).empty();
  return t;
}

}  // namespace

// --- TemplateObj / OutputObj / JobObj -------------------------------------------------

void TemplateObj::edit(const std::function<void(toml::table&)>& change) {
  toml::table table = tmpl.to_table();
  change(table);
  tmpl = template_from_table(table, tmpl.name, label());
  changed = true;
}

std::string TemplateObj::reference() const {
  if (!changed && !source.empty()) return source;
  if (changed || !path)
    fail(ErrorCode::Usage, "template \"{}\" has changes that are in no file: save it first (Template.save(path))", tmpl.name);
  return path->string();
}

std::string OutputObj::origin() const {
  if (from_file) return out.origin;
  auto j = job.lock();
  if (!j) return "output";
  for (size_t i = 0; i < j->outputs.size(); ++i)
    if (j->outputs[i].get() == this) return j->file.empty() ? fmt::format("outputs[{}]", i) : fmt::format("{}: outputs[{}]", j->file.string(), i);
  return "output";
}

void OutputObj::edit(const std::function<void(JobOutput&)>& change) {
  JobOutput next = out;
  change(next);
  next.origin = origin();
  // The template as the run will resolve it: for the job's input when the path's
  // extension is a placeholder ({ext}), which only the input decides.
  fs::path where = next.path;
  auto j = job.lock();
  if (j && !j->input.path.empty()) where = expand_output_pattern(next.path, j->input.path, "path");
  if (!next.template_name.empty() || where.extension().string().find('{') == std::string::npos) {
    JobOutput check = next;
    resolve_output_template(Catalog::standard(), check, where, {});
  }
  out = std::move(next);
}

Job JobObj::to_job() const {
  Job job;
  job.file = file;
  job.input = input;
  job.parallel = parallel;
  for (const auto& o : outputs) {
    job.outputs.push_back(o->out);
    job.outputs.back().origin = o->origin();
  }
  return job;
}

Job job_from_python(py::handle job) {
  if (py::isinstance<JobObj>(job)) return job.cast<JobObj&>().to_job();
  return load_job(to_path(job, true));
}

void write_job(const Job& job, const fs::path& file) { write_text(file, toml_text(job_to_table(job))); }

// --- registration --------------------------------------------------------------------

void register_spec(py::module_& m) {
  m.def(
      "templates",
      [] {
        py::list out;
        for (const auto& e : Catalog::standard().list()) {
          py::dict d;
          d["name"] = e.name;
          d["path"] = e.path.string();
          out.append(d);
        }
        return out;
      },
      "The templates there are (shipped ones, and those in the folders on GOPCAST_TEMPLATE_PATH),\n"
      "as `gopcast templates list --json` lists them: [{\"name\": ..., \"path\": ...}, ...].");

  bind_group<0>(m, "VideoSettings", "The [video] keys of a Template (docs/templates.md). Set them to change the template.");
  bind_group<1>(m, "AudioSettings", "The [audio] keys of a Template.");
  bind_group<2>(m, "TransSettings", "The [trans] keys of a Template.");
  bind_group<3>(m, "MuxSettings", "The [mux] keys of a Template.");
  bind_group<4>(m, "HlsSettings", "The [hls] keys of a Template: encryption, live playlists, fMP4 segments and DASH of m3u8 outputs.");
  // The schema itself, for tools and the stubs' test: every key with its values, doc and Python type.
  m.def(
      "template_keys",
      [] {
        py::list out;
        for (const auto& k : spec::template_keys()) {
          py::dict d;
          d["key"] = k.dotted();
          d["values"] = k.values;
          d["doc"] = k.doc;
          d["python"] = k.python;
          out.append(d);
        }
        return out;
      },
      "Every template key (the schema the parser reads by): dicts of key (\"video.crf\"), values, doc and python (its type).");

  py::class_<TemplateObj, std::shared_ptr<TemplateObj>> tmpl(m, "Template", R"doc(
A transcoding template: container, video, audio, trans, mux and hls settings (docs/templates.md).

Load one with Template.load("android-mp4-720p") or Template.load("mine.toml"), change it
through its groups (t.video.crf = 20) or by dotted key (t["video.crf"] = 20), and save it
with t.save("mine.toml"). Every change is validated at once: a bad value raises OutOfRange,
InvalidKey or Incompatible (all ValueError) naming the key, and leaves the template as it was.
Setting a key to None removes it (back to the default).)doc");
  tmpl.def(py::init([](OptPathArg base, MappingArg overrides, std::optional<std::string> name) {
             std::shared_ptr<TemplateObj> t;
             if (!base.is_none()) {
               t = template_from_catalog(to_path(base).string(), py::none());
               if (!overrides.is_none()) t->edit([&](toml::table& table) { merge_settings(table, overrides); });
             } else {
               t = std::make_shared<TemplateObj>();
               toml::table table;
               if (!overrides.is_none()) merge_settings(table, overrides);
               t->tmpl = template_from_table(table, name.value_or("custom"), name.value_or("template"));
               t->changed = true;
             }
             if (name) t->edit([&](toml::table& table) { table.insert_or_assign("name", *name); });
             return t;
           }),
           py::arg("base") = py::none(), py::arg("overrides") = py::none(), py::arg("name") = py::none(),
           "A new template: the defaults, or `base` (a template name or .toml file) with `overrides`\n"
           "({\"video.crf\": 20} or {\"video\": {\"crf\": 20}}) applied, named `name`.");
  tmpl.def_static(
      "load",
      [](PathArg name_or_path, OverridesArg overrides) { return template_from_catalog(to_path(name_or_path).string(), overrides); },
      py::arg("name_or_path"), py::arg("overrides") = py::none(),
      "Loads a template by catalogue name or .toml path, its bases applied, then `overrides`\n"
      "(a dict of dotted keys, a nested dict, or a list of \"key=value\" strings) exactly as\n"
      "`gopcast templates show NAME --set key=value` applies them (same errors and messages).");
  tmpl.def_property(
      "name", [](const TemplateObj& t) { return t.tmpl.name; },
      [](TemplateObj& t, const std::string& v) { t.edit([&](toml::table& table) { table.insert_or_assign("name", v); }); },
      "The template's name (shown in results).");
  tmpl.def_property(
      "description", [](const TemplateObj& t) { return t.tmpl.description; },
      [](TemplateObj& t, const std::string& v) { t.edit([&](toml::table& table) { table.insert_or_assign("description", v); }); });
  tmpl.def_property(
      "container", [](const TemplateObj& t) { return std::string(to_string(t.tmpl.container)); },
      [](TemplateObj& t, ValueArg v) { template_set(t, "container.format", v); },
      "mp4 | m4a | mov | mkv | flv | ts | m3u8 | gif | mp3 | ogg | flac");
  tmpl.def_property_readonly(
      "video", [](std::shared_ptr<TemplateObj> t) { return Group<0>{std::move(t)}; }, "The [video] settings.");
  tmpl.def_property_readonly(
      "audio", [](std::shared_ptr<TemplateObj> t) { return Group<1>{std::move(t)}; }, "The [audio] settings.");
  tmpl.def_property_readonly(
      "trans", [](std::shared_ptr<TemplateObj> t) { return Group<2>{std::move(t)}; }, "The [trans] settings.");
  tmpl.def_property_readonly(
      "mux", [](std::shared_ptr<TemplateObj> t) { return Group<3>{std::move(t)}; }, "The [mux] settings.");
  tmpl.def_property_readonly(
      "hls", [](std::shared_ptr<TemplateObj> t) { return Group<4>{std::move(t)}; }, "The [hls] settings.");
  tmpl.def_property_readonly(
      "path", [](const TemplateObj& t) { return t.path; }, "The file it was loaded from or last saved to (None: none).");
  tmpl.def_property_readonly(
      "changed", [](const TemplateObj& t) { return t.changed; }, "Whether it has changes not saved to a file.");
  tmpl.def("__getitem__", &template_get, py::arg("key"), "The value of a dotted key (\"video.crf\"); None when not set.");
  tmpl.def(
      "__setitem__", [](TemplateObj& t, const std::string& key, ValueArg value) { template_set(t, key, value); }, py::arg("key"),
      py::arg("value"), "Sets a dotted key (validated); None removes it.");
  tmpl.def(
      "__delitem__", [](TemplateObj& t, const std::string& key) { template_set(t, key, py::none()); }, py::arg("key"));
  tmpl.def(
      "update",
      [](TemplateObj& t, SettingsArg mapping) { t.edit([&](toml::table& table) { merge_settings(table, mapping); }); },
      py::arg("settings"),
      "Sets several keys at once, validated together (e.g. {\"video.bitrate\": 0, \"video.crf\": 20}\n"
      "to switch a bitrate template to quality-based encoding).");
  tmpl.def(
      "to_dict", [](const TemplateObj& t) { return to_python(t.tmpl.to_table()); },
      "The template fully resolved, as a nested dict (what `gopcast templates show` prints).");
  tmpl.def(
      "to_toml", [](const TemplateObj& t) { return toml_text(t.tmpl.to_table()); }, "The template fully resolved, as TOML text.");
  tmpl.def(
      "save",
      [](TemplateObj& t, PathArg path) {
        const fs::path file = to_path(path, true);
        write_text(file, toml_text(t.tmpl.to_table()));
        t.path = file;
        t.source = file.string();
        t.changed = false;
      },
      py::arg("path"), "Writes the template, fully resolved, to a .toml file (a job output can then name it).");
  tmpl.def(
      "copy", [](const TemplateObj& t) { return std::make_shared<TemplateObj>(t); }, "An independent copy.");
  tmpl.def("__eq__", [](const TemplateObj& a, py::object b) {
    return py::isinstance<TemplateObj>(b) && toml_text(a.tmpl.to_table()) == toml_text(b.cast<TemplateObj&>().tmpl.to_table());
  });
  tmpl.def("__repr__", [](const TemplateObj& t) {
    return fmt::format("<gopcast.Template {} ({}{}{})>", t.tmpl.name, to_string(t.tmpl.container),
                       t.tmpl.video.remove || audio_only(t.tmpl.container) ? "" : fmt::format(", video {}", to_string(t.tmpl.video.codec)),
                       t.tmpl.audio.remove ? "" : fmt::format(", audio {}", to_string(t.tmpl.audio.codec)));
  });

  py::class_<Overrides>(m, "Overrides", R"doc(
The template overrides of one job output, by dotted key: out.overrides["video.crf"] = 20.
A live view: changes go into the output at once, validated against the output's template
(a bad value raises and changes nothing). Keys that are no template key (e.g. tables for
features a later gopcast reads) are refused by the same validation the CLI applies.)doc")
      .def(
          "__getitem__",
          [](const Overrides& o, const std::string& key) {
            const toml::node* n = find_dotted(o.owner->out.override_table, key);
            if (!n) throw py::key_error(key);
            return to_python(*n);
          },
          py::arg("key"))
      .def(
          "__setitem__",
          [](Overrides& o, const std::string& key, ValueArg value) {
            o.owner->edit([&](JobOutput& out) { set_dotted(out.override_table, key, value); });
          },
          py::arg("key"), py::arg("value"))
      .def(
          "__delitem__",
          [](Overrides& o, const std::string& key) {
            if (!find_dotted(o.owner->out.override_table, key)) throw py::key_error(key);
            o.owner->edit([&](JobOutput& out) { set_dotted(out.override_table, key, py::none()); });
          },
          py::arg("key"))
      .def("__contains__",
           [](const Overrides& o, const std::string& key) { return find_dotted(o.owner->out.override_table, key) != nullptr; })
      .def("__len__", [](const Overrides& o) { return dotted_leaves(o.owner->out.override_table).size(); })
      .def("__iter__", [](const Overrides& o) { return py::iter(py::cast(dotted_leaves(o.owner->out.override_table))); })
      .def(
          "keys", [](const Overrides& o) { return dotted_leaves(o.owner->out.override_table); }, "The dotted keys set.")
      .def(
          "items",
          [](const Overrides& o) {
            py::list out;
            for (const auto& k : dotted_leaves(o.owner->out.override_table))
              out.append(py::make_tuple(k, to_python(*find_dotted(o.owner->out.override_table, k))));
            return out;
          },
          "(dotted key, value) pairs.")
      .def(
          "update",
          [](Overrides& o, SettingsArg mapping) {
            o.owner->edit([&](JobOutput& out) { merge_settings(out.override_table, mapping); });
          },
          py::arg("settings"), "Sets several keys at once, validated together.")
      .def(
          "clear", [](Overrides& o) { o.owner->edit([](JobOutput& out) { out.override_table.clear(); }); }, "Removes every override.")
      .def(
          "to_dict", [](const Overrides& o) { return to_python(o.owner->out.override_table); },
          "The overrides as a nested dict ({\"video\": {\"crf\": 20}}), as the job file holds them.")
      .def("__repr__", [](const Overrides& o) {
        return "Overrides(" + py::repr(to_python(o.owner->out.override_table)).cast<std::string>() + ")";
      });

  py::class_<OutputObj, std::shared_ptr<OutputObj>> output(m, "Output", R"doc(
One output of a job: a path (with {name} {ext} {dir} placeholders), a template (by name, by
.toml file, or a saved Template), overrides merged over the template, and free user data.
Relative paths are made absolute against the current folder when set.)doc");
  output.def(py::init([](PathArg path, TemplateArg tmpl, MappingArg overrides, const std::string& user_data) {
               return make_output(path, tmpl, overrides, user_data);
             }),
             py::arg("path"), py::arg("template") = py::none(), py::arg("overrides") = py::none(),
             py::arg("user_data") = "",
             "An output; `template` None picks the default template of the path's extension.");
  output.def_property(
      "path", [](const OutputObj& o) { return o.out.path; },
      [](OutputObj& o, PathArg v) {
        std::string p = output_pattern(v);
        o.edit([&](JobOutput& out) { out.path = p; });
      },
      "The output path pattern (placeholders not yet expanded).");
  output.def_property(
      "template",
      [](const OutputObj& o) { return o.out.template_name.empty() ? py::object(py::none()) : py::object(py::str(o.out.template_name)); },
      [](OutputObj& o, TemplateArg v) {
        std::string name = template_reference(v);
        o.edit([&](JobOutput& out) { out.template_name = name; });
      },
      "The template's name or file; None: the default for the path's extension. Accepts a Template\n"
      "loaded from the catalogue or saved to a file.");
  output.def_property(
      "overrides", [](std::shared_ptr<OutputObj> o) { return Overrides{std::move(o)}; },
      [](std::shared_ptr<OutputObj> o, SettingsArg mapping) {
        o->edit([&](JobOutput& out) {
          out.override_table.clear();
          merge_settings(out.override_table, mapping);
        });
      },
      "Template overrides by dotted key (a live view); assign a dict to replace them all.");
  output.def_property(
      "user_data", [](const OutputObj& o) { return o.out.user_data; },
      [](OutputObj& o, const std::string& v) { o.out.user_data = v; }, "Free text carried into the result.");
  output.def(
      "resolve",
      [](const OutputObj& o, OptPathArg input) {
        JobOutput copy = o.out;
        copy.origin = o.origin();
        fs::path in = input.is_none() ? fs::path() : to_path(input, true);
        if (in.empty())
          if (auto j = o.job.lock()) in = j->input.path;
        fs::path where = in.empty() ? fs::path(o.out.path) : expand_output_pattern(o.out.path, in, "path");
        auto t = std::make_shared<TemplateObj>();
        t->tmpl = resolve_output_template(Catalog::standard(), copy, where, {});
        t->changed = true;
        return t;
      },
      py::arg("input") = py::none(),
      "The template this output is encoded with (its overrides applied), for `input` (default: the\n"
      "job's input; it decides {ext} placeholders).");
  output.def(
      "to_dict",
      [](const OutputObj& o) {
        Job j;
        j.outputs.push_back(o.out);
        return to_python(*job_to_table(j).get("outputs")->as_array()->get(0));
      },
      "The output as the job file's [[outputs]] table holds it.");
  output.def("__repr__", [](const OutputObj& o) {
    return fmt::format("<gopcast.Output {}{}>", o.out.path, o.out.template_name.empty() ? "" : " template=" + o.out.template_name);
  });

  py::class_<JobObj, std::shared_ptr<JobObj>> job(m, "Job", R"doc(
A job: one input and one or more outputs (docs and jobs/ in the source tree have examples).

Load one with Job.load("job.toml") (validated as `gopcast run` validates it, errors naming
file:line:col), or build one: Job("in.mp4", outputs=["out/{name}.mp4"]) and
job.add_output("out/{name}-720p.mp4", template="android-mp4-720p", overrides={"video.crf": 20}).
Relative paths are made absolute against the current folder when set. Run it with
gopcast.run(job), submit it with gopcast.submit(job, pipeline=...), save it with job.save(path).)doc");
  job.def(py::init([](OptPathArg input, OutputsArg outputs, const std::string& video_stream, const std::string& audio_stream,
                      std::optional<double> segment_seconds, OptPathArg manifest) {
            auto j = std::make_shared<JobObj>();
            if (!input.is_none()) j->input.path = to_path(input, true);
            j->input.video_stream = video_stream;
            j->input.audio_stream = audio_stream;
            if (segment_seconds) check_segment_seconds(*segment_seconds, "parallel.segment_seconds");
            j->parallel.segment_seconds = segment_seconds;
            if (!manifest.is_none()) j->parallel.manifest = to_path(manifest, true);
            for (auto o : outputs.obj) {
              if (py::isinstance<OutputObj>(o)) attach(j, o.cast<OutputObj&>());
              else attach(j, *make_output(o, py::none(), py::none(), "", false));
            }
            return j;
          }),
          py::arg("input") = py::none(), py::arg("outputs") = py::list(), py::arg("video_stream") = "",
          py::arg("audio_stream") = "", py::arg("segment_seconds") = py::none(), py::arg("manifest") = py::none(),
          "A job reading `input`, writing `outputs` (Output objects or output paths).");
  job.def_static(
      "load",
      [](PathArg path) {
        const fs::path file = to_path(path, true);
        // Validate as `gopcast run` does before it starts: placeholders and templates
        // (from a second read, so the messages keep their file:line:col).
        (void)app::resolve(load_job(file));
        Job loaded = load_job(file);
        auto j = std::make_shared<JobObj>();
        j->file = loaded.file;
        j->input = loaded.input;
        j->parallel = loaded.parallel;
        for (auto& o : loaded.outputs) {
          auto out = std::make_shared<OutputObj>();
          out->out = std::move(o);
          out->from_file = true;
          out->job = j;
          j->outputs.push_back(std::move(out));
        }
        return j;
      },
      py::arg("path"), "Reads a job file; relative paths in it are relative to its folder.");
  job.def_property(
      "input", [](const JobObj& j) { return j.input.path.empty() ? std::optional<fs::path>() : j.input.path; },
      [](JobObj& j, OptPathArg v) { j.input.path = v.is_none() ? fs::path() : to_path(v, true); }, "The input media file.");
  job.def_property(
      "video_stream", [](const JobObj& j) { return j.input.video_stream; },
      [](JobObj& j, const std::string& v) { j.input.video_stream = v; }, "Video stream selector (\"0:v:1\"); \"\" = the best.");
  job.def_property(
      "audio_stream", [](const JobObj& j) { return j.input.audio_stream; },
      [](JobObj& j, const std::string& v) { j.input.audio_stream = v; }, "Audio stream selector (\"0:a:1\"); \"\" = the best.");
  // The clip ([input] start, duration, end_offset), checked as a job file's is.
  job.def_property(
      "start", [](const JobObj& j) { return j.input.clip.start; },
      [](JobObj& j, double v) {
        if (!(v >= 0 && v <= 1e7)) fail<SpecError>(ErrorCode::OutOfRange, "input.start: {} is out of range 0..1e7", v);
        j.input.clip.start = v;
      },
      "Clip: seconds into the input where the outputs start (frame-exact); 0 = the beginning.");
  job.def_property(
      "duration", [](const JobObj& j) { return j.input.clip.duration; },
      [](JobObj& j, std::optional<double> v) {
        if (v && !(*v >= 1e-3 && *v <= 1e7)) fail<SpecError>(ErrorCode::OutOfRange, "input.duration: {} is out of range 0.001..1e7", *v);
        if (v && j.input.clip.end_offset)
          fail<SpecError>(ErrorCode::Incompatible, "input.duration: give duration or end_offset, not both");
        j.input.clip.duration = v;
      },
      "Clip: seconds from the start; None = up to the end (or end_offset).");
  job.def_property(
      "end_offset", [](const JobObj& j) { return j.input.clip.end_offset; },
      [](JobObj& j, std::optional<double> v) {
        if (v && !(*v >= 0 && *v <= 1e7)) fail<SpecError>(ErrorCode::OutOfRange, "input.end_offset: {} is out of range 0..1e7", *v);
        if (v && j.input.clip.duration)
          fail<SpecError>(ErrorCode::Incompatible, "input.end_offset: give duration or end_offset, not both");
        j.input.clip.end_offset = v;
      },
      "Clip: end this many seconds before the input's end (cut a tail); None = no tail cut.");
  // Concatenation ([input.concat]): the timeline is intro, input, concat..., outro.
  job.def_property(
      "concat",
      [](const JobObj& j) { return j.input.concat.inputs; },
      [](JobObj& j, const py::iterable& paths) {
        std::vector<fs::path> inputs;
        for (auto p : paths) inputs.push_back(to_path(p, true));
        j.input.concat.inputs = std::move(inputs);
      },
      "Concatenation: the inputs after `input`, in order (each normalised to the output template).");
  job.def_property(
      "intro", [](const JobObj& j) { return j.input.concat.intro.empty() ? std::optional<fs::path>() : j.input.concat.intro; },
      [](JobObj& j, OptPathArg v) { j.input.concat.intro = v.is_none() ? fs::path() : to_path(v, true); },
      "Concatenation: an opening clip before the inputs; None = none.");
  job.def_property(
      "outro", [](const JobObj& j) { return j.input.concat.outro.empty() ? std::optional<fs::path>() : j.input.concat.outro; },
      [](JobObj& j, OptPathArg v) { j.input.concat.outro = v.is_none() ? fs::path() : to_path(v, true); },
      "Concatenation: a closing clip after the inputs; None = none.");
  job.def_property(
      "fill_silence", [](const JobObj& j) { return j.input.concat.fill_silence; },
      [](JobObj& j, bool v) { j.input.concat.fill_silence = v; },
      "Concatenation: silence for inputs without audio (False: such an input is an error).");
  job.def_property(
      "segment_seconds", [](const JobObj& j) { return j.parallel.segment_seconds; },
      [](JobObj& j, std::optional<double> v) {
        if (v) check_segment_seconds(*v, "parallel.segment_seconds");
        j.parallel.segment_seconds = v;
      },
      doc_string(fmt::format("Target segment length for the segment-parallel engine ([parallel] segment_seconds); None: {} s.",
                             kDefaultSegmentSeconds)));
  job.def_property(
      "max_attempts", [](const JobObj& j) { return j.parallel.max_attempts; },
      [](JobObj& j, std::optional<int> v) {
        if (v) check_max_attempts(*v, "parallel.max_attempts");
        j.parallel.max_attempts = v;
      },
      doc_string(fmt::format("Tries of a segment before it fails the job ([parallel] max_attempts); None: {}.", kDefaultMaxAttempts)));
  job.def_property(
      "manifest", [](const JobObj& j) { return j.parallel.manifest.empty() ? std::optional<fs::path>() : j.parallel.manifest; },
      [](JobObj& j, OptPathArg v) { j.parallel.manifest = v.is_none() ? fs::path() : to_path(v, true); },
      "Where the segment manifest goes; None: <first output>.manifest.h5.");
  job.def_property_readonly(
      "file", [](const JobObj& j) { return j.file.empty() ? std::optional<fs::path>() : j.file; },
      "The file it was loaded from or last saved to.");
  job.def_property_readonly(
      "outputs", [](const JobObj& j) { return j.outputs; }, "The outputs (live: change them in place).");
  job.def(
      "add_output",
      [](std::shared_ptr<JobObj> j, OutputPathArg path, TemplateArg tmpl, MappingArg overrides, const std::string& user_data) {
        if (py::isinstance<OutputObj>(path)) return attach(j, path.obj.cast<OutputObj&>());
        return attach(j, *make_output(path, tmpl, overrides, user_data, false));
      },
      py::arg("path"), py::arg("template") = py::none(), py::arg("overrides") = py::none(), py::arg("user_data") = "",
      "Adds an output (an output path, or a copy of an Output) and returns it.");
  job.def(
      "remove_output",
      [](JobObj& j, OutputArg which) { j.outputs.erase(j.outputs.begin() + static_cast<std::ptrdiff_t>(output_index(j, which))); },
      py::arg("output"), "Removes an output, by index or Output object.");
  job.def(
      "templates",
      [](const JobObj& j) {
        app::TranscodeRequest req = app::resolve(j.to_job()).transcode;
        py::list out;
        for (auto& o : req.outputs) {
          auto t = std::make_shared<TemplateObj>();
          t->tmpl = std::move(o.tmpl);
          t->changed = true;
          out.append(t);
        }
        return out;
      },
      "Each output's template as the run will use it (overrides applied), validated.");
  job.def(
      "to_dict", [](const JobObj& j) { return to_python(job_to_table(j.to_job())); }, "The job as its TOML file holds it.");
  job.def(
      "to_toml", [](const JobObj& j) { return toml_text(job_to_table(j.to_job())); }, "The job as TOML text.");
  job.def(
      "save",
      [](JobObj& j, PathArg path) {
        const fs::path file = to_path(path, true);
        write_job(j.to_job(), file);
        j.file = file;
      },
      py::arg("path"), "Writes the job to a TOML file (with absolute paths) that `gopcast run` reads.");
  job.def("__repr__", [](const JobObj& j) {
    return fmt::format("<gopcast.Job {} -> {} output{}>", j.input.path.empty() ? "(no input)" : j.input.path.string(),
                       j.outputs.size(), j.outputs.size() == 1 ? "" : "s");
  });
}

}  // namespace gopcast::python
