// Helpers for the importer tests: write a source file, run an import expecting an ImportError whose
// message contains given fragments (file name, line/offset, what was expected), and check that a failed
// import left neither OUT nor OUT.partial behind.
#pragma once
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/io/import.h"
#include "test_support.h"

namespace headscope::test {

inline std::string write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

inline io::ImportOptions import_options(const std::vector<std::string>& inputs, const std::filesystem::path& out) {
  io::ImportOptions options;
  options.inputs = inputs;
  options.out = out.string();
  options.command_line = "headscope import (test)";
  return options;
}

// Runs `import` expecting an ImportError whose message contains every fragment; checks nothing is left.
inline void expect_import_error(const std::function<void()>& import, const std::vector<std::string>& fragments,
                                const std::filesystem::path& out) {
  try {
    import();
    ADD_FAILURE() << "expected an ImportError";
  } catch (const io::ImportError& error) {
    const std::string message = error.what();
    for (const auto& fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << message;
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << out;
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".partial")) << out << ".partial";
}

inline void expect_same_float(float expected, float actual) {
  if (std::isnan(expected)) EXPECT_TRUE(std::isnan(actual)) << "expected NaN, got " << actual;
  else EXPECT_EQ(expected, actual);
}

inline std::filesystem::path samples_dir() {
  return std::filesystem::path(HEADSCOPE_TEST_FIXTURES) / ".." / ".." / "samples" / "imports";
}

}  // namespace headscope::test
