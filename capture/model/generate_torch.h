// Token generation on the torch-level model (private to capture/): greedy or seeded sampling
// (temperature, top-k) with the KV cache (the new token's position is the cache length; sliding
// windows keep applying), or by full recomputation as a check. Sampling draws on the CPU from the
// last position's float32 logits, so a seed gives the same ids on CPU and CUDA up to logit noise.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "capture/model/model_torch.h"
#include "capture/model/runtime.h"

namespace headscope::model {

struct GenerateTrace {
  std::vector<at::Tensor> step_logits;  // per new token: [vocab] float32 on the CPU
};

// Returns the new ids. `forward_options` (observer, interventions) applies to every forward call:
// first the prompt, then one call per new token. `trace`, when given, receives each step's logits.
std::vector<std::int64_t> generate(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                   const GenerateOptions& options, const ForwardOptions& forward_options = {},
                                   GenerateTrace* trace = nullptr);

// Picks the next id from logits [vocab] (float32, CPU) under `options`; `generator` serves sampling.
std::int64_t pick_next_token(const at::Tensor& logits, const GenerateOptions& options, at::Generator& generator);

}  // namespace headscope::model
