// `headscope sweep`'s options as one struct: parsed by the CLI (app/cli/torch/sweep.cpp), rendered to
// argv by to_arguments() when the drill-down's "Sweep this head" starts a child process
// (views/sweep_launch.h), and turned into the sweep's settings by sweep::sweep_settings (capture/sweep/sweep.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/commands/command_options.h"

namespace headscope::commands {

struct SweepCommand {
  std::string model_dir;
  std::string adapter;  // a PEFT LoRA adapter folder merged at load ("" = none)
  std::string prompts_path;                // a JSONL prompt set, or
  std::string shards_path;                 // token shards (core/io/sample_source.h)
  std::string shard_member;                // "" = the rule of core/io/sample_source.h
  store::HeadRef target;
  std::vector<store::HeadRef> controls;
  std::string draw_controls = "random";    // without --controls: random or matched (sweep.h ControlDraw)
  int control_count = 3;
  std::uint64_t seed = 0;
  int bootstrap = 1000;
  std::vector<double> scales = {0.5, 0.75, 1.0, 1.25, 1.5};
  std::string kind = "query";              // query, key, ablate-zero, ablate-mean
  double tolerance = 1e-6;                 // the sanity checks' largest |difference|
  std::int64_t max_samples = -1;
  int threads = 0;
  bool add_bos = true;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string out_path;
  bool overwrite = false;
  double progress_every = 10;              // seconds between progress lines when stderr is not a terminal

  bool operator==(const SweepCommand& o) const;

  template <typename Visit>
  static void for_each_option(Visit&& visit) {
    using C = SweepCommand;
    visit_model_sample_options<C>(visit);
    visit(OptionSpec{"--target", "The head to intervene on, L:H", true, true}, &C::target);
    visit(OptionSpec{"--controls", "Control heads, L:H,L:H,... (default: drawn from the target's layer, see --draw-controls)"}, &C::controls);
    visit(OptionSpec{"--draw-controls",
                     "Without --controls: 'random' (default: other heads of the target's layer, seeded) or 'matched' "
                     "(those closest to the target in baseline entropy)"},
          &C::draw_controls);
    visit(OptionSpec{"--control-count", "How many controls to draw (0: none)"}.in(0, 4096), &C::control_count);
    visit(OptionSpec{"--seed", "Seed of the random controls and of the bootstrap"}, &C::seed);
    visit(OptionSpec{"--bootstrap", "Resamples of the across-sample 95 % intervals (0: none)"}.in(0, 1000000), &C::bootstrap);
    visit(OptionSpec{"--scales", "Scales, comma-separated (default 0.5,0.75,1,1.25,1.5)", false, true}.in(-1e6, 1e6), &C::scales);
    visit(OptionSpec{"--kind", "query (scale the pre-RoPE query), key, ablate-zero or ablate-mean"}, &C::kind);
    visit(OptionSpec{"--tolerance", "Largest |difference| the checks accept as unchanged"}.in(0, 1e6), &C::tolerance);
    visit_run_options<C>(visit);
  }
};

// {"sweep", "--model", ..., "--target", "L:H", ...}: the argv after the executable.
std::vector<std::string> to_arguments(const SweepCommand& command);

}  // namespace headscope::commands
