// The latent loop shared by the capture and the recompute (private to capture/): after the prompt, K
// steps each feed the last position's final hidden state back as the next input embedding, as
// continuous-thought models do (through the model's latent projection when it has one, as CODI's do; a
// CODI model's begin-of-thought token is the prompt's last id). Returns the whole input sequence's embeddings [1, prompt + K, hidden].
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "capture/model/model_torch.h"

namespace headscope::capture {

at::Tensor latent_loop_embeddings(model::Model& model, const std::vector<std::int64_t>& prompt_ids, int steps);

}  // namespace headscope::capture
