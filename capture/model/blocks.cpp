// Shared building blocks of the forward pass: RMSNorm, activations, RoPE tables (with linear and
// llama3 scaling), the causal / sliding-window mask, the KV cache and the explicit attention with its
// probes and per-head interventions (and, when asked, a measured pattern from the pre-RoPE queries and
// keys). Softmax always runs in float32.
#include "capture/model/blocks_torch.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <optional>
#include <tuple>
#include <limits>
#include <vector>

#include "capture/model/masked_softmax.h"

namespace headscope::model {

bool BlockContext::wants(ProbePoint point, int layer) const {
  return options->observer && options->observer->wants(model->site(point, layer));
}

void BlockContext::observe(ProbePoint point, int layer, const at::Tensor& value) const {
  options->observer->observe(model->site(point, layer), value);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  auto x32 = x.to(at::kFloat);
  auto variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  x32 = x32 * at::rsqrt(variance + eps);
  return weight * x32.to(x.scalar_type());
}

at::Tensor activate(const at::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::gelu_tanh: return at::gelu(x, "tanh");
    case Activation::gelu_erf: return at::gelu(x);
    case Activation::relu: return at::relu(x);
    case Activation::silu: return at::silu(x);
  }
  return x;
}

at::Tensor rope_inv_freq(const RopeConfig& rope, int head_dim) {
  // HF: 1 / theta^(arange(0, D, 2) / D), in float32.
  auto exponents = at::arange(0, head_dim, 2, at::kLong).to(at::kFloat) / head_dim;
  auto inv_freq = at::reciprocal(at::pow(rope.theta, exponents));
  if (rope.scaling_type == "linear") return inv_freq / rope.factor;
  if (rope.scaling_type != "llama3") return inv_freq;
  // llama3: keep high frequencies, divide low ones by `factor`, blend in between.
  const double low_freq_wavelen = rope.original_max_positions / rope.low_freq_factor;
  const double high_freq_wavelen = rope.original_max_positions / rope.high_freq_factor;
  auto wavelen = at::reciprocal(inv_freq) * (2.0 * M_PI);
  auto smooth = (at::reciprocal(wavelen) * rope.original_max_positions - rope.low_freq_factor) /
                (rope.high_freq_factor - rope.low_freq_factor);
  auto blended = (1.0 - smooth) * inv_freq / rope.factor + smooth * inv_freq;
  auto scaled = at::where(wavelen > low_freq_wavelen, inv_freq / rope.factor, blended);
  return at::where(wavelen < high_freq_wavelen, inv_freq, scaled);
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const auto half = x.size(-1) / 2;
  auto rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);  // rotate_half
  return x * cos + rotated * sin;
}

// The forward pass's attention budget in bytes (ForwardOptions::attention_budget_bytes, or the default).
static std::uint64_t attention_budget(const ForwardOptions& options) {
  return options.attention_budget_bytes ? options.attention_budget_bytes : default_attention_budget();
}

at::Tensor over_token_chunks(const at::Tensor& x, std::int64_t chunk, const std::function<at::Tensor(const at::Tensor&)>& f) {
  const std::int64_t tokens = x.size(1);
  if (chunk <= 0 || tokens <= chunk) return f(x);
  std::vector<at::Tensor> pieces;
  for (std::int64_t begin = 0; begin < tokens; begin += chunk) pieces.push_back(f(x.narrow(1, begin, std::min(chunk, tokens - begin))));
  return at::cat(pieces, 1);
}

std::int64_t token_chunk(const BlockContext& context, std::int64_t bytes_per_token) {
  const ForwardOptions& options = *context.options;
  if (options.autograd || bytes_per_token <= 0) return 0;
  return std::max<std::int64_t>(kMinimumQueryBlock, static_cast<std::int64_t>(attention_budget(options) / 2 / static_cast<std::uint64_t>(bytes_per_token)));
}

at::Tensor attention_block_mask(std::int64_t first, std::int64_t query_count, std::optional<int> window,
                                c10::Device device) {
  const std::int64_t key_count = first + query_count;
  const bool window_bites = window && key_count > *window;
  if (query_count == 1 && !window_bites) return {};
  auto options = at::TensorOptions().dtype(at::kLong).device(device);
  auto query_position = at::arange(first, key_count, options).unsqueeze(1);  // [query, 1]
  auto key_position = at::arange(0, key_count, options).unsqueeze(0);        // [1, key]
  auto blocked = key_position > query_position;
  if (window_bites) blocked = blocked.logical_or(key_position <= query_position - *window);
  return blocked;  // [query, key]
}

