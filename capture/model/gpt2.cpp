// GPT-2 family forward pass: learned position embeddings, LayerNorm, Conv1D projections (weights
// stored [in, out]: y = x W + b), fused c_attn producing [q | k | v], gelu_new MLP and the lm_head
// tied to the token embedding (gpt2 checkpoints do not store lm_head.weight).
#include <cmath>

#include "capture/model/blocks_torch.h"
#include "capture/model/weights_torch.h"

namespace headscope::model {
namespace {

// HF Conv1D: y = addmm(b, x, W) with W [in, out].
at::Tensor conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  auto flat = at::addmm(bias, x.reshape({-1, x.size(-1)}), weight);
  auto shape = x.sizes().vec();
  shape.back() = weight.size(1);
  return flat.view(shape);
}

struct Gpt2Layer {
  at::Tensor ln_1_weight, ln_1_bias;              // [hidden]
  at::Tensor c_attn_weight, c_attn_bias;          // [hidden, 3 * hidden], [3 * hidden]
  at::Tensor attn_proj_weight, attn_proj_bias;    // [hidden, hidden], [hidden]
  at::Tensor ln_2_weight, ln_2_bias;              // [hidden]
  at::Tensor c_fc_weight, c_fc_bias;              // [hidden, inner], [inner]
  at::Tensor mlp_proj_weight, mlp_proj_bias;      // [inner, hidden], [hidden]
};

class Gpt2Model final : public Model {
 public:
  Gpt2Model(const ModelConfig& config, const WeightSource& weights, c10::Device device, at::ScalarType dtype)
      : Model(config, device, dtype) {
    const std::int64_t hidden = config.hidden_size, inner = config.intermediate_size;
    auto load = [&](const std::string& name, std::vector<std::int64_t> shape) {
      return weights.load(name, shape, dtype, device);
    };
    token_embedding_ = load("transformer.wte.weight", {config.vocab_size, hidden});
    position_embedding_ = load("transformer.wpe.weight", {config.max_positions, hidden});
    final_norm_weight_ = load("transformer.ln_f.weight", {hidden});
    final_norm_bias_ = load("transformer.ln_f.bias", {hidden});
    lm_head_ = config.tie_word_embeddings ? token_embedding_ : load("lm_head.weight", {config.vocab_size, hidden});
    for (int layer = 0; layer < config.layer_count; ++layer) {
      const std::string prefix = "transformer.h." + std::to_string(layer) + ".";
      Gpt2Layer weights_of_layer;
      weights_of_layer.ln_1_weight = load(prefix + "ln_1.weight", {hidden});
      weights_of_layer.ln_1_bias = load(prefix + "ln_1.bias", {hidden});
      weights_of_layer.c_attn_weight = load(prefix + "attn.c_attn.weight", {hidden, 3 * hidden});
      weights_of_layer.c_attn_bias = load(prefix + "attn.c_attn.bias", {3 * hidden});
      weights_of_layer.attn_proj_weight = load(prefix + "attn.c_proj.weight", {hidden, hidden});
      weights_of_layer.attn_proj_bias = load(prefix + "attn.c_proj.bias", {hidden});
      weights_of_layer.ln_2_weight = load(prefix + "ln_2.weight", {hidden});
      weights_of_layer.ln_2_bias = load(prefix + "ln_2.bias", {hidden});
      weights_of_layer.c_fc_weight = load(prefix + "mlp.c_fc.weight", {hidden, inner});
      weights_of_layer.c_fc_bias = load(prefix + "mlp.c_fc.bias", {inner});
      weights_of_layer.mlp_proj_weight = load(prefix + "mlp.c_proj.weight", {inner, hidden});
      weights_of_layer.mlp_proj_bias = load(prefix + "mlp.c_proj.bias", {hidden});
      layers_.push_back(std::move(weights_of_layer));
    }
  }

