// `headscope sweep` and `headscope gain-scan`: intervention sweeps on a target head and controls, and a
// ranked gain table for every head of a layer (capture/sweep/sweep.h). Both print the expected directions
// and progress on stderr, the report on stdout, and write an HDF5 file of kind "sweep" (a sweep's file
// grows one condition at a time while it runs).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "app/cli/registry.h"
#include "capture/sweep/sweep.h"
#include "core/util/lists.h"

namespace {

namespace hw = headscope::sweep;

// A list option: the parser's message, prefixed with the option's name.
template <typename Parse>
auto parse_option(Parse parse, const std::string& text, const std::string& option) {
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(option + ": " + e.what());
  }
}

void add_run_options(CLI::App* cmd, hw::RunSettings& run, hw::SampleSource& samples) {
  cmd->add_option("--model", run.model_dir, "HuggingFace model folder (config.json, *.safetensors, tokenizer)")->required();
  auto* prompts = cmd->add_option("--prompts", samples.prompts_path, "Prompt set, JSONL with 'text' or 'ids'");
  auto* shards = cmd->add_option("--shards", samples.shards_path, "Token shard, .npz with an integer [sample, token] member");
  prompts->excludes(shards);
  cmd->add_option("--shard-member", samples.shard_member, "Member of the .npz to read (default: the first)");
  cmd->add_option("--max-samples", samples.max_samples, "Only the first N samples");
  cmd->add_flag("!--no-bos", samples.add_bos, "Do not prepend the tokenizer's BOS token to text prompts");
  cmd->add_option("--device", run.device, "cpu, cuda or cuda:N");
  cmd->add_option("--dtype", run.dtype, "float32, float16, bfloat16 or auto");
  cmd->add_option("--threads", run.threads, "CPU threads (0: all cores)");
}

void log_line(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

void setup_sweep(CLI::App& app) {
  auto* cmd = app.add_subcommand("sweep", "Scale a head's query (or key, or ablate it) over scales; gains, ratio and checks");
  auto s = std::make_shared<hw::SweepSettings>();
  auto target = std::make_shared<std::string>();
  auto controls = std::make_shared<std::string>();
  auto scales = std::make_shared<std::string>("0.5,0.75,1,1.25,1.5");
  auto kind = std::make_shared<std::string>("query");
  auto out = std::make_shared<std::string>();
  auto overwrite = std::make_shared<bool>(false);
  add_run_options(cmd, s->run, s->samples);
  cmd->add_option("--target", *target, "The head to intervene on, L:H")->required();
  cmd->add_option("--controls", *controls, "Control heads, L:H,L:H,...");
  cmd->add_option("--scales", *scales, "Scales, comma-separated (default 0.5,0.75,1,1.25,1.5)");
  cmd->add_option("--kind", *kind, "query (scale the pre-RoPE query), key, ablate-zero or ablate-mean");
  cmd->add_option("--tolerance", s->sanity_tolerance, "Largest |difference| the checks accept as unchanged");
  cmd->add_option("--out", *out, "Result file (.h5)")->required();
  cmd->add_flag("--overwrite", *overwrite, "Replace an existing file");
  cmd->callback([s, target, controls, scales, kind, out, overwrite] {
    if (s->samples.prompts_path.empty() && s->samples.shards_path.empty())
      throw std::runtime_error("give --prompts FILE or --shards FILE");
    s->run.command_line = headscope::cli::command_line();
    s->kind = hw::parse_sweep_kind(*kind);
    const auto targets = parse_option(headscope::parse_head_list, *target, "--target");
    if (targets.size() != 1) throw std::runtime_error("--target: give one head, L:H");
    s->target = targets[0];
    s->controls = parse_option(headscope::parse_head_list, *controls, "--controls");
    s->scales = parse_option(headscope::parse_number_list, *scales, "--scales");
    // The file is rewritten after the baseline and after each condition, so a viewer watches it fill in
    // and a sweep that dies leaves the conditions it finished.
    bool first_write = true;
    const auto result = hw::run_sweep(*s, log_line, [&](const hw::SweepResult& partial) {
      hw::write_sweep_file(*out, partial, s->run.command_line, first_write ? *overwrite : true);
      first_write = false;
      if (partial.baseline_done)
        std::fprintf(stderr, "wrote %s (baseline and %zu of %zu conditions)\n", out->c_str(), partial.conditions_done(),
                     partial.conditions.size());
    });
    std::printf("%s", hw::format_sweep_report(result).c_str());
  });
}

void setup_gain_scan(CLI::App& app) {
  auto* cmd = app.add_subcommand("gain-scan", "Gain of every head of a layer (or all layers) against random controls, ranked");
  auto s = std::make_shared<hw::GainScanSettings>();
  auto scales = std::make_shared<std::string>("0.5,0.75,1,1.25,1.5");
  auto kind = std::make_shared<std::string>("query");
  auto out = std::make_shared<std::string>();
  auto overwrite = std::make_shared<bool>(false);
  auto all_layers = std::make_shared<bool>(false);
  add_run_options(cmd, s->run, s->samples);
  auto* layer = cmd->add_option("--layer", s->layer, "The layer to scan");
  auto* every = cmd->add_flag("--all-layers", *all_layers, "Scan every layer");
  layer->excludes(every);
  cmd->add_option("--controls-per-head", s->controls_per_head, "Random control heads per head (default 3)");
  cmd->add_option("--seed", s->seed, "Seed of the control draw (default 0)");
  cmd->add_option("--scales", *scales, "Scales, comma-separated (default 0.5,0.75,1,1.25,1.5)");
  cmd->add_option("--kind", *kind, "query or key");
  cmd->add_option("--out", *out, "Result file (.h5)")->required();
  cmd->add_flag("--overwrite", *overwrite, "Replace an existing file");
  cmd->callback([s, scales, kind, out, overwrite, all_layers, layer] {
    if (s->samples.prompts_path.empty() && s->samples.shards_path.empty())
      throw std::runtime_error("give --prompts FILE or --shards FILE");
    if (!*all_layers && layer->count() == 0) throw std::runtime_error("give --layer L or --all-layers");
    if (*all_layers) s->layer = -1;
    s->run.command_line = headscope::cli::command_line();
    s->kind = hw::parse_sweep_kind(*kind);
    s->scales = parse_option(headscope::parse_number_list, *scales, "--scales");
    const auto result = hw::run_gain_scan(*s, log_line);
    std::printf("%s", hw::format_gain_scan(result).c_str());
    hw::write_gain_scan_file(*out, result, s->run.command_line, *overwrite);
    std::fprintf(stderr, "wrote %s\n", out->c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup_sweep);
HEADSCOPE_REGISTER_SUBCOMMAND(setup_gain_scan);

}  // namespace
