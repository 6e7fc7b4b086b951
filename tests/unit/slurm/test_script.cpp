// The sbatch script text (slurm/script.hpp): quoting that survives any file name,
// directives from a pipeline, and the template placeholders.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "../test_support.hpp"
#include "core/files.hpp"
#include "core/process.hpp"
#include "slurm/script.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;

namespace {

// Names that break naive scripts: every one must reach the program as one word, unchanged.
std::vector<std::string> nasty_words(const fs::path& canary) {
  return {"plain",
          "two words",
          "it's",
          "'",
          "\"double\"",
          "$(touch " + canary.string() + ")",
          "`touch " + canary.string() + "`",
          "${HOME}",
          "a;touch " + canary.string(),
          "line one\nline two",
          "tab\there",
          "back\\slash",
          "*",
          "-n",
          "",
          "ünïcødé 日本語 🎬",
          "!event",
          "{braces}",
          "trailing newline\n"};
}

// printf '%s\0' output back into its words.
std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> words;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\0') words.push_back(text.substr(start, i - start)), start = i + 1;
  return words;
}

TEST(ShellQuote, EveryWordComesBackExactlyThroughBash) {
  TempDir dir;
  const fs::path canary = dir / "canary";
  const auto words = nasty_words(canary);
  // printf '%s\0' prints each argument NUL-terminated, so splits or expansions show.
  std::string script = "printf '%s\\0'";
  for (const auto& w : words) script += " " + slurm::shell_quote(w);
  auto out = process::run({"bash", "-c", script});
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(split_nul(out.out), words);
  EXPECT_FALSE(fs::exists(canary)) << "a quoted word was executed";
}

slurm::Pipeline sample_pipeline() {
  slurm::Pipeline p;
  p.name = "web";
  p.partition = "batch";
  p.account = "media";
  p.qos = "normal";
  p.ranks = 4;
  p.nodes = 2;
  p.cpus_per_rank = 2;
  p.time_limit = "02:00:00";
  p.memory = "8G";
  p.max_concurrent = 3;
  p.license = "gopcast_web";
  return p;
}

TEST(SbatchDirectives, MapThePipelineAndJobOntoSlurmOptions) {
  auto d = slurm::sbatch_directives(sample_pipeline(), {4000, 333, "20261125-061502-3fa9c1d2"});
  const std::vector<std::string> want = {"--job-name=gopcast-web", "--partition=batch",  "--account=media",
                                         "--qos=normal",           "--ntasks=4",         "--nodes=2",
                                         "--cpus-per-task=2",      "--time=02:00:00",    "--mem=8G",
                                         "--requeue",              "--open-mode=append", "--nice=4000",
                                         "--licenses=gopcast_web:333", "--comment=gopcast:20261125-061502-3fa9c1d2"};
  EXPECT_EQ(d, want);
}

TEST(SbatchDirectives, LeaveOutWhatThePipelineLeavesToSlurm) {
  slurm::Pipeline p;
  p.name = "plain";
  auto d = slurm::sbatch_directives(p, {0, 0, ""});
  for (const auto& x : d) {
    EXPECT_FALSE(x.starts_with("--partition")) << x;
    EXPECT_FALSE(x.starts_with("--licenses")) << x;
    EXPECT_FALSE(x.starts_with("--time")) << x;
  }
  EXPECT_NE(std::find(d.begin(), d.end(), "--requeue"), d.end());
}

TEST(RenderScript, FillsBothPlaceholdersAndRunsTheCommandAsGiven) {
  TempDir dir;
  const fs::path canary = dir / "canary";
  auto words = nasty_words(canary);
  std::vector<std::string> command = {"printf", "%s\\0"};
  command.insert(command.end(), words.begin(), words.end());
  const std::string tmpl = "#!/bin/bash\n# header\n@SBATCH@\nset -u\n@COMMAND@\n";
  std::string text = slurm::render_script(tmpl, "t.in", {"--job-name=gopcast-web", "--nice=0"}, command);
  EXPECT_EQ(text.substr(0, text.find("set -u")), "#!/bin/bash\n# header\n#SBATCH --job-name=gopcast-web\n#SBATCH --nice=0\n");
  files::write_atomic(dir / "job.sbatch", text, 0755);
  auto out = process::run({"bash", (dir / "job.sbatch").string()});
  ASSERT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(split_nul(out.out), words);
  EXPECT_FALSE(fs::exists(canary));
  // Slurm reads #SBATCH lines only before the first command: all of them come first.
  auto first_cmd = text.find("\nset -u");
  EXPECT_EQ(text.find("#SBATCH", first_cmd), std::string::npos);
}

TEST(RenderScript, ATemplateWithoutItsPlaceholdersIsAnError) {
  expect_error([] { slurm::render_script("#!/bin/bash\n@COMMAND@\n", "site.sbatch.in", {}, {"true"}); },
               ErrorCode::InvalidKey, {"site.sbatch.in", "@SBATCH@"});
  expect_error([] { slurm::render_script("@SBATCH@\n@SBATCH@\n@COMMAND@", "site.sbatch.in", {}, {"true"}); },
               ErrorCode::InvalidKey, {"exactly once"});
}

TEST(ShippedTemplate, RendersAScriptBashAccepts) {
  std::string tmpl = files::read(fs::path(GOPCAST_SOURCE_DIR) / "slurm" / "job.sbatch.in");
  std::string text = slurm::render_script(tmpl, "job.sbatch.in", slurm::sbatch_directives(sample_pipeline(), {0, 1, "x"}),
                                          {"/usr/bin/gopcast", "jobs", "exec", "--home", "/a b/it's", "id"});
  TempDir dir;
  files::write_atomic(dir / "s", text);
  auto out = process::run({"bash", "-n", (dir / "s").string()});
  EXPECT_EQ(out.status, 0) << out.err;
  EXPECT_TRUE(text.starts_with("#!/bin/bash\n"));
  EXPECT_NE(text.find("exec '/usr/bin/gopcast' 'jobs' 'exec' '--home' '/a b/it'\\''s' 'id'"), std::string::npos) << text;
}

}  // namespace

#include "slurm/slurm.hpp"

namespace {
TEST(JobIds, SortAsSlurmStartsThemAtEqualPriority) {
  std::vector<std::string> ids = {"12_10", "9", "12_2", "100", "12"};
  std::sort(ids.begin(), ids.end(), slurm::job_id_less);
  EXPECT_EQ(ids, (std::vector<std::string>{"9", "12", "12_2", "12_10", "100"}));
}

TEST(ScontrolLine, ParsesKeyValuePairs) {
  auto m = slurm::parse_scontrol_line("LicenseName=gopcast_web Total=1000 Used=333 Free=667 Remote=no");
  EXPECT_EQ(m["LicenseName"], "gopcast_web");
  EXPECT_EQ(m["Total"], "1000");
  EXPECT_EQ(m.count("Missing"), 0u);
}
}  // namespace
