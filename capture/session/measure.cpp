// One sample's measurement (see measure_torch.h): a ProbeObserver that takes each layer's pre-RoPE
// queries and attention as the forward pass produces them and writes reduced arrays into the sample.
// Sections: 1. the observer  2. torch-op metrics (device path)  3. measure_sample.
#include <ATen/Parallel.h>
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "capture/session/measure_torch.h"
#include "core/analysis/attention_metrics.h"

namespace headscope::capture {

namespace {

// Metric slots in store::standard_metrics() order.
enum Slot { kQueryNorm, kEntropy, kMaxAttention, kK90, kIaf, kJsd, kWindowedJsd, kConnectivity, kReceived, kSlotCount };

// 1. The observer ---------------------------------------------------------------------------------------
class MeasuringObserver : public model::ProbeObserver {
 public:
  MeasuringObserver(const model::Model& model, const MeasureInput& input, const MeasureOptions& options,
                    store::SampleRecord& record, int token_count)
      : config_(model.config()), input_(input), options_(options), record_(record), tokens_(token_count) {}

  bool wants(const model::ProbeSite& site) override {
    switch (site.point) {
      case model::ProbePoint::q_pre:
      case model::ProbePoint::pattern: return true;
      case model::ProbePoint::block_out: return !input_.span_tokens.empty() && site.layer == options_.embed_layer;
      default: return false;
    }
  }

  void observe(const model::ProbeSite& site, const at::Tensor& value) override {
    if (site.point == model::ProbePoint::q_pre) observe_queries(site.layer, value);
    else if (site.point == model::ProbePoint::pattern) observe_pattern_block(site, value, 0);
    else if (site.point == model::ProbePoint::block_out) observe_hidden(value);
  }

  bool takes_pattern_blocks() const override { return true; }

  // pattern [1, head, rows, keys] for queries first_query..first_query + rows - 1 (keys 0..first_query + rows - 1).
  void observe_pattern_block(const model::ProbeSite& site, const at::Tensor& pattern, std::int64_t first_query) override {
    const at::Tensor probs = pattern[0];  // [head, rows, key] float32
    const int layer = site.layer;
    if (first_query == 0) start_layer(layer, probs);
    if (probs.device().is_cpu() && !options_.use_torch_metrics) measure_block_cpu(probs, first_query);
    else measure_block_torch(layer, probs, first_query);
    copy_flow_and_pins(layer, probs, first_query);
    if (first_query + probs.size(1) == tokens_) finish_layer(layer);
  }

 private:
  std::size_t per_token() const { return static_cast<std::size_t>(config_.layer_count) * config_.head_count; }
  float* slot(int metric, int layer) { return record_.metrics[metric].data() + static_cast<std::size_t>(layer) * config_.head_count; }

  // q [1, head, query, head_dim] -> norms [query, head] into query_norm[token, layer, head].
  void observe_queries(int layer, const at::Tensor& q) {
    at::Tensor norms = q[0].to(at::kFloat).norm(2, -1).transpose(0, 1).contiguous().cpu();  // [query, head]
    const float* data = norms.data_ptr<float>();
    float* out = slot(kQueryNorm, layer);
    for (int t = 0; t < tokens_; ++t)
      for (int h = 0; h < config_.head_count; ++h) out[t * per_token() + h] = data[t * config_.head_count + h];
  }

