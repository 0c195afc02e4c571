// Real-shape random checkpoints (see real_models.h). The configs are the published config.json files,
// verbatim in the fields a loader reads; tensors follow HF's names and [out, in] layout.
#include "bench/real_models.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "capture/model/safetensors_writer.h"
#include "core/io/npy.h"
#include "core/io/npz.h"

namespace headscope::bench {

const std::vector<RealModel>& real_models() {
  static const std::vector<RealModel> models = {
      {"llama-3.2-1b", R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
  "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})"},
      {"qwen2.5-0.5b", R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2",
  "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.40.1", "use_cache": true, "use_mrope": false, "use_sliding_window": false,
  "vocab_size": 151936})"},
      {"llama-3-8b", R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
  "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 8192,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 500000.0,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.40.0.dev0",
  "use_cache": true, "vocab_size": 128256})"},
  };
  return models;
}

const RealModel& find_real_model(const std::string& name) {
  std::string known;
  for (const auto& model : real_models()) {
    if (model.name == name) return model;
    known += (known.empty() ? "" : ", ") + model.name;
  }
  throw std::runtime_error("unknown real model '" + name + "' (known: " + known + ")");
}

namespace {

constexpr std::uint64_t kShardBytes = std::uint64_t{4} << 30;

// Collects tensors into shards of at most kShardBytes and writes them with an index, as HF does.
class ShardedWriter {
 public:
  ShardedWriter(std::filesystem::path folder, int shard_count) : folder_(std::move(folder)), shard_count_(shard_count) {}

  void add(const std::string& name, const at::Tensor& bf16) {
    const std::size_t bytes = static_cast<std::size_t>(bf16.numel()) * 2;
    if (pending_bytes_ > 0 && pending_bytes_ + bytes > kShardBytes) flush();
    std::vector<std::int64_t> shape(bf16.sizes().begin(), bf16.sizes().end());
    writer_.add(name, model::StDtype::bf16, shape, bf16.data_ptr(), bytes);
    pending_bytes_ += bytes;
    weight_map_[name] = shard_name(shard_index_);
  }

  std::uintmax_t finish() {
    flush();
    std::uintmax_t total = 0;
    if (shard_index_ == 1) {
      std::filesystem::rename(folder_ / shard_name(0), folder_ / "model.safetensors");
      total = std::filesystem::file_size(folder_ / "model.safetensors");
    } else {
      for (int i = 0; i < shard_index_; ++i) total += std::filesystem::file_size(folder_ / shard_name(i));
      nlohmann::json index{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map_}};
      std::ofstream(folder_ / "model.safetensors.index.json") << index.dump(2);
    }
    return total;
  }

 private:
  std::string shard_name(int index) const {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", index + 1, shard_count_);
    return name;
  }
  void flush() {
    if (pending_bytes_ == 0) return;
    writer_.set_metadata("format", "pt");
    writer_.write(folder_ / shard_name(shard_index_++));
    writer_ = model::SafetensorsWriter();
    pending_bytes_ = 0;
  }
  std::filesystem::path folder_;
  int shard_count_;
  int shard_index_ = 0;
  std::uint64_t pending_bytes_ = 0;
  model::SafetensorsWriter writer_;
  std::map<std::string, std::string> weight_map_;
};

}  // namespace

std::uintmax_t write_real_model(const RealModel& model, const std::filesystem::path& folder, unsigned seed) {
  const auto config = nlohmann::json::parse(model.config_json);
  const std::int64_t hidden = config["hidden_size"], inner = config["intermediate_size"];
  const std::int64_t layers = config["num_hidden_layers"], heads = config["num_attention_heads"];
  const std::int64_t kv_heads = config["num_key_value_heads"], vocab = config["vocab_size"];
  const std::int64_t head_dim = config.value("head_dim", hidden / heads);
  const bool tied = config["tie_word_embeddings"], biases = config["model_type"] == "qwen2";
  const std::int64_t params = vocab * hidden * (tied ? 1 : 2) + hidden +
                              layers * (2 * hidden + hidden * (heads + 2 * kv_heads) * head_dim +
                                        (biases ? (heads + 2 * kv_heads) * head_dim : 0) +
                                        heads * head_dim * hidden + 3 * hidden * inner);
  const int shard_count = static_cast<int>((static_cast<std::uint64_t>(params) * 2 + kShardBytes - 1) / kShardBytes);

  std::filesystem::create_directories(folder);
  at::manual_seed(seed);
  ShardedWriter writer(folder, shard_count);
  auto matrix = [&](const std::string& name, std::int64_t rows, std::int64_t columns) {
    writer.add(name, (at::randn({rows, columns}) * 0.02).to(at::kBFloat16).contiguous());
  };
  auto vector = [&](const std::string& name, std::int64_t size, double offset) {
    writer.add(name, (at::randn({size}) * 0.02 + offset).to(at::kBFloat16).contiguous());
  };
  matrix("model.embed_tokens.weight", vocab, hidden);
  for (std::int64_t layer = 0; layer < layers; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    vector(p + "input_layernorm.weight", hidden, 1.0);
    matrix(p + "self_attn.q_proj.weight", heads * head_dim, hidden);
    matrix(p + "self_attn.k_proj.weight", kv_heads * head_dim, hidden);
    matrix(p + "self_attn.v_proj.weight", kv_heads * head_dim, hidden);
    if (biases) {
      vector(p + "self_attn.q_proj.bias", heads * head_dim, 0.0);
      vector(p + "self_attn.k_proj.bias", kv_heads * head_dim, 0.0);
      vector(p + "self_attn.v_proj.bias", kv_heads * head_dim, 0.0);
    }
    matrix(p + "self_attn.o_proj.weight", hidden, heads * head_dim);
    vector(p + "post_attention_layernorm.weight", hidden, 1.0);
    matrix(p + "mlp.gate_proj.weight", inner, hidden);
    matrix(p + "mlp.up_proj.weight", inner, hidden);
    matrix(p + "mlp.down_proj.weight", hidden, inner);
  }
  vector("model.norm.weight", hidden, 1.0);
  if (!tied) matrix("lm_head.weight", vocab, hidden);
  const auto bytes = writer.finish();
  std::ofstream(folder / "config.json") << model.config_json << "\n";
  return bytes;
}

void write_token_shard(const std::filesystem::path& path, int rows, int columns, int vocab, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::int32_t> id(0, vocab - 1);
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(rows) * columns);
  for (auto& token : tokens) token = id(random);
  const auto member = io::npy_bytes("<i4", {static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(columns)},
                                    tokens.data(), tokens.size() * sizeof(std::int32_t));
  io::write_npz(path.string(), {{"tokens", member}}, /*deflate=*/false);
}

}  // namespace headscope::bench
