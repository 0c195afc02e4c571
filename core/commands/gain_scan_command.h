// `headscope gain-scan`'s options as one struct: parsed by the CLI (app/cli/torch/sweep.cpp), rendered by
// to_arguments(), turned into the scan's settings by sweep::gain_scan_settings (capture/sweep/sweep.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/commands/command_options.h"

namespace headscope::commands {

struct GainScanCommand {
  std::string model_dir;
  std::string adapter;  // a PEFT LoRA adapter folder merged at load ("" = none)
  std::string prompts_path;                // a JSONL prompt set, or
  std::string shards_path;                 // token shards (core/io/sample_source.h)
  std::string shard_member;
  std::optional<int> layer;                // the layer to scan, or
  bool all_layers = false;                 // every layer
  int controls_per_head = 3;
  std::uint64_t seed = 0;
  std::vector<double> scales = {0.5, 0.75, 1.0, 1.25, 1.5};
  std::string kind = "query";              // query or key
  std::int64_t max_samples = -1;
  int threads = 0;
  bool add_bos = true;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string out_path;
  bool overwrite = false;
  double progress_every = 10;              // seconds between progress lines when stderr is not a terminal

  bool operator==(const GainScanCommand& o) const;

  template <typename Visit>
  static void for_each_option(Visit&& visit) {
    using C = GainScanCommand;
    visit_model_sample_options<C>(visit);
    visit(OptionSpec{"--layer", "The layer to scan"}.in(0, kManySteps), &C::layer);
    visit(OptionSpec{"--all-layers", "Scan every layer"}, &C::all_layers);
    visit(OptionSpec{"--controls-per-head", "Random control heads per head (default 3)"}.in(0, 1024), &C::controls_per_head);
    visit(OptionSpec{"--seed", "Seed of the control draw (default 0)"}, &C::seed);
    visit(OptionSpec{"--scales", "Scales, comma-separated (default 0.5,0.75,1,1.25,1.5)", false, true}.in(-1e6, 1e6), &C::scales);
    visit(OptionSpec{"--kind", "query or key"}, &C::kind);
    visit_run_options<C>(visit);
  }
};

// {"gain-scan", "--model", ..., "--layer", "3", ...}: the argv after the executable.
std::vector<std::string> to_arguments(const GainScanCommand& command);

}  // namespace headscope::commands
