#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/paths.hpp"
#include "../test_support.hpp"

#include <fmt/ranges.h>

namespace fs = std::filesystem;
using namespace gopcast;

// ---------------------------------------------------------------------------
// More on output patterns and staged outputs.
using gopcast::test::contains;
using gopcast::test::expect_error;
using gopcast::test::names_in;
using gopcast::test::read_file;
using gopcast::test::write_file;

TEST(OutputPattern, EachPlaceholderAlone) {
  const fs::path in = "/srv/in/clip.final.MOV";
  EXPECT_EQ(expand_output_pattern("{name}", in), fs::path("clip.final"));
  EXPECT_EQ(expand_output_pattern("{ext}", in), fs::path("MOV"));  // without the dot, case kept
  EXPECT_EQ(expand_output_pattern("{dir}", in), fs::path("/srv/in"));
  EXPECT_EQ(expand_output_pattern("plain/out.mp4", in), fs::path("plain/out.mp4"));  // nothing to expand
  EXPECT_EQ(expand_output_pattern("{name}-{name}.{ext}", in), fs::path("clip.final-clip.final.MOV"));
  EXPECT_EQ(expand_output_pattern("{dir}/{name}.mp4", "media/a/b.webm"), fs::path("media/a/b.mp4"));
  EXPECT_EQ(expand_output_pattern("{name}.{ext}.mp4", "/x/noext"), fs::path("noext..mp4"));  // no extension: empty
}

TEST(OutputPattern, DoubledBracesAreLiteral) {
  const fs::path in = "/a/b.mp4";
  EXPECT_EQ(expand_output_pattern("{{name}}", in), fs::path("{name}"));  // escaped, not expanded
  EXPECT_EQ(expand_output_pattern("x}}y", in), fs::path("x}y"));
  EXPECT_EQ(expand_output_pattern("{{{name}}}", in), fs::path("{b}"));
  EXPECT_EQ(expand_output_pattern("{{}}", in), fs::path("{}"));
}

TEST(OutputPattern, BadPlaceholdersAreInvalidKeyErrorsNamingTheKey) {
  expect_error<SpecError>([] { expand_output_pattern("{basename}.mp4", "a.mp4", "outputs[0].path"); }, ErrorCode::InvalidKey,
                          {"outputs[0].path", "{basename}"});
  expect_error<SpecError>([] { expand_output_pattern("{NAME}.mp4", "a.mp4", "-o"); }, ErrorCode::InvalidKey, {"-o", "NAME"});
  expect_error<SpecError>([] { expand_output_pattern("{}.mp4", "a.mp4", "-o"); }, ErrorCode::InvalidKey, {"-o"});
  expect_error<SpecError>([] { expand_output_pattern("out/{name.mp4", "a.mp4", "outputs[3].path"); }, ErrorCode::InvalidKey,
                          {"outputs[3].path"});
  expect_error<SpecError>([] { expand_output_pattern("{stem}", "a.mp4"); }, ErrorCode::InvalidKey, {"output", "stem"});
}

TEST(StagedOutput, StagingIsAPrivateFolderBesideTheFinalPath) {
  gopcast::test::TempDir dir;
  const fs::path final_path = dir / "movie.mp4";
  StagedOutput out(final_path, dir / "source.mp4");
  EXPECT_EQ(out.final_path(), final_path);
  EXPECT_TRUE(fs::is_directory(out.staging_dir()));
  EXPECT_EQ(out.staging_dir().parent_path(), dir.path);  // same filesystem: publication is a rename
  EXPECT_EQ(out.staging_dir().filename().string().front(), '.');  // hidden while in progress
  EXPECT_EQ(out.staging_file(), out.staging_dir() / "movie.mp4");
  EXPECT_TRUE(fs::is_directory(out.scratch_dir()));
  EXPECT_EQ(out.scratch_dir().parent_path(), out.staging_dir());
  // Two outputs to the same path do not share a staging folder.
  StagedOutput other(final_path, dir / "source.mp4");
  EXPECT_NE(other.staging_dir(), out.staging_dir());
}

