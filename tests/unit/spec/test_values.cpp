// Typed TOML reads, --set overrides and deep merges (spec/value.hpp).
#include <gtest/gtest.h>

#include <sstream>

#include "../test_support.hpp"
#include "spec/value.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;
using gopcast::test::write_file;

namespace {
toml::table set(std::initializer_list<std::string_view> assignments) {
  toml::table t;
  for (auto a : assignments) spec::apply_override(t, a);
  return t;
}
}  // namespace

TEST(ApplyOverride, TomlValuesKeepTheirType) {
  toml::table t = set({"video.crf=20", "trans.no_upscale=true", "audio.codec=\"mp3\"", "mux.hls_segment_seconds=1.5",
                       "video.bitrate=-3", "x.list=[1, 2]", "x.single='quoted'"});
  ASSERT_TRUE(t["video"]["crf"].is_integer());
  EXPECT_EQ(t["video"]["crf"].value<int64_t>(), 20);
  ASSERT_TRUE(t["trans"]["no_upscale"].is_boolean());
  EXPECT_EQ(t["trans"]["no_upscale"].value<bool>(), true);
  ASSERT_TRUE(t["audio"]["codec"].is_string());
  EXPECT_EQ(t["audio"]["codec"].value<std::string>(), "mp3");  // quotes removed
  ASSERT_TRUE(t["mux"]["hls_segment_seconds"].is_floating_point());
  EXPECT_DOUBLE_EQ(*t["mux"]["hls_segment_seconds"].value<double>(), 1.5);
  EXPECT_EQ(t["video"]["bitrate"].value<int64_t>(), -3);
  ASSERT_TRUE(t["x"]["list"].is_array());
  EXPECT_EQ(t["x"]["list"].as_array()->size(), 2u);
  EXPECT_EQ(t["x"]["single"].value<std::string>(), "quoted");
}

TEST(ApplyOverride, BareWordsAreStrings) {
  toml::table t = set({"video.preset=slow", "video.pix_fmt=yuv420p", "video.gop=2s", "video.fps=30000/1001",
                       "description=two words", "container.format=m3u8"});
  for (auto [group, key, want] : {std::tuple{"video", "preset", "slow"}, {"video", "pix_fmt", "yuv420p"},
                                  {"video", "gop", "2s"}, {"video", "fps", "30000/1001"}, {"container", "format", "m3u8"}}) {
    ASSERT_TRUE(t[group][key].is_string()) << group << "." << key;
    EXPECT_EQ(t[group][key].value<std::string>(), want);
  }
  EXPECT_EQ(t["description"].value<std::string>(), "two words");
}

TEST(ApplyOverride, EverythingAfterTheFirstEqualsSignIsTheValue) {
  toml::table t = set({"name=a=b"});
  EXPECT_EQ(t["name"].value<std::string>(), "a=b");
}

TEST(ApplyOverride, NestedKeysCreateTablesAndLaterValuesWin) {
  toml::table t = set({"a.b.c=1", "a.b.d=two", "a.e=true", "a.b.c=5"});
  ASSERT_TRUE(t["a"].is_table());
  ASSERT_TRUE(t["a"]["b"].is_table());
  EXPECT_EQ(t["a"]["b"]["c"].value<int64_t>(), 5);
  EXPECT_EQ(t["a"]["b"]["d"].value<std::string>(), "two");
  EXPECT_EQ(t["a"]["e"].value<bool>(), true);
  EXPECT_EQ(t["a"]["b"].as_table()->size(), 2u);
}

TEST(ApplyOverride, KeepsTheRestOfAnExistingTable) {
  toml::table t = toml::parse("[video]\ncrf = 23\npreset = 'fast'\n");
  spec::apply_override(t, "video.crf=18");
  EXPECT_EQ(t["video"]["crf"].value<int64_t>(), 18);
  EXPECT_EQ(t["video"]["preset"].value<std::string>(), "fast");
}

TEST(ApplyOverride, MalformedAssignmentsAreInvalidKey) {
  for (std::string_view bad : {"video.crf", "=20", "video..crf=1", "video.=1", ".crf=1"}) {
    toml::table t;
    expect_error<SpecError>([&] { spec::apply_override(t, bad); }, ErrorCode::InvalidKey, {std::string(bad)});
  }
  toml::table t = toml::parse("[video]\ncrf = 23\n");
  expect_error<SpecError>([&] { spec::apply_override(t, "video.crf.x=1"); }, ErrorCode::InvalidKey, {"crf"});
}

