// Building blocks shared by the model families (private to capture/): norms, activations, RoPE and
// the explicit attention with its probes, interventions, masks and KV cache. Conventions are those of
// HF transformers 4.44 in eager mode (tests/fixtures/hf-reference/README.md).
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <optional>

#include "capture/model/model_torch.h"

namespace headscope::model {

// State of one forward call, shared by every layer.
struct BlockContext {
  const Model* model = nullptr;
  const ForwardOptions* options = nullptr;
  KvCache* cache = nullptr;           // null: attend to this call's tokens only
  std::int64_t first_position = 0;    // cache length before the call
  std::int64_t query_count = 0;
  at::Tensor rope_cos, rope_sin;      // [query, head_dim] in the run dtype; undefined without RoPE
  int attention_only_layer = -1;      // this layer returns after its attention (its MLP is not needed)
  // Buffers the CPU attention reuses for every block of every layer (flat, grown as needed): fresh
  // gigabyte-sized blocks would each fault in new pages and fragment the heap.
  at::Tensor score_buffer, probs_buffer, probs_values_buffer;

  bool wants(ProbePoint point, int layer) const;
  void observe(ProbePoint point, int layer, const at::Tensor& value) const;
};

struct AttentionShape {
  int head_count = 0;
  int kv_head_count = 0;
  int head_dim = 0;
  double score_divisor = 1.0;  // scores = q k^T / score_divisor
};

// [query, key] mask for queries at positions first..first+query_count-1 over keys 0..first+query_count-1:
// causal, and with a window W also j <= i - W. Undefined when nothing is masked.
at::Tensor attention_block_mask(std::int64_t first, std::int64_t query_count, std::optional<int> window,
                                c10::Device device);

// Explicit attention: q [batch, head, query, head_dim], k and v [batch, kv_head, query, head_dim] before
// RoPE. Applies the layer's interventions, RoPE when the context has tables, appends k/v to the cache,
// emits the attention probes (the pattern of the pre-RoPE q and k with ForwardOptions::pattern_pre_rope). Returns the heads' outputs concatenated, [batch, query, head * head_dim].
at::Tensor explicit_attention(int layer, at::Tensor q, at::Tensor k, at::Tensor v, const AttentionShape& shape,
                              BlockContext& context);

// f over slices of x's token axis (dim 1), at most `chunk` tokens each, concatenated: per-token work (an
// MLP's intermediate activations) then needs memory for one chunk, not the whole sequence.
at::Tensor over_token_chunks(const at::Tensor& x, std::int64_t chunk, const std::function<at::Tensor(const at::Tensor&)>& f);
// Tokens per chunk so that `bytes_per_token` of intermediates fit half the attention budget (every token
// under autograd, whose graph wants one piece).
std::int64_t token_chunk(const BlockContext& context, std::int64_t bytes_per_token);

// HF LlamaRMSNorm: weight * (x32 * rsqrt(mean(x32^2) + eps)).to(x.dtype).
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
at::Tensor activate(const at::Tensor& x, Activation activation);
// RoPE inverse frequencies [head_dim / 2] float32 (CPU), with linear or llama3 scaling applied.
at::Tensor rope_inv_freq(const RopeConfig& rope, int head_dim);
// x * cos + rotate_half(x) * sin, with cos/sin [query, head_dim] broadcast over [batch, head].
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace headscope::model