  // A layer's first block: one metric stream per head (CPU), or the torch path's carried rows.
  void start_layer(int layer, const at::Tensor& probs) {
    const int heads = config_.head_count;
    torch_path_ = !probs.device().is_cpu() || options_.use_torch_metrics;
    received_.assign(static_cast<std::size_t>(heads), std::vector<float>(static_cast<std::size_t>(tokens_), 0.0f));
    streams_.clear();
    analysis::TokenMetricOptions metric_options;
    metric_options.prompt_length = input_.prompt_length;
    metric_options.jsd_window = options_.jsd_window;
    metric_options.connectivity_threshold = options_.connectivity_threshold;
    for (int h = 0; h < heads; ++h) {
      analysis::TokenMetricOutputs out;
      out.stride = static_cast<std::ptrdiff_t>(per_token());
      out.entropy = slot(kEntropy, layer) + h;
      out.max_attention = slot(kMaxAttention, layer) + h;
      out.k90 = slot(kK90, layer) + h;
      out.input_attention_fraction = slot(kIaf, layer) + h;
      out.jsd_previous = slot(kJsd, layer) + h;
      out.windowed_jsd = slot(kWindowedJsd, layer) + h;
      out.connectivity = slot(kConnectivity, layer) + h;
      out.received_attention = received_[static_cast<std::size_t>(h)].data();
      streams_.emplace_back(metric_options, out);
    }
    carry_ = at::Tensor();
    if (torch_path_) received_sum_ = at::zeros({heads, tokens_}, probs.options().dtype(at::kDouble));
    next_windowed_ = 0;
  }

  void measure_block_cpu(const at::Tensor& probs_in, std::int64_t first_query) {
    const at::Tensor probs = probs_in.contiguous();
    const float* base = probs.data_ptr<float>();
    const std::int64_t rows = probs.size(1), keys = probs.size(2);
    const int window = config_.sliding_window.value_or(0);
    at::parallel_for(0, config_.head_count, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t h = begin; h < end; ++h) {
        analysis::HeadAttention head;
        head.probs = base + h * rows * keys;
        head.query_count = static_cast<int>(rows);
        head.key_count = static_cast<int>(keys);
        head.query_offset = static_cast<int>(first_query);
        head.sliding_window = window;
        streams_[static_cast<std::size_t>(h)].add(head);
      }
    });
  }

  // The torch-op path takes this block together with the last 2w-1 rows of the one before it (zero-padded
  // to this block's keys), so JSD and windowed JSD cross the boundary as the CPU stream's do.
  void measure_block_torch(int layer, const at::Tensor& probs, std::int64_t first_query) {
    const int heads = config_.head_count;
    const std::int64_t rows = probs.size(1), keys = probs.size(2);
    at::Tensor combined = probs;
    std::int64_t carried = 0;
    if (carry_.defined()) {
      carried = carry_.size(1);
      combined = at::cat({at::constant_pad_nd(carry_, {0, keys - carry_.size(2)}), probs}, 1);
    }
    const std::int64_t first = first_query - carried;
    TorchBlockMetrics metrics = torch_block_metrics(combined, first, carried, input_.prompt_length,
                                                    config_.sliding_window.value_or(0), options_.jsd_window,
                                                    options_.connectivity_threshold);
    received_sum_.narrow(1, 0, keys).add_(metrics.received.to(received_sum_.device()));
    const float* data = metrics.per_row.data_ptr<float>();  // [7, combined rows, head]
    const std::int64_t combined_rows = combined.size(1);
    const int slots[] = {kEntropy, kMaxAttention, kK90, kIaf, kJsd, kWindowedJsd, kConnectivity};
    for (int m = 0; m < 7; ++m) {
      float* out = slot(slots[m], layer);
      const float* in = data + static_cast<std::size_t>(m) * combined_rows * heads;
      for (std::int64_t i = 0; i < combined_rows; ++i) {
        const std::int64_t position = first + i;
        if (slots[m] == kWindowedJsd) {
          // written once its future window is in: t + w <= first_query + rows
          if (position < next_windowed_ || position + options_.jsd_window > first_query + rows) continue;
        } else if (i < carried) {
          continue;
        }
        for (int h = 0; h < heads; ++h) out[position * per_token() + h] = in[i * heads + h];
      }
    }
    next_windowed_ = std::max<std::int64_t>(next_windowed_, first_query + rows - options_.jsd_window + 1);
    const std::int64_t keep = std::min<std::int64_t>(combined_rows, std::max(1, 2 * options_.jsd_window - 1));
    carry_ = combined.narrow(1, combined_rows - keep, keep).clone();
  }

