// The probed forward pass behind sweeps and gain scans (see sweep_torch.h). Metrics come from the same
// functions the capture uses, with the same options, so a sweep's unintervened numbers equal a capture's.
#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "capture/session/measure_torch.h"
#include "capture/sweep/sweep_torch.h"
#include "core/analysis/attention_metrics.h"

namespace headscope::sweep {

namespace {

class SweepObserver : public model::ProbeObserver {
 public:
  SweepObserver(const model::ModelConfig& config, const ProbedRunRequest& request, ProbedRun& out, int tokens)
      : config_(config), request_(request), out_(out), tokens_(tokens) {
    out_.metrics.resize(request.measured.size());
    for (auto& head : out_.metrics)
      for (auto& values : head) values.assign(static_cast<std::size_t>(tokens), std::numeric_limits<float>::quiet_NaN());
    out_.head_out_sums.resize(request.head_out_sum_layers.size());
  }

  bool wants(const model::ProbeSite& site) override {
    const bool recorded = site.layer >= 0 && site.layer == request_.record_layer;
    switch (site.point) {
      case model::ProbePoint::pattern: return recorded || measures_layer(site.layer);
      case model::ProbePoint::q_pre:
      case model::ProbePoint::k_pre:
      case model::ProbePoint::v: return recorded;
      case model::ProbePoint::head_out:
        return recorded || std::count(request_.head_out_sum_layers.begin(), request_.head_out_sum_layers.end(), site.layer) > 0;
      default: return false;
    }
  }

  void observe(const model::ProbeSite& site, const at::Tensor& value) override {
    const bool recorded = site.layer == request_.record_layer;
    at::Tensor item = value[0];  // batch of one
    switch (site.point) {
      case model::ProbePoint::pattern:
        if (measures_layer(site.layer)) measure_layer(site.layer, item);
        if (recorded) out_.probes.pattern = item.to(at::kCPU, /*non_blocking=*/false, /*copy=*/true);
        break;
      case model::ProbePoint::q_pre: out_.probes.q_pre = item.to(at::kCPU, false, true); break;
      case model::ProbePoint::k_pre: out_.probes.k_pre = item.to(at::kCPU, false, true); break;
      case model::ProbePoint::v: out_.probes.v = item.to(at::kCPU, false, true); break;
      case model::ProbePoint::head_out: {
        if (recorded) out_.probes.head_out = item.to(at::kCPU, false, true);
        for (std::size_t i = 0; i < request_.head_out_sum_layers.size(); ++i)
          if (request_.head_out_sum_layers[i] == site.layer)
            out_.head_out_sums[i] = item.to(at::kDouble).sum(1).cpu();  // [head, head_dim]
        break;
      }
      default: break;
    }
  }

 private:
  bool measures_layer(int layer) const {
    return std::any_of(request_.measured.begin(), request_.measured.end(),
                       [&](const store::HeadRef& head) { return head.layer == layer; });
  }

  // probs [head, query, key] float32; the capture's options: teacher forcing (prompt = every token),
  // sliding window from the config.
  void measure_layer(int layer, const at::Tensor& probs) {
    const int window = config_.sliding_window.value_or(0);
    at::Tensor torch_metrics;  // [8, query, head] when the rows live off the CPU
    at::Tensor cpu;
    if (!probs.device().is_cpu()) torch_metrics = capture::torch_layer_metrics(probs, tokens_, window, 0, 0.1);
    else cpu = probs.contiguous();
    for (std::size_t m = 0; m < request_.measured.size(); ++m) {
      const auto& head = request_.measured[m];
      if (head.layer != layer) continue;
      auto& values = out_.metrics[m];
      if (torch_metrics.defined()) {
        const float* data = torch_metrics.data_ptr<float>();  // CPU, contiguous [8, query, head]
        const std::int64_t heads = torch_metrics.size(2);
        for (int metric = 0; metric < 3; ++metric)  // entropy, max_attention, k90 are its first three
          for (int t = 0; t < tokens_; ++t) values[metric][t] = data[(metric * tokens_ + t) * heads + head.head];
        continue;
      }
      analysis::HeadAttention attention;
      attention.probs = cpu.data_ptr<float>() + static_cast<std::int64_t>(head.head) * tokens_ * tokens_;
      attention.query_count = tokens_;
      attention.key_count = tokens_;
      attention.sliding_window = window;
      analysis::TokenMetricOptions options;
      options.prompt_length = tokens_;
      analysis::TokenMetricOutputs outputs;
      outputs.entropy = values[0].data();
      outputs.max_attention = values[1].data();
      outputs.k90 = values[2].data();
      analysis::compute_token_metrics(attention, options, outputs);
    }
  }

  const model::ModelConfig& config_;
  const ProbedRunRequest& request_;
  ProbedRun& out_;
  int tokens_;
};

}  // namespace

ProbedRun run_probed(model::Model& model, const std::vector<std::int64_t>& ids,
                     const model::Interventions& interventions, const ProbedRunRequest& request) {
  ProbedRun out;
  const int tokens = static_cast<int>(ids.size());
  SweepObserver observer(model.config(), request, out, tokens);
  model::ForwardOptions forward;
  forward.observer = &observer;
  forward.interventions = interventions.empty() ? nullptr : &interventions;
  forward.logits = request.loss ? model::LogitsMode::all : model::LogitsMode::none;
  if (!request.loss) {
    int last = std::max(request.record_layer, 0);
    for (const auto& head : request.measured) last = std::max(last, head.layer);
    for (int layer : request.head_out_sum_layers) last = std::max(last, layer);
    forward.stop_after_layer = last;
  }
  at::NoGradGuard no_grad;
  const at::Tensor input = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  auto result = model.forward(input, nullptr, forward);
  if (request.loss) {
    at::Tensor logits = result.logits[0].to(at::kFloat);  // [token, vocab]
    at::Tensor targets = input[0].slice(0, 1).to(logits.device());
    at::Tensor log_probs = at::log_softmax(logits.slice(0, 0, tokens - 1).to(at::kDouble), -1);
    out.nll_sum = -log_probs.gather(1, targets.unsqueeze(1)).sum().item<double>();
    out.predicted_tokens = tokens - 1;
    if (request.keep_logits) out.logits = logits.to(at::kCPU, false, true);
  }
  return out;
}

}  // namespace headscope::sweep