namespace {

// Writes this call's k/v ([batch, kv_head, query, head_dim]) at the cache's end; returns views of all
// keys and values so far, [batch, kv_head, key, head_dim]. Capacity doubles when full.
std::pair<at::Tensor, at::Tensor> append_to_cache(KvCache& cache, int layer, const at::Tensor& k,
                                                  const at::Tensor& v, std::int64_t first) {
  auto& keys = cache.keys[static_cast<std::size_t>(layer)];
  auto& values = cache.values[static_cast<std::size_t>(layer)];
  const std::int64_t needed = first + k.size(2);
  if (k.requires_grad() || v.requires_grad()) {
    // Training through a cache (the latent loop): writing into the buffer in place would change tensors the
    // earlier steps' backward needs, so the cache grows by concatenation, one new tensor per call.
    keys = first > 0 ? at::cat({keys.narrow(2, 0, first), k}, 2) : k;
    values = first > 0 ? at::cat({values.narrow(2, 0, first), v}, 2) : v;
    return {keys, values};
  }
  if (!keys.defined() || keys.size(2) < needed) {
    std::int64_t capacity = keys.defined() ? std::max<std::int64_t>(2 * keys.size(2), needed) : needed;
    capacity = (capacity + 15) / 16 * 16;
    auto grown_keys = at::empty({k.size(0), k.size(1), capacity, k.size(3)}, k.options());
    auto grown_values = at::empty({v.size(0), v.size(1), capacity, v.size(3)}, v.options());
    if (keys.defined() && first > 0) {
      grown_keys.narrow(2, 0, first).copy_(keys.narrow(2, 0, first));
      grown_values.narrow(2, 0, first).copy_(values.narrow(2, 0, first));
    }
    keys = grown_keys;
    values = grown_values;
  }
  keys.narrow(2, first, k.size(2)).copy_(k);
  values.narrow(2, first, v.size(2)).copy_(v);
  return {keys.narrow(2, 0, needed), values.narrow(2, 0, needed)};
}

// This layer's per-head query or key scales [head]; empty when all are 1.
std::vector<float> head_scale_values(const Interventions* interventions, int layer, int head_count, bool query) {
  if (!interventions) return {};
  std::vector<float> scales(static_cast<std::size_t>(head_count), 1.0f);
  bool any = false;
  for (const auto& edit : interventions->heads) {
    const double scale = query ? edit.query_scale : edit.key_scale;
    if (edit.layer != layer || scale == 1.0) continue;
    scales[static_cast<std::size_t>(edit.head)] *= static_cast<float>(scale);
    any = true;
  }
  if (!any) return {};
  return scales;
}

// The same as factors [1, head, 1, 1] on the tensor's device; undefined when all are 1.
at::Tensor head_scales(const Interventions* interventions, int layer, int head_count, bool query,
                       const at::TensorOptions& options) {
  auto scales = head_scale_values(interventions, layer, head_count, query);
  if (scales.empty()) return {};
  return at::tensor(scales, at::TensorOptions().dtype(at::kFloat)).to(options).view({1, head_count, 1, 1});
}

// The fused CPU softmax (masked_softmax.h) serves float32 and bfloat16 scores on the CPU outside autograd
// (it has no backward); training, other dtypes and devices take the torch-op path.
bool fused_softmax_applies(const at::Tensor& q, const BlockContext& context) {
  return !context.options->autograd && !q.requires_grad() && q.device().is_cpu() &&
         (q.scalar_type() == at::kFloat || q.scalar_type() == at::kBFloat16);
}

// Query rows per block for this layer: all of them when the whole [batch, head, query, key] block fits
// the budget (or autograd needs one graph, or the observer wants the pattern whole), else as many as fit.
// Bytes per score entry: the fused softmax writes float32 probabilities in place (float32 runs: 4); a
// bfloat16 run keeps bfloat16 scores, float32 probabilities and a bfloat16 copy for P·V (8), and its GEMMs
// convert to float32 on CPUs without native bfloat16 (8 more: 16); the torch-op path keeps about four copies (16).
// A pre-RoPE measured pattern (ForwardOptions::pattern_pre_rope) adds its float32 scores and probabilities (8).
std::int64_t query_block_rows(int layer, std::int64_t batch, std::int64_t heads, std::int64_t query_count,
                              std::int64_t key_count, bool fused, bool bf16, bool pre_rope_pattern,
                              const BlockContext& context) {
  const ForwardOptions& options = *context.options;
  if (options.autograd) return query_count;
  if (context.wants(ProbePoint::pattern, layer) && !options.observer->takes_pattern_blocks()) return query_count;
  const double budget = static_cast<double>(attention_budget(options));
  const double bytes_per_row = static_cast<double>(batch * heads * key_count) * ((fused && !bf16 ? 4 : 16) + (pre_rope_pattern ? 8 : 0));
  const auto rows = static_cast<std::int64_t>(budget / bytes_per_row);
  return std::clamp<std::int64_t>(rows, std::min(kMinimumQueryBlock, query_count), query_count);
}

// scores [batch, head, rows, key] float32 raw q·kᵀ for queries at positions first.. -> probabilities float32:
// divided by the divisor, times the heads' key scales, masked (causal, window) and softmaxed with torch ops.
at::Tensor torch_masked_softmax(const at::Tensor& raw_scores, std::int64_t first, std::optional<int> window, int layer,
                                const AttentionShape& shape, const BlockContext& context) {
  auto scores = raw_scores.to(at::kFloat) / shape.score_divisor;
  if (auto key_scale = head_scales(context.options->interventions, layer, shape.head_count, false, scores.options()); key_scale.defined())
    scores = scores * key_scale;
  if (auto blocked = attention_block_mask(first, scores.size(2), window, scores.device()); blocked.defined())
    scores.masked_fill_(blocked, -std::numeric_limits<float>::infinity());
  return at::softmax(scores, -1);
}

// `shape` of `options` over the start of a flat reusable buffer, grown when too small.
at::Tensor reuse(at::Tensor& buffer, at::IntArrayRef shape, const at::TensorOptions& options) {
  std::int64_t count = 1;
  for (auto size : shape) count *= size;
  if (!buffer.defined() || buffer.numel() < count || buffer.scalar_type() != options.dtype().toScalarType() ||
      buffer.device() != options.device())
    buffer = at::empty({count}, options);
  return buffer.narrow(0, 0, count).view(shape);
}

// scores [batch, head, query, key] raw q·kᵀ (contiguous) for queries at positions first.. -> probabilities
// float32 and the same in the scores' dtype (one tensor for float32: the softmax runs in place), in the
// context's reusable buffers.
std::pair<at::Tensor, at::Tensor> fused_masked_softmax(const at::Tensor& scores, std::int64_t first,
                                                       std::optional<int> window, double divisor,
                                                       const std::vector<float>& key_scales, BlockContext& context) {
  const std::int64_t batch = scores.size(0), heads = scores.size(1), queries = scores.size(2), keys = scores.size(3);
  const bool bf16 = scores.scalar_type() == at::kBFloat16;
  at::Tensor probs = bf16 ? reuse(context.probs_buffer, scores.sizes(), scores.options().dtype(at::kFloat)) : scores;
  at::Tensor probs_bf16 = bf16 ? reuse(context.probs_values_buffer, scores.sizes(), scores.options()) : at::Tensor();
  auto* probs_data = probs.data_ptr<float>();
  auto* probs_bf16_data = bf16 ? reinterpret_cast<std::uint16_t*>(probs_bf16.data_ptr()) : nullptr;
  const auto* score_bytes = static_cast<const std::uint8_t*>(scores.data_ptr());
  const std::size_t score_size = scores.element_size();
  at::parallel_for(0, batch * heads * queries, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) {
      const std::int64_t query = row % queries, head = (row / queries) % heads;
      const std::int64_t position = first + query;
      SoftmaxRow r;
      r.scores = score_bytes + static_cast<std::size_t>(row * keys) * score_size;
      r.type = bf16 ? ScoreType::bfloat16 : ScoreType::float32;
      r.key_count = keys;
      r.last_visible = std::min(position, keys - 1);
      r.first_visible = window ? std::max<std::int64_t>(0, position - *window + 1) : 0;
      r.divisor = static_cast<float>(divisor);
      r.key_scale = key_scales.empty() ? 1.0f : key_scales[static_cast<std::size_t>(head)];
      r.probs = probs_data + row * keys;
      r.probs_bf16 = probs_bf16_data ? probs_bf16_data + row * keys : nullptr;
      masked_softmax_row(r);
    }
  });
  return {probs, bf16 ? probs_bf16 : probs};
}

}  // namespace

