// The trainer of the sample models: a GPT-2- or Llama-style model with fresh random weights, trained
// on our own runtime's forward pass (capture/model, with autograd) on generated arithmetic word problems
// (core/problems), AdamW with warmup and cosine decay, loss on the answer part only. Deterministic from
// the seed at a fixed thread count. Writes a HuggingFace folder (config.json, model.safetensors,
// tokenizer.json, tokenizer_config.json), the loss curve (loss.csv) and the settings (training.json).
// Torch-free header: the CLI includes it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace headscope::train {

struct TrainSettings {
  // Architecture
  std::string architecture = "gpt2";  // gpt2 | llama
  int layer_count = 4;
  int hidden_size = 128;
  int head_count = 4;
  int kv_head_count = 0;      // 0: head_count (llama only)
  int intermediate_size = 0;  // 0: 4 x hidden (gpt2), 8/3 x hidden rounded to 16 (llama)
  int max_positions = 320;
  // Task
  // chain (written steps) | pause (question, pause_count pauses, answer) | direct (question, answer: the
  // no-CoT baseline) | latent (CODI-style self-distillation, see latent_training.h)
  std::string task = "chain";
  int pause_count = 6;
  int latent_steps = 6;              // latent: continuous thoughts between <bot> and <eot>
  bool latent_projection = true;     // latent: CODI's projection (Linear, GELU, Linear, LayerNorm) between steps
  double distill_loss_factor = 1.0;  // latent: weight of the hidden-state distillation
  double teacher_loss_factor = 1.0;  // latent: weight of the teacher's chain-of-thought loss
  int min_level = 1, max_level = 5;
  // Optimisation
  std::uint64_t seed = 1;
  int steps = 2000;
  int batch_tokens = 4096;     // a batch holds problems of one level up to about this many tokens
  double learning_rate = 3e-3;
  double min_learning_rate_ratio = 0.05;  // cosine decays to this fraction
  int warmup_steps = 100;
  double weight_decay = 0.05;  // on matrices and embeddings only
  double beta1 = 0.9, beta2 = 0.98, adam_eps = 1e-8;
  double grad_clip = 1.0;
  double init_std = 0.02;
  // Run
  std::string device = "cpu";
  int threads = 2;
  std::string out_dir;
  std::string init_from;     // a checkpoint folder of the same architecture to start from (a second stage)
  std::string init_adapter;  // a PEFT LoRA adapter merged into init_from's weights as they load
  std::string save_dtype = "float32";  // float32 | float16
  int log_every = 25;
  int checkpoint_every = 0;  // 0: only at the end
  std::string command_line;  // written into training.json
};

struct TrainProgress {
  int step = 0;  // steps done
  int steps = 0;
  double loss = 0;          // mean over the last log interval
  double learning_rate = 0;
  double seconds = 0;
  std::int64_t tokens = 0;  // input tokens seen
};

struct TrainResult {
  int steps = 0;
  double seconds = 0;
  double final_loss = 0;
  std::int64_t parameter_count = 0;
};

// The config.json text these settings give (parsed back with capture/model/config.h before training).
std::string model_config_json(const TrainSettings& settings);

// Trains and writes settings.out_dir; calls `on_progress` every log_every steps. Throws std::runtime_error.
TrainResult train_model(const TrainSettings& settings, const std::function<void(const TrainProgress&)>& on_progress = {});

}  // namespace headscope::train
