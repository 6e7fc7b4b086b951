// The template catalogue: shipped presets, custom folders, inheritance (spec/catalog.hpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <thread>
#include <sstream>

#include "../test_support.hpp"
#include "spec/catalog.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;
using gopcast::test::write_file;

namespace {
const fs::path kShipped = fs::path(GOPCAST_SOURCE_DIR) / "templates";

Catalog shipped() { return Catalog({kShipped}); }

std::string printed(const Template& t) {
  std::ostringstream os;
  os << t.to_table();
  return os.str();
}

// Sets an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old) ::setenv(name.c_str(), old->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};
}  // namespace

TEST(CatalogShipped, ListsEveryTemplateFileOnceSortedByName) {
  auto list = shipped().list();
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(kShipped))
    if (e.path().extension() == ".toml") files.insert(e.path().stem().string());
  ASSERT_EQ(list.size(), files.size());
  EXPECT_GE(list.size(), 30u);
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_TRUE(files.count(list[i].name)) << list[i].name;
    EXPECT_EQ(list[i].path, kShipped / (list[i].name + ".toml"));
    if (i) {
      EXPECT_LT(list[i - 1].name, list[i].name);
    }
  }
  // The README's presets are all there.
  for (const char* name : {"pc-flv-360p", "pc-flv-1080p", "android-mp4-480p", "android-mp4-720p-h265", "ios-hls-360p",
                           "ios-hls-1080p", "audio-mp3-64k", "audio-mp3-320k", "audio-aac-64k", "audio-aac-256k",
                           "audio-ogg-flac", "remux-mp4", "remux-mkv", "remux-mov", "remux-ts", "remux-flv", "remux-m3u8"})
    EXPECT_TRUE(files.count(name)) << name;
}

TEST(CatalogShipped, EveryTemplateLoadsValidatesAndRoundTrips) {
  Catalog c = shipped();
  for (const auto& e : c.list()) {
    SCOPED_TRACE(e.name);
    Template t;
    ASSERT_NO_THROW(t = c.load(e.name));
    EXPECT_EQ(t.name, e.name);
    EXPECT_FALSE(t.description.empty()) << "shipped templates describe themselves";
    // Loading by path gives the same template.
    EXPECT_EQ(printed(c.load(e.path.string())), printed(t));
    Template again = template_from_table(t.to_table(), "x", "round-trip");
    EXPECT_EQ(printed(again), printed(t));
    // Stated facts from the names.
    if (e.name.starts_with("ios-hls-")) {
      EXPECT_EQ(t.container, Container::m3u8);
    }
    if (e.name.starts_with("pc-flv-")) {
      EXPECT_EQ(t.container, Container::flv);
    }
    if (e.name.starts_with("android-mp4-")) {
      EXPECT_EQ(t.container, Container::mp4);
    }
    if (e.name.starts_with("remux-")) {
      EXPECT_EQ(t.video.codec, VideoCodec::copy);
      EXPECT_EQ(t.audio.codec, AudioCodec::copy);
    }
    if (e.name.starts_with("audio-")) {
      EXPECT_TRUE(audio_only(t.container));
    }
    for (int h : {360, 480, 720, 1080})
      if (e.name.find("-" + std::to_string(h) + "p") != std::string::npos) {
        EXPECT_EQ(t.video.height, h);
      }
  }
  EXPECT_EQ(c.load("android-mp4-720p-h265").video.codec, VideoCodec::h265);
  EXPECT_EQ(c.load("audio-mp3-320k").audio.bitrate, 320);
  EXPECT_EQ(c.load("audio-aac-64k").container, Container::m4a);
  EXPECT_EQ(c.load("audio-ogg-flac").audio.codec, AudioCodec::flac);
}

