// From the sweep and gain-scan command structs (core/commands/) to the settings they run with (sweep.h):
// the checks the CLI made before, so every launcher (CLI, tests) gets them.
#include <stdexcept>

#include "capture/sweep/sweep.h"

namespace headscope::sweep {

namespace {

template <typename Command>
void fill_run(const Command& command, const std::string& command_line, RunSettings& run, SampleSource& samples) {
  if (command.prompts_path.empty() && command.shards_path.empty())
    throw std::runtime_error("give --prompts FILE or --shards FILE");
  run.model_dir = command.model_dir;
  run.device = command.device;
  run.dtype = command.dtype;
  run.adapter = command.adapter;
  run.threads = command.threads;
  run.command_line = command_line;
  samples.prompts_path = command.prompts_path;
  samples.shards_path = command.shards_path;
  samples.shard_member = command.shard_member;
  samples.max_samples = command.max_samples;
  samples.add_bos = command.add_bos;
}

}  // namespace

SweepSettings sweep_settings(const commands::SweepCommand& command, const std::string& command_line) {
  SweepSettings settings;
  fill_run(command, command_line, settings.run, settings.samples);
  settings.kind = parse_sweep_kind(command.kind);
  settings.target = command.target;
  settings.controls = command.controls;
  settings.draw = command.controls.empty() ? parse_control_draw(command.draw_controls) : ControlDraw::given;
  settings.control_count = command.control_count;
  settings.seed = command.seed;
  settings.bootstrap_resamples = command.bootstrap;
  settings.scales = command.scales;
  settings.sanity_tolerance = command.tolerance;
  return settings;
}

GainScanSettings gain_scan_settings(const commands::GainScanCommand& command, const std::string& command_line) {
  GainScanSettings settings;
  fill_run(command, command_line, settings.run, settings.samples);
  if (!command.all_layers && !command.layer) throw std::runtime_error("give --layer L or --all-layers");
  settings.layer = command.all_layers ? -1 : *command.layer;
  settings.controls_per_head = command.controls_per_head;
  settings.seed = command.seed;
  settings.scales = command.scales;
  settings.kind = parse_sweep_kind(command.kind);
  return settings;
}

}  // namespace headscope::sweep
