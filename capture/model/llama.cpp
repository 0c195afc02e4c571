// Llama-family forward pass, shared by Llama 1/2/3, Mistral and Qwen2: RMSNorm, RoPE (rotate_half),
// grouped-query attention, optional q/k/v (and o) biases, sliding window, and the gated MLP
// down(act(gate(x)) * up(x)). q/k/v and gate/up projections are concatenated at load so that each
// runs as one matmul; the probes still see q, k and v separately.
#include <cmath>

#include "capture/model/blocks_torch.h"
#include "capture/model/weights_torch.h"

namespace headscope::model {
namespace {

struct LlamaLayer {
  at::Tensor input_norm_weight;          // [hidden]
  at::Tensor qkv_weight, qkv_bias;       // [(head + 2 kv_head) * head_dim, hidden], bias optional
  at::Tensor output_weight, output_bias; // [hidden, head * head_dim], bias optional
  at::Tensor post_norm_weight;           // [hidden]
  at::Tensor gate_up_weight, gate_up_bias;  // [2 * intermediate, hidden], bias optional
  at::Tensor down_weight, down_bias;        // [hidden, intermediate], bias optional
};

class LlamaFamilyModel final : public Model {
 public:
  LlamaFamilyModel(const ModelConfig& config, const WeightSource& weights, c10::Device device, at::ScalarType dtype)
      : Model(config, device, dtype) {
    const std::int64_t hidden = config.hidden_size, inner = config.intermediate_size;
    const std::int64_t query_width = std::int64_t{config.head_count} * config.head_dim;
    const std::int64_t kv_width = std::int64_t{config.kv_head_count} * config.head_dim;
    auto load = [&](const std::string& name, std::vector<std::int64_t> shape) {
      return weights.load(name, shape, dtype, device);
    };
    token_embedding_ = load("model.embed_tokens.weight", {config.vocab_size, hidden});
    final_norm_weight_ = load("model.norm.weight", {hidden});
    lm_head_ = config.tie_word_embeddings ? token_embedding_ : load("lm_head.weight", {config.vocab_size, hidden});
    for (int layer = 0; layer < config.layer_count; ++layer) {
      const std::string prefix = "model.layers." + std::to_string(layer) + ".";
      LlamaLayer w;
      w.input_norm_weight = load(prefix + "input_layernorm.weight", {hidden});
      w.post_norm_weight = load(prefix + "post_attention_layernorm.weight", {hidden});
      w.qkv_weight = at::cat({load(prefix + "self_attn.q_proj.weight", {query_width, hidden}),
                              load(prefix + "self_attn.k_proj.weight", {kv_width, hidden}),
                              load(prefix + "self_attn.v_proj.weight", {kv_width, hidden})});
      if (config.qkv_bias)
        w.qkv_bias = at::cat({load(prefix + "self_attn.q_proj.bias", {query_width}),
                              load(prefix + "self_attn.k_proj.bias", {kv_width}),
                              load(prefix + "self_attn.v_proj.bias", {kv_width})});
      w.output_weight = load(prefix + "self_attn.o_proj.weight", {hidden, query_width});
      if (config.output_bias) w.output_bias = load(prefix + "self_attn.o_proj.bias", {hidden});
      w.gate_up_weight = at::cat({load(prefix + "mlp.gate_proj.weight", {inner, hidden}),
                                  load(prefix + "mlp.up_proj.weight", {inner, hidden})});
      w.down_weight = load(prefix + "mlp.down_proj.weight", {hidden, inner});
      if (config.mlp_bias) {
        w.gate_up_bias = at::cat({load(prefix + "mlp.gate_proj.bias", {inner}), load(prefix + "mlp.up_proj.bias", {inner})});
        w.down_bias = load(prefix + "mlp.down_proj.bias", {hidden});
      }
      layers_.push_back(std::move(w));
    }
    inv_freq_ = rope_inv_freq(config.rope, config.head_dim).to(device);
  }

