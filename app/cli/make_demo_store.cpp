// `headscope make-demo-store OUT.h5` (hidden): writes a synthetic store (default 32 layers × 32 heads,
// 4 samples, the first 1,024 tokens, 4 pinned heads) for the frame-time benchmark, screenshots and
// tests. --delay-ms plays a live capture: one sample every N ms, so a viewer can watch the file grow.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "app/cli/bind_options.h"
#include "app/cli/registry.h"
#include "app/demo_store/demo_store.h"

namespace {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("make-demo-store", "Write a synthetic store for benchmarks and screenshots");
  cmd->group("");  // hidden from --help
  auto out = std::make_shared<std::string>();
  auto options = std::make_shared<headscope::app::DemoStoreOptions>();
  cmd->add_option("out", *out, "Output store (.h5), overwritten")->required();
  cmd->add_option("--layers", options->layer_count, "Layers (default 32)")->check(headscope::cli::in_range("--layers", 1, 4096));
  cmd->add_option("--heads", options->head_count, "Heads per layer (default 32)")->check(headscope::cli::in_range("--heads", 1, 4096));
  cmd->add_option("--samples", options->sample_count, "Samples (default 4)")->check(headscope::cli::in_range("--samples", 0, 1e6));
  cmd->add_option("--tokens", options->token_count, "Tokens of the first sample (default 1024)")
      ->check(headscope::cli::in_range("--tokens", 1, 1 << 20));
  cmd->add_option("--sample-tokens", options->sample_tokens,
                  "Tokens of each sample, comma-separated (overrides --samples and --tokens), e.g. 512,32768")
      ->delimiter(',')
      ->check(headscope::cli::in_range("--sample-tokens", 1, 1 << 20));
  cmd->add_option("--chunk-tokens", options->chunk_tokens, "Metric chunk tokens (default: as a capture of these lengths)")
      ->check(headscope::cli::in_range("--chunk-tokens", 1, 1 << 20));
  cmd->add_option("--model", options->model_path, "Record this model folder as the run's model (attention recompute)");
  cmd->add_option("--delay-ms", options->delay_between_samples_ms, "Sleep between samples (plays a live capture)")
      ->check(headscope::cli::in_range("--delay-ms", 0, 1e6));
  cmd->callback([out, options] {
    headscope::app::write_demo_store(*out, *options, [](int i) {
      std::printf("sample %d written\n", i);
      std::fflush(stdout);
    });
    std::printf("wrote %s\n", out->c_str());
  });
}

HEADSCOPE_REGISTER_SUBCOMMAND(setup);

}  // namespace
