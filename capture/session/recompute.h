// On-demand recompute of one head's full attention for a stored sample (drill-down of heads that were
// not pinned): runs the model only up to that head's layer and returns its [query, key] matrix, storing
// nothing. Latent samples re-run their latent loop first. Torch-free header for the app.
// Long samples: head_attention_tile() runs ONE forward pass per token sequence that keeps every layer's
// queries and keys (post-RoPE, or pre-RoPE for a pre-rope run; GPT-2: as projected), then serves any
// block of any head from them, so a view never materialises S×S. The cache holds the latest sequence
// only: at 32k tokens of Qwen2.5-0.5B it is 24 × (14 + 2) heads × 32k × 64 values, 3.2 GB in float32.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::capture {

class AttentionRecomputer {
 public:
  // Throws model::ModelError for a bad model folder.
  explicit AttentionRecomputer(const std::string& model_dir, const std::string& device = "cpu",
                               const std::string& dtype = "auto", int threads = 0);
  ~AttentionRecomputer();

  // tokens: the stored sample's ids (-1 marks latent positions, which follow the prompt). pre_rope: the
  // attention a `--attention pre-rope` capture measures (softmax of the pre-RoPE q·kᵀ; the same without RoPE).
  // Returns [query, key] row-major, token_count × token_count. Throws std::runtime_error on bad input.
  std::vector<float> head_attention(const std::vector<std::int32_t>& tokens, store::HeadRef head, bool pre_rope = false) const;

  // Rows `rows` (query positions) × keys [key_begin, key_end) of the head's attention: [rows.size(),
  // key_end - key_begin] row-major, equal to those entries of head_attention(). Each row's softmax runs over
  // all its visible keys (causal, and Mistral's sliding window) in float32; masked keys are 0. The first
  // call for a token sequence runs the forward pass; later ones (any head, any block) only the block.
  std::vector<float> head_attention_tile(const std::vector<std::int32_t>& tokens, store::HeadRef head,
                                         const std::vector<int>& rows, int key_begin, int key_end, bool pre_rope = false) const;
  // True when the queries and keys of this sequence (pre- or post-RoPE) are cached (the next tile needs no
  // forward pass).
  bool has_cached_sequence(const std::vector<std::int32_t>& tokens, bool pre_rope = false) const;

  int layer_count() const;
  int head_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace headscope::capture
