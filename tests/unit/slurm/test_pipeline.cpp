// Pipeline files (slurm/pipeline.hpp): keys, validation, and the mapping of priority
// and concurrency onto Slurm's nice values and license units.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "slurm/pipeline.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;
using gopcast::test::write_file;

namespace {

TEST(Pipeline, ReadsEveryKey) {
  TempDir dir;
  write_file(dir / "secret.txt", "s3cret\n");
  write_file(dir / "web.toml", R"(
description = "web renditions"
state = "paused"
[slurm]
partition = "batch"
account = "media"
qos = "normal"
ranks = 4
nodes = 2
cpus_per_rank = 2
time_limit = "1-02:00:00"
memory = "8G"
max_concurrent = 3
nice_step = 500
launcher = "srun"
sbatch_options = ["--constraint=avx2"]
[notify]
url = "https://hooks.example.org/gopcast?x=1"
secret_file = "secret.txt"
events = ["TranscodeSuccess", "TranscodeFail"]
attempts = 3
)");
  auto p = slurm::load_pipeline(dir / "web.toml");
  EXPECT_EQ(p.name, "web");
  EXPECT_EQ(p.state, slurm::PipelineState::Paused);
  EXPECT_EQ(p.partition, "batch");
  EXPECT_EQ(p.ranks, 4);
  EXPECT_EQ(p.nodes, 2);
  EXPECT_EQ(p.time_limit, "1-02:00:00");
  EXPECT_EQ(p.max_concurrent, 3);
  EXPECT_EQ(p.license, "gopcast_web");
  EXPECT_EQ(p.nice_step, 500);
  EXPECT_EQ(p.launcher, slurm::Launcher::Srun);
  EXPECT_EQ(p.sbatch_options, std::vector<std::string>{"--constraint=avx2"});
  ASSERT_TRUE(p.notify);
  EXPECT_EQ(p.notify->secret, "s3cret");
  EXPECT_EQ(p.notify->attempts, 3);
  EXPECT_EQ(p.notify->events.size(), 2u);
  EXPECT_EQ(p.slurm_job_name(), "gopcast-web");
}

TEST(Pipeline, DefaultsAreAnActiveOneRankPipelineWithoutLimit) {
  TempDir dir;
  write_file(dir / "plain.toml", "");
  auto p = slurm::load_pipeline(dir / "plain.toml");
  EXPECT_EQ(p.name, "plain");
  EXPECT_EQ(p.state, slurm::PipelineState::Active);
  EXPECT_EQ(p.ranks, 1);
  EXPECT_EQ(p.max_concurrent, 0);
  EXPECT_EQ(p.launcher, slurm::Launcher::Mpirun);
  EXPECT_FALSE(p.notify);
}

TEST(Pipeline, BadValuesNameTheFileAndKey) {
  TempDir dir;
  auto bad = [&](const std::string& text, ErrorCode code, std::initializer_list<std::string> parts) {
    write_file(dir / "p.toml", text);
    expect_error([&] { slurm::load_pipeline(dir / "p.toml"); }, code, parts);
  };
  bad("[notify]\nurl = \"ftp://example.org/x\"\n", ErrorCode::OutOfRange, {"p.toml", "url", "http"});
  bad("[notify]\nurl = \"file:///etc/passwd\"\n", ErrorCode::OutOfRange, {"p.toml", "url"});
  bad("[slurm]\npartition = \"debug\\n#SBATCH --uid=0\"\n", ErrorCode::OutOfRange, {"p.toml", "slurm.partition"});
  bad("[slurm]\ntime_limit = \"two hours\"\n", ErrorCode::OutOfRange, {"slurm.time_limit"});
  bad("[slurm]\nranks = 0\n", ErrorCode::OutOfRange, {"slurm.ranks"});
  bad("[slurm]\nranks = 1\nnodes = 2\n", ErrorCode::OutOfRange, {"slurm.nodes"});
  bad("[slurm]\nlauncher = \"ssh\"\n", ErrorCode::OutOfRange, {"slurm.launcher"});
  bad("[slurm]\nsbatch_options = [\"rm -rf /\"]\n", ErrorCode::OutOfRange, {"slurm.sbatch_options"});
  bad("[slurm]\nmax_concurent = 2\n", ErrorCode::InvalidKey, {"max_concurent"});
  bad("name = \"Web Pipeline\"\n", ErrorCode::OutOfRange, {"name"});
  bad("state = \"stopped\"\n", ErrorCode::OutOfRange, {"state"});
  bad("[notify]\nsecret = \"x\"\n", ErrorCode::InvalidKey, {"notify.secret", "without notify.url"});
  bad("[notify]\nurl = \"http://localhost:9/\"\nevents = [\"Done\"]\n", ErrorCode::OutOfRange, {"notify.events"});
  bad("[notify]\nurl = \"http://localhost:9/\"\nsecret_file = \"missing.txt\"\n", ErrorCode::ResourceNotFound, {"missing.txt"});
}

// notify.allow widens the public-only default to loopback and private ranges; a URL
// whose host is a literal address outside the policy is refused when the pipeline is
// read (so at submission), link-local ones (cloud metadata) whatever the pipeline says.
TEST(Pipeline, WebhookAddressesFollowTheAllowPolicy) {
  TempDir dir;
  auto load = [&](const std::string& text) {
    write_file(dir / "p.toml", text);
    return slurm::load_pipeline(dir / "p.toml");
  };
  auto bad = [&](const std::string& text, ErrorCode code, std::initializer_list<std::string> parts) {
    expect_error([&] { load(text); }, code, parts);
  };
  bad("[notify]\nurl = \"http://127.0.0.1:8080/h\"\n", ErrorCode::OutOfRange,
      {"p.toml", "notify.url", "127.0.0.1, a loopback address", "notify.allow = [\"loopback\"]"});
  bad("[notify]\nurl = \"http://10.1.2.3/h\"\nallow = [\"loopback\"]\n", ErrorCode::OutOfRange,
      {"notify.url", "10.1.2.3, a private address"});
  bad("[notify]\nurl = \"http://169.254.169.254/latest/meta-data/\"\nallow = [\"loopback\", \"private\"]\n",
      ErrorCode::OutOfRange, {"notify.url", "169.254.169.254, a link-local address: never allowed"});
  bad("[notify]\nurl = \"http://[fd00:ec2::254]/\"\nallow = [\"private\"]\n", ErrorCode::OutOfRange,
      {"notify.url", "link-local", "never"});
  bad("[notify]\nurl = \"http://[::ffff:127.0.0.1]/\"\n", ErrorCode::OutOfRange, {"notify.url", "loopback"});
  bad("[notify]\nurl = \"https://hooks.example.org/\"\nallow = [\"link-local\"]\n", ErrorCode::OutOfRange,
      {"notify.allow", "loopback or private"});
  bad("[notify]\nurl = \"https://hooks.example.org/\"\nallow = \"private\"\n", ErrorCode::InvalidKey, {"notify.allow"});
  bad("[notify]\nallow = [\"private\"]\n", ErrorCode::InvalidKey, {"notify.allow", "without notify.url"});

  const auto local = load("[notify]\nurl = \"http://127.0.0.1:8080/h\"\nallow = [\"loopback\"]\n");
  ASSERT_TRUE(local.notify);
  EXPECT_EQ(local.notify->allow, std::vector<notify::AddressClass>{notify::AddressClass::Loopback});
  // A name is checked when an event is delivered, against the addresses it then has.
  EXPECT_TRUE(load("[notify]\nurl = \"http://localhost:9/\"\n").notify->allow.empty());
  EXPECT_TRUE(load("[notify]\nurl = \"http://192.0.2.10/h\"\n").notify);  // public (documentation range)
}

TEST(Priority, TenStartsFirstAndEachStepIsNiceStepApart) {
  EXPECT_EQ(slurm::nice_for_priority(10, 1000), 0);
  EXPECT_EQ(slurm::nice_for_priority(6, 1000), 4000);
  EXPECT_EQ(slurm::nice_for_priority(1, 1000), 9000);
  for (int p = 1; p < 10; ++p) EXPECT_GT(slurm::nice_for_priority(p, 7), slurm::nice_for_priority(p + 1, 7));
}

TEST(LicenseUnits, AtMostLimitJobsFitInThePool) {
  for (long pool : {1000L, 1024L, 5000L})
    for (int limit = 1; limit * (limit + 1) <= pool; ++limit) {
      long u = slurm::license_units(pool, limit, "x");
      EXPECT_LE(u * limit, pool) << pool << " " << limit;
      EXPECT_GT(u * (limit + 1), pool) << pool << " " << limit;
    }
  EXPECT_EQ(slurm::license_units(1000, 0, "x"), 0);
  expect_error([] { slurm::license_units(2, 3, "gopcast_web"); }, ErrorCode::OutOfRange, {"gopcast_web", "at least 12"});
  // 36 jobs of floor(1000/36) = 27 units: 37 would fit in 1000, so that pool is refused.
  expect_error([] { slurm::license_units(1000, 36, "gopcast_web"); }, ErrorCode::OutOfRange, {"1332"});
}

}  // namespace

namespace {
TEST(Pipeline, ShippedExamplesLoad) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(GOPCAST_SOURCE_DIR) / "slurm" / "pipelines")) {
    if (e.path().extension() != ".toml") continue;
    auto p = slurm::load_pipeline(e.path());
    EXPECT_EQ(p.name, e.path().stem().string());
    ++n;
  }
  EXPECT_GE(n, 3);
}
}  // namespace
