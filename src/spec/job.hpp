#pragma once
// Job files: one input, one or more outputs, each with a template, overrides and
// free-form user data. Relative paths are relative to the job file's folder.
#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "spec/catalog.hpp"
#include "spec/parallel.hpp"
#include "spec/snapshots.hpp"
#include "spec/watermark.hpp"
#include "spec/subtitles.hpp"

namespace gopcast {

// A clip of the input: the job's timeline is the input from `start` for `duration`
// seconds, or up to `end_offset` seconds before its end (a head and a tail cut); every
// output starts at the clip's first frame. Times count from the container's start.
struct Clip {
  double start = 0;
  std::optional<double> duration;
  std::optional<double> end_offset;
  bool active() const { return start > 0 || duration || end_offset; }
};

// How long a mix lasts: as long as the input's audio, or as long as the longer of the two
// (the names are amix's own).
enum class MixDuration { first, longest };
const EnumNames<MixDuration>& enum_names(MixDuration);

// Background audio mixed under the input's own audio track ([input.mix]): it starts
// with the output, at `gain_db` against the track, for `duration`.
struct AudioMix {
  std::filesystem::path path;  // "" = no mix
  double gain_db = -12;
  MixDuration duration = MixDuration::first;
  bool active() const { return !path.empty(); }
};

// Concatenation ([input.concat]): the job's timeline is the intro, the main inputs in
// order (input.path first when given, then `inputs`, then the paths of `list`) and
// the outro, each normalised to the output template (engine/timeline.hpp).
struct Concat {
  std::vector<std::filesystem::path> inputs;  // main inputs after input.path (list entries included)
  std::filesystem::path intro;                // "" = none
  std::filesystem::path outro;
  bool fill_silence = false;  // inputs without audio get silence (otherwise an error)
  bool active() const { return !inputs.empty() || !intro.empty() || !outro.empty(); }
};

// A concat list file: one path per line; blank lines and lines starting with '#' are
// skipped, relative paths are relative to the list's folder. A missing or unreadable
// list is ResourceNotFound naming it, an empty one OutOfRange.
std::vector<std::filesystem::path> read_concat_list(const std::filesystem::path& list);

struct JobInput {
  std::filesystem::path path;
  std::string video_stream;  // selector ("0:v:0"), "" = best
  std::string audio_stream;  // selector ("0:a:1"), "" = best
  Clip clip;                 // start, duration, end_offset in [input]
  AudioMix mix;              // [input.mix]
  Concat concat;             // [input.concat]
  // What opening the input may read besides it (av::InputPolicy): FIFOs and devices,
  // and the folders an HLS playlist's segments and keys may come from besides its own.
  bool special_files = false;                     // [input] special_files
  std::vector<std::filesystem::path> hls_allow;   // [input] hls_allow
};

struct JobOutput {
  std::string path;      // pattern with {name} {ext} {dir}, before expansion
  std::string template_name;  // "" = by the output's extension
  std::string ladder;         // a bitrate ladder: `path` is its master playlist
  toml::table override_table;  // merged over the template
  std::string user_data;
  OutputMarks marks;     // [[outputs.watermarks]], [[outputs.delogo]]; templates already applied
  std::vector<SubtitleSpec> subtitles;  // [[outputs.subtitles]]
  std::string origin;    // "job.toml: outputs[1]" for messages
};



struct Job {
  std::filesystem::path file;  // the job file ("" for jobs built in code)
  JobInput input;
  std::vector<JobOutput> outputs;
  JobParallel parallel;
  // [[snapshots]]: still images of the input written with the job (published only
  // when the outputs are); paths already absolute, placeholders not yet expanded.
  std::vector<SnapshotSpec> snapshots;
};

// Reads and validates a job file (syntax, keys, types; templates are resolved at run time).
// Relative paths (input, outputs, manifest, template files) are relative to the file's folder.
// `input_optional`: a batch job template may leave input.path out (each input fills it in).
Job load_job(const std::filesystem::path& path, bool input_optional = false);

// The job as a TOML table that load_job reads back to the same job. Paths are written as
// they are held (absolute after load_job); `literal_outputs` escapes { and } in output
// paths, for jobs whose output paths are already expanded.
toml::table job_to_table(const Job& job, bool literal_outputs = false);

// The template of one output: catalogue template, its override table, then `extra`
// overrides ("--set" from the command line), validated.
// The override table is moved out of `output` (keeping its file positions for errors).
Template resolve_output_template(const Catalog& catalog, JobOutput& output, const std::filesystem::path& output_path,
                                 const std::vector<std::string>& extra);

}  // namespace gopcast
