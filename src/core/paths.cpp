#include "core/paths.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <system_error>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"

namespace fs = std::filesystem;

namespace gopcast {

std::vector<fs::path> read_path_list(const fs::path& list, std::string_view what) {
  std::ifstream in(list);
  if (!in) fail(ErrorCode::ResourceNotFound, "{}: {}: cannot be read", list.string(), what);
  std::vector<fs::path> out;
  std::string line;
  const fs::path base = list.parent_path();
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const fs::path p(line.substr(first));
    out.push_back((p.is_relative() && !base.empty() ? base / p : p).lexically_normal());
  }
  return out;
}

fs::path expand_output_pattern(std::string_view pattern, const fs::path& input, std::string_view key) {
  std::string out;
  const std::string name = input.stem().string();
  std::string ext = input.extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  const std::string dir = input.has_parent_path() ? input.parent_path().string() : std::string(".");
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '{' && i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      auto close = pattern.find('}', i);
      if (close == std::string_view::npos)
        fail<SpecError>(ErrorCode::InvalidKey, "{}: unclosed placeholder in \"{}\"", key, pattern);
      auto ph = pattern.substr(i + 1, close - i - 1);
      if (ph == "name") out += name;
      else if (ph == "ext") out += ext;
      else if (ph == "dir") out += dir;
      else
        fail<SpecError>(ErrorCode::InvalidKey, "{}: unknown placeholder {{{}}} in \"{}\" (known: {{name}}, {{ext}}, {{dir}})", key,
                        ph, pattern);
      i = close;
    } else {
      out += c;
    }
  }
  return fs::path(out);
}

namespace {
std::string random_suffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}
}  // namespace

StagedOutput::StagedOutput(fs::path final_path, const fs::path& input) : final_path_(std::move(final_path)) {
  if (final_path_.filename().empty())
    fail(ErrorCode::OutputNotWritable, "{}: output path names a folder, not a file", final_path_.string());
  fs::path dir = final_path_.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail(ErrorCode::OutputNotWritable, "{}: output folder {} does not exist", final_path_.string(), dir.string());
  if (fs::exists(input, ec) && fs::exists(final_path_, ec) && fs::equivalent(input, final_path_, ec))
    fail(ErrorCode::OutputNotWritable, "{}: output would overwrite the input", final_path_.string());
  if (fs::is_directory(final_path_, ec))
    fail(ErrorCode::OutputNotWritable, "{}: output path is an existing folder", final_path_.string());
  staging_dir_ = dir / fmt::format(".{}.gopcast-{}-{}", final_path_.filename().string(), ::getpid(), random_suffix());
  if (!fs::create_directory(staging_dir_, ec) || ::access(staging_dir_.c_str(), W_OK) != 0 ||
      !fs::create_directory(scratch_dir(), ec)) {
    fail(ErrorCode::OutputNotWritable, "{}: output folder {} is not writable ({})", final_path_.string(), dir.string(),
         ec ? ec.message() : "permission denied");
  }
}

std::vector<fs::path> data_dir_candidates(std::string_view sub, const fs::path& build_dir, const fs::path& install_dir) {
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  std::vector<fs::path> out;
  if (!ec) out.push_back(exe.parent_path().parent_path() / "share" / "gopcast" / std::string(sub));
  out.push_back(build_dir);
  out.push_back(install_dir);
  return out;
}

StagedOutput::~StagedOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_dir_, ec);
    for (const auto& f : early_) fs::remove(f, ec);
  }
}

fs::path StagedOutput::publish_now(const fs::path& staged_file, const std::string& final_name) {
  fs::path dir = final_path_.parent_path();
  if (dir.empty()) dir = ".";
  const fs::path target = dir / (final_name.empty() ? staged_file.filename().string() : final_name);
  std::error_code ec;
  fs::rename(staged_file, target, ec);
  if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot publish: {}", target.string(), ec.message());
  if (std::find(early_.begin(), early_.end(), target) == early_.end()) early_.push_back(target);
  return target;
}

