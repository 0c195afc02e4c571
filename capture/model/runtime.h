// Torch-free facade of the model runtime for the CLI and the app: load a HuggingFace model folder,
// read what it is (family, layers, heads, ...), and generate token ids. Everything that touches
// tensors lives behind it in capture/model/*_torch.h.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/model/model_error.h"

namespace headscope::model {

class Model;

struct RuntimeOptions {
  std::string device = "cpu";     // cpu, cuda, cuda:N
  std::string dtype = "auto";  // float32, float16, bfloat16, auto (as stored; float16 runs as float32 on CPU)
  std::string adapter;         // a PEFT LoRA adapter folder merged at load ("" = none)
  int threads = 0;                // 0 = hardware cores; < 0 = leave libtorch's setting
};

struct ModelInfo {
  std::string family;      // gpt2, llama, mistral, qwen2
  std::string model_type;  // config.json's model_type
  int layer_count = 0;
  int head_count = 0;
  int kv_head_count = 0;
  int head_dim = 0;
  int hidden_size = 0;
  int vocab_size = 0;
  std::optional<int> sliding_window;
  std::optional<std::int64_t> bos_id, eos_id;
  std::string run_dtype;    // float32, float16, bfloat16
  std::string device;       // as parsed, e.g. cpu, cuda:0
  std::string config_json;  // config.json's text
};

struct GenerateOptions {
  int max_new_tokens = 16;
  bool greedy = true;        // false: sample with `seed`
  std::uint64_t seed = 0;
  double temperature = 1.0;  // sampling only
  int top_k = 0;             // sampling only; 0 = whole vocabulary
  std::vector<std::int64_t> stop_ids;  // stop after producing one of these (it is included)
  bool use_cache = true;     // false: recompute the whole sequence at every step (a check)
  // A continuous-thought model (config.json "latent"): after the prompt and its begin-of-thought token, K
  // latent steps (each fed the projection of the last final hidden state), then the end-of-thought token;
  // the new ids are what follows. -1: the model's own K; 0: none. Needs use_cache.
  int latent_steps = 0;
};

class Runtime {
 public:
  // Throws ModelError (never loads pickle files).
  Runtime(const std::filesystem::path& model_folder, const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;

  const ModelInfo& info() const { return info_; }
  // The new ids only (not the prompt). Throws ModelError on bad ids.
  std::vector<std::int64_t> generate(const std::vector<std::int64_t>& prompt_ids, const GenerateOptions& options) const;
  // For capture/ code that needs the torch-level model (capture/model/model_torch.h).
  Model& model() const { return *model_; }

 private:
  std::unique_ptr<Model> model_;
  ModelInfo info_;
};

}  // namespace headscope::model