  at::Tensor embed_tokens(const at::Tensor& input_ids) const override {
    return at::embedding(token_embedding_, input_ids.to(device_, at::kLong));
  }

  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const override {
    std::vector<std::pair<std::string, at::Tensor>> named{{"model.embed_tokens.weight", token_embedding_}};
    for (std::size_t layer = 0; layer < layers_.size(); ++layer) {
      const std::string prefix = "model.layers." + std::to_string(layer) + ".";
      const auto& w = layers_[layer];
      for (const auto& [name, tensor] : std::initializer_list<std::pair<const char*, at::Tensor>>{
               {"input_layernorm.weight", w.input_norm_weight}, {"self_attn.qkv_proj.weight", w.qkv_weight},
               {"self_attn.qkv_proj.bias", w.qkv_bias}, {"self_attn.o_proj.weight", w.output_weight},
               {"self_attn.o_proj.bias", w.output_bias}, {"post_attention_layernorm.weight", w.post_norm_weight},
               {"mlp.gate_up_proj.weight", w.gate_up_weight}, {"mlp.gate_up_proj.bias", w.gate_up_bias},
               {"mlp.down_proj.weight", w.down_weight}, {"mlp.down_proj.bias", w.down_bias}})
        if (tensor.defined()) named.emplace_back(prefix + name, tensor);
    }
    named.emplace_back("model.norm.weight", final_norm_weight_);
    if (!config_.tie_word_embeddings) named.emplace_back("lm_head.weight", lm_head_);
    return named;
  }

 protected:
  at::Tensor run_block(int layer, const at::Tensor& hidden, BlockContext& context) override {
    const auto& w = layers_[static_cast<std::size_t>(layer)];
    const std::int64_t batch = hidden.size(0), token_count = hidden.size(1);
    const std::int64_t query_width = std::int64_t{config_.head_count} * config_.head_dim;
    const std::int64_t kv_width = std::int64_t{config_.kv_head_count} * config_.head_dim;
    auto normed = rms_norm(hidden, w.input_norm_weight, config_.norm_eps);
    auto qkv = at::linear(normed, w.qkv_weight, w.qkv_bias);  // [batch, token, (head + 2 kv_head) * head_dim]
    auto split_heads = [&](std::int64_t offset, std::int64_t width) {  // -> [batch, heads, token, head_dim]
      return qkv.narrow(-1, offset, width).view({batch, token_count, width / config_.head_dim, config_.head_dim}).transpose(1, 2);
    };
    AttentionShape shape{config_.head_count, config_.kv_head_count, config_.head_dim, score_divisor(layer)};
    auto heads = explicit_attention(layer, split_heads(0, query_width), split_heads(query_width, kv_width),
                                    split_heads(query_width + kv_width, kv_width), shape, context);
    auto attn_out = at::linear(heads, w.output_weight, w.output_bias);  // [batch, token, hidden]
    if (context.wants(ProbePoint::attn_out, layer)) context.observe(ProbePoint::attn_out, layer, attn_out);
    auto residual = hidden + attn_out;
    if (layer == context.attention_only_layer) return residual;

    // The MLP in chunks of tokens on long sequences: its intermediates are 4 x intermediate_size per token.
    const std::int64_t inner = config_.intermediate_size;
    auto mlp = [&](const at::Tensor& x) {
      auto gate_up = at::linear(rms_norm(x, w.post_norm_weight, config_.norm_eps), w.gate_up_weight,
                                w.gate_up_bias);  // [batch, token, 2 * intermediate]
      auto gated = activate(gate_up.narrow(-1, 0, inner), config_.activation) * gate_up.narrow(-1, inner, inner);
      return at::linear(gated, w.down_weight, w.down_bias);
    };
    auto mlp_out = over_token_chunks(residual, token_chunk(context, 4 * inner * batch * residual.element_size()), mlp);
    if (context.wants(ProbePoint::mlp_out, layer)) context.observe(ProbePoint::mlp_out, layer, mlp_out);
    return residual + mlp_out;
  }

  at::Tensor final_norm(const at::Tensor& hidden) const override {
    return rms_norm(hidden, final_norm_weight_, config_.norm_eps);
  }

  at::Tensor lm_head(const at::Tensor& hidden) const override { return at::linear(hidden, lm_head_); }

 private:
  at::Tensor token_embedding_;    // [vocab, hidden]
  at::Tensor final_norm_weight_;  // [hidden]
  at::Tensor lm_head_;            // [vocab, hidden]
  std::vector<LlamaLayer> layers_;
};

}  // namespace

std::unique_ptr<Model> make_llama_family_model(const ModelConfig& config, const WeightSource& weights,
                                               c10::Device device, at::ScalarType dtype) {
  return std::make_unique<LlamaFamilyModel>(config, weights, device, dtype);
}

}  // namespace headscope::model