TEST(StagedOutput, NothingAtTheFinalPathUntilCommit) {
  gopcast::test::TempDir dir;
  const fs::path final_path = dir / "movie.mp4";
  std::vector<fs::path> published;
  {
    StagedOutput out(final_path, dir / "source.mp4");
    write_file(out.staging_file(), "moov+mdat");
    write_file(out.scratch_dir() / "x264_2pass.log", "stats");
    EXPECT_FALSE(fs::exists(final_path));
    EXPECT_EQ(names_in(dir.path), (std::set<std::string>{out.staging_dir().filename().string()}));
    published = out.commit();
    EXPECT_TRUE(fs::exists(final_path));
    EXPECT_FALSE(fs::exists(out.staging_dir())) << "staging folder left after commit";
  }
  EXPECT_EQ(published, std::vector<fs::path>{final_path});
  EXPECT_EQ(read_file(final_path), "moov+mdat");
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"movie.mp4"}));  // destructor after commit keeps the output
}

TEST(StagedOutput, CommitReplacesAnOlderOutputOnlyAtCommit) {
  gopcast::test::TempDir dir;
  const fs::path final_path = dir / "movie.mp4";
  write_file(final_path, "old");
  {
    StagedOutput out(final_path, dir / "source.mp4");
    write_file(out.staging_file(), "new");
    EXPECT_EQ(read_file(final_path), "old");
    out.commit();
  }
  EXPECT_EQ(read_file(final_path), "new");
  {
    StagedOutput abandoned(final_path, dir / "source.mp4");
    write_file(abandoned.staging_file(), "half");
  }
  EXPECT_EQ(read_file(final_path), "new");  // a failed run leaves the previous output alone
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"movie.mp4"}));
}

TEST(StagedOutput, UncommittedOutputLeavesNothingBehind) {
  gopcast::test::TempDir dir;
  fs::path staging;
  {
    StagedOutput out(dir / "list.m3u8", dir / "in.mp4");
    staging = out.staging_dir();
    write_file(out.staging_file(), "#EXTM3U\n");
    for (int i = 0; i < 3; ++i) write_file(out.staging_dir() / fmt::format("list{}.ts", i), "seg");
    write_file(out.scratch_dir() / "pass.log", "x");
  }
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_TRUE(fs::is_empty(dir.path)) << "left: " << fmt::format("{}", fmt::join(names_in(dir.path), ", "));
}

TEST(StagedOutput, MultiFileCommitMovesEverySegmentMainFileFirstInTheResult) {
  gopcast::test::TempDir dir;
  const fs::path final_path = dir / "show.m3u8";
  std::vector<fs::path> published;
  {
    StagedOutput out(final_path, dir / "in.mp4");
    std::string playlist = "#EXTM3U\n";
    for (int i = 0; i < 12; ++i) {
      std::string seg = fmt::format("show{}.ts", i);
      write_file(out.staging_dir() / seg, "segment " + std::to_string(i));
      playlist += seg + "\n";
    }
    write_file(out.staging_file(), playlist);
    write_file(out.scratch_dir() / "pass-0.log", "private");
    published = out.commit();
  }
  ASSERT_EQ(published.size(), 13u);
  EXPECT_EQ(published.front(), final_path);
  std::set<std::string> expected{"show.m3u8"};
  std::set<fs::path> rest(published.begin() + 1, published.end());
  EXPECT_EQ(rest.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    std::string seg = fmt::format("show{}.ts", i);
    expected.insert(seg);
    EXPECT_TRUE(rest.count(dir / seg)) << seg << " not in the published list";
    EXPECT_EQ(read_file(dir / seg), "segment " + std::to_string(i));
  }
  EXPECT_EQ(names_in(dir.path), expected);  // no staging folder, no scratch files
  EXPECT_TRUE(contains(read_file(final_path), "show11.ts"));
}

TEST(StagedOutput, FailedCommitPublishesNothing) {
  // The main file was never written (the muxer failed before its trailer): commit
  // fails, and the segments already staged must not appear in the output folder.
  gopcast::test::TempDir dir;
  {
    StagedOutput out(dir / "show.m3u8", dir / "in.mp4");
    write_file(out.staging_dir() / "show0.ts", "segment");
    write_file(out.staging_dir() / "show1.ts", "segment");
    EXPECT_THROW(out.commit(), Error);
  }
  EXPECT_TRUE(fs::is_empty(dir.path)) << "left behind after a failed commit: "
                                      << fmt::format("{}", fmt::join(names_in(dir.path), ", "));
}

