#pragma once
// Helpers shared by the unit tests: private temporary folders, fixture files, and
// checks on the code and message of a gopcast::Error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <set>
#include <string>

#include "core/error.hpp"

namespace gopcast::test {

// A fresh folder under the system temp folder, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("gopcast-unit-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << p;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// File names (not paths) in a folder, hidden ones included.
inline std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs `f` and checks that it throws a gopcast::Error (of type E) with `code` whose
// message contains every one of `parts`. Returns the message ("" when nothing was thrown).
template <typename E = Error, typename F>
std::string expect_error(F&& f, ErrorCode code, std::initializer_list<std::string> parts = {}) {
  try {
    f();
  } catch (const E& e) {
    EXPECT_EQ(e.code_name(), error_code_info(code).name) << "message: " << e.what();
    for (const auto& p : parts) EXPECT_TRUE(contains(e.what(), p)) << "\"" << p << "\" not in: " << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something else than the expected error " << error_code_info(code).name << ": " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error; expected " << error_code_info(code).name;
  return "";
}

}  // namespace gopcast::test
