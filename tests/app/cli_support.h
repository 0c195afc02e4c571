// Runs the headscope executable from a test and captures its exit code, stdout and stderr.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.h"

namespace headscope::test {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

// `arguments` is appended to the executable's path as shell words; `input` (if any) goes to stdin.
inline CommandResult run_headscope(const std::string& arguments, const std::string& input = "") {
  const auto dir = std::filesystem::path(HEADSCOPE_TEST_BINARY_DIR) / "test-tmp" / ("cli-io-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto out = dir / "stdout", err = dir / "stderr", in = dir / "stdin";
  std::ofstream(in) << input;
  const std::string command = headscope_exe().string() + " " + arguments + " <" + in.string() + " >" + out.string() +
                              " 2>" + err.string();
  const int status = std::system(command.c_str());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace headscope::test
