// The transformer runtime's torch-level API (private to capture/ and its tests and benches): a loaded
// model, its KV cache, and a forward pass with named probe points and per-head interventions.
//
// Probes follow llama.cpp's ask-then-observe: before materialising anything the forward pass asks
// `observer->wants(site)`; only then does it call `observe(site, tensor)`. Sites have stable names:
//   embed.out                 [batch, token, hidden]   input embedding (GPT-2: + position embedding)
//   blocks.{L}.attn.q_pre     [batch, head, query, head_dim]     query before RoPE (after query scale)
//   blocks.{L}.attn.k_pre     [batch, kv_head, query, head_dim]  keys of the new tokens before RoPE
//   blocks.{L}.attn.v         [batch, kv_head, query, head_dim]
//   blocks.{L}.attn.q_rot     [batch, head, query, head_dim]     after RoPE (RoPE models only)
//   blocks.{L}.attn.k_rot     [batch, kv_head, query, head_dim]
//   blocks.{L}.attn.pattern   [batch, head, query, key]  softmax probabilities, float32, GQA expanded;
//                             keys are all cached positions 0..cache+query-1, masked entries exactly 0
//                             (ForwardOptions::pattern_pre_rope: those of the pre-RoPE q and k instead)
//   blocks.{L}.attn.head_out  [batch, head, query, head_dim]     per-head output before the projection
//   blocks.{L}.attn.out       [batch, token, hidden]   after the output projection
//   blocks.{L}.mlp.out        [batch, token, hidden]
//   blocks.{L}.out            [batch, token, hidden]   residual stream after block L
//   final_norm.out            [batch, token, hidden]
//   logits                    [batch, token, vocab]    float32
// Query positions of one forward call are cache_length .. cache_length + token - 1. An observed tensor
// is only valid during the call (copy it to keep it); each layer's pattern is released before the next
// layer runs, so memory stays flat with depth.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/model/config.h"
#include "capture/model/interventions.h"

namespace headscope::model {

enum class ProbePoint {
  embed_out, q_pre, k_pre, v, q_rot, k_rot, pattern, head_out, attn_out, mlp_out, block_out,
  final_norm_out, logits
};
inline constexpr int kLayerProbeCount = 10;  // q_pre .. block_out

struct ProbeSite {
  ProbePoint point = ProbePoint::embed_out;
  int layer = -1;    // -1 for embed.out, final_norm.out and logits
  std::string name;  // e.g. "blocks.3.attn.pattern"
};

class ProbeObserver {
 public:
  virtual ~ProbeObserver() = default;
  virtual bool wants(const ProbeSite& site) = 0;
  virtual void observe(const ProbeSite& site, const at::Tensor& value) = 0;
  // Long sequences run their attention in blocks of query rows (ForwardOptions::attention_budget_bytes).
  // An observer that takes the pattern in blocks gets observe_pattern_block() once per block, in order:
  // value [batch, head, rows, keys] for the queries first_query.. of this call (cache positions
  // cache_length + first_query..) over keys 0..cache_length + first_query + rows - 1, masked entries 0.
  // An observer that does not is handed the whole pattern, and that layer runs as one block.
  virtual bool takes_pattern_blocks() const { return false; }
  virtual void observe_pattern_block(const ProbeSite& site, const at::Tensor& value, std::int64_t first_query) {
    (void)site, (void)value, (void)first_query;
  }
};

// Keys (after RoPE) and values of every layer for the positions seen so far. Grows by doubling.
struct KvCache {
  std::vector<at::Tensor> keys;    // per layer [batch, kv_head, capacity, head_dim]
  std::vector<at::Tensor> values;  // per layer [batch, kv_head, capacity, head_dim]
  std::int64_t length = 0;         // positions filled
  std::int64_t batch = 0;
};

enum class LogitsMode { all, last, none };

struct ForwardOptions {
  ProbeObserver* observer = nullptr;
  const Interventions* interventions = nullptr;
  LogitsMode logits = LogitsMode::all;
  int stop_after_layer = -1;  // >= 0: run blocks 0..L only (no final norm, no logits), e.g. to recompute a head
  bool autograd = false;      // true: record the autograd graph (training); false: run under InferenceMode
  // true: stop after the last layer's attention when no probe wants what follows (that layer's MLP, the
  // final norm, logits): a capture measures attention only. final_hidden is then undefined.
  bool stop_after_attention = false;
  // Memory for one layer's attention scores and probabilities: queries run in blocks of rows sized to fit,
  // so memory is O(block x keys x heads) whatever the length (and causal blocks skip the keys after them).
  // 0: default_attention_budget(). A block has at least kMinimumQueryBlock rows.
  std::uint64_t attention_budget_bytes = 0;
  // true: the pattern probe shows softmax(q_pre k_preᵀ / divisor + mask) in float32 (the queries and keys
  // before RoPE, each query head with its GQA key head, the same causal / sliding-window mask and query/key
  // scales) instead of the attention the model runs with; the forward pass itself is unchanged. Without
  // RoPE (GPT-2) both are the same. Needs the call's keys from position 0 (no cache, or an empty one).
  bool pattern_pre_rope = false;
};

inline constexpr std::int64_t kMinimumQueryBlock = 16;
// The default attention budget: 1/16 of physical memory, between 128 and 512 MiB (so that a 32k-token
// sample stays within 2 GiB of a 2k-token one: the budget, half of it for MLP chunks, and linear terms).
std::uint64_t default_attention_budget();
// This machine's physical memory in bytes (0 when unknown).
std::uint64_t physical_memory_bytes();

struct ForwardResult {
  at::Tensor logits;        // [batch, token or 1, vocab] float32; undefined for LogitsMode::none
  at::Tensor final_hidden;  // [batch, token, hidden] after the final norm (or block stop_after_layer's output)
};

struct LoadOptions {
  std::string device = "cpu";    // cpu, cuda, cuda:N
  std::string dtype = "auto";  // float32|float16|bfloat16 (fp32, fp16, bf16) or "auto" = as stored (float16: float32 on CPU)
  int threads = 0;               // intra-op threads; 0 = hardware cores, < 0 = leave libtorch's setting
  std::string adapter;           // a PEFT LoRA adapter folder merged into the weights at load ("" = none)
};

// Parses "cpu", "cuda", "cuda:1"; ModelError when malformed or when CUDA is not available.
c10::Device parse_device(const std::string& text);
at::ScalarType parse_dtype(const std::string& text);  // ModelError when unknown
void configure_threads(int threads);                   // see LoadOptions::threads

struct BlockContext;  // per-forward state shared by all layers (blocks_torch.h)
class WeightSource;  // weights_torch.h

class Model {
 public:
  // Loads a HuggingFace folder (config.json + model.safetensors or a sharded index, else pytorch_model.bin
  // or its sharded index through the restricted reader), or a checkpoint file inside one. Throws ModelError.
  static std::unique_ptr<Model> load(const std::filesystem::path& folder, const LoadOptions& options = {});
  // A model of config's family with fresh random weights, for training: matrices and embeddings drawn
  // from normal(0, init_std), norm weights 1, biases 0, all on the CPU in float32 from `seed` in a fixed
  // order, then moved to `device`. Created outside InferenceMode; every parameter requires grad.
  static std::unique_ptr<Model> create_random(const ModelConfig& config, std::uint64_t seed,
                                              const std::string& device = "cpu", double init_std = 0.02);
  virtual ~Model();

