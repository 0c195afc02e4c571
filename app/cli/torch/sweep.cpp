// `headscope sweep` and `headscope gain-scan`: intervention sweeps on a target head and controls, and a
// ranked gain table for every head of a layer (capture/sweep/sweep.h); their options are declared in
// core/commands/. Both print the expected directions and progress (forward passes, tokens/s, ETA; see
// app/cli/progress_line.h) on stderr, the report on stdout, and write an HDF5 file of kind "sweep" (a
// sweep's file grows one condition at a time while it runs).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/progress_line.h"
#include "app/cli/registry.h"
#include "capture/sweep/sweep.h"
#include "core/analysis/phase0.h"
#include "core/store/file_replace.h"

namespace {

namespace hw = headscope::sweep;
using headscope::cli::ProgressLine;

// Each forward pass as one progress line: runs done of all, tokens/s, ETA and the phase.
hw::RunProgressSink progress_of_runs(ProgressLine& line) {
  return [&line](const hw::RunProgress& p) {
    const double elapsed = line.elapsed_seconds();
    line.update({static_cast<double>(p.runs_done), static_cast<double>(p.run_count), "runs",
                 elapsed > 0 ? static_cast<double>(p.tokens_done) / elapsed : 0, "tokens/s", elapsed, {}, p.phase});
  };
}

void setup_sweep(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "Scale a head's query (or key, or ablate it) over scales; gains, ratio and checks");
  auto command = std::make_shared<headscope::commands::SweepCommand>();
  headscope::cli::bind_options(cmd, *command);
  cmd->get_option("--prompts")->excludes(cmd->get_option("--shards"));
  // --target also takes phase0:STORE, the head of STORE's phase-0 ranking (core/analysis/phase0.h).
  auto target_text = std::make_shared<std::string>();
  cmd->remove_option(cmd->get_option("--target"));
  cmd->add_option("--target", *target_text,
                  "The head to intervene on, L:H; or phase0:STORE, the most negative query-norm/entropy r of a capture store")
      ->required();
  cmd->callback([command, target_text] {
    if (const auto store = headscope::analysis::phase0_target_store(*target_text)) {
      const auto chosen = headscope::analysis::phase0_target(*store);
      command->target = chosen.head;
      std::printf("target: %s\n", headscope::analysis::describe_phase0_target(chosen, *store).c_str());
    } else {
      const auto heads = headscope::cli::parse_listed(headscope::parse_head_list, *target_text, "--target");
      if (heads.size() != 1) throw std::runtime_error("--target: give one head, L:H, or phase0:STORE");
      command->target = heads[0];
    }
    const hw::SweepSettings settings = hw::sweep_settings(*command, headscope::cli::command_line());
    const std::string& out = command->out_path;
    headscope::store::check_replaceable(out, command->overwrite);  // before the model runs, not after
    // The file is rewritten after the baseline and after each condition, so a viewer watches it fill in
    // and a sweep that dies leaves the conditions it finished.
    bool first_write = true;
    ProgressLine line(command->progress_every);
    auto log_line = [&line](const std::string& text) { line.message(text); };
    const auto result = hw::run_sweep(
        settings, log_line,
        [&](const hw::SweepResult& partial) {
          hw::write_sweep_file(out, partial, settings.run.command_line, first_write ? command->overwrite : true);
          first_write = false;
          if (partial.baseline_done)
            line.message("wrote " + out + " (baseline and " + std::to_string(partial.conditions_done()) + " of " +
                         std::to_string(partial.conditions.size()) + " conditions)");
        },
        progress_of_runs(line));
    line.finish();
    std::printf("%s", hw::format_sweep_report(result).c_str());
  });
}

void setup_gain_scan(CLI::App& app) {
  auto* cmd = app.add_subcommand("gain-scan", "Gain of every head of a layer (or all layers) against random controls, ranked");
  auto command = std::make_shared<headscope::commands::GainScanCommand>();
  headscope::cli::bind_options(cmd, *command);
  cmd->get_option("--prompts")->excludes(cmd->get_option("--shards"));
  cmd->get_option("--layer")->excludes(cmd->get_option("--all-layers"));
  cmd->callback([command] {
    const hw::GainScanSettings settings = hw::gain_scan_settings(*command, headscope::cli::command_line());
    headscope::store::check_replaceable(command->out_path, command->overwrite);
    ProgressLine line(command->progress_every);
    const auto result = hw::run_gain_scan(settings, [&line](const std::string& text) { line.message(text); }, progress_of_runs(line));
    line.finish();
    std::printf("%s", hw::format_gain_scan(result).c_str());
    hw::write_gain_scan_file(command->out_path, result, settings.run.command_line, command->overwrite);
    std::fprintf(stderr, "wrote %s\n", command->out_path.c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup_sweep);
HEADSCOPE_REGISTER_SUBCOMMAND(setup_gain_scan);

}  // namespace
