// The one atomic file writer, the enum-name tables and the rational type of core/.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../test_support.hpp"
#include "core/enum_names.hpp"
#include "core/files.hpp"
#include "core/rational.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::names_in;
using gopcast::test::read_file;
using gopcast::test::TempDir;
using gopcast::test::write_file;

TEST(AtomicFile, ReplacesWholeAndLeavesOnlyTheFile) {
  TempDir dir;
  write_file(dir / "f.json", "old");
  files::write_atomic(dir / "f.json", "new contents");
  EXPECT_EQ(read_file(dir / "f.json"), "new contents");
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"f.json"}));
}

TEST(AtomicFile, UncommittedLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  write_file(dir / "f", "old");
  {
    files::AtomicFile f(dir / "f");
    f.write("half of it");
    EXPECT_TRUE(fs::exists(f.temp_path()));
    EXPECT_EQ(f.temp_path().parent_path(), dir.path);
    EXPECT_TRUE(f.temp_path().filename().string().starts_with(".f.tmp-"));
  }
  EXPECT_EQ(read_file(dir / "f"), "old");
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"f"}));
}

TEST(AtomicFile, WrittenByNameThenCommitted) {
  // HDF5 and stdio writers open the temporary file themselves.
  TempDir dir;
  files::AtomicFile f(dir / "seg.bin");
  write_file(f.temp_path(), "by name");
  f.commit();
  EXPECT_EQ(read_file(dir / "seg.bin"), "by name");
  EXPECT_EQ(names_in(dir.path), (std::set<std::string>{"seg.bin"}));
}

TEST(AtomicFile, ModeIsKeptWhateverTheUmask) {
  TempDir dir;
  const mode_t old = ::umask(077);
  files::write_atomic(dir / "script", "#!/bin/sh\n", 0755);
  files::write_atomic(dir / "key", "secret", 0600);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::stat((dir / "key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AtomicFile, MissingFolderIsOutputNotWritable) {
  TempDir dir;
  expect_error([&] { files::write_atomic(dir / "nope" / "f", "x"); }, ErrorCode::OutputNotWritable, {"nope"});
}

namespace {
enum class Fruit { apple, pear, quince };
const EnumNames<Fruit>& enum_names(Fruit) {
  static const EnumNames<Fruit> names{{Fruit::apple, "apple"}, {Fruit::pear, "pear"}, {Fruit::quince, "quince"},
                                      {Fruit::pear, "poire", true}};
  return names;
}
}  // namespace

TEST(EnumNames, OneTableReadsWritesAndLists) {
  EXPECT_EQ(to_string(Fruit::pear), "pear");
  EXPECT_EQ(parse_enum<Fruit>("quince"), Fruit::quince);
  EXPECT_EQ(parse_enum<Fruit>("poire"), Fruit::pear);  // an alias is read...
  EXPECT_EQ(to_string(parse_enum<Fruit>("poire").value()), "pear");  // ...and never written
  EXPECT_FALSE(parse_enum<Fruit>("Pear"));
  EXPECT_EQ(enum_names(Fruit{}).names(), (std::vector<std::string>{"apple", "pear", "quince"}));
  EXPECT_EQ(enum_names(Fruit{}).list(), "apple, pear, quince");
}

TEST(Rational, SecondsOfTicks) {
  EXPECT_DOUBLE_EQ(seconds_of(90000, Rational{1, 90000}), 1.0);
  EXPECT_DOUBLE_EQ(seconds_of(1001, Rational{1, 24000}), 1001.0 / 24000.0);
  EXPECT_DOUBLE_EQ((Timestamp{48, Rational{1, 24}}).seconds(), 2.0);
  EXPECT_TRUE((Rational{30000, 1001}).valid());
  EXPECT_FALSE((Rational{0, 1}).valid());
  EXPECT_EQ((Rational{1, 2}), (Rational{1, 2}));
}