TEST(MergeInto, DeepMergesTablesAndReplacesEverythingElse) {
  toml::table base = toml::parse(R"(
name = "base"
list = [1, 2, 3]
[video]
crf = 23
preset = "fast"
[video.extra]
a = 1
b = 2
[audio]
bitrate = 128
)");
  spec::merge_into(base, toml::parse(R"(
name = "over"
list = [9]
[video]
crf = 18
[video.extra]
b = 20
c = 30
[mux]
faststart = false
)"));
  EXPECT_EQ(base["name"].value<std::string>(), "over");
  ASSERT_TRUE(base["list"].is_array());
  EXPECT_EQ(base["list"].as_array()->size(), 1u);  // arrays replace, they do not append
  EXPECT_EQ(base["list"][0].value<int64_t>(), 9);
  EXPECT_EQ(base["video"]["crf"].value<int64_t>(), 18);
  EXPECT_EQ(base["video"]["preset"].value<std::string>(), "fast");
  EXPECT_EQ(base["video"]["extra"]["a"].value<int64_t>(), 1);
  EXPECT_EQ(base["video"]["extra"]["b"].value<int64_t>(), 20);
  EXPECT_EQ(base["video"]["extra"]["c"].value<int64_t>(), 30);
  EXPECT_EQ(base["audio"]["bitrate"].value<int64_t>(), 128);
  EXPECT_EQ(base["mux"]["faststart"].value<bool>(), false);
}

TEST(MergeInto, ATableReplacesAScalarAndTheOtherWayRound) {
  toml::table base = toml::parse("video = 'none'\n[audio]\nbitrate = 1\n");
  spec::merge_into(base, toml::parse("audio = 'gone'\n[video]\ncrf = 1\n"));
  ASSERT_TRUE(base["video"].is_table());
  EXPECT_EQ(base["video"]["crf"].value<int64_t>(), 1);
  EXPECT_EQ(base["audio"].value<std::string>(), "gone");
}

TEST(MergeInto, KeepsSourcePositionsOfMergedValues) {
  TempDir d;
  write_file(d / "over.toml", "\n\n[video]\ncrf = 99\n");
  toml::table base = toml::parse("[video]\ncrf = 1\n");
  spec::merge_into(base, spec::parse_file(d / "over.toml"));
  const toml::node* crf = base["video"]["crf"].node();
  ASSERT_NE(crf, nullptr);
  EXPECT_EQ(spec::where(*crf, "fallback"), (d / "over.toml").string() + ":4:7");
}

TEST(ParseFile, SyntaxErrorsNameFileLineAndColumn) {
  TempDir d;
  write_file(d / "bad.toml", "[video]\ncrf = 20\npreset = \"slow\n");
  std::string msg =
      expect_error<SpecError>([&] { spec::parse_file(d / "bad.toml"); }, ErrorCode::SpecSyntax, {(d / "bad.toml").string() + ":3:"});
  // file:line:col with a numeric column
  const std::string prefix = (d / "bad.toml").string() + ":3:";
  auto at = msg.find(prefix);
  ASSERT_NE(at, std::string::npos);
  ASSERT_LT(at + prefix.size(), msg.size());
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(msg[at + prefix.size()]))) << msg;

  write_file(d / "dup.toml", "a = 1\na = 2\n");
  expect_error<SpecError>([&] { spec::parse_file(d / "dup.toml"); }, ErrorCode::SpecSyntax, {(d / "dup.toml").string() + ":2:"});
  write_file(d / "header.toml", "x = 1\n\n\n[video\n");
  expect_error<SpecError>([&] { spec::parse_file(d / "header.toml"); }, ErrorCode::SpecSyntax,
                          {(d / "header.toml").string() + ":4:"});
}

TEST(ParseFile, MissingFileIsResourceNotFound) {
  TempDir d;
  expect_error<SpecError>([&] { spec::parse_file(d / "absent.toml"); }, ErrorCode::ResourceNotFound, {"absent.toml"});
}

TEST(ParseFile, ValuesRememberWhereTheyCameFrom) {
  TempDir d;
  write_file(d / "t.toml", "# comment\n[video]\n  crf = 20\n");
  toml::table t = spec::parse_file(d / "t.toml");
  EXPECT_EQ(spec::where(*t["video"]["crf"].node(), "fb"), (d / "t.toml").string() + ":3:9");
  toml::table made = set({"video.crf=20"});
  EXPECT_EQ(spec::where(*made["video"]["crf"].node(), "--set"), "--set");  // no position: the fallback
}

// ---------------------------------------------------------------------------
// TableReader

TEST(TableReader, ReadsTypedValues) {
  toml::table t = toml::parse(R"(
n = 7
f = 2.5
whole = 3.0
b = true
s = "text"
c = "pad"
[sub]
x = 1
)");
  spec::TableReader r(&t, "", "test.toml");
  EXPECT_EQ(r.integer("n", 0, 10), 7);
  EXPECT_EQ(r.integer("whole", 0, 10), 3);  // a whole float reads as an integer
  EXPECT_DOUBLE_EQ(*r.number("f", 0, 10), 2.5);
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_EQ(r.string("s"), "text");
  EXPECT_EQ(r.choice("c", {"rescale", "pad"}), "pad");
  EXPECT_EQ(r.integer("absent", 0, 1), std::nullopt);
  EXPECT_EQ(r.string("absent2"), std::nullopt);
  auto sub = r.table("sub");
  EXPECT_EQ(sub.integer("x", 0, 1), 1);
  EXPECT_EQ(sub.full_key("x"), "sub.x");
  EXPECT_NO_THROW(sub.finish());
  auto none = r.table("no_such_table");  // absent tables read as empty
  EXPECT_EQ(none.integer("x", 0, 1), std::nullopt);
  EXPECT_NO_THROW(none.finish());
  EXPECT_NO_THROW(r.finish());
}

