// The capture session: runs a model over a prompt set and streams every head's per-token metrics into
// a HeadScope store. A model thread measures one sample at a time (one probed forward pass, one layer's
// attention alive at a time) and hands plain arrays to a writer thread through a two-slot queue, so
// memory stays flat whatever the number of samples. `headscope capture` runs it: start(), poll progress(),
// cancel(), wait(). The app does not embed it: it runs that command as a child process. Torch-free header.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/commands/capture_command.h"
#include "core/store/layout.h"

namespace headscope::capture {

enum class CaptureMode {
  teacher_forced,  // measure every position of the given text
  generate,        // the prompt, then N new tokens (greedy or seeded); every generated step is measured
  latent,          // the prompt, then K steps that feed the last hidden state back as the next input
};

// Which K positions index the flow matrices.
enum class FlowSelect { last_k, explicit_positions, marker_token, latent_steps };

struct CaptureSettings {
  std::string model_dir;
  std::string prompts_path;        // JSONL prompt set (core/io/prompt_set.h), or
  std::string shards_path;         // token shards: an .npz with an int [n, seq] array, or a folder of them
  std::string out_path;
  CaptureMode mode = CaptureMode::teacher_forced;
  int generate_tokens = 0;         // generate: up to N new tokens (stops after the model's EOS)
  bool greedy = true;              // generate: false = sample with `seed`
  std::uint64_t seed = 0;
  double temperature = 1.0;
  int latent_steps = 0;            // latent: K steps
  int flow_size = 6;               // K of the flow matrices; 0 = none
  FlowSelect flow_select = FlowSelect::last_k;
  std::vector<int> flow_positions;  // explicit_positions (negative = from the end)
  int flow_marker_id = -1;          // marker_token: the last K occurrences of this id
  std::vector<store::HeadRef> pinned_heads;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string adapter;             // a PEFT LoRA adapter folder merged at load ("" = none)
  int threads = 0;                 // 0 = all cores
  std::uint64_t attention_budget_bytes = 0;  // one layer's attention working set; 0 = model::default_attention_budget()
  bool resume = false;             // continue an interrupted store, skipping the ids it holds
  bool overwrite = false;
  // A sharded run (shard_count > 0): this process captures share shard_index of shard_count of the samples
  // (util::balanced_shares by tokens) into store::shard_path(out_path, ...); out_path names the master.
  int shard_index = 0, shard_count = 0;
  int local_rank = -1;             // an MPI rank's index on its machine: device "cuda" becomes its own GPU
  bool add_bos = true;             // prepend the tokenizer's BOS when it has one
  int jsd_window = 3;              // w of the windowed JSD
  double connectivity_threshold = 0.1;
  store::AttentionMode attention = store::AttentionMode::model;  // which attention the metrics measure
  int nan_first = 0;               // entropy of each sample's first N query positions is NaN (Spectra used 2)
  int embed_layer = -1;            // layer whose output is averaged over spans; -1 = middle layer
  std::int64_t max_samples = -1;   // first N prompts; -1 = all
  bool float32_metrics = false;
  int mantissa_bits = -1;  // opt-in lossy metric precision (see store::StoreLayout::mantissa_bits); -1 lossless
  std::string command_line;        // written into the store
};

// The settings `headscope capture` runs with, from its command struct: the mode from --generate /
// --latent, greedy unless --seed, the flow selection parsed from --flow. Throws std::runtime_error
// without a sample source, std::invalid_argument for a --flow that is not a selection or an --attention
// that is not a mode.
CaptureSettings capture_settings(const commands::CaptureCommand& command, const std::string& command_line);

struct CaptureProgress {
  std::int64_t samples_done = 0;    // in this run (resumed ones not counted)
  std::int64_t samples_skipped = 0; // already in the store (resume)
  std::int64_t samples_total = 0;   // to measure in this run
  std::int64_t tokens_done = 0;
  double elapsed_seconds = 0;
  double tokens_per_second = 0;
  double eta_seconds = -1;          // -1 while unknown
  bool running = false, finished = false, cancelled = false;
  bool complete = false;            // every requested sample is stored and the store is marked complete
  std::string error;                // non-empty when the run stopped on an error
  std::string current_id;
  // The sample on the model thread: its tokens and the layers measured so far, so that a long sample
  // shows progress (and a rate) before it ends.
  std::int64_t samples_measured = 0, tokens_measured = 0;  // by the model thread (the writer may lag)
  std::int64_t current_tokens = 0;
  int current_layers_done = 0, layer_count = 0;
};

class CaptureSession {
 public:
  explicit CaptureSession(CaptureSettings settings);
  ~CaptureSession();  // cancels and joins
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  // Loads the model and tokenizer and opens the store (throws on bad input, before any thread starts),
  // then starts the model and writer threads. An existing store is replaced (--overwrite) only after every
  // prompt was read and checked, through OUT.partial, renamed over OUT once the run is complete; an
  // interrupted one stays OUT.partial, which --resume continues.
  void start();
  void cancel();
  CaptureProgress progress() const;
  // Joins the threads; throws std::runtime_error with the run's error, if any, and resume_advice().
  void wait();
  // After a run that stopped early: where its samples are and how `--resume` continues it.
  std::string resume_advice() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace headscope::capture