void StagedOutput::adopt(const fs::path& final_file) {
  if (std::find(early_.begin(), early_.end(), final_file) == early_.end()) early_.push_back(final_file);
}

std::vector<StagedOutput::Rename> StagedOutput::plan() const {
  fs::path dir = final_path_.parent_path();
  if (dir.empty()) dir = ".";
  const fs::path main = staging_file();
  std::error_code ec;
  if (!fs::exists(main, ec)) fail(ErrorCode::Internal, "{}: nothing was written", final_path_.string());
  std::vector<Rename> renames;
  for (const auto& entry : fs::directory_iterator(staging_dir_))
    if (entry.path() != main && !entry.is_directory()) renames.emplace_back(entry.path(), dir / entry.path().filename());
  std::sort(renames.begin(), renames.end());
  renames.emplace_back(main, final_path_);
  return renames;
}

std::vector<fs::path> StagedOutput::finish(const std::vector<Rename>& renames) {
  committed_ = true;
  std::vector<fs::path> published{final_path_};
  for (size_t i = 0; i + 1 < renames.size(); ++i) published.push_back(renames[i].second);
  for (const auto& f : early_)
    if (std::find(published.begin(), published.end(), f) == published.end()) published.push_back(f);
  std::error_code ec;
  fs::remove_all(staging_dir_, ec);
  return published;
}

