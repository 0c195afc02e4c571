// Measuring one sample (private to capture/): one probed forward pass over the sample's whole input,
// reducing each layer's attention to per-token metrics as the layer finishes, so only one layer's
// [head, query, key] block is ever alive. Also the torch-op version of the metrics, used on CUDA where
// the rows never leave the device (on the CPU the fused C++ kernel of core/analysis runs instead).
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <vector>

#include "capture/model/model_torch.h"
#include "core/store/layout.h"

namespace headscope::capture {

struct MeasureInput {
  at::Tensor input_ids;         // [1, token] int64, or undefined when input_embeddings is given
  at::Tensor input_embeddings;  // [1, token, hidden] in the run dtype (latent loops)
  int prompt_length = 0;        // tokens before generation; IAF is defined after it
  std::vector<int> flow_positions;                    // [K] absolute positions, ascending
  std::vector<std::pair<int, int>> span_tokens;       // [spans] token ranges [begin, end)
};

struct MeasureOptions {
  std::vector<store::HeadRef> pinned_heads;
  int jsd_window = 3;
  double connectivity_threshold = 0.1;
  int embed_layer = 0;
  bool pre_rope_attention = false;  // measure softmax(q_pre k_preᵀ/√d + mask) (ForwardOptions::pattern_pre_rope)
  int nan_first = 0;                // entropy of the first N query positions is NaN ("insufficient context")
  bool use_torch_metrics = false;  // force the torch-op path (CUDA always uses it); for tests
  std::uint64_t attention_budget_bytes = 0;  // one layer's attention: queries run in blocks that fit (0 = default)
  std::function<void(int layer)> on_layer_measured;  // called on the model thread as each layer finishes
};

// Fills `record`'s metrics ([metric][token, layer, head] in store::standard_metrics() order), flow,
// pinned attention and embedding vectors (labels and span bounds are the caller's).
void measure_sample(model::Model& model, const MeasureInput& input, const MeasureOptions& options,
                    store::SampleRecord& record);

// Per-token metrics of one layer from its attention probabilities with torch ops on the tensor's device.
// probs [head, query, key] float32 (query = key = the whole sequence, masked entries 0), sliding_window 0 =
// none. Returns [metric, query, head] float32 on the CPU for the metrics entropy, max_attention, k90, iaf,
// jsd, windowed_jsd, connectivity, received_attention (received is indexed by key).
at::Tensor torch_layer_metrics(const at::Tensor& probs, int prompt_length, int sliding_window, int jsd_window,
                               double connectivity_threshold);

// The same over a block of rows: probs [head, rows, key] for query positions first_query.. (keys 0..key-1).
// per_row [7, rows, head] float32 on the CPU: entropy, max_attention, k90, iaf, jsd (to the row above
// within the block), windowed_jsd (NaN unless the block holds its whole window), connectivity. received
// [head, key] double on probs' device, summed over rows from received_from_row on (earlier rows were
// carried over from the block before and counted there).
struct TorchBlockMetrics {
  at::Tensor per_row;
  at::Tensor received;
};
TorchBlockMetrics torch_block_metrics(const at::Tensor& probs, std::int64_t first_query, std::int64_t received_from_row,
                                      int prompt_length, int sliding_window, int jsd_window,
                                      double connectivity_threshold);

}  // namespace headscope::capture