  void finish_layer(int layer) {
    const int heads = config_.head_count;
    if (!torch_path_) {
      for (auto& stream : streams_) stream.finish();
    } else {
      const at::Tensor sums = received_sum_.to(at::kFloat).cpu().contiguous();  // [head, token]
      for (int h = 0; h < heads; ++h)
        std::copy_n(sums.data_ptr<float>() + static_cast<std::size_t>(h) * tokens_, tokens_,
                    received_[static_cast<std::size_t>(h)].data());
    }
    for (int h = 0; h < heads; ++h) {
      float* received_out = slot(kReceived, layer) + h;
      const auto& received = received_[static_cast<std::size_t>(h)];
      for (int t = 0; t < tokens_; ++t) received_out[t * per_token()] = received[static_cast<std::size_t>(t)];
    }
    streams_.clear();
    carry_ = at::Tensor();
    if (options_.on_layer_measured) options_.on_layer_measured(layer);
  }

  // Flow entries [head, K, K] among the flow positions, and pinned heads' rows, from this block's rows.
  void copy_flow_and_pins(int layer, const at::Tensor& probs, std::int64_t first_query) {
    const std::int64_t rows = probs.size(1), keys = probs.size(2);
    const int heads = config_.head_count;
    const auto& flow = input_.flow_positions;
    const std::size_t K = flow.size();
    std::vector<std::int64_t> flow_rows, flow_row_slots, flow_keys, flow_key_slots;
    for (std::size_t k = 0; k < K; ++k) {
      if (flow[k] >= first_query && flow[k] < first_query + rows) {
        flow_rows.push_back(flow[k] - first_query);
        flow_row_slots.push_back(static_cast<std::int64_t>(k));
      }
      if (flow[k] < keys) {
        flow_keys.push_back(flow[k]);
        flow_key_slots.push_back(static_cast<std::int64_t>(k));
      }
    }
    if (!flow_rows.empty() && !flow_keys.empty()) {
      const auto long_options = at::TensorOptions().dtype(at::kLong);
      at::Tensor block = probs.index_select(1, at::tensor(flow_rows, long_options).to(probs.device()))
                             .index_select(2, at::tensor(flow_keys, long_options).to(probs.device()))
                             .contiguous().cpu();  // [head, flow rows here, flow keys seen]
      const float* data = block.data_ptr<float>();
      float* out = record_.flow.data() + static_cast<std::size_t>(layer) * heads * K * K;
      for (int h = 0; h < heads; ++h)
        for (std::size_t r = 0; r < flow_rows.size(); ++r)
          for (std::size_t c = 0; c < flow_keys.size(); ++c)
            out[(static_cast<std::size_t>(h) * K + flow_row_slots[r]) * K + flow_key_slots[c]] =
                data[(static_cast<std::size_t>(h) * flow_rows.size() + r) * flow_keys.size() + c];
    }
    for (std::size_t p = 0; p < options_.pinned_heads.size(); ++p) {
      const auto& head = options_.pinned_heads[p];
      if (head.layer != layer) continue;
      at::Tensor matrix = probs[head.head].contiguous().cpu();  // [rows, keys]
      float* out = record_.pinned_attention[p].data();
      for (std::int64_t r = 0; r < rows; ++r)
        std::copy_n(matrix.data_ptr<float>() + r * keys, keys, out + (first_query + r) * tokens_);
    }
  }

  // hidden [1, token, hidden] -> mean over each span.
  void observe_hidden(const at::Tensor& hidden) {
    const int width = config_.hidden_size;
    auto& vectors = record_.embeddings.vectors;
    vectors.assign(input_.span_tokens.size() * width, 0.0f);
    for (std::size_t s = 0; s < input_.span_tokens.size(); ++s) {
      const auto [begin, end] = input_.span_tokens[s];
      at::Tensor mean = hidden[0].slice(0, begin, end).to(at::kFloat).mean(0).contiguous().cpu();
      std::copy_n(mean.data_ptr<float>(), width, vectors.data() + s * width);
    }
  }