TEST(CatalogShipped, DefaultTemplatePerExtension) {
  Catalog c = shipped();
  EXPECT_EQ(c.default_for("x.mp4"), "default-mp4");
  EXPECT_EQ(c.default_for("/some/where/X.MP4"), "default-mp4");
  EXPECT_EQ(c.default_for("out/show.m3u8"), "default-m3u8");
  EXPECT_EQ(c.default_for("a.mp3"), "default-mp3");
  EXPECT_EQ(c.default_for("name.with.dots.mkv"), "default-mkv");
  for (const char* ext : {"mp4", "m4v", "m4a", "aac", "mov", "mkv", "flv", "ts", "m3u8", "gif", "mp3", "ogg", "oga", "flac"}) {
    SCOPED_TRACE(ext);
    std::string name = c.default_for(std::string("out.") + ext);
    Template t;
    ASSERT_NO_THROW(t = c.load(name)) << name;  // every default exists
    EXPECT_EQ(t.container, container_for_extension(ext)) << name;
  }
  expect_error<SpecError>([&] { c.default_for("x.avi"); }, ErrorCode::TemplateNotFound, {".avi"});
  expect_error<SpecError>([&] { c.default_for("x.webm"); }, ErrorCode::TemplateNotFound, {"x.webm"});
  expect_error<SpecError>([&] { c.default_for("no-extension"); }, ErrorCode::TemplateNotFound, {"no-extension"});
}

TEST(CatalogShipped, UnknownNamesAndFilesAreTemplateNotFound) {
  Catalog c = shipped();
  expect_error<SpecError>([&] { c.load("android-mp4-999p"); }, ErrorCode::TemplateNotFound, {"android-mp4-999p"});
  expect_error<SpecError>([&] { c.load_table("nope"); }, ErrorCode::TemplateNotFound, {"nope"});
  expect_error<SpecError>([&] { c.load("/no/such/dir/mine.toml"); }, ErrorCode::TemplateNotFound, {"/no/such/dir/mine.toml"});
  expect_error<SpecError>([&] { c.load("missing.toml"); }, ErrorCode::TemplateNotFound, {"missing.toml"});
}

TEST(CatalogShipped, OverridesApplyInOrderAfterTheOverrideTable) {
  Catalog c = shipped();
  Template t = c.load("default-mp4", {"video.crf=20", "video.crf=25", "audio.bitrate=96"},
                      toml::parse("[video]\ncrf = 30\npreset = 'slow'\n"), "job.toml: outputs[0]");
  EXPECT_EQ(t.video.crf, 25);          // the last --set wins over the table and earlier --set
  EXPECT_EQ(t.video.preset, "slow");   // the override table applies over the template
  EXPECT_EQ(t.audio.bitrate, 96);
  EXPECT_EQ(t.container, Container::mp4);
  expect_error<SpecError>([&] { c.load("default-mp4", {"video.crf=99"}); }, ErrorCode::OutOfRange, {"--set", "video.crf", "99"});
  expect_error<SpecError>([&] { c.load("default-mp4", {"video.bogus=1"}); }, ErrorCode::InvalidKey, {"video.bogus"});
  // --set video.bitrate=0 turns a bitrate preset into a quality-based one.
  Template q = c.load("ios-hls-720p", {"video.bitrate=0", "video.crf=21"});
  EXPECT_FALSE(q.video.bitrate);
  EXPECT_EQ(q.video.crf, 21);
  expect_error<SpecError>([&] { c.load("ios-hls-720p", {"video.crf=21"}); }, ErrorCode::Incompatible, {"video.crf"});
}

// ---------------------------------------------------------------------------
// Custom folders and inheritance.

TEST(CatalogCustom, BaseInheritsAndTheChildWins) {
  TempDir d;
  write_file(d / "parent.toml",
             "name = 'parent-name'\ndescription = 'the parent'\n[container]\nformat = 'mkv'\n"
             "[video]\ncrf = 30\npreset = 'slow'\nheight = 720\n[audio]\ncodec = 'vorbis'\nbitrate = 96\n");
  write_file(d / "child.toml", "base = 'parent'\n[video]\ncrf = 25\n[audio]\nbitrate = 160\n");
  write_file(d / "grandchild.toml", "base = 'child'\ndescription = 'third'\n[video]\nheight = 360\n");
  Catalog c({d.path});
  Template child = c.load("child");
  EXPECT_EQ(child.container, Container::mkv);
  EXPECT_EQ(child.video.crf, 25);
  EXPECT_EQ(child.video.preset, "slow");
  EXPECT_EQ(child.video.height, 720);
  EXPECT_EQ(child.audio.codec, AudioCodec::vorbis);
  EXPECT_EQ(child.audio.bitrate, 160);
  // name and description belong to the file that states them.
  EXPECT_EQ(child.name, "child");
  EXPECT_EQ(child.description, "");
  Template g = c.load("grandchild");
  EXPECT_EQ(g.video.height, 360);
  EXPECT_EQ(g.video.crf, 25);
  EXPECT_EQ(g.video.preset, "slow");
  EXPECT_EQ(g.description, "third");
  EXPECT_EQ(g.name, "grandchild");
  // The parent itself is unchanged by its children.
  EXPECT_EQ(c.load("parent").video.crf, 30);
  EXPECT_EQ(c.load("parent").name, "parent-name");
}

