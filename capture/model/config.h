// A model's architecture as read from HuggingFace's config.json, normalised across families. Fields
// that HF's config classes default may be missing from the file (HF writes only what differs from
// PretrainedConfig's defaults); we apply the same defaults per family. Sizes that define the weights
// (hidden size, layers, heads, vocab, MLP width) are required: a missing one is a ModelError naming it.
// Torch-free.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "capture/model/model_error.h"

namespace headscope::model {

// Architectures we run. Llama, Mistral and Qwen2 share one forward pass (capture/model/llama.cpp)
// and differ only in configuration (sliding window, q/k/v bias, head_dim).
enum class Family { gpt2, llama, mistral, qwen2 };
const char* family_name(Family family);

enum class Activation { gelu_tanh, gelu_erf, relu, silu };

struct RopeConfig {
  double theta = 10000.0;
  // rope_scaling: "default" (none), "linear" (factor) or "llama3" (factor, low/high freq factors,
  // original context length). Other types are refused at load.
  std::string scaling_type = "default";
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_positions = 8192.0;
};

// A continuous-thought (latent) model, as CODI trains them: after the prompt comes `bot_id`, then `steps`
// positions whose input embedding is the previous position's final hidden state (after the final norm),
// passed through the projection when there is one (Linear d->P, GELU (erf), Linear P->d, LayerNorm d,
// weights "prj.1.*", "prj.3.*", "prj.ln.*" as CODI names them), then `eot_id` and the answer in tokens.
// From config.json's "latent" object: {"steps", "bot_token_id", "eot_token_id", "projection",
// "projection_dim", "projection_layer_norm"}.
struct LatentConfig {
  int steps = 6;
  std::optional<std::int64_t> bot_id, eot_id;
  bool projection = false;
  int projection_dim = 0;
  bool projection_layer_norm = true;
};

struct ModelConfig {
  std::string model_type;  // as in config.json
  Family family = Family::llama;
  int layer_count = 0;
  int hidden_size = 0;
  int head_count = 0;     // query heads
  int kv_head_count = 0;  // key/value heads (GQA when fewer than head_count)
  int head_dim = 0;
  int intermediate_size = 0;  // MLP width
  int vocab_size = 0;
  std::int64_t max_positions = 0;  // GPT-2: size of the learned position table; others: informative
  double norm_eps = 1e-5;
  Activation activation = Activation::silu;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;       // Qwen2, Llama attention_bias
  bool output_bias = false;    // Llama attention_bias (o_proj)
  bool mlp_bias = false;       // Llama mlp_bias
  std::optional<int> sliding_window;  // Mistral: key j visible from query i iff i - W < j <= i
  RopeConfig rope;                     // unused by GPT-2
  bool scale_attn_weights = true;             // GPT-2: divide scores by sqrt(head_dim)
  bool scale_attn_by_inverse_layer = false;   // GPT-2: also divide by (layer + 1)
  std::optional<std::int64_t> bos_id, eos_id;
  std::optional<LatentConfig> latent;  // a continuous-thought model (config.json's "latent")
  std::string stored_dtype = "float32";  // torch_dtype in config.json, informative
  std::string json;                      // the config.json text, for the store's provenance
};

// Parses config.json text. `origin` names the file in errors.
ModelConfig parse_model_config(const std::string& json_text, const std::string& origin);
ModelConfig read_model_config(const std::filesystem::path& config_json);

}  // namespace headscope::model