namespace {

// Does `renames` in order; a failure takes back the ones done (an output is published
// whole or not at all) and is OutputNotWritable naming `what` of the failed rename.
void rename_all(const std::vector<std::pair<fs::path, fs::path>>& renames, const std::vector<fs::path>& what,
                const std::function<void(size_t)>& after_rename) {
  for (size_t i = 0; i < renames.size(); ++i) {
    std::error_code ec;
    fs::rename(renames[i].first, renames[i].second, ec);
    if (ec) {
      std::error_code ignored;
      for (size_t j = i; j-- > 0;) fs::rename(renames[j].second, renames[j].first, ignored);
      fail(ErrorCode::OutputNotWritable, "{}: cannot publish output: {}", what[i].string(), ec.message());
    }
    if (after_rename) after_rename(i + 1);
  }
}

// The journal: a header line, then NUL-terminated fields (a path holds any byte but NUL):
// "R" FROM TO for each rename, "S" DIR for each staging folder.
constexpr std::string_view kJournalHeader = "gopcast-publish/1\n";

void sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::vector<fs::path> StagedOutput::commit() {
  const auto renames = plan();
  rename_all(renames, std::vector<fs::path>(renames.size(), final_path_), {});
  return finish(renames);
}

fs::path publication_journal(const fs::path& output) {
  return output.parent_path() / ("." + output.filename().string() + ".gopcast-publish");
}

std::vector<std::vector<fs::path>> publish_together(const std::vector<StagedOutput*>& outputs, const fs::path& journal,
                                                    const std::function<void(size_t)>& after_rename) {
  std::vector<std::vector<StagedOutput::Rename>> plans;
  std::vector<std::pair<fs::path, fs::path>> all;
  std::vector<fs::path> what;
  std::string text(kJournalHeader);
  auto field = [&](const std::string& f) {
    text += f;
    text += '\0';
  };
  // Absolute and normal, so that the next run's checks compare like with like however
  // the outputs were spelled ("o.mp4", "./o.mp4", "dir/../o.mp4").
  auto path = [](const fs::path& p) { return fs::absolute(p).lexically_normal().string(); };
  for (StagedOutput* o : outputs) {
    plans.push_back(o->plan());
    for (const auto& r : plans.back()) {
      all.push_back(r);
      what.push_back(o->final_path());
      field("R");
      field(path(r.first));
      field(path(r.second));
    }
  }
  for (StagedOutput* o : outputs) {
    field("S");
    field(path(o->staging_dir()));
  }
  files::write_atomic(journal, text, 0644);
  try {
    rename_all(all, what, after_rename);
  } catch (...) {
    ::unlink(journal.c_str());
    throw;
  }
  // Every rename is done: the outputs are published, whatever happens from here.
  sync_folder(journal.parent_path());
  std::vector<std::vector<fs::path>> published;
  for (size_t i = 0; i < outputs.size(); ++i) published.push_back(outputs[i]->finish(plans[i]));
  ::unlink(journal.c_str());
  return published;
}

std::vector<fs::path> finish_publication(const fs::path& journal) {
  struct stat st{};
  if (::lstat(journal.c_str(), &st) != 0) return {};
  auto damaged = [&](std::string_view why) {
    fail(ErrorCode::ResourceContentBad, "{}: {}; remove it if no gopcast run is publishing here", journal.string(), why);
  };
  // Only a journal this user wrote is followed, and only renames out of a staging folder
  // into the folder that holds it: a journal planted by someone else moves nothing.
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) damaged("a publication journal that this user did not write");
  const std::string text = files::read(journal);
  if (text.compare(0, kJournalHeader.size(), kJournalHeader) != 0) damaged("not a gopcast publication journal");
  std::vector<std::string> fields;
  for (size_t at = kJournalHeader.size(); at < text.size();) {
    const size_t end = text.find('\0', at);
    if (end == std::string::npos) damaged("a damaged publication journal");
    fields.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  std::vector<std::pair<fs::path, fs::path>> renames;
  std::set<fs::path> staging;
  for (size_t i = 0; i < fields.size();) {
    if (fields[i] == "R" && i + 2 < fields.size()) {
      renames.emplace_back(fields[i + 1], fields[i + 2]);
      i += 3;
    } else if (fields[i] == "S" && i + 1 < fields.size()) {
      const fs::path d = fields[i + 1];
      if (d.filename().string().find(".gopcast-") == std::string::npos) damaged("a damaged publication journal");
      staging.insert(d);
      i += 2;
    } else {
      damaged("a damaged publication journal");
    }
  }
  for (const auto& [from, to] : renames)
    if (!staging.count(from.parent_path()) || to.parent_path() != from.parent_path().parent_path())
      damaged("a publication journal that names a file outside its staging folders");
  std::vector<fs::path> published;
  std::error_code ec;
  for (const auto& [from, to] : renames) {
    if (fs::exists(from, ec)) {
      fs::rename(from, to, ec);
      if (ec) fail(ErrorCode::OutputNotWritable, "{}: cannot finish publishing an interrupted run: {}", to.string(), ec.message());
    }
    published.push_back(to);
  }
  for (const auto& d : staging) fs::remove_all(d, ec);
  sync_folder(journal.parent_path());
  ::unlink(journal.c_str());
  return published;
}

std::vector<fs::path> remove_orphaned_staging(const fs::path& output, const std::set<fs::path>& keep) {
  fs::path dir = output.parent_path();
  if (dir.empty()) dir = ".";
  const std::string name = output.filename().string();
  // ".NAME.gopcast-PID-XXXXXXXX" (StagedOutput) and ".NAME.tmp-PID-XXXXXXXXXXXXXXXX" (AtomicFile).
  auto orphan = [&](const std::string& entry) {
    const std::string prefix = "." + name + ".";
    if (entry.compare(0, prefix.size(), prefix) != 0) return false;
    std::string_view rest = std::string_view(entry).substr(prefix.size());
    size_t hex = 0;
    if (rest.substr(0, 8) == "gopcast-") {
      rest.remove_prefix(8);
      hex = 8;
    } else if (rest.substr(0, 4) == "tmp-") {
      rest.remove_prefix(4);
      hex = 16;
    } else {
      return false;
    }
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string_view::npos || rest.size() != dash + 1 + hex) return false;
    auto all = [](std::string_view v, auto pred) { return std::all_of(v.begin(), v.end(), pred); };
    return all(rest.substr(0, dash), [](char c) { return c >= '0' && c <= '9'; }) &&
           all(rest.substr(dash + 1), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  std::vector<fs::path> removed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    if (!orphan(p.filename().string()) || keep.count(p) || keep.count(fs::absolute(p).lexically_normal())) continue;
    std::error_code rm;
    fs::remove_all(p, rm);
    if (!rm) removed.push_back(p);
  }
  return removed;
}

}  // namespace gopcast