TEST(CatalogCustom, BaseFromAShippedTemplate) {
  TempDir d;
  write_file(d / "my-720.toml", "base = 'android-mp4-720p'\n[video]\ncrf = 22\nbitrate = 0\nmaxrate = 0\nbufsize = 0\n");
  write_file(d / "bad-720.toml", "base = 'android-mp4-720p'\n[video]\ncrf = 22\n");
  Catalog c({d.path, kShipped});
  Template t = c.load("my-720");
  EXPECT_EQ(t.video.crf, 22);
  EXPECT_FALSE(t.video.bitrate);  // 0 cleared the inherited 2000
  EXPECT_FALSE(t.video.maxrate);
  EXPECT_EQ(t.video.height, 720);
  EXPECT_EQ(t.video.profile, "high");
  EXPECT_EQ(t.container, Container::mp4);
  expect_error<SpecError>([&] { c.load("bad-720"); }, ErrorCode::Incompatible, {(d / "bad-720.toml").string(), "video.crf"});
}

TEST(CatalogCustom, BaseByRelativePathWithAFolder) {
  TempDir d;
  write_file(d / "lib" / "p.toml", "[video]\npreset = 'veryslow'\n");
  write_file(d / "mine" / "c.toml", "base = '../lib/p.toml'\n[video]\ncrf = 19\n");
  Catalog c({});
  Template t = c.load((d / "mine" / "c.toml").string());
  EXPECT_EQ(t.video.preset, "veryslow");
  EXPECT_EQ(t.video.crf, 19);
  EXPECT_EQ(t.name, "c");
}

TEST(CatalogCustom, BaseByRelativeFileNameIsRelativeToTheNamingFile) {
  // docs/templates.md: base = "name or relative .toml path"; relative to the file that
  // names it, wherever the process runs.
  TempDir d;
  write_file(d / "p.toml", "[video]\npreset = 'veryslow'\n");
  write_file(d / "c.toml", "base = 'p.toml'\n[video]\ncrf = 19\n");
  Catalog c({});
  Template t;
  ASSERT_NO_THROW(t = c.load((d / "c.toml").string()));
  EXPECT_EQ(t.video.preset, "veryslow");
  EXPECT_EQ(t.video.crf, 19);
}

TEST(CatalogCustom, BaseCyclesAreErrorsNotHangs) {
  TempDir d;
  write_file(d / "loop-a.toml", "base = 'loop-b'\n");
  write_file(d / "loop-b.toml", "base = 'loop-a'\n");
  write_file(d / "self.toml", "base = 'self'\n");
  Catalog c({d.path});
  // On a thread of its own, so that a hang fails the test instead of blocking it.
  auto load_async = [&](const char* name) {
    auto task = std::make_shared<std::packaged_task<void()>>([c, n = std::string(name)] { c.load(n); });
    auto fut = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    return fut;
  };
  for (const char* name : {"loop-a", "self"}) {
    SCOPED_TRACE(name);
    auto fut = load_async(name);
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "still loading after 20 s";
    expect_error<SpecError>([&] { fut.get(); }, ErrorCode::InvalidKey, {"cycle"});
  }
}

