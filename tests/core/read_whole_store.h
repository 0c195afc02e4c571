// Every read a store offers, over every sample, then analyze and inspect: what the damaged-file tests and
// the store-reader fuzzer run on each damaged copy (each read must succeed or throw StoreError).
#pragma once
#include <string>

#include "core/analysis/store_analysis.h"
#include "core/store/inspect.h"
#include "core/store/reader.h"

namespace headscope::test {

inline void read_whole_store(const std::string& path) {
  auto reader = store::StoreReader::open(path);
  const auto& layout = reader->layout();
  for (std::int64_t i = 0; i < reader->sample_count(); ++i) {
    reader->sample(i);
    reader->tokens(i);
    reader->token_text(i);
    reader->flow_positions(i);
    reader->flow(i);
    for (const auto& head : layout.pinned_heads) reader->pinned_attention(i, head);
    for (const auto& metric : layout.metrics) {
      reader->head_trace(metric.name, i, {layout.layer_count - 1, layout.head_count - 1});
      for (int layer = 0; layer < layout.layer_count; ++layer) reader->layer_slice(metric.name, i, layer);
    }
  }
  for (const auto& metric : layout.metrics) reader->summary(metric.name);
  reader->embeddings();
  reader->embedding_sample();
  analysis::analyze_store(*reader);
  reader.reset();
  store::inspect_text(path);
}

}  // namespace headscope::test
