// Bounds on one sample's sequence, checked before the model runs it: a prompt too long for this machine's
// memory is a clear error naming the sample (not a std::bad_alloc gigabytes later), and positions past what
// the model's positions cover are refused: past max_position_embeddings, unless the config's rope scaling
// stretches the trained range that far (linear: max × factor; llama3: original × factor).
// The memory model: attention runs in blocks of query rows (ForwardOptions::attention_budget_bytes), so a
// sample needs its reduced arrays (9 metrics × tokens × layers × heads floats), a few hidden-state copies,
// one minimal block of scores, and the whole tokens × tokens matrix of each pinned head.
#pragma once
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "capture/model/config.h"
#include "capture/model/model_torch.h"

namespace headscope::capture {

using model::physical_memory_bytes;

// Bytes one sample of `tokens` tokens needs beyond the weights (see above).
inline double sample_bytes(const model::ModelConfig& config, std::int64_t tokens, std::size_t pinned_heads) {
  const double S = static_cast<double>(tokens);
  const double arrays = 9.0 * 4 * S * config.layer_count * config.head_count;
  const double hidden = 8.0 * 4 * S * std::max(config.hidden_size, config.intermediate_size / 4);
  const double block = 16.0 * static_cast<double>(model::kMinimumQueryBlock) * config.head_count * S;
  return arrays + hidden + block + 4.0 * S * S * static_cast<double>(pinned_heads);
}

// The longest sequence the model's positions cover (GPT-2's learned table refuses longer input itself).
inline std::int64_t covered_positions(const model::ModelConfig& config) {
  std::int64_t covered = config.max_positions;
  if (config.rope.scaling_type == "linear")
    covered = std::max<std::int64_t>(covered, static_cast<std::int64_t>(config.max_positions * config.rope.factor));
  else if (config.rope.scaling_type == "llama3")
    covered = std::max<std::int64_t>(covered, static_cast<std::int64_t>(config.rope.original_max_positions * config.rope.factor));
  return covered;
}

// Throws std::runtime_error("<where>...") when `tokens` (prompt plus generated or latent steps) go past the
// covered positions or cannot fit in `memory_bytes`.
inline void check_sequence_length(const model::ModelConfig& config, std::int64_t tokens, const std::string& where,
                                  std::uint64_t memory_bytes = physical_memory_bytes(), std::size_t pinned_heads = 0) {
  if (config.family != model::Family::gpt2 && tokens > covered_positions(config))
    throw std::runtime_error(where + "has " + std::to_string(tokens) + " tokens, past the " +
                             std::to_string(covered_positions(config)) + " positions the model covers (max_position_embeddings " +
                             std::to_string(config.max_positions) +
                             (config.rope.scaling_type == "default" ? std::string(", no rope_scaling")
                                                                    : ", rope_scaling " + config.rope.scaling_type) +
                             ")");
  const double needed = sample_bytes(config, tokens, pinned_heads);
  if (memory_bytes > 0 && needed > static_cast<double>(memory_bytes))
    throw std::runtime_error(where + "has " + std::to_string(tokens) + " tokens: measuring it would need " +
                             std::to_string(static_cast<long long>(needed / (1 << 20))) + " MiB" +
                             (pinned_heads ? " (" + std::to_string(pinned_heads) + " pinned heads keep " +
                                                 std::to_string(tokens) + "² floats each)"
                                           : std::string()) +
                             ", more than this machine's " + std::to_string(memory_bytes >> 20) + " MiB");
}

}  // namespace headscope::capture