  const model::ModelConfig& config_;
  const MeasureInput& input_;
  const MeasureOptions& options_;
  store::SampleRecord& record_;
  int tokens_;
  // The layer being measured, between its first and last block.
  bool torch_path_ = false;
  std::vector<analysis::TokenMetricStream> streams_;  // [head] (CPU path)
  std::vector<std::vector<float>> received_;          // [head][token]
  at::Tensor carry_;                                  // torch path: last rows of the previous block [head, rows, key]
  at::Tensor received_sum_;                           // torch path: [head, token] double
  std::int64_t next_windowed_ = 0;                    // torch path: first position whose windowed JSD is unwritten
};

// JSD in nats between rows of two [.., key] tensors (each sums to 1), 0*log 0 = 0.
at::Tensor rows_jsd(const at::Tensor& p, const at::Tensor& q) {
  at::Tensor m = (p + q) * 0.5;
  auto kl = [&](const at::Tensor& a) {
    at::Tensor ratio = at::where(a > 0, a / m.clamp_min(std::numeric_limits<float>::min()), at::ones_like(a));
    return (a * at::log(ratio)).sum(-1);
  };
  return (0.5 * kl(p) + 0.5 * kl(q)).clamp(0.0, M_LN2);
}

}  // namespace

// 2. Torch-op metrics ------------------------------------------------------------------------------------
TorchBlockMetrics torch_block_metrics(const at::Tensor& probs_in, std::int64_t first_query, std::int64_t received_from_row,
                                      int prompt_length, int sliding_window, int jsd_window, double connectivity_threshold) {
  const auto options = probs_in.options();
  const std::int64_t heads = probs_in.size(0), T = probs_in.size(1), keys = probs_in.size(2);
  at::Tensor row_index = at::arange(T, options.dtype(at::kLong)).unsqueeze(1);
  at::Tensor query_pos = row_index + first_query;
  at::Tensor key_pos = at::arange(keys, options.dtype(at::kLong)).unsqueeze(0);
  at::Tensor valid = key_pos <= query_pos;  // [query, key]: the unmasked set V comes from the mask
  if (sliding_window > 0) valid = valid & (key_pos > query_pos - sliding_window);
  at::Tensor p = probs_in.to(at::kDouble) * valid.to(at::kDouble);
  at::Tensor mass = p.sum(-1, true);
  at::Tensor pn = p / mass.clamp_min(1e-300);  // p~, [head, query, key]
  const double nan = std::numeric_limits<double>::quiet_NaN();
  at::Tensor empty = (mass.squeeze(-1) <= 0);  // [head, query]

  at::Tensor entropy = -(at::where(pn > 0, pn * at::log(pn.clamp_min(1e-300)), at::zeros_like(pn))).sum(-1);
  entropy = at::where(entropy <= 0, at::zeros_like(entropy), entropy);  // never -0.0
  at::Tensor max_attention = std::get<0>(pn.max(-1));
  at::Tensor sorted = std::get<0>(pn.sort(-1, true));
  at::Tensor cumulative = sorted.cumsum(-1);
  at::Tensor k90 = (cumulative < (0.9 - 1e-9)).sum(-1).to(at::kDouble) + 1;
  k90 = at::minimum(k90, valid.sum(-1).to(at::kDouble).unsqueeze(0).expand_as(k90));
  at::Tensor connectivity = (pn >= connectivity_threshold - 1e-9).sum(-1).to(at::kDouble);
  at::Tensor iaf = pn.slice(2, 0, std::clamp<std::int64_t>(prompt_length, 0, keys)).sum(-1);
  iaf = at::where(query_pos.squeeze(1).unsqueeze(0) >= prompt_length, iaf, at::full_like(iaf, nan));
  if (prompt_length < 0) iaf.fill_(nan);

  at::Tensor jsd = at::full({heads, T}, nan, options.dtype(at::kDouble));
  if (T > 1) jsd.slice(1, 1, T).copy_(rows_jsd(pn.slice(1, 1, T), pn.slice(1, 0, T - 1)));
  at::Tensor windowed = at::full({heads, T}, nan, options.dtype(at::kDouble));
  const std::int64_t w = jsd_window;
  if (w > 0 && T >= 2 * w) {
    // Mean rows of [t-w, t) and [t, t+w) from a cumulative sum over queries; rows are already padded by
    // key index (masked keys are 0), which is the padding METRICS.md asks for.
    at::Tensor prefix = at::cat({at::zeros({heads, 1, keys}, pn.options()), pn.cumsum(1)}, 1);  // [head, T+1, key]
    at::Tensor t = at::arange(w, T - w + 1, options.dtype(at::kLong));
    at::Tensor past = (prefix.index_select(1, t) - prefix.index_select(1, t - w)) / static_cast<double>(w);
    at::Tensor future = (prefix.index_select(1, t + w) - prefix.index_select(1, t)) / static_cast<double>(w);
    windowed.index_copy_(1, t, rows_jsd(past, future));
  }
  // Received: sum over later queries (query position > key position) of p~, from row received_from_row on.
  at::Tensor later = ((query_pos > key_pos) & (row_index >= received_from_row)).to(at::kDouble);
  at::Tensor received = (pn * later).sum(1);  // [head, key]

  for (at::Tensor* row_metric : {&entropy, &max_attention, &k90, &connectivity, &jsd})
    *row_metric = at::where(empty, at::full_like(*row_metric, nan), *row_metric);
  at::Tensor stacked = at::stack({entropy, max_attention, k90, iaf, jsd, windowed, connectivity});  // [7, head, T]
  return {stacked.transpose(1, 2).to(at::kFloat).contiguous().cpu(), received};
}

