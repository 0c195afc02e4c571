// On-demand recompute of one head's full attention for a stored sample (drill-down of heads that were
// not pinned): runs the model only up to that head's layer and returns its [query, key] matrix, storing
// nothing. Latent samples re-run their latent loop first. Torch-free header for the app.
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

  // tokens: the stored sample's ids (-1 marks latent positions, which follow the prompt).
  // Returns [query, key] row-major, token_count × token_count. Throws std::runtime_error on bad input.
  std::vector<float> head_attention(const std::vector<std::int32_t>& tokens, store::HeadRef head) const;

  int layer_count() const;
  int head_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace headscope::capture
