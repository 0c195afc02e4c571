// `headscope capture`'s options as one struct: parsed by the CLI (app/cli/torch/capture.cpp), rendered
// to argv by to_arguments() when the workbench starts a capture in a child process, and turned into the
// session's settings by capture::capture_settings (capture/session/capture_session.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/attention_mode.h"
#include "core/commands/command_options.h"

namespace headscope::commands {

struct CaptureCommand {
  std::string model_dir;
  std::string adapter;                     // a PEFT LoRA adapter folder merged at load ("" = none)
  std::string prompts_path;                // a JSONL prompt set, or
  std::string shards_path;                 // token shards (core/io/sample_source.h)
  std::string out_path;
  int generate_tokens = 0;                 // > 0: generate N tokens after each prompt
  std::optional<std::uint64_t> seed;       // generation: sample with this seed (none: greedy)
  double temperature = 1.0;
  int latent_steps = 0;                    // > 0: a latent loop of K steps
  std::string flow = "last";               // last, latent, marker:ID, or positions "3,7,-1"
  int flow_size = 6;
  std::vector<store::HeadRef> pinned_heads;
  std::string device = "cpu";
  std::string dtype = "auto";
  int threads = 0;
  std::int64_t memory_budget_mib = 0;      // one layer's attention working set; 0: the machine's default
  int jsd_window = 3;
  double connectivity_threshold = 0.1;
  std::string attention = "model";         // which attention is measured: store::kAttentionModes
  int nan_first = 0;                       // entropy of each sample's first N query positions is NaN
  int embed_layer = -1;
  std::int64_t max_samples = -1;
  bool float32_metrics = false;
  int mantissa_bits = -1;
  bool resume = false;
  bool overwrite = false;
  std::string shard;                       // "I/N": capture share I of N into OUT.shard-I-of-N.h5 (MPI sets it per rank)
  bool add_bos = true;
  double progress_every = 10;              // seconds between progress lines when stderr is not a terminal

  bool operator==(const CaptureCommand& o) const;

  template <typename Visit>
  static void for_each_option(Visit&& visit) {
    using C = CaptureCommand;
    visit(OptionSpec{"--model", "HuggingFace model folder (config.json, *.safetensors, tokenizer)", true}, &C::model_dir);
    visit(kAdapterOption, &C::adapter);
    visit(OptionSpec{"--prompts", "Prompt set, JSONL with 'text' (or 'ids'), optional id, level, spans"}, &C::prompts_path);
    visit(OptionSpec{"--shards", "Token shards: an .npz with an int32 [n, seq] array, or a folder of them"}, &C::shards_path);
    visit(OptionSpec{"--out", "Store to write (.h5)", true}, &C::out_path);
    visit(OptionSpec{"--generate", "Generate N new tokens after each prompt and measure every step"}.in(0, kManySteps), &C::generate_tokens);
    visit(OptionSpec{"--seed", "Sample with this seed instead of greedy decoding"}, &C::seed);
    visit(OptionSpec{"--temperature", "Sampling temperature"}.in(1e-6, 1e6), &C::temperature);
    visit(OptionSpec{"--latent", "Latent loop: K steps feeding the last hidden state back as the next input"}.in(0, kManySteps), &C::latent_steps);
    visit(OptionSpec{"--flow",
                     "K flow positions: 'last' (last K), 'latent' (the latent steps), 'marker:ID' (last K of token ID), "
                     "or explicit positions '3,7,-1'"},
          &C::flow);
    visit(OptionSpec{"--flow-size", "K of the flow matrices (0: none)"}.in(0, 1024), &C::flow_size);
    visit(OptionSpec{"--pin", "Store full attention of these heads, e.g. 0:1,3:5"}, &C::pinned_heads);
    visit(OptionSpec{"--device", "cpu, cuda or cuda:N"}, &C::device);
    visit(OptionSpec{"--dtype", "auto (default: as stored), float32, float16 or bfloat16"}, &C::dtype);
    visit(OptionSpec{"--threads", "CPU threads (0: all cores; more than the cores are capped at them)"}.in(0, kManySteps), &C::threads);
    visit(OptionSpec{"--memory-budget",
                     "MiB for one layer's attention: long sequences run it in blocks of query rows that fit "
                     "(0: 1/16 of memory, 128 to 512 MiB)"}.in(0, std::int64_t{1} << 30),
          &C::memory_budget_mib);
    visit(OptionSpec{"--jsd-window", "w of the windowed JSD"}.in(1, kManySteps), &C::jsd_window);
    visit(OptionSpec{"--connectivity-threshold", "theta of the connectivity metric"}.in(0, 1), &C::connectivity_threshold);
    visit(OptionSpec{"--attention",
                     "Attention the metrics measure: 'model' (the model's own) or 'pre-rope' (softmax(q k^T/sqrt d + "
                     "mask) of the queries and keys before RoPE, in float32; the forward pass stays the model's)"},
          &C::attention);
    visit(OptionSpec{"--nan-first", "Entropy of each sample's first N query positions is NaN (insufficient context; "
                                    "the Spectra seed used 2)"}.in(0, kManySteps),
          &C::nan_first);
    visit(OptionSpec{"--embed-layer", "Layer whose output is averaged over labelled spans (-1: middle)"}.in(-1, kManySteps), &C::embed_layer);
    visit(OptionSpec{"--max-samples", "Only the first N prompts (-1: all)"}.in(-1, kManySamples), &C::max_samples);
    visit(OptionSpec{"--float32", "Store metrics as float32 instead of float16"}, &C::float32_metrics);
    visit(OptionSpec{"--mantissa-bits",
                     "Opt-in lossy metric precision: keep this many mantissa bits (float16 0..10; 7 keeps 0.4 %, about halves the file)"}
              .in(-1, 23),
          &C::mantissa_bits);
    visit(OptionSpec{"--resume", "Continue an interrupted store, skipping the samples it holds"}, &C::resume);
    visit(OptionSpec{"--overwrite", "Replace an existing store"}, &C::overwrite);
    visit(OptionSpec{"--shard",
                     "I/N: capture share I (from 0) of N, balanced by tokens, into OUT.shard-I-of-N.h5; "
                     "`headscope merge OUT SHARD...` joins the shards (under mpirun each rank takes its own)"},
          &C::shard);
    visit(kProgressEveryOption, &C::progress_every);
    visit(OptionSpec{"--no-bos", "Do not prepend the tokenizer's BOS token", false, false, true}, &C::add_bos);
  }
};

// {"capture", "--model", ..., "--out", ...}: the argv after the executable.
std::vector<std::string> to_arguments(const CaptureCommand& command);

}  // namespace headscope::commands
