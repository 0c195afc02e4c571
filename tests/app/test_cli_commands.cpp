// The command structs the app launches children with (core/commands/): what to_arguments() renders, the
// CLI's own binding (app/cli/bind_options.h) parses back to the same struct — for the defaults, for every
// option set, and for the argv the workbench's capture and sweep launches use.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>

#include "app/cli/bind_options.h"
#include "core/commands/capture_command.h"
#include "core/commands/gain_scan_command.h"
#include "core/commands/sweep_command.h"

namespace headscope::commands {
namespace {

// Parses argv (as to_arguments gives it: subcommand first) with the CLI's binding into a fresh Command.
template <typename Command>
Command parse(const std::vector<std::string>& argv) {
  CLI::App app;
  Command parsed;
  cli::bind_options(app.add_subcommand(argv.at(0)), parsed);
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them last first
  app.parse(reversed);
  return parsed;
}

TEST(CliCommands, CaptureRoundTrips) {
  CaptureCommand minimal;
  minimal.model_dir = "m";
  minimal.prompts_path = "p.jsonl";
  minimal.out_path = "o.h5";
  EXPECT_EQ(to_arguments(minimal), (std::vector<std::string>{"capture", "--model", "m", "--prompts", "p.jsonl", "--out", "o.h5"}));
  EXPECT_EQ(parse<CaptureCommand>(to_arguments(minimal)), minimal);

  CaptureCommand every = minimal;
  every.prompts_path.clear();
  every.shards_path = "shards/";
  every.generate_tokens = 12;
  every.seed = 0;  // a seed of 0 still means sampled, not greedy
  every.temperature = 0.7;
  every.latent_steps = 6;
  every.flow = "3,7,-1";
  every.flow_size = 4;
  every.pinned_heads = {{1, 0}, {3, 5}};
  every.device = "cuda:1";
  every.dtype = "bfloat16";
  every.threads = 1;
  every.jsd_window = 5;
  every.connectivity_threshold = 0.1 + 0.2;  // not a short decimal: rendered to read back exactly
  every.embed_layer = 2;
  every.max_samples = 9;
  every.float32_metrics = true;
  every.mantissa_bits = 7;
  every.resume = true;
  every.overwrite = true;
  every.add_bos = false;
  const auto argv = to_arguments(every);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--no-bos"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "1:0,3:5"), argv.end());
  EXPECT_EQ(parse<CaptureCommand>(argv), every);
  EXPECT_FALSE(parse<CaptureCommand>(argv) == minimal);
}

TEST(CliCommands, SweepRoundTrips) {
  SweepCommand sweep;
  sweep.model_dir = "m";
  sweep.prompts_path = "p.jsonl";
  sweep.target = {0, 0};  // at its default value: still rendered, the option is required
  sweep.out_path = "o.h5";
  EXPECT_EQ(to_arguments(sweep), (std::vector<std::string>{"sweep", "--model", "m", "--prompts", "p.jsonl", "--target", "0:0",
                                                           "--scales", "0.5,0.75,1,1.25,1.5", "--out", "o.h5"}));
  EXPECT_EQ(parse<SweepCommand>(to_arguments(sweep)), sweep);

  sweep.prompts_path.clear();
  sweep.shards_path = "s.npz";
  sweep.shard_member = "input_ids";
  sweep.target = {3, 3};
  sweep.controls = {{3, 1}, {2, 0}};
  sweep.scales = {0.1, 0.3, 1.0 / 3.0};
  sweep.kind = "ablate-mean";
  sweep.tolerance = 1e-9;
  sweep.max_samples = 8;
  sweep.threads = 1;
  sweep.add_bos = false;
  sweep.device = "cuda";
  sweep.dtype = "float16";
  sweep.overwrite = true;
  EXPECT_EQ(parse<SweepCommand>(to_arguments(sweep)), sweep);
}

TEST(CliCommands, GainScanRoundTrips) {
  GainScanCommand scan;
  scan.model_dir = "m";
  scan.prompts_path = "p.jsonl";
  scan.out_path = "o.h5";
  scan.layer = 0;
  EXPECT_EQ(parse<GainScanCommand>(to_arguments(scan)), scan);
  scan.layer.reset();
  scan.all_layers = true;
  scan.controls_per_head = 5;
  scan.seed = 42;
  scan.kind = "key";
  EXPECT_EQ(parse<GainScanCommand>(to_arguments(scan)), scan);
}

TEST(CliCommands, BadListsNameTheFlag) {
  try {
    parse<SweepCommand>({"sweep", "--model", "m", "--out", "o", "--target", "3:1,x"});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "--target: 'x' is not a head (write L:H or L3H5)");
  }
  try {
    parse<SweepCommand>({"sweep", "--model", "m", "--out", "o", "--target", "3:1,3:2"});
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "--target: give one head, L:H");
  }
  EXPECT_THROW(parse<SweepCommand>({"sweep", "--model", "m", "--out", "o"}), CLI::RequiredError);
}

}  // namespace
}  // namespace headscope::commands
