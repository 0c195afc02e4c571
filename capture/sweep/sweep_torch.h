// One probed forward pass for sweeps and gain scans (private to capture/sweep/): runs the model with a
// list of interventions, reduces the attention of the measured heads to per-token entropy, max attention
// and k90 with the capture's own metric code (the fused core/analysis kernel on the CPU, the torch-op
// path elsewhere, exactly as capture/session/measure.cpp), sums the next-token loss, and optionally keeps
// one layer's probes (q_pre, k_pre, v, pattern, head_out) for the sanity and isolation checks.
#pragma once
#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/model/model_torch.h"
#include "capture/sweep/sweep.h"
#include "core/store/layout.h"

namespace headscope::sweep {

// One layer's probes, copied to the CPU in the run dtype (pattern float32), batch dropped.
struct LayerProbes {
  at::Tensor q_pre;     // [head, query, head_dim]
  at::Tensor k_pre;     // [kv_head, query, head_dim]
  at::Tensor v;         // [kv_head, query, head_dim]
  at::Tensor pattern;   // [head, query, key]
  at::Tensor head_out;  // [head, query, head_dim]
};

struct ProbedRunRequest {
  std::vector<store::HeadRef> measured;  // heads whose metrics are computed
  int record_layer = -1;                 // >= 0: keep this layer's probes
  bool loss = true;                      // false: stop after the last layer that matters, no logits
  bool keep_logits = false;              // keep the logits (CPU float32) for the sanity check
  std::vector<int> head_out_sum_layers;  // layers whose head_out is summed over tokens (mean ablation)
};

struct ProbedRun {
  std::vector<std::array<std::vector<float>, 3>> metrics;  // [measured head][entropy, max_attention, k90][token]
  double nll_sum = 0;                    // summed next-token cross-entropy, nats
  std::int64_t predicted_tokens = 0;
  at::Tensor logits;                     // [token, vocab] float32 CPU when keep_logits
  LayerProbes probes;                    // when record_layer >= 0
  std::vector<at::Tensor> head_out_sums; // [layer in head_out_sum_layers] -> [head, head_dim] float64 CPU
};

// Shared by run_sweep and run_gain_scan (sweep_run.cpp): scales checked finite and > 0, sorted, unique,
// at least two and one of them not 1; the model loaded with the run settings; the folder's short name.
std::vector<double> validated_scales(std::vector<double> scales);
std::unique_ptr<model::Model> load_sweep_model(const RunSettings& run);
std::string model_short_name(const std::string& dir);

// Counts the forward passes of a sweep or gain scan and tells a RunProgressSink of each.
class RunCounter {
 public:
  RunCounter(const RunProgressSink& sink, std::int64_t run_count) : sink_(sink) { progress_.run_count = run_count; }
  void ran(std::size_t tokens, std::string phase) {
    ++progress_.runs_done;
    progress_.tokens_done += static_cast<std::int64_t>(tokens);
    progress_.phase = std::move(phase);
    if (sink_) sink_(progress_);
  }

 private:
  const RunProgressSink& sink_;
  RunProgress progress_;
};

ProbedRun run_probed(model::Model& model, const std::vector<std::int64_t>& ids,
                     const model::Interventions& interventions, const ProbedRunRequest& request);

}  // namespace headscope::sweep