at::Tensor explicit_attention(int layer, at::Tensor q, at::Tensor k, at::Tensor v, const AttentionShape& shape,
                              BlockContext& context) {
  const auto batch = q.size(0);
  const auto query_count = q.size(2);
  const int group = shape.head_count / shape.kv_head_count;
  const Interventions* interventions = context.options->interventions;
  if (interventions) check_interventions(*interventions, context.model->config());

  if (auto query_scale = head_scales(interventions, layer, shape.head_count, true, q.options()); query_scale.defined())
    q = q * query_scale;
  if (context.wants(ProbePoint::q_pre, layer)) context.observe(ProbePoint::q_pre, layer, q);
  if (context.wants(ProbePoint::k_pre, layer)) context.observe(ProbePoint::k_pre, layer, k);
  if (context.wants(ProbePoint::v, layer)) context.observe(ProbePoint::v, layer, v);
  const bool observe_pattern = context.wants(ProbePoint::pattern, layer);
  // The measured pattern from the pre-RoPE queries and keys (ForwardOptions::pattern_pre_rope), float32:
  // q_pre [batch, head, query, head_dim], k_pre [batch, kv_head, key = query, head_dim].
  const bool pre_rope_pattern = observe_pattern && context.options->pattern_pre_rope && context.rope_cos.defined();
  at::Tensor q_pre, k_pre;
  if (pre_rope_pattern) {
    if (context.first_position > 0)
      throw ModelError("the pre-RoPE attention pattern needs the keys from position 0 in one forward call (this one starts at " +
                       std::to_string(context.first_position) + ")");
    q_pre = q.to(at::kFloat);
    k_pre = k.to(at::kFloat).contiguous();
  }
  if (context.rope_cos.defined()) {
    q = apply_rope(q, context.rope_cos, context.rope_sin);
    k = apply_rope(k, context.rope_cos, context.rope_sin);
    if (context.wants(ProbePoint::q_rot, layer)) context.observe(ProbePoint::q_rot, layer, q);
    if (context.wants(ProbePoint::k_rot, layer)) context.observe(ProbePoint::k_rot, layer, k);
  }

  at::Tensor keys = k, values = v;  // [batch, kv_head, key, head_dim]
  if (context.cache) std::tie(keys, values) = append_to_cache(*context.cache, layer, k, v, context.first_position);
  else keys = keys.contiguous(), values = values.contiguous();  // each block's GEMMs then view them, no copies
  const auto key_count = keys.size(2);
  const bool fused = fused_softmax_applies(q, context);
  const std::int64_t block_rows = query_block_rows(layer, batch, shape.head_count, query_count, key_count, fused,
                                                   q.scalar_type() == at::kBFloat16, pre_rope_pattern, context);
  const std::vector<float> key_scales = head_scale_values(interventions, layer, shape.head_count, false);
  const std::optional<int> window = context.model->config().sliding_window;
  if (fused && block_rows < query_count) {  // the blocks' buffers at their largest (the last block's keys) at once
    const std::int64_t largest = batch * shape.head_count * block_rows * key_count;
    reuse(context.score_buffer, {largest}, q.options());
    if (q.scalar_type() == at::kBFloat16) {
      reuse(context.probs_buffer, {largest}, q.options().dtype(at::kFloat));
      reuse(context.probs_values_buffer, {largest}, q.options());
    }
  }

  // One block of query rows [begin, begin + rows) against keys 0..first + begin + rows - 1 (the later ones
  // are all masked). Query heads h = kv * group + g share kv head `kv`: the group folds into the query axis
  // so one batched matmul per kv head serves its whole group without repeating keys. The GEMMs run in the
  // run dtype (bfloat16 GEMMs are ~10x float32 batched ones on these CPUs), the softmax in float32.
  const auto attend_block = [&](std::int64_t begin, std::int64_t rows) {
    const std::int64_t first = context.first_position + begin, keys_seen = first + rows;
    const at::Tensor block_keys = keys.narrow(2, 0, keys_seen), block_values = values.narrow(2, 0, keys_seen);
    const at::Tensor block_q = rows == query_count ? q : q.narrow(2, begin, rows);
    const std::int64_t pairs = batch * shape.kv_head_count;  // (batch, kv head) pairs: the GEMM batch
    auto grouped_q = block_q.reshape({pairs, group * rows, shape.head_dim});
    const auto grouped_keys = block_keys.reshape({pairs, keys_seen, shape.head_dim}).transpose(1, 2);
    at::Tensor raw_scores;  // [pairs, group * rows, key], then viewed as [batch, head, rows, key]
    if (fused) {
      raw_scores = reuse(context.score_buffer, {pairs, group * rows, keys_seen}, q.options());
      at::bmm_out(raw_scores, grouped_q, grouped_keys);
    } else {
      raw_scores = at::bmm(grouped_q, grouped_keys);
    }
    raw_scores = raw_scores.view({batch, shape.head_count, rows, keys_seen});
    at::Tensor pattern, pattern_for_values;  // [batch, head, rows, key] float32, and in the values' dtype
    if (fused) {
      std::tie(pattern, pattern_for_values) =
          fused_masked_softmax(raw_scores, first, window, shape.score_divisor, key_scales, context);
    } else {
      pattern = torch_masked_softmax(raw_scores, first, window, layer, shape, context);
      pattern_for_values = pattern.to(values.scalar_type());
    }
    raw_scores.reset();
    if (observe_pattern) {
      at::Tensor measured = pattern;  // [batch, head, rows, key] float32
      if (pre_rope_pattern) {  // the same GEMM grouping, on the float32 pre-RoPE queries and keys
        const at::Tensor pre_q = (rows == query_count ? q_pre : q_pre.narrow(2, begin, rows)).reshape({pairs, group * rows, shape.head_dim});
        const at::Tensor pre_keys = k_pre.narrow(2, 0, keys_seen).reshape({pairs, keys_seen, shape.head_dim}).transpose(1, 2);
        measured = torch_masked_softmax(at::bmm(pre_q, pre_keys).view({batch, shape.head_count, rows, keys_seen}), first,
                                        window, layer, shape, context);
      }
      if (block_rows == query_count) context.observe(ProbePoint::pattern, layer, measured);
      else context.options->observer->observe_pattern_block(context.model->site(ProbePoint::pattern, layer), measured, begin);
    }
    auto grouped_pattern = pattern_for_values.view({pairs, group * rows, keys_seen});
    pattern.reset();
    pattern_for_values.reset();
    return at::bmm(grouped_pattern, block_values.reshape({pairs, keys_seen, shape.head_dim}))  // [pairs, group * rows, head_dim]
        .view({batch, shape.head_count, rows, shape.head_dim});
  };
  at::Tensor head_out;  // [batch, head, query, head_dim]
  if (block_rows == query_count) {
    head_out = attend_block(0, query_count);
  } else {
    head_out = at::empty({batch, shape.head_count, query_count, shape.head_dim}, values.options());
    for (std::int64_t begin = 0; begin < query_count; begin += block_rows) {
      const std::int64_t rows = std::min(block_rows, query_count - begin);
      head_out.narrow(2, begin, rows).copy_(attend_block(begin, rows));
    }
  }
  if (interventions) {
    for (const auto& edit : interventions->heads) {
      if (edit.layer != layer || edit.output == OutputAblation::none) continue;
      auto slot = head_out.select(1, edit.head);  // [batch, query, head_dim]
      if (edit.output == OutputAblation::zero) slot.zero_();
      else slot.copy_(at::tensor(edit.mean_output, at::TensorOptions().dtype(at::kFloat)).to(slot.options()));
    }
  }
  if (context.wants(ProbePoint::head_out, layer)) context.observe(ProbePoint::head_out, layer, head_out);
  return head_out.transpose(1, 2).reshape({batch, query_count, shape.head_count * shape.head_dim});
}

}  // namespace headscope::model
