// A small capture store behind the IB cluster tests (core and views), with values simple enough to
// average by hand: 4 samples of 6 tokens "a".."f", each with two steps — "add" over tokens [1, 3) and
// "mul" over [3, 6) — whose 2-d embeddings sit near (1, 0) and (0, 1). Metrics are float32 on 2 layers ×
// 2 heads: entropy(t, l, h) = 1 + l + 0.5·h + 0.1·t, plus 2 at L1H0 on the mul tokens (t ≥ 3);
// max_attention = 0.25 everywhere; iaf NaN on the 3 prompt tokens, 0.5 after. Sample s has level s + 1.
// By hand (entropy): add tokens average 0.1·1.5, mul tokens 0.1·4; over all 20 step tokens L1H0 averages
// (8·2.15 + 12·4.4)/20 = 3.5, so the mul cluster's L1H0 differs by +0.9 and the add cluster's by −1.35.
#pragma once
#include <cmath>
#include <filesystem>
#include <string>

#include "core/store/writer.h"

namespace headscope::test {

inline std::string write_ib_source_store(const std::filesystem::path& path) {
  store::StoreLayout layout;
  layout.layer_count = 2;
  layout.head_count = 2;
  layout.metrics = {store::standard_metric("entropy"), store::standard_metric("max_attention"), store::standard_metric("iaf")};
  layout.metric_type = store::ValueType::float32;
  layout.embedding_dim = 2;
  auto writer = store::StoreWriter::create(path.string(), layout, {}, true);
  const int tokens = 6, prompt = 3;
  for (int s = 0; s < 4; ++s) {
    store::SampleRecord sample;
    sample.id = "problem-" + std::to_string(s);
    sample.metadata_json = "{\"level\":" + std::to_string(s + 1) + "}";
    sample.prompt_length = prompt;
    for (int t = 0; t < tokens; ++t) {
      sample.tokens.push_back(t);
      sample.token_text.push_back(std::string(1, static_cast<char>('a' + t)));
    }
    std::vector<float> entropy, max_attention, iaf;
    for (int t = 0; t < tokens; ++t)
      for (int l = 0; l < 2; ++l)
        for (int h = 0; h < 2; ++h) {
          entropy.push_back(static_cast<float>(1 + l + 0.5 * h + 0.1 * t + (l == 1 && h == 0 && t >= 3 ? 2 : 0)));
          max_attention.push_back(0.25f);
          iaf.push_back(t < prompt ? std::nanf("") : 0.5f);
        }
    sample.metrics = {entropy, max_attention, iaf};
    sample.embeddings.span_start = {1, 3};
    sample.embeddings.span_end = {3, 6};
    sample.embeddings.labels = {"add", "mul"};
    sample.embeddings.vectors = {1.0f, 0.02f * static_cast<float>(s), 0.03f * static_cast<float>(s), 1.0f};
    writer->append(sample);
  }
  writer->close();
  return path.string();
}

}  // namespace headscope::test
