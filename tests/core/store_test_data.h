// Deterministic synthetic samples for the store tests: sample i's arrays depend only on i, so a test can
// regenerate what a (killed) writer process wrote and compare.
#pragma once
#include <cmath>
#include <string>

#include "core/store/layout.h"

namespace headscope::test {

inline store::StoreLayout small_layout(store::ValueType type = store::ValueType::float16) {
  store::StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 3;
  layout.metrics = {store::standard_metric("entropy"), store::standard_metric("max_attention"),
                    store::standard_metric("iaf")};
  layout.metric_type = type;
  layout.flow_size = 3;
  layout.pinned_heads = {{1, 2}};
  layout.embedding_dim = 4;
  layout.chunk_tokens = 16;
  return layout;
}

inline store::SampleRecord make_sample(const store::StoreLayout& layout, int i) {
  store::SampleRecord s;
  s.id = "sample-" + std::to_string(i);
  s.metadata_json = "{\"level\":" + std::to_string(1 + i % 5) + "}";
  const int n = 5 + (i * 7) % 23;
  s.prompt_length = n / 2;
  for (int t = 0; t < n; ++t) {
    s.tokens.push_back(100 * i + t);
    s.token_text.push_back(t % 4 == 0 ? "" : "t" + std::to_string(t) + (t % 3 ? " é" : ""));
  }
  const int per_token = layout.layer_count * layout.head_count;
  for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
    std::vector<float> values(static_cast<std::size_t>(n) * per_token);
    for (std::size_t v = 0; v < values.size(); ++v)
      values[v] = static_cast<float>(std::sin(0.37 * v + 1.3 * m + i)) * (1.0f + m);
    if (layout.metrics[m].name == "iaf")
      for (int t = 0; t < s.prompt_length; ++t)
        for (int j = 0; j < per_token; ++j) values[t * per_token + j] = std::nanf("");
    s.metrics.push_back(values);
  }
  if (layout.flow_size > 0) {
    const int k = layout.flow_size;
    for (int p = 0; p < k; ++p) s.flow_positions.push_back(n - k + p);
    for (int v = 0; v < per_token * k * k; ++v) s.flow.push_back(static_cast<float>((v * 13 + i) % 17) / 17.0f);
  }
  for (std::size_t p = 0; p < layout.pinned_heads.size(); ++p) {
    std::vector<float> matrix(static_cast<std::size_t>(n) * n, 0.0f);
    for (int q = 0; q < n; ++q)
      for (int k = 0; k <= q; ++k) matrix[q * n + k] = 1.0f / (q + 1) + 0.001f * i;
    s.pinned_attention.push_back(matrix);
  }
  if (layout.embedding_dim > 0) {
    for (int span = 0; span < 1 + i % 3; ++span) {
      s.embeddings.span_start.push_back(span);
      s.embeddings.span_end.push_back(span + 2);
      s.embeddings.labels.push_back(span % 2 ? "mul" : "add");
      for (int d = 0; d < layout.embedding_dim; ++d) s.embeddings.vectors.push_back(static_cast<float>(i * 10 + span + 0.1 * d));
    }
  }
  return s;
}

}  // namespace headscope::test
