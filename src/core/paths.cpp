#include "core/paths.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <system_error>
#include <vector>

#include "core/error.hpp"

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

std::vector<fs::path> StagedOutput::commit() {
  fs::path dir = final_path_.parent_path();
  if (dir.empty()) dir = ".";
  const fs::path main = staging_file();
  std::vector<fs::path> others;
  for (const auto& entry : fs::directory_iterator(staging_dir_))
    if (entry.path() != main && !entry.is_directory()) others.push_back(entry.path());
  std::sort(others.begin(), others.end());
  if (!fs::exists(main)) fail(ErrorCode::Internal, "{}: nothing was written", final_path_.string());
  std::vector<fs::path> published{final_path_};
  try {
    for (const auto& p : others) {
      fs::rename(p, dir / p.filename());
      published.push_back(dir / p.filename());
    }
    fs::rename(main, final_path_);
  } catch (const fs::filesystem_error& e) {
    // Take back what was already moved: an output is published whole or not at all.
    std::error_code ec;
    for (size_t i = 1; i < published.size(); ++i) fs::rename(published[i], staging_dir_ / published[i].filename(), ec);
    fail(ErrorCode::OutputNotWritable, "{}: cannot publish output: {}", final_path_.string(), e.code().message());
  }
  committed_ = true;
  for (const auto& f : early_)
    if (f != final_path_ && std::find(published.begin(), published.end(), f) == published.end()) published.push_back(f);
  std::error_code ec;
  fs::remove_all(staging_dir_, ec);
  return published;
}

}  // namespace gopcast
