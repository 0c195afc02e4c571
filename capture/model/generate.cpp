// Generation loop: prefill the prompt, then one token per forward call through the KV cache (or a full
// recompute per step), picking each id greedily or by seeded sampling.
#include "capture/model/generate_torch.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>

namespace headscope::model {

std::int64_t pick_next_token(const at::Tensor& logits, const GenerateOptions& options, at::Generator& generator) {
  if (options.greedy) return logits.argmax().item<std::int64_t>();
  if (!(options.temperature > 0.0)) throw ModelError("sampling temperature must be positive");
  auto scaled = logits / options.temperature;
  if (options.top_k > 0 && options.top_k < scaled.size(0)) {
    auto kth_largest = std::get<0>(scaled.topk(options.top_k)).min();
    scaled = scaled.masked_fill(scaled < kth_largest, -std::numeric_limits<float>::infinity());
  }
  auto probabilities = at::softmax(scaled, -1);
  return at::multinomial(probabilities, 1, /*replacement=*/false, generator).item<std::int64_t>();
}

std::vector<std::int64_t> generate(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                   const GenerateOptions& options, const ForwardOptions& forward_options,
                                   GenerateTrace* trace) {
  c10::InferenceMode inference;
  if (prompt_ids.empty()) throw ModelError("generate: the prompt has no tokens");
  if (options.max_new_tokens < 0) throw ModelError("generate: max_new_tokens is negative");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  ForwardOptions step_options = forward_options;
  step_options.logits = LogitsMode::last;

  std::vector<std::int64_t> sequence = prompt_ids;
  std::vector<std::int64_t> new_ids;
  const auto& latent = model.config().latent;
  const int latent_steps = options.latent_steps < 0 ? (latent ? latent->steps : 0) : options.latent_steps;
  KvCache cache = model.make_cache(1, static_cast<std::int64_t>(prompt_ids.size()) + latent_steps + 2 + options.max_new_tokens);
  at::Tensor next_input = at::tensor(prompt_ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);  // [1, token]
  if (latent_steps > 0) {
    if (!latent) throw ModelError("generate: latent steps need a continuous-thought model (config.json has no \"latent\")");
    if (!options.use_cache) throw ModelError("generate: latent steps need the KV cache");
    ForwardOptions quiet = forward_options;
    quiet.logits = LogitsMode::none;
    if (latent->bot_id) next_input = at::cat({next_input, at::full({1, 1}, *latent->bot_id, next_input.options())}, 1);
    at::Tensor last = model.forward(next_input, &cache, quiet).final_hidden.slice(1, -1);  // [1, 1, hidden]
    for (int step = 0; step < latent_steps; ++step)
      last = model.forward_embeddings(model.project_latent(last), &cache, quiet).final_hidden.slice(1, -1);
    if (!latent->eot_id) throw ModelError("generate: the latent model names no end-of-thought token (eot_token_id)");
    next_input = at::full({1, 1}, *latent->eot_id, at::TensorOptions().dtype(at::kLong));
  }
  for (int step = 0; step < options.max_new_tokens; ++step) {
    ForwardResult result;
    if (options.use_cache) {
      result = model.forward(next_input, &cache, step_options);
    } else {
      auto whole = at::tensor(sequence, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
      result = model.forward(whole, nullptr, step_options);
    }
    auto logits = result.logits.reshape({-1}).to(at::kCPU);  // [vocab]
    if (trace) trace->step_logits.push_back(logits.clone());
    const std::int64_t next = pick_next_token(logits, options, generator);
    new_ids.push_back(next);
    sequence.push_back(next);
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next) != options.stop_ids.end()) break;
    next_input = at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong));
  }
  return new_ids;
}

}  // namespace headscope::model