  // The tensors the forward pass uses, under HF checkpoint names, except the Llama family's fused
  // projections: "...self_attn.qkv_proj.{weight,bias}" (rows q | k | v) and "...mlp.gate_up_proj.{weight,bias}"
  // (rows gate | up). A tied lm_head is listed once, as the token embedding.
  virtual std::vector<std::pair<std::string, at::Tensor>> named_parameters() const = 0;

  // A continuous-thought model's projection of a final hidden state into the next latent input embedding
  // ([..., hidden] -> [..., hidden], see LatentConfig); the identity when config().latent has none.
  at::Tensor project_latent(const at::Tensor& hidden) const;
  // The projection's tensors under CODI's names ("prj.1.weight", ...); empty without one. Trained and saved
  // with named_parameters().
  std::vector<std::pair<std::string, at::Tensor>> latent_parameters() const;

  const ModelConfig& config() const { return config_; }
  c10::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }
  const ProbeSite& site(ProbePoint point, int layer = -1) const;

  KvCache make_cache(std::int64_t batch, std::int64_t capacity = 0) const;
  // input_ids [batch, token] (int64, any device). With a cache, the tokens continue it and it grows;
  // without one, positions start at 0.
  ForwardResult forward(const at::Tensor& input_ids, KvCache* cache = nullptr, const ForwardOptions& options = {});
  // The same from input embeddings [batch, token, hidden] (latent loops); GPT-2 adds position embeddings.
  ForwardResult forward_embeddings(const at::Tensor& embeddings, KvCache* cache = nullptr,
                                   const ForwardOptions& options = {});
  // Token embeddings [batch, token, hidden] in the run dtype (no position embedding).
  virtual at::Tensor embed_tokens(const at::Tensor& input_ids) const = 0;
  // RoPE tables for positions [first, first + count): cos, sin [count, head_dim] float32 and
  // inv_freq [head_dim / 2]. Undefined tensors for GPT-2.
  struct RopeTables {
    at::Tensor inv_freq, cos, sin;
  };
  RopeTables rope_tables(std::int64_t first, std::int64_t count) const;
  // What layer's raw scores q·kᵀ are divided by before the softmax: √head_dim (when scale_attn_weights),
  // times layer + 1 for GPT-2's scale_attn_by_inverse_layer_idx.
  double score_divisor(int layer) const;

 protected:
  Model(ModelConfig config, c10::Device device, at::ScalarType dtype);
  virtual at::Tensor add_positions(const at::Tensor& embeddings, std::int64_t first_position) const;
  virtual at::Tensor run_block(int layer, const at::Tensor& hidden, BlockContext& context) = 0;
  virtual at::Tensor final_norm(const at::Tensor& hidden) const = 0;
  virtual at::Tensor lm_head(const at::Tensor& hidden) const = 0;

  ModelConfig config_;
  c10::Device device_;
  at::ScalarType dtype_;
  at::Tensor inv_freq_;  // [head_dim / 2] float32 on the device; undefined for GPT-2

 private:
  ForwardResult run(const at::Tensor& embeddings, KvCache* cache, const ForwardOptions& options);
  // Loads the latent projection's tensors when config().latent asks for one (Model::load, create_random).
  void attach_latent_projection(const WeightSource& weights);
  struct LatentProjection {
    at::Tensor up_weight, up_bias;      // [P, hidden], [P]   ("prj.1")
    at::Tensor down_weight, down_bias;  // [hidden, P], [hidden] ("prj.3")
    at::Tensor norm_weight, norm_bias;  // [hidden] ("prj.ln"); undefined without the LayerNorm
  } latent_projection_;
  std::vector<ProbeSite> sites_;  // layer sites first ([layer][point]), then the three global ones
};

}  // namespace headscope::model