TEST(StagedOutput, MissingFolderIsOutputNotWritable) {
  gopcast::test::TempDir dir;
  expect_error([&] { StagedOutput out(dir / "no" / "such" / "o.mp4", dir / "in.mp4"); }, ErrorCode::OutputNotWritable,
               {(dir / "no" / "such").string()});
  EXPECT_FALSE(fs::exists(dir / "no"));  // and it is not created either
}

TEST(StagedOutput, ExistingFolderAsOutputIsOutputNotWritable) {
  gopcast::test::TempDir dir;
  fs::create_directory(dir / "out.mp4");
  expect_error([&] { StagedOutput out(dir / "out.mp4", dir / "in.mp4"); }, ErrorCode::OutputNotWritable, {"out.mp4"});
}

TEST(StagedOutput, OverwritingTheInputIsRefusedHoweverItIsSpelled) {
  gopcast::test::TempDir dir;
  write_file(dir / "in.mp4", "precious");
  fs::create_directory(dir / "sub");
  for (const fs::path& spelled : {dir / "in.mp4", dir / "." / "in.mp4", dir / "sub" / ".." / "in.mp4"}) {
    expect_error([&] { StagedOutput out(spelled, dir / "in.mp4"); }, ErrorCode::OutputNotWritable, {"input"});
  }
  fs::create_symlink(dir / "in.mp4", dir / "link.mp4");
  expect_error([&] { StagedOutput out(dir / "in.mp4", dir / "link.mp4"); }, ErrorCode::OutputNotWritable, {"input"});
  EXPECT_EQ(read_file(dir / "in.mp4"), "precious");
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"in.mp4", "link.mp4", "sub"}));  // no staging folder made
}

// --- one job's outputs published together ----------------------------------------------

namespace {
// An HLS output (playlist + 3 segments) and an MP4 output, staged in `dir`.
struct TwoOutputs {
  StagedOutput hls, mp4;
  TwoOutputs(const fs::path& dir) : hls(dir / "a.m3u8", dir / "in.mp4"), mp4(dir / "b.mp4", dir / "in.mp4") {
    for (int i = 0; i < 3; ++i) write_file(hls.staging_dir() / fmt::format("a{}.ts", i), fmt::format("segment {}", i));
    write_file(hls.staging_file(), "#EXTM3U\na0.ts\na1.ts\na2.ts\n");
    write_file(mp4.staging_file(), "movie");
  }
  std::vector<StagedOutput*> all() { return {&hls, &mp4}; }
};
const std::set<std::string> kPublished{"a.m3u8", "a0.ts", "a1.ts", "a2.ts", "b.mp4"};
}  // namespace