TEST(CatalogCustom, BadBasesAreErrors) {
  TempDir d;
  write_file(d / "orphan.toml", "base = 'no-such-parent'\n");
  write_file(d / "typed.toml", "base = 3\n");
  write_file(d / "broken-parent.toml", "[video\n");
  write_file(d / "child-of-broken.toml", "base = 'broken-parent'\n");
  Catalog c({d.path});
  expect_error<SpecError>([&] { c.load("orphan"); }, ErrorCode::TemplateNotFound, {"no-such-parent"});
  expect_error<SpecError>([&] { c.load("typed"); }, ErrorCode::InvalidKey, {"base"});
  expect_error<SpecError>([&] { c.load("child-of-broken"); }, ErrorCode::SpecSyntax, {(d / "broken-parent.toml").string() + ":1:"});
}

TEST(CatalogCustom, ErrorsNameTheFileThatStatesTheValue) {
  TempDir d;
  write_file(d / "parent.toml", "[video]\n\nwidth = 4\n");
  write_file(d / "child.toml", "base = 'parent'\n[audio]\nbitrate = 96\n");
  Catalog c({d.path});
  expect_error<SpecError>([&] { c.load("child"); }, ErrorCode::OutOfRange, {(d / "parent.toml").string() + ":3:", "video.width"});
  write_file(d / "good-parent.toml", "[video]\nwidth = 640\n");
  write_file(d / "typo.toml", "base = 'good-parent'\n[video]\nwidht = 640\n");
  expect_error<SpecError>([&] { c.load("typo"); }, ErrorCode::InvalidKey, {(d / "typo.toml").string() + ":3:", "video.widht"});
}

TEST(CatalogCustom, EarlierFoldersComeFirst) {
  TempDir a, b;
  write_file(a / "default-mp4.toml", "description = 'from a'\n[video]\ncrf = 17\n");
  write_file(b / "default-mp4.toml", "description = 'from b'\n");
  write_file(b / "only-b.toml", "description = 'only in b'\n");
  Catalog c({a.path, b.path, kShipped});
  EXPECT_EQ(c.load("default-mp4").description, "from a");
  EXPECT_EQ(c.load("default-mp4").video.crf, 17);
  EXPECT_EQ(c.load("only-b").description, "only in b");
  auto list = c.list();
  int seen = 0;
  for (const auto& e : list)
    if (e.name == "default-mp4") {
      ++seen;
      EXPECT_EQ(e.path, a / "default-mp4.toml");
    }
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(list.size(), shipped().list().size() + 1);  // only-b is new, default-mp4 shadows
}

TEST(CatalogCustom, TemplatePathEnvironmentFoldersAreSearchedFirst) {
  TempDir a, b;
  write_file(a / "default-mp4.toml", "description = 'env first'\n[video]\nthreads = 7\n");
  write_file(b / "house-style.toml", "base = 'default-mp4'\ndescription = 'house'\n[video]\npreset = 'slow'\n");
  ScopedEnv env("GOPCAST_TEMPLATE_PATH", a.path.string() + "::" + b.path.string() + ":");
  Catalog c = Catalog::standard();
  ASSERT_GE(c.dirs().size(), 3u);
  EXPECT_EQ(c.dirs()[0], a.path);
  EXPECT_EQ(c.dirs()[1], b.path);  // empty entries are skipped
  EXPECT_EQ(fs::weakly_canonical(c.dirs().back()), fs::weakly_canonical(kShipped));
  EXPECT_EQ(c.load("default-mp4").description, "env first");
  Template house = c.load("house-style");
  EXPECT_EQ(house.video.threads, 7);  // its base is found on the search path too
  EXPECT_EQ(house.video.preset, "slow");
  EXPECT_EQ(c.load("ios-hls-480p").container, Container::m3u8);  // shipped ones still load
}

TEST(CatalogCustom, StandardWithoutEnvironmentIsTheShippedFolder) {
  ::unsetenv("GOPCAST_TEMPLATE_PATH");
  Catalog c = Catalog::standard();
  ASSERT_EQ(c.dirs().size(), 1u);
  EXPECT_EQ(fs::weakly_canonical(c.dirs()[0]), fs::weakly_canonical(kShipped));
}

TEST(CatalogCustom, LoadByPathUsesTheFileStemAsName) {
  TempDir d;
  write_file(d / "My Preset.toml", "[video]\ncrf = 28\n");
  Catalog c({});
  Template t = c.load((d / "My Preset.toml").string());
  EXPECT_EQ(t.name, "My Preset");
  EXPECT_EQ(t.video.crf, 28);
}
