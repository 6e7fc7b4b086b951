#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <unistd.h>

#include "core/error.hpp"
#include "core/paths.hpp"

namespace fs = std::filesystem;
using namespace gopcast;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("gopcast-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};
void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

TEST(Errors, CodesHaveDistinctStatusesAndStableNames) {
  std::set<int> statuses;
  std::set<std::string_view> names;
  for (const auto& c : error_codes()) {
    EXPECT_NE(c.exit_status, 0);
    EXPECT_TRUE(statuses.insert(c.exit_status).second) << c.name;
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
  }
  EXPECT_EQ(error_code_info(ErrorCode::OutOfRange).name, "InvalidParameter.OutOfRange");
  EXPECT_EQ(error_code_info(ErrorCode::ResourceNotFound).exit_status, 3);
  EXPECT_EQ(Error(ErrorCode::Cancelled, "x").exit_status(), 130);
}

TEST(OutputPattern, ExpandsPlaceholders) {
  fs::path in = "/media/archive/take.one.mov";
  EXPECT_EQ(expand_output_pattern("out/{name}.mp4", in), fs::path("out/take.one.mp4"));
  EXPECT_EQ(expand_output_pattern("{dir}/{name}-{ext}.mkv", in), fs::path("/media/archive/take.one-mov.mkv"));
  EXPECT_EQ(expand_output_pattern("{{literal}}-{name}", in), fs::path("{literal}-take.one"));
  EXPECT_EQ(expand_output_pattern("{dir}/x.mp4", "clip.mp4"), fs::path("./x.mp4"));
}

TEST(OutputPattern, UnknownPlaceholderNamesTheKey) {
  try {
    expand_output_pattern("out/{stem}.mp4", "a.mp4", "outputs[2].path");
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidKey);
    EXPECT_NE(std::string(e.what()).find("outputs[2].path"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("{stem}"), std::string::npos);
  }
  EXPECT_THROW(expand_output_pattern("out/{name", "a.mp4"), SpecError);
}

TEST(StagedOutput, AppearsOnlyOnCommitAndLeavesNoStaging) {
  TempDir dir;
  fs::path final_path = dir.path / "o.m3u8";
  {
    StagedOutput out(final_path, dir.path / "input.mp4");
    write(out.staging_file(), "#EXTM3U\n");
    write(out.staging_dir() / "o_00000.ts", "segment");
    write(out.scratch_dir() / "pass.log", "private");
    EXPECT_FALSE(fs::exists(final_path));
    auto files = out.commit();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0], final_path);
    EXPECT_EQ(files[1], dir.path / "o_00000.ts");
  }
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"o.m3u8", "o_00000.ts"}));  // no staging folder, no pass log
}

TEST(StagedOutput, AbandonedOutputLeavesNothing) {
  TempDir dir;
  {
    StagedOutput out(dir.path / "o.mp4", dir.path / "in.mp4");
    write(out.staging_file(), "partial");
  }
  EXPECT_TRUE(fs::is_empty(dir.path));
}

TEST(StagedOutput, RefusesMissingFolderAndOverwritingTheInput) {
  TempDir dir;
  try {
    StagedOutput out(dir.path / "nope" / "o.mp4", "in.mp4");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::OutputNotWritable);
  }
  write(dir.path / "in.mp4", "x");
  try {
    StagedOutput out(dir.path / "in.mp4", dir.path / "in.mp4");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::OutputNotWritable);
    EXPECT_NE(std::string(e.what()).find("overwrite the input"), std::string::npos);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
}