  at::Tensor embed_tokens(const at::Tensor& input_ids) const override {
    return at::embedding(token_embedding_, input_ids.to(device_, at::kLong));
  }

  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const override {
    std::vector<std::pair<std::string, at::Tensor>> named{{"transformer.wte.weight", token_embedding_},
                                                          {"transformer.wpe.weight", position_embedding_}};
    for (std::size_t layer = 0; layer < layers_.size(); ++layer) {
      const std::string prefix = "transformer.h." + std::to_string(layer) + ".";
      const auto& w = layers_[layer];
      for (const auto& [name, tensor] : std::initializer_list<std::pair<const char*, at::Tensor>>{
               {"ln_1.weight", w.ln_1_weight}, {"ln_1.bias", w.ln_1_bias}, {"attn.c_attn.weight", w.c_attn_weight},
               {"attn.c_attn.bias", w.c_attn_bias}, {"attn.c_proj.weight", w.attn_proj_weight},
               {"attn.c_proj.bias", w.attn_proj_bias}, {"ln_2.weight", w.ln_2_weight}, {"ln_2.bias", w.ln_2_bias},
               {"mlp.c_fc.weight", w.c_fc_weight}, {"mlp.c_fc.bias", w.c_fc_bias},
               {"mlp.c_proj.weight", w.mlp_proj_weight}, {"mlp.c_proj.bias", w.mlp_proj_bias}})
        named.emplace_back(prefix + name, tensor);
    }
    named.emplace_back("transformer.ln_f.weight", final_norm_weight_);
    named.emplace_back("transformer.ln_f.bias", final_norm_bias_);
    if (!config_.tie_word_embeddings) named.emplace_back("lm_head.weight", lm_head_);
    return named;
  }

 protected:
  at::Tensor add_positions(const at::Tensor& embeddings, std::int64_t first_position) const override {
    const auto token_count = embeddings.size(1);
    if (first_position + token_count > config_.max_positions)
      throw ModelError("GPT-2 position " + std::to_string(first_position + token_count - 1) +
                       " is past the learned position table (n_positions = " + std::to_string(config_.max_positions) + ")");
    return embeddings + position_embedding_.narrow(0, first_position, token_count);
  }

  at::Tensor run_block(int layer, const at::Tensor& hidden, BlockContext& context) override {
    const auto& weights = layers_[static_cast<std::size_t>(layer)];
    const std::int64_t batch = hidden.size(0), token_count = hidden.size(1), width = config_.hidden_size;
    auto normed = at::layer_norm(hidden, {width}, weights.ln_1_weight, weights.ln_1_bias, config_.norm_eps);
    auto qkv = conv1d(normed, weights.c_attn_weight, weights.c_attn_bias);  // [batch, token, 3 * hidden]
    auto split_heads = [&](std::int64_t part) {  // -> [batch, head, token, head_dim]
      return qkv.narrow(-1, part * width, width)
          .view({batch, token_count, config_.head_count, config_.head_dim})
          .transpose(1, 2);
    };
    AttentionShape shape{config_.head_count, config_.kv_head_count, config_.head_dim, score_divisor(layer)};
    auto heads = explicit_attention(layer, split_heads(0), split_heads(1), split_heads(2), shape, context);
    auto attn_out = conv1d(heads, weights.attn_proj_weight, weights.attn_proj_bias);  // [batch, token, hidden]
    if (context.wants(ProbePoint::attn_out, layer)) context.observe(ProbePoint::attn_out, layer, attn_out);
    auto residual = hidden + attn_out;
    if (layer == context.attention_only_layer) return residual;

    normed = at::layer_norm(residual, {width}, weights.ln_2_weight, weights.ln_2_bias, config_.norm_eps);
    auto inner = activate(conv1d(normed, weights.c_fc_weight, weights.c_fc_bias), config_.activation);
    auto mlp_out = conv1d(inner, weights.mlp_proj_weight, weights.mlp_proj_bias);
    if (context.wants(ProbePoint::mlp_out, layer)) context.observe(ProbePoint::mlp_out, layer, mlp_out);
    return residual + mlp_out;
  }

  at::Tensor final_norm(const at::Tensor& hidden) const override {
    return at::layer_norm(hidden, {config_.hidden_size}, final_norm_weight_, final_norm_bias_, config_.norm_eps);
  }

  at::Tensor lm_head(const at::Tensor& hidden) const override { return at::linear(hidden, lm_head_); }

 private:
  at::Tensor token_embedding_;     // [vocab, hidden]
  at::Tensor position_embedding_;  // [positions, hidden]
  at::Tensor final_norm_weight_, final_norm_bias_;
  at::Tensor lm_head_;             // [vocab, hidden] (tied: the token embedding)
  std::vector<Gpt2Layer> layers_;
};

}  // namespace

std::unique_ptr<Model> make_gpt2_model(const ModelConfig& config, const WeightSource& weights, c10::Device device,
                                       at::ScalarType dtype) {
  return std::make_unique<Gpt2Model>(config, weights, device, dtype);
}

}  // namespace headscope::model
