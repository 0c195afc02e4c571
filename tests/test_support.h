// Paths and small helpers shared by the test suites: where fixtures live, a fresh temporary folder per
// test, and the shared/ reference folder (CI has it beside the checkout; tests that need it skip with a
// message naming the missing path when it is absent).
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>
#include <gtest/gtest.h>

namespace headscope::test {

inline std::filesystem::path fixtures_dir() { return HEADSCOPE_TEST_FIXTURES; }
inline std::filesystem::path headscope_exe() { return HEADSCOPE_EXE; }

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("HEADSCOPE_SHARED_DIR")) return env;
  return std::filesystem::path(HEADSCOPE_TEST_FIXTURES) / ".." / ".." / ".." / "shared";
}

// A fresh, empty folder under the build tree, unique to the running test.
inline std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "misc";
  auto dir = std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace headscope::test

// Skips the current test, naming the path, when a shared fixture is missing.
#define HEADSCOPE_REQUIRE_PATH(path)                                                         \
  do {                                                                                       \
    if (!std::filesystem::exists(path))                                                      \
      GTEST_SKIP() << "fixture not found: " << (path) << " (set HEADSCOPE_SHARED_DIR)";      \
  } while (0)
