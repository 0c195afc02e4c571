// A store with planted structure for the analysis tests (core and views): level l's samples have head
// L1H0 pulsing l times in its IAF, L0H1's windowed-JSD peaks on the recorded step starts, and L1H1
// passing its flow to the first position.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/store/layout.h"

namespace headscope::test {

// The planted stores' layout: 2 layers x 2 heads, every standard metric as float32, K x K flow (0: none).
inline store::StoreLayout planted_layout(int flow_size = 3) {
  store::StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 2;
  layout.metrics = store::standard_metrics();
  layout.flow_size = flow_size;
  layout.metric_type = store::ValueType::float32;
  return layout;
}

// Level l: the planted head L1H0 pulses l times in its IAF after the prompt; L0H1's windowed JSD peaks at
// each recorded step start. Flow: L1H1 passes everything to the first position. `generate` false: a
// teacher-forced sample (no generated steps, IAF NaN throughout).
inline store::SampleRecord planted_sample(int index, int level, bool generate = true) {
  const int prompt = 10, generated = 12 * level + 18, n = prompt + generated;
  store::SampleRecord s;
  s.id = "s" + std::to_string(index);
  std::string spans = "[";
  std::vector<int> starts;
  for (int step = 0; step < level + 1; ++step) {
    starts.push_back(prompt + 6 + 12 * step);
    spans += (step ? "," : "") + std::string("[") + std::to_string(starts.back()) + "," + std::to_string(starts.back() + 10) + ",\"add\"]";
  }
  s.metadata_json = "{\"level\":" + std::to_string(level) + ",\"capture\":{\"span_tokens\":" + spans + "]}}";
  s.prompt_length = generate ? prompt : n;
  for (int t = 0; t < n; ++t) s.tokens.push_back(t);
  const int L = 2, H = 2;
  const auto metrics = store::standard_metrics();
  s.metrics.assign(metrics.size(), std::vector<float>(static_cast<std::size_t>(n) * L * H, 0.2f));
  auto at = [&](int t, int layer, int head) { return static_cast<std::size_t>((t * L + layer) * H + head); };
  const int iaf = 4, windowed = 6;
  for (int t = 0; t < n; ++t)
    for (int j = 0; j < L * H; ++j) {
      s.metrics[iaf][t * L * H + j] = t < s.prompt_length ? std::nanf("") : 0.9f;
      s.metrics[windowed][t * L * H + j] = 0.01f * static_cast<float>((t * 7 + j) % 5);
    }
  if (generate)
    for (int pulse = 0; pulse < level; ++pulse)
      for (int t = prompt + 6 + 12 * pulse; t < prompt + 12 + 12 * pulse; ++t) s.metrics[iaf][at(t, 1, 0)] = 0.05f;
  for (int start : starts) s.metrics[windowed][at(start, 0, 1)] = 0.6f;
  const int K = 3;
  for (int p = 0; p < K; ++p) s.flow_positions.push_back(n - K + p);
  s.flow.assign(static_cast<std::size_t>(L * H * K * K), 0.0f);
  for (int head = 0; head < L * H; ++head)
    for (int i = 0; i < K; ++i) s.flow[(head * K + i) * K + i] = 0.5f;
  for (int i = 0; i < K; ++i) s.flow[((1 * H + 1) * K + i) * K + 0] += 0.4f;
  return s;
}

}  // namespace headscope::test
