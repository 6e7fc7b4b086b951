#pragma once
// Output naming and atomic publication of outputs.
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gopcast {

// Expands the placeholders of an output path pattern for one input:
//   {name} input file name without extension, {ext} its extension without the dot,
//   {dir} the input's folder, {{ and }} literal braces.
// An unknown placeholder is an InvalidKey error naming `key` (e.g. "outputs[0].path").
std::filesystem::path expand_output_pattern(std::string_view pattern, const std::filesystem::path& input,
                                            std::string_view key = "output");

// The paths a list file names, one per line (a batch's inputs, a concatenation's):
// blank lines and lines starting with '#' are skipped, surrounding blanks and a CR are
// trimmed, and relative paths are relative to the list's folder. A list that cannot be
// read is ResourceNotFound naming `what` ("concat list").
std::vector<std::filesystem::path> read_path_list(const std::filesystem::path& list, std::string_view what);

// Where shipped data (templates, the sbatch template, the web player) may be, in order:
// <prefix>/share/gopcast/<sub> beside the running program (wherever the prefix was
// moved), then `build_dir` (a program run from its build tree), then `install_dir`.
std::vector<std::filesystem::path> data_dir_candidates(std::string_view sub, const std::filesystem::path& build_dir,
                                                       const std::filesystem::path& install_dir);

// An output that appears at its final path only when commit() is called.
// Everything is written into a private staging folder beside the final path (same
// filesystem, so publication is a rename); if the object dies uncommitted (error,
// exception, Ctrl-C) the staging folder is removed and nothing is left behind.
class StagedOutput {
 public:
  // Throws OutputNotWritable if the folder is missing or not writable, or if the
  // output would overwrite `input`.
  StagedOutput(std::filesystem::path final_path, const std::filesystem::path& input);
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;
  ~StagedOutput();

  const std::filesystem::path& final_path() const { return final_path_; }
  const std::filesystem::path& staging_dir() const { return staging_dir_; }
  // Private working files (pass logs): inside the staging folder, never published.
  std::filesystem::path scratch_dir() const { return staging_dir_ / "scratch"; }
  // Where the main file is written before commit.
  std::filesystem::path staging_file() const { return staging_dir_ / final_path_.filename(); }

  // Moves every staged file (not the scratch folder) into the final folder, the main file last (so a
  // playlist never names segments that are not there yet). Returns the published
  // paths, the main file first. Several outputs of one job: publish_together().
  std::vector<std::filesystem::path> commit();

  // Progressive outputs (a live HLS playlist): moves one finished file of the staging
  // folder to the final folder now, under `final_name` (default: its own name), replacing
  // what is there. Like everything else it is removed if the output is never committed.
  std::filesystem::path publish_now(const std::filesystem::path& staged_file, const std::string& final_name = {});
  // A file written straight to its final place elsewhere (HLS keys kept away from the
  // media): removed if the output is never committed, listed by commit() if it is.
  void adopt(const std::filesystem::path& final_file);

 private:
  friend std::vector<std::vector<std::filesystem::path>> publish_together(const std::vector<StagedOutput*>&,
                                                                          const std::filesystem::path&,
                                                                          const std::function<void(size_t)>&);
  using Rename = std::pair<std::filesystem::path, std::filesystem::path>;  // staged file, final path
  // The renames that publish it, the main file last; OutputNotWritable if nothing was written.
  std::vector<Rename> plan() const;
  // After its renames: the staging folder goes; returns the published paths, main first.
  std::vector<std::filesystem::path> finish(const std::vector<Rename>& renames);

  std::filesystem::path final_path_;
  std::filesystem::path staging_dir_;
  std::vector<std::filesystem::path> early_;  // published before commit
  bool committed_ = false;
};

// Publishes the outputs of one job as one step: all appear, or none does. The renames
// are written to `journal` first (atomically, beside the outputs), then done in order
// (each output's main file last, the outputs in the order given: ladders' masters after
// their renditions); a rename that fails takes back the ones before it
// (OutputNotWritable naming the output). A process killed part-way leaves the journal,
// and finish_publication() completes it. `after_rename(n)` is called after the n-th
// rename (tests kill the process there). Returns each output's published paths.
std::vector<std::vector<std::filesystem::path>> publish_together(const std::vector<StagedOutput*>& outputs,
                                                                 const std::filesystem::path& journal,
                                                                 const std::function<void(size_t)>& after_rename = {});

// Where publish_together() keeps the journal of a job whose first output (in path
// order) is `output`: ".NAME.gopcast-publish" beside it.
std::filesystem::path publication_journal(const std::filesystem::path& output);

// Completes the publication a killed process left in `journal`, if there is one: every
// rename whose staged file is still there is done (everything it names was written
// whole before the journal was), the staging folders are removed, then the journal.
// Returns the paths it published (empty when there was no journal). Call it only while
// holding the outputs' locks.
std::vector<std::filesystem::path> finish_publication(const std::filesystem::path& journal);

// Removes what killed runs left beside `output`: staging folders (".NAME.gopcast-PID-RAND")
// and atomic writes' temporary files (".NAME.tmp-PID-RAND"), except those in `keep` (this
// run's own). Call it only while holding the output's lock. Returns what it removed.
std::vector<std::filesystem::path> remove_orphaned_staging(const std::filesystem::path& output,
                                                           const std::set<std::filesystem::path>& keep);

}  // namespace gopcast