TEST(PublishTogether, PublishesEveryOutputAndLeavesNoJournal) {
  gopcast::test::TempDir dir;
  TwoOutputs staged(dir.path);
  std::vector<size_t> renames;
  const auto published = publish_together(staged.all(), publication_journal(dir / "a.m3u8"), [&](size_t n) { renames.push_back(n); });
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].front(), dir / "a.m3u8");
  EXPECT_EQ(published[0].size(), 4u);
  EXPECT_EQ(published[1], std::vector<fs::path>{dir / "b.mp4"});
  EXPECT_EQ(renames, (std::vector<size_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(names_in(dir.path), kPublished);  // no staging folder, no journal
  EXPECT_EQ(read_file(dir / "b.mp4"), "movie");
}

TEST(PublishTogether, AKillPartWayIsCompletedFromTheJournal) {
  gopcast::test::TempDir dir;
  const fs::path journal = publication_journal(dir / "a.m3u8");
  // A child process publishes and dies after the 2nd rename, as a killed coordinator would.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    TwoOutputs staged(dir.path);
    publish_together(staged.all(), journal, [](size_t n) {
      if (n == 2) ::_exit(0);
    });
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(fs::exists(journal));
  EXPECT_FALSE(fs::exists(dir / "a.m3u8"));  // half published: two segments, no playlist
  EXPECT_FALSE(fs::exists(dir / "b.mp4"));
  const auto finished = finish_publication(journal);
  EXPECT_EQ(finished.size(), 5u);
  EXPECT_EQ(names_in(dir.path), kPublished);  // both outputs, no staging, no journal
  EXPECT_EQ(read_file(dir / "a2.ts"), "segment 2");
  EXPECT_TRUE(finish_publication(journal).empty());  // nothing more to do
}

TEST(PublishTogether, AFailedRenameTakesBackTheOtherOutputs) {
  gopcast::test::TempDir dir;
  {
    TwoOutputs staged(dir.path);
    fs::create_directories(dir / "b.mp4" / "in-the-way");  // the second output's rename fails
    expect_error([&] { publish_together(staged.all(), publication_journal(dir / "a.m3u8")); }, ErrorCode::OutputNotWritable,
                 {(dir / "b.mp4").string(), "cannot publish"});
  }
  EXPECT_EQ(names_in(dir.path), std::set<std::string>{"b.mp4"});  // the first output taken back, nothing staged left
}

TEST(PublishTogether, APlantedJournalMovesNothing) {
  gopcast::test::TempDir dir;
  fs::create_directory(dir / "private");
  write_file(dir / "private" / "secret", "mine");
  fs::create_directory(dir / ".x.gopcast-1-00000000");
  const fs::path journal = publication_journal(dir / "x.mp4");
  using namespace std::string_literals;
  write_file(journal, "gopcast-publish/1\n"s + "R\0"s + (dir / "private" / "secret").string() + "\0"s + (dir / "x.mp4").string() +
                          "\0S\0"s + (dir / ".x.gopcast-1-00000000").string() + "\0"s);
  expect_error([&] { finish_publication(journal); }, ErrorCode::ResourceContentBad, {journal.string(), "outside its staging"});
  EXPECT_EQ(read_file(dir / "private" / "secret"), "mine");
  EXPECT_FALSE(fs::exists(dir / "x.mp4"));
  write_file(journal, "not a journal");
  expect_error([&] { finish_publication(journal); }, ErrorCode::ResourceContentBad, {journal.string()});
}

TEST(PublishTogether, OrphanedStagingOfThisOutputOnlyIsRemoved) {
  gopcast::test::TempDir dir;
  for (const char* d : {".o.mp4.gopcast-123-deadbeef", ".o.mp4.gopcast-7-0badf00d", ".o.mp4.gopcast-work", ".p.mp4.gopcast-1-deadbeef",
                        ".o.mp4.gopcast-12-deadbee"})
    fs::create_directories(dir / d / "scratch");
  write_file(dir / ".o.mp4.tmp-5-0123456789abcdef", "torn");
  write_file(dir / ".o.mp4.gopcast-lock", "pid 1");
  write_file(dir / "o.mp4", "published");
  const auto removed = remove_orphaned_staging(dir / "o.mp4", {dir / ".o.mp4.gopcast-7-0badf00d"});
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{".o.mp4.gopcast-7-0badf00d", ".o.mp4.gopcast-work", ".p.mp4.gopcast-1-deadbeef",
                                                       ".o.mp4.gopcast-12-deadbee", ".o.mp4.gopcast-lock", "o.mp4"}));
}

TEST(PublishTogether, AKillIsCompletedHoweverTheOutputsWereSpelled) {
  // Outputs named relative to the working folder, bare and with "./": the journal's
  // paths must still pass the next run's checks.
  gopcast::test::TempDir dir;
  const fs::path before = fs::current_path();
  fs::current_path(dir.path);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    StagedOutput a("a.mp4", "in.mp4"), b(fs::path(".") / "b.mp4", "in.mp4");
    write_file(a.staging_file(), "a");
    write_file(b.staging_file(), "b");
    publish_together({&a, &b}, publication_journal("a.mp4"), [](size_t n) {
      if (n == 1) ::_exit(0);
    });
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::current_path(before);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(finish_publication(dir / ".a.mp4.gopcast-publish").size(), 2u);
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"a.mp4", "b.mp4"}));
}
