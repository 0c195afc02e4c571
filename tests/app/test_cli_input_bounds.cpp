// Out-of-range numbers are refused before anything runs (issue 15, items 9 and 11): the option tables'
// ranges (core/commands/command_options.h) as the CLI parses them and as check_option_ranges() applies them
// to a command built elsewhere, --flow text that is not a selection, and the thread cap.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>

#include "app/cli/bind_options.h"
#include "core/commands/capture_command.h"
#include "core/commands/gain_scan_command.h"
#include "core/commands/sweep_command.h"
#include "core/util/threads.h"

namespace headscope::commands {
namespace {

template <typename Command>
Command parse(std::vector<std::string> argv) {
  CLI::App app;
  Command parsed;
  cli::bind_options(app.add_subcommand(argv.at(0)), parsed);
  std::reverse(argv.begin(), argv.end());  // CLI11 takes them last first
  app.parse(argv);
  return parsed;
}

std::vector<std::string> capture_with(const std::string& flag, const std::string& value) {
  return {"capture", "--model", "m", "--prompts", "p.jsonl", "--out", "o.h5", flag, value};
}

TEST(CliInputBounds, CaptureRefusesOutOfRangeNumbers) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--jsd-window", "0"},      {"--jsd-window", "-5"},   {"--connectivity-threshold", "nan"},
      {"--connectivity-threshold", "inf"}, {"--connectivity-threshold", "1.5"}, {"--flow-size", "-1"},
      {"--generate", "-1"},       {"--latent", "-3"},       {"--threads", "-2"},
      {"--temperature", "0"},     {"--max-samples", "-7"},  {"--mantissa-bits", "99"},
      {"--embed-layer", "-2"}};
  for (const auto& [flag, value] : bad)
    EXPECT_ANY_THROW(parse<CaptureCommand>(capture_with(flag, value))) << flag << " " << value;
  // In range: parses, and the value is kept.
  EXPECT_EQ(parse<CaptureCommand>(capture_with("--jsd-window", "7")).jsd_window, 7);
  EXPECT_DOUBLE_EQ(parse<CaptureCommand>(capture_with("--connectivity-threshold", "0.25")).connectivity_threshold, 0.25);
  EXPECT_EQ(parse<CaptureCommand>(capture_with("--threads", "100000")).threads, 100000);  // capped when it runs
}

TEST(CliInputBounds, ListsAndSweepNumbersAreChecked) {
  const std::vector<std::string> sweep = {"sweep", "--model", "m", "--out", "o", "--target", "1:1"};
  auto with = [&](const std::string& flag, const std::string& value) {
    auto argv = sweep;
    argv.insert(argv.end(), {flag, value});
    return argv;
  };
  EXPECT_ANY_THROW(parse<SweepCommand>(with("--scales", "0.5,nan,1")));
  EXPECT_ANY_THROW(parse<SweepCommand>(with("--tolerance", "-1")));
  EXPECT_ANY_THROW(parse<SweepCommand>(with("--max-samples", "-3")));
  EXPECT_NO_THROW(parse<SweepCommand>(with("--scales", "0.5,1,2")));
  EXPECT_ANY_THROW(parse<GainScanCommand>({"gain-scan", "--model", "m", "--out", "o", "--layer", "-1"}));
}

TEST(CliInputBounds, CommandsBuiltElsewhereAreCheckedToo) {
  CaptureCommand command;
  command.model_dir = "m";
  command.out_path = "o.h5";
  EXPECT_NO_THROW(check_option_ranges(command));
  command.jsd_window = 0;
  EXPECT_THROW(check_option_ranges(command), std::invalid_argument);
  command.jsd_window = 3;
  command.connectivity_threshold = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(check_option_ranges(command), std::invalid_argument);
  command.connectivity_threshold = 0.1;
  command.latent_steps = -3;
  EXPECT_THROW(check_option_ranges(command), std::invalid_argument);
  GainScanCommand scan;
  scan.layer = -4;
  EXPECT_THROW(check_option_ranges(scan), std::invalid_argument);
}

TEST(CliInputBounds, RangeCheckForPlainOptions) {
  CLI::App app;
  int top = 10;
  app.add_option("--top", top)->check(cli::in_range("--top", 1, 100));
  EXPECT_ANY_THROW(app.parse(std::vector<std::string>{"0", "--top"}));
  app.clear();
  EXPECT_NO_THROW(app.parse(std::vector<std::string>{"5", "--top"}));
  EXPECT_EQ(top, 5);
}

TEST(CliInputBounds, ThreadsAreCappedAtTheHardware) {
  EXPECT_EQ(capped_thread_count(0), hardware_threads());
  EXPECT_EQ(capped_thread_count(100000), hardware_threads());
  EXPECT_EQ(capped_thread_count(1), 1);
}

}  // namespace
}  // namespace headscope::commands