at::Tensor torch_layer_metrics(const at::Tensor& probs, int prompt_length, int sliding_window, int jsd_window,
                               double connectivity_threshold) {
  TorchBlockMetrics metrics =
      torch_block_metrics(probs, 0, 0, prompt_length, sliding_window, jsd_window, connectivity_threshold);
  at::Tensor received = metrics.received.transpose(0, 1).to(at::kFloat).cpu().unsqueeze(0);  // [1, key = query, head]
  return at::cat({metrics.per_row, received}, 0).contiguous();  // [8, query, head]
}

// 3. measure_sample ------------------------------------------------------------------------------------
void measure_sample(model::Model& model, const MeasureInput& input, const MeasureOptions& options,
                    store::SampleRecord& record) {
  const auto& config = model.config();
  const int tokens = static_cast<int>(input.input_ids.defined() ? input.input_ids.size(1) : input.input_embeddings.size(1));
  const std::size_t per_token = static_cast<std::size_t>(config.layer_count) * config.head_count;
  record.metrics.assign(kSlotCount, std::vector<float>(static_cast<std::size_t>(tokens) * per_token,
                                                       std::numeric_limits<float>::quiet_NaN()));
  const std::size_t K = input.flow_positions.size();
  record.flow.assign(K ? per_token * K * K : 0, 0.0f);
  record.flow_positions.assign(input.flow_positions.begin(), input.flow_positions.end());
  // One tokens x tokens matrix per pinned head (none without pins: a prototype matrix for assign() would
  // itself be tokens² floats, 4 GiB at 32k tokens).
  record.pinned_attention.resize(options.pinned_heads.size());
  for (auto& matrix : record.pinned_attention) matrix.assign(static_cast<std::size_t>(tokens) * tokens, 0.0f);
  MeasuringObserver observer(model, input, options, record, tokens);
  model::ForwardOptions forward;
  forward.observer = &observer;
  forward.logits = model::LogitsMode::none;
  forward.stop_after_attention = true;
  forward.attention_budget_bytes = options.attention_budget_bytes;
  forward.pattern_pre_rope = options.pre_rope_attention;
  at::NoGradGuard no_grad;
  if (input.input_ids.defined()) model.forward(input.input_ids, nullptr, forward);
  else model.forward_embeddings(input.input_embeddings, nullptr, forward);
  // Spectra's "insufficient context": no entropy for the first nan_first query positions.
  const std::size_t nan_values = static_cast<std::size_t>(std::clamp(options.nan_first, 0, tokens)) * per_token;
  std::fill_n(record.metrics[kEntropy].begin(), nan_values, std::numeric_limits<float>::quiet_NaN());
}

}  // namespace headscope::capture
