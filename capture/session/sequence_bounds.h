// Bounds on one sample's sequence, checked before the model runs it: a prompt too long for this machine's
// memory is a clear error naming the sample (not a std::bad_alloc gigabytes later), and a RoPE model run
// past its config's max_position_embeddings gets a warning (it runs, but beyond the trained context).
// The memory model: one layer's attention is alive at a time, its float32 scores and probabilities for
// every head, [heads, tokens, tokens] twice: 8 * heads * tokens^2 bytes.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "capture/model/config.h"

namespace headscope::capture {

inline std::uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

// Bytes of one layer's attention for `tokens` tokens (see above).
inline double attention_bytes(const model::ModelConfig& config, std::int64_t tokens) {
  return 8.0 * config.head_count * static_cast<double>(tokens) * static_cast<double>(tokens);
}

// Throws std::runtime_error("<where>...") when `tokens` (prompt plus generated or latent steps) cannot fit in
// `memory_bytes`. Warns on stderr when a RoPE model goes past max_position_embeddings, once per `warned`
// flag (a run of a thousand long prompts gets one warning).
inline void check_sequence_length(const model::ModelConfig& config, std::int64_t tokens, const std::string& where,
                                  bool& warned, std::uint64_t memory_bytes = physical_memory_bytes()) {
  if (memory_bytes > 0 && attention_bytes(config, tokens) > static_cast<double>(memory_bytes))
    throw std::runtime_error(where + "has " + std::to_string(tokens) + " tokens: one layer's attention would need " +
                             std::to_string(static_cast<long long>(attention_bytes(config, tokens) / (1 << 20))) +
                             " MiB, more than this machine's " + std::to_string(memory_bytes >> 20) + " MiB");
  if (config.family == model::Family::gpt2) return;  // its learned position table refuses longer input itself
  if (tokens > config.max_positions && !warned) {
    warned = true;
    std::fprintf(stderr, "warning: %shas %lld tokens, past the model's max_position_embeddings (%lld): it runs, but "
                 "beyond the context the model was trained for\n", where.c_str(), static_cast<long long>(tokens),
                 static_cast<long long>(config.max_positions));
  }
}

}  // namespace headscope::capture