TEST(TableReader, UnknownKeyNamesTheFullDottedKey) {
  toml::table t = toml::parse("[video]\ncrf = 20\n\n[video.deep]\nunread = 1\n");
  spec::TableReader root(&t, "", "tmpl.toml");
  auto video = root.table("video");
  video.integer("crf", 0, 51);
  auto deep = video.table("deep");
  expect_error<SpecError>([&] { deep.finish(); }, ErrorCode::InvalidKey, {"video.deep.unread", "unknown key", "tmpl.toml"});
  // And a reader with a job-style prefix.
  toml::table o = toml::parse("path = 'a.mp4'\ntemplat = 'x'\n");
  spec::TableReader out(&o, "outputs[1]", "job.toml");
  out.string("path");
  expect_error<SpecError>([&] { out.finish(); }, ErrorCode::InvalidKey, {"outputs[1].templat", "job.toml"});
}

TEST(TableReader, UnknownKeyErrorCarriesTheFilePosition) {
  TempDir d;
  write_file(d / "t.toml", "[audio]\nbitrate = 128\n  bitrat = 64\n");
  toml::table t = spec::parse_file(d / "t.toml");
  spec::TableReader root(&t, "", (d / "t.toml").string());
  auto audio = root.table("audio");
  audio.integer("bitrate", 8, 1024);
  expect_error<SpecError>([&] { audio.finish(); }, ErrorCode::InvalidKey, {(d / "t.toml").string() + ":3:", "audio.bitrat"});
}

TEST(TableReader, WrongTypesAreInvalidKey) {
  toml::table t = toml::parse(R"(
[v]
i = "20"
frac = 2.5
n = "fast"
b = "yes"
s = 5
tab = 3
c = 4
)");
  spec::TableReader root(&t, "", "x.toml");
  auto v = root.table("v");
  expect_error<SpecError>([&] { v.integer("i", 0, 51); }, ErrorCode::InvalidKey, {"v.i", "integer"});
  expect_error<SpecError>([&] { v.integer("frac", 0, 51); }, ErrorCode::InvalidKey, {"v.frac", "integer"});
  expect_error<SpecError>([&] { v.number("n", 0, 51); }, ErrorCode::InvalidKey, {"v.n", "number"});
  expect_error<SpecError>([&] { v.boolean("b"); }, ErrorCode::InvalidKey, {"v.b"});
  expect_error<SpecError>([&] { v.string("s"); }, ErrorCode::InvalidKey, {"v.s", "string"});
  expect_error<SpecError>([&] { v.table("tab"); }, ErrorCode::InvalidKey, {"v.tab", "table"});
  expect_error<SpecError>([&] { v.choice("c", {"a", "b"}); }, ErrorCode::InvalidKey, {"v.c"});
}

TEST(TableReader, OutOfRangeNamesTheKeyAndTheRange) {
  toml::table t = toml::parse("[video]\ncrf = 52\nlow = -1\nseg = 0.5\nbig = 61.0\nmode = 'fastest'\n");
  spec::TableReader root(&t, "", "x.toml");
  auto v = root.table("video");
  expect_error<SpecError>([&] { v.integer("crf", 0, 51); }, ErrorCode::OutOfRange, {"video.crf", "52", "0..51"});
  expect_error<SpecError>([&] { v.integer("low", 0, 51); }, ErrorCode::OutOfRange, {"video.low", "-1"});
  expect_error<SpecError>([&] { v.number("seg", 1, 60); }, ErrorCode::OutOfRange, {"video.seg", "0.5"});
  expect_error<SpecError>([&] { v.number("big", 1, 60); }, ErrorCode::OutOfRange, {"video.big", "61"});
  expect_error<SpecError>([&] { v.choice("mode", {"onepass", "twopass"}); }, ErrorCode::OutOfRange,
                          {"video.mode", "fastest", "onepass", "twopass"});
  // The bounds themselves are allowed.
  toml::table edge = toml::parse("lo = 0\nhi = 51\n");
  spec::TableReader e(&edge, "video", "x");
  EXPECT_EQ(e.integer("lo", 0, 51), 0);
  EXPECT_EQ(e.integer("hi", 0, 51), 51);
}

TEST(TableReader, ValuesWithoutPositionUseTheOrigin) {
  toml::table t = set({"video.crf=99"});
  spec::TableReader root(&t, "", "--set");
  auto v = root.table("video");
  expect_error<SpecError>([&] { v.integer("crf", 0, 51); }, ErrorCode::OutOfRange, {"--set", "video.crf"});
}
